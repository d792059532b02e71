//! Rules: a table of rules × contexts with their expected results and
//! traces, every kind of bad rule, and properties of the combinators.

use super::*;
use crate::money::Currency;
use proptest::prelude::*;
use rust_decimal_macros::dec;
use time::macros::datetime;

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn nothing_known(_: &Handle) -> bool {
    false
}

fn rule(value: Value) -> Rule {
    Rule::parse(&value, Currency::Eur, &nothing_known).unwrap()
}

fn refused(value: Value) -> RuleError {
    Rule::parse(&value, Currency::Eur, &|id: &Handle| id.as_str() == "known").unwrap_err()
}

/// Anna, a returning VIP from Austria, with two trousers and socks worth
/// 120.00, coupon WINTER, paying by invoice, on 1 December 2026.
fn anna() -> RuleContext {
    let trousers = sku("TR-CHINO");
    let socks = sku("SO-WOOL");
    RuleContext::new(
        CustomerFacts::new(
            2,
            &["vip".to_string()],
            Some(&Email::parse("Anna@Example.de").unwrap()),
        ),
        [
            (&trousers, "trousers", 2, dec!(100.00)),
            (&socks, "socks", 4, dec!(20.00)),
        ],
        Some(CountryCode::parse("AT").unwrap()),
        Some(CountryCode::parse("DE").unwrap()),
        Some(CouponCode::parse("winter").unwrap()),
        Some(PaymentMethod::Invoice),
        datetime!(2026-12-01 10:00 UTC),
    )
}

/// A first-time guest on the cart page: nothing known but the cart.
fn guest() -> RuleContext {
    let belt = sku("BE-LEATHER");
    RuleContext::new(
        CustomerFacts::default(),
        [(&belt, "accessories", 1, dec!(29.90))],
        None,
        None,
        None,
        None,
        datetime!(2027-02-01 10:00 UTC),
    )
}

fn holds(r: &Rule, context: &RuleContext) -> bool {
    r.evaluate(&RuleBook::default(), &context.facts(), None)
}

#[test]
fn a_table_of_conditions_against_two_contexts() {
    // (condition, for anna, for the guest)
    let table: Vec<(Value, bool, bool)> = vec![
        (
            json!({"field": "customer.is_new", "op": "eq", "value": true}),
            false,
            true,
        ),
        (
            json!({"field": "customer.is_new", "op": "ne", "value": true}),
            true,
            false,
        ),
        (
            json!({"field": "customer.order_count", "op": "gte", "value": 2}),
            true,
            false,
        ),
        (
            json!({"field": "customer.order_count", "op": "in", "value": [0, 1]}),
            false,
            true,
        ),
        (
            json!({"field": "customer.groups", "op": "contains", "value": "vip"}),
            true,
            false,
        ),
        (
            json!({"field": "customer.groups", "op": "not_contains", "value": "vip"}),
            false,
            true,
        ),
        (
            json!({"field": "customer.groups", "op": "in", "value": ["wholesale", "vip"]}),
            true,
            false,
        ),
        (
            json!({"field": "customer.email", "op": "eq", "value": "anna@example.de"}),
            true,
            false,
        ),
        (
            json!({"field": "customer.email", "op": "contains", "value": "@EXAMPLE.de"}),
            true,
            false,
        ),
        // An unknown value makes any condition on it false, `ne` too.
        (
            json!({"field": "customer.email", "op": "ne", "value": "bob@example.de"}),
            true,
            false,
        ),
        (
            json!({"field": "shipping.country", "op": "eq", "value": "at"}),
            true,
            false,
        ),
        (
            json!({"field": "shipping.country", "op": "not_in", "value": ["DE", "CH"]}),
            true,
            false,
        ),
        (
            json!({"field": "billing.country", "op": "in", "value": ["DE"]}),
            true,
            false,
        ),
        (
            json!({"field": "cart.subtotal", "op": "gte", "value": "120.00"}),
            true,
            false,
        ),
        (
            json!({"field": "cart.subtotal", "op": "gt", "value": "120.00"}),
            false,
            false,
        ),
        (
            json!({"field": "cart.subtotal", "op": "lt", "value": "50"}),
            false,
            true,
        ),
        (
            json!({"field": "cart.quantity", "op": "eq", "value": 6}),
            true,
            false,
        ),
        (
            json!({"field": "cart.line_count", "op": "lte", "value": 1}),
            false,
            true,
        ),
        (
            json!({"field": "cart.skus", "op": "contains", "value": "tr-chino"}),
            true,
            false,
        ),
        (
            json!({"field": "cart.skus", "op": "in", "value": ["BE-LEATHER", "X"]}),
            false,
            true,
        ),
        (
            json!({"field": "cart.skus", "op": "not_in", "value": ["BE-LEATHER"]}),
            true,
            false,
        ),
        (
            json!({"field": "cart.categories", "op": "contains", "value": "trousers"}),
            true,
            false,
        ),
        (
            json!({"field": "coupon.code", "op": "eq", "value": "WINTER"}),
            true,
            false,
        ),
        (
            json!({"field": "coupon.code", "op": "in", "value": ["summer", "winter"]}),
            true,
            false,
        ),
        (
            json!({"field": "payment.method", "op": "eq", "value": "invoice"}),
            true,
            false,
        ),
        (
            json!({"field": "payment.method", "op": "ne", "value": "prepayment"}),
            true,
            false,
        ),
        (
            json!({"field": "now", "op": "lt", "value": "2027-01-31T23:59:59+01:00"}),
            true,
            false,
        ),
        (
            json!({"field": "now", "op": "gte", "value": "2026-12-01T11:00:00+01:00"}),
            true,
            true,
        ),
    ];
    for (condition, for_anna, for_guest) in table {
        let parsed = rule(condition.clone());
        assert_eq!(holds(&parsed, &anna()), for_anna, "anna: {condition}");
        assert_eq!(holds(&parsed, &guest()), for_guest, "guest: {condition}");
        // A traced evaluation decides the same.
        let mut steps = Vec::new();
        let traced = parsed.evaluate(&RuleBook::default(), &anna().facts(), Some(&mut steps));
        assert_eq!(traced, for_anna, "{condition}");
    }
}

#[test]
fn a_trace_names_every_node_with_what_it_expected_and_saw() {
    let requirement = rule(json!({"all": [
        {"field": "customer.groups", "op": "contains", "value": "vip"},
        {"any": [
            {"field": "cart.subtotal", "op": "gte", "value": "150.00"},
            {"not": {"field": "shipping.country", "op": "eq", "value": "AT"}}
        ]}
    ]}));
    let mut steps = Vec::new();
    let result = requirement.evaluate(&RuleBook::default(), &anna().facts(), Some(&mut steps));
    assert!(!result);
    let summary: Vec<(String, &str, bool)> = steps
        .iter()
        .map(|s| (s.path.clone(), s.node, s.result))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("$".to_string(), "all", false),
            ("$.all[0]".to_string(), "condition", true),
            ("$.all[1]".to_string(), "any", false),
            ("$.all[1].any[0]".to_string(), "condition", false),
            ("$.all[1].any[1]".to_string(), "not", false),
            ("$.all[1].any[1].not".to_string(), "condition", true),
        ]
    );
    let subtotal = &steps[3];
    assert_eq!(subtotal.field, Some("cart.subtotal"));
    assert_eq!(subtotal.op, Some("gte"));
    assert_eq!(subtotal.expected, Some(json!("150.00")));
    assert_eq!(subtotal.seen, Some(json!("120.00")));
    assert_eq!(steps[1].seen, Some(json!(["vip"])));
}

#[test]
fn rule_sets_are_followed_and_traced_by_reference() {
    let vip = RuleSet {
        id: Handle::parse("vip").unwrap(),
        name: "VIPs".into(),
        rule: rule(json!({"field": "customer.groups", "op": "contains", "value": "vip"})),
        version: 1,
    };
    let known = |id: &Handle| id.as_str() == "vip";
    let austrian_vip = RuleSet {
        id: Handle::parse("austrian-vip").unwrap(),
        name: "VIPs in Austria".into(),
        rule: Rule::parse(
            &json!({"all": [{"rule_set": "vip"}, {"field": "shipping.country", "op": "eq", "value": "AT"}]}),
            Currency::Eur,
            &known,
        )
        .unwrap(),
        version: 1,
    };
    let book = RuleBook::new([vip, austrian_vip]).unwrap();
    let top = Rule::RuleSet(Handle::parse("austrian-vip").unwrap());
    let mut steps = Vec::new();
    assert!(top.evaluate(&book, &anna().facts(), Some(&mut steps)));
    assert!(!top.evaluate(&book, &guest().facts(), None));
    assert_eq!(steps[0].rule_set.as_deref(), Some("austrian-vip"));
    assert!(steps
        .iter()
        .any(|s| s.path == "$.rule_set(austrian-vip).all[0].rule_set(vip)" && s.result));
    assert_eq!(book.referrers(&Handle::parse("vip").unwrap()).len(), 1);
}

#[test]
fn a_cycle_of_references_is_refused() {
    let set = |id: &str, to: &str| RuleSet {
        id: Handle::parse(id).unwrap(),
        name: id.into(),
        rule: Rule::RuleSet(Handle::parse(to).unwrap()),
        version: 1,
    };
    let error = RuleBook::new([set("a", "b"), set("b", "c"), set("c", "a")]).unwrap_err();
    assert!(["a", "b", "c"].contains(&error.rule_set.as_str()));
    assert!(RuleBook::new([set("self", "self")]).is_err());
    assert!(RuleBook::new([set("a", "b"), set("b", "c"), set("c", "d")]).is_ok());
}

#[test]
fn bad_rules_are_refused_naming_the_place() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"field": "customer.shoe_size", "op": "eq", "value": 42}),
            "field",
            "is one of",
        ),
        (
            json!({"field": "shipping.country", "op": "gt", "value": "AT"}),
            "op",
            "does not fit",
        ),
        (
            json!({"field": "cart.subtotal", "op": "gte", "value": 50}),
            "value",
            "string",
        ),
        (
            json!({"field": "cart.subtotal", "op": "gte", "value": "-1.00"}),
            "value",
            "0 or more",
        ),
        (
            json!({"field": "cart.subtotal", "op": "gte", "value": "1.001"}),
            "value",
            "whole cents",
        ),
        (
            json!({"field": "cart.quantity", "op": "gt", "value": "two"}),
            "value",
            "whole number",
        ),
        (
            json!({"field": "cart.quantity", "op": "in", "value": 2}),
            "value",
            "list",
        ),
        (
            json!({"field": "shipping.country", "op": "eq", "value": "XX"}),
            "value",
            "ISO 3166",
        ),
        (
            json!({"field": "now", "op": "lt", "value": "tomorrow"}),
            "value",
            "date and time",
        ),
        (
            json!({"field": "coupon.code", "op": "eq", "value": "WIN TER"}),
            "value",
            "no spaces",
        ),
        (
            json!({"field": "customer.is_new", "op": "eq"}),
            "value",
            "required",
        ),
        (
            json!({"field": "payment.method", "op": "eq", "value": "bitcoin"}),
            "value",
            "prepayment",
        ),
        (json!({"all": []}), "all", "at least one"),
        (json!({"any": []}), "any", "at least one"),
        (
            json!({"all": [{"any": [{"rule_set": "unknown"}]}]}),
            "all[0].any[0].rule_set",
            "no rule set",
        ),
        (
            json!({"not": {"field": "now", "op": "eq", "value": "x"}, "extra": 1}),
            "extra",
            "no other",
        ),
        (json!("anything"), "", "is an object"),
        (
            json!({"field": "cart.skus", "op": "in", "value": ["A", "not a sku!"]}),
            "value[1]",
            "sku",
        ),
    ];
    for (bad, path, words) in cases {
        let error = refused(bad.clone());
        assert!(
            error.path.ends_with(path),
            "{bad}: expected the path to end in {path:?}, got {:?}",
            error.path
        );
        assert!(error.message.contains(words), "{bad}: {}", error.message);
    }
    // Deep nesting and huge rules are refused too.
    let mut deep = json!({"field": "customer.is_new", "op": "eq", "value": true});
    for _ in 0..MAX_DEPTH {
        deep = json!({"not": deep});
    }
    assert!(refused(deep).message.contains("nests"));
    let wide = json!({"any": vec![json!({"field": "customer.is_new", "op": "eq", "value": true}); MAX_NODES]});
    assert!(refused(wide).message.contains("nodes"));
}

#[test]
fn a_rule_reads_back_as_it_was_written() {
    let written = json!({"all": [
        {"field": "cart.skus", "op": "in", "value": ["B", "A"]},
        {"not": {"rule_set": "known"}},
        {"field": "cart.subtotal", "op": "gte", "value": "50.00"}
    ]});
    let parsed = Rule::parse(&written, Currency::Eur, &|_: &Handle| true).unwrap();
    let again = Rule::parse(&parsed.to_json(), Currency::Eur, &|_: &Handle| true).unwrap();
    assert_eq!(parsed, again);
    assert_eq!(parsed.to_json()["all"][0]["value"], json!(["A", "B"]));
}

fn arb_condition() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(|b| json!({"field": "customer.is_new", "op": "eq", "value": b})),
        (0u32..5).prop_map(|n| json!({"field": "customer.order_count", "op": "gte", "value": n})),
        (0u32..200).prop_map(
            |n| json!({"field": "cart.subtotal", "op": "lt", "value": format!("{n}.00")})
        ),
        prop::sample::select(vec!["DE", "AT", "CH"])
            .prop_map(|c| json!({"field": "shipping.country", "op": "eq", "value": c})),
        prop::sample::select(vec!["vip", "staff"])
            .prop_map(|g| json!({"field": "customer.groups", "op": "contains", "value": g})),
    ]
}

fn arb_rule() -> impl Strategy<Value = Value> {
    arb_condition().prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"all": v})),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"any": v})),
            inner.prop_map(|r| json!({"not": r})),
        ]
    })
}

proptest! {
    #[test]
    fn not_inverts_and_single_groups_are_their_member(written in arb_rule(), which in any::<bool>()) {
        let context = if which { anna() } else { guest() };
        let book = RuleBook::default();
        let facts = context.facts();
        let one = rule(written.clone());
        let result = one.evaluate(&book, &facts, None);
        prop_assert_eq!(rule(json!({"not": written.clone()})).evaluate(&book, &facts, None), !result);
        prop_assert_eq!(rule(json!({"all": [written.clone()]})).evaluate(&book, &facts, None), result);
        prop_assert_eq!(rule(json!({"any": [written.clone()]})).evaluate(&book, &facts, None), result);
        // The trace decides as the quick evaluation does, and its first
        // step is the whole rule's result.
        let mut steps = Vec::new();
        prop_assert_eq!(one.evaluate(&book, &facts, Some(&mut steps)), result);
        prop_assert_eq!(steps[0].result, result);
        prop_assert_eq!(steps[0].path.as_str(), "$");
    }
}
