//! Discounts: each kind, targets, stacking, windows, coupons and limits,
//! the "nearly" hint, every bad spec, and properties of the allocation.

use super::*;
use crate::promotions::{Promotions, PromotionsDocument, StoredDiscount, StoredRuleSet};
use crate::rules::CustomerFacts;
use crate::types::CountryCode;
use proptest::prelude::*;
use rust_decimal_macros::dec;
use serde_json::json;
use time::macros::datetime;

fn eur(amount: Decimal) -> Money {
    Money::new(amount, Currency::Eur)
}

fn spec(value: Value) -> DiscountSpec {
    serde_json::from_value(value).unwrap()
}

fn promotions(discounts: Vec<Value>) -> Promotions {
    let document = PromotionsDocument {
        rule_sets: vec![StoredRuleSet {
            id: "vip".into(),
            name: "VIPs".into(),
            rule: json!({"field": "customer.groups", "op": "contains", "value": "vip"}),
            version: 1,
        }],
        discounts: discounts
            .into_iter()
            .map(|d| StoredDiscount {
                spec: spec(d),
                version: 1,
            })
            .collect(),
        offers: vec![],
    };
    Promotions::load(&document, Currency::Eur).unwrap()
}

struct Cart {
    skus: Vec<Sku>,
    categories: Vec<&'static str>,
    totals: Vec<Decimal>,
    shipping: Decimal,
    context: RuleContext,
}

fn cart(
    rows: &[(&str, &'static str, u32, Decimal)],
    country: &str,
    coupon: Option<&str>,
    groups: &[&str],
    orders: u32,
) -> Cart {
    let skus: Vec<Sku> = rows.iter().map(|r| Sku::parse(r.0).unwrap()).collect();
    let subtotal: Decimal = rows.iter().map(|r| r.3).sum();
    let context = RuleContext::new(
        CustomerFacts::new(
            orders,
            &groups.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
            None,
        ),
        skus.iter().zip(rows).map(|(s, r)| (s, r.1, r.2, r.3)),
        Some(CountryCode::parse(country).unwrap()),
        None,
        coupon.map(|c| CouponCode::parse(c).unwrap()),
        None,
        datetime!(2026-12-10 12:00 UTC),
    );
    Cart {
        categories: rows.iter().map(|r| r.1).collect(),
        totals: rows.iter().map(|r| r.3).collect(),
        shipping: if subtotal >= dec!(50) {
            dec!(0)
        } else {
            dec!(4.95)
        },
        skus,
        context,
    }
}

fn no_uses(_: &Handle) -> Option<Uses> {
    None
}

fn apply(p: &Promotions, cart: &Cart, explain: bool) -> DiscountOutcome {
    apply_with(p, cart, explain, &no_uses)
}

fn apply_with(
    p: &Promotions,
    cart: &Cart,
    explain: bool,
    uses: &dyn Fn(&Handle) -> Option<Uses>,
) -> DiscountOutcome {
    let lines: Vec<DiscountLine<'_>> = cart
        .skus
        .iter()
        .zip(&cart.categories)
        .zip(&cart.totals)
        .map(|((sku, category), total)| DiscountLine {
            sku,
            category,
            total: eur(*total),
        })
        .collect();
    apply_discounts(
        &p.discounts,
        &p.book,
        &DiscountInput {
            lines: &lines,
            shipping: eur(cart.shipping),
            context: &cart.context,
            uses,
            explain,
            watch: None,
        },
    )
}

fn trousers_and_socks() -> Vec<(&'static str, &'static str, u32, Decimal)> {
    vec![
        ("TR-CHINO", "trousers", 2, dec!(99.80)),
        ("SO-WOOL", "socks", 3, dec!(14.97)),
    ]
}

#[test]
fn ten_percent_for_new_customers_spread_over_the_lines() {
    let p = promotions(vec![
        json!({"id": "new", "name": "10 % for new customers", "kind": "percent", "percent": "10",
        "requirement": {"field": "customer.is_new", "op": "eq", "value": true}}),
    ]);
    let first = apply(&p, &cart(&trousers_and_socks(), "DE", None, &[], 0), false);
    assert_eq!(first.applied.len(), 1);
    assert_eq!(first.applied[0].amount, eur(dec!(11.48)));
    assert!(first.applied[0].reads_order_count);
    // 11.477 rounds to 11.48; the lines carry 9.98 and 1.50.
    assert_eq!(first.line_discounts, vec![eur(dec!(9.98)), eur(dec!(1.50))]);
    let second = apply(&p, &cart(&trousers_and_socks(), "DE", None, &[], 1), true);
    assert!(second.applied.is_empty());
    assert_eq!(second.skipped[0].reason, Skip::RequirementNotMet);
    assert!(second.skipped[0]
        .trace
        .as_ref()
        .is_some_and(|t| !t[0].result));
}

#[test]
fn free_shipping_to_austria_only() {
    let p = promotions(vec![
        json!({"id": "at", "name": "Free shipping to Austria", "kind": "free_shipping",
        "requirement": {"field": "shipping.country", "op": "eq", "value": "AT"}}),
    ]);
    let small = vec![("SO-WOOL", "socks", 1, dec!(4.99))];
    let austria = apply(&p, &cart(&small, "AT", None, &[], 0), false);
    assert_eq!(austria.shipping_discount, eur(dec!(4.95)));
    assert_eq!(austria.applied[0].amount, eur(dec!(4.95)));
    let germany = apply(&p, &cart(&small, "DE", None, &[], 0), false);
    assert!(germany.shipping_discount.is_zero());
    // Shipping already free: nothing to take off, so it does not apply.
    let large = apply(&p, &cart(&trousers_and_socks(), "AT", None, &[], 0), true);
    assert_eq!(large.skipped[0].reason, Skip::NothingToDiscount);
}

#[test]
fn a_free_item_for_vips_with_two_trousers() {
    let p = promotions(vec![
        json!({"id": "socks", "name": "Free socks", "kind": "free_item", "sku": "SO-WOOL", "quantity": 1,
        "requirement": {"all": [{"rule_set": "vip"}, {"field": "cart.categories", "op": "contains", "value": "trousers"},
                                 {"field": "cart.quantity", "op": "gte", "value": 2}]}}),
    ]);
    let vip = apply(
        &p,
        &cart(&trousers_and_socks(), "DE", None, &["vip"], 3),
        false,
    );
    assert_eq!(
        vip.applied[0].gift,
        Some((Sku::parse("SO-WOOL").unwrap(), Quantity::new(1).unwrap()))
    );
    assert!(vip.applied[0].amount.is_zero());
    assert!(
        apply(&p, &cart(&trousers_and_socks(), "DE", None, &[], 3), false)
            .applied
            .is_empty()
    );
    assert_eq!(p.gift_skus(), vec![Sku::parse("SO-WOOL").unwrap()]);
}

#[test]
fn coupons_windows_and_limits() {
    let p = promotions(vec![
        json!({"id": "winter", "name": "Winter", "kind": "fixed", "amount": "5.00", "coupon": "winter",
        "ends_at": "2027-01-31T23:59:59+01:00", "usage_limit": 500, "per_customer_limit": 1}),
    ]);
    let rows = trousers_and_socks();
    assert!(apply(&p, &cart(&rows, "DE", None, &[], 0), false)
        .applied
        .is_empty());
    let with = apply(&p, &cart(&rows, "DE", Some("WINTER"), &[], 0), false);
    assert_eq!(with.applied[0].amount, eur(dec!(5.00)));
    assert_eq!(
        with.line_discounts
            .iter()
            .map(|m| m.amount())
            .sum::<Decimal>(),
        dec!(5.00)
    );
    // Used up in total, or by this customer.
    let used_up = |_: &Handle| {
        Some(Uses {
            total: 500,
            by_customer: Some(0),
        })
    };
    let out = apply_with(
        &p,
        &cart(&rows, "DE", Some("WINTER"), &[], 0),
        true,
        &used_up,
    );
    assert_eq!(out.skipped[0].reason, Skip::UsedUp);
    let used_once = |_: &Handle| {
        Some(Uses {
            total: 3,
            by_customer: Some(1),
        })
    };
    let out = apply_with(
        &p,
        &cart(&rows, "DE", Some("WINTER"), &[], 0),
        true,
        &used_once,
    );
    assert_eq!(out.skipped[0].reason, Skip::UsedUpByCustomer);
    // The coupon check tells why a code cannot be used.
    let code = CouponCode::parse("WINTER").unwrap();
    assert!(p
        .coupon(&code, datetime!(2027-01-15 12:00 UTC), None)
        .is_ok());
    assert!(matches!(
        p.coupon(&code, datetime!(2027-02-01 12:00 UTC), None),
        Err(crate::promotions::CouponError::NotUsable {
            reason: Skip::Expired,
            ..
        })
    ));
    assert!(matches!(
        p.coupon(
            &code,
            datetime!(2027-01-15 12:00 UTC),
            Some(Uses {
                total: 500,
                by_customer: None
            })
        ),
        Err(crate::promotions::CouponError::NotUsable {
            reason: Skip::UsedUp,
            ..
        })
    ));
    assert!(matches!(
        p.coupon(
            &CouponCode::parse("SUMMER").unwrap(),
            datetime!(2027-01-15 12:00 UTC),
            None
        ),
        Err(crate::promotions::CouponError::Unknown(_))
    ));
}

#[test]
fn a_fixed_amount_never_takes_off_more_than_the_goods() {
    let p = promotions(vec![
        json!({"id": "big", "name": "Big", "kind": "fixed", "amount": "500.00"}),
    ]);
    let out = apply(&p, &cart(&trousers_and_socks(), "DE", None, &[], 0), false);
    assert_eq!(out.applied[0].amount, eur(dec!(114.77)));
    assert_eq!(out.line_discounts, vec![eur(dec!(99.80)), eur(dec!(14.97))]);
}

#[test]
fn discounts_on_products_and_categories_touch_only_those_lines() {
    let p = promotions(vec![
        json!({"id": "socks", "name": "Socks -50 %", "kind": "percent", "percent": "50", "applies_to": "categories", "categories": ["socks"]}),
        json!({"id": "chino", "name": "Chino -2 €", "kind": "fixed", "amount": "2.00", "applies_to": "products", "skus": ["TR-CHINO"]}),
    ]);
    let out = apply(&p, &cart(&trousers_and_socks(), "DE", None, &[], 0), false);
    assert_eq!(out.line_discounts, vec![eur(dec!(2.00)), eur(dec!(7.49))]);
}

#[test]
fn priority_and_stacking_decide_which_apply() {
    let p = promotions(vec![
        json!({"id": "a-small", "name": "Small", "kind": "fixed", "amount": "1.00", "priority": 1}),
        json!({"id": "b-exclusive", "name": "Exclusive", "kind": "percent", "percent": "20", "priority": 10, "stacks": false}),
        json!({"id": "c-other", "name": "Other", "kind": "fixed", "amount": "2.00", "priority": 5}),
    ]);
    let out = apply(&p, &cart(&trousers_and_socks(), "DE", None, &[], 0), true);
    let applied: Vec<&str> = out.applied.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(applied, vec!["b-exclusive"]);
    assert!(out.skipped.iter().all(|s| s.reason == Skip::DoesNotStack));
    // Without the exclusive one, the others add up, highest priority first.
    let p = promotions(vec![
        json!({"id": "a-small", "name": "Small", "kind": "fixed", "amount": "1.00", "priority": 1}),
        json!({"id": "c-other", "name": "Other", "kind": "fixed", "amount": "2.00", "priority": 5}),
        json!({"id": "d-late-exclusive", "name": "Late", "kind": "fixed", "amount": "3.00", "priority": 0, "stacks": false}),
    ]);
    let out = apply(&p, &cart(&trousers_and_socks(), "DE", None, &[], 0), true);
    let applied: Vec<&str> = out.applied.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(applied, vec!["c-other", "a-small"]);
}

#[test]
fn at_most_three_discounts_per_order() {
    let many: Vec<Value> = (0..5)
        .map(|i| json!({"id": format!("d{i}"), "name": "One euro", "kind": "fixed", "amount": "1.00"}))
        .collect();
    let out = apply(
        &promotions(many),
        &cart(&trousers_and_socks(), "DE", None, &[], 0),
        true,
    );
    assert_eq!(out.applied.len(), MAX_DISCOUNTS_PER_ORDER);
    assert!(out.skipped.iter().all(|s| s.reason == Skip::TooMany));
}

#[test]
fn nearly_says_how_much_more_the_cart_needs() {
    let p = promotions(vec![
        json!({"id": "ship", "name": "Free shipping from 60 € to Austria", "kind": "free_shipping",
        "requirement": {"all": [{"field": "shipping.country", "op": "eq", "value": "AT"}, {"field": "cart.subtotal", "op": "gte", "value": "60.00"}]}}),
    ]);
    let small = vec![("SO-WOOL", "socks", 1, dec!(47.90))];
    let out = apply(&p, &cart(&small, "AT", None, &[], 0), false);
    assert_eq!(out.nearly.len(), 1);
    assert_eq!(out.nearly[0].missing, eur(dec!(12.10)));
    // Not to Germany: no amount of goods would do.
    assert!(apply(&p, &cart(&small, "DE", None, &[], 0), false)
        .nearly
        .is_empty());
}

#[test]
fn bad_specs_are_refused_naming_the_field() {
    let known = |id: &Handle| id.as_str() == "vip";
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"id": "Bad Id", "name": "x", "kind": "percent", "percent": "10"}),
            "id",
        ),
        (
            json!({"id": "x", "name": "", "kind": "percent", "percent": "10"}),
            "name",
        ),
        (json!({"id": "x", "name": "x", "kind": "bogus"}), "kind"),
        (
            json!({"id": "x", "name": "x", "kind": "percent", "percent": "101"}),
            "percent",
        ),
        (
            json!({"id": "x", "name": "x", "kind": "percent", "percent": "-5"}),
            "percent",
        ),
        (
            json!({"id": "x", "name": "x", "kind": "fixed", "amount": "5.00", "currency": "CHF"}),
            "currency",
        ),
        (
            json!({"id": "x", "name": "x", "kind": "fixed", "amount": "5.001"}),
            "amount",
        ),
        (json!({"id": "x", "name": "x", "kind": "free_item"}), "sku"),
        (
            json!({"id": "x", "name": "x", "kind": "free_item", "sku": "A", "quantity": 0}),
            "quantity",
        ),
        (
            json!({"id": "x", "name": "x", "kind": "free_shipping", "applies_to": "products", "skus": ["A"]}),
            "applies_to",
        ),
        (
            json!({"id": "x", "name": "x", "kind": "percent", "percent": "5", "applies_to": "products"}),
            "skus",
        ),
        (
            json!({"id": "x", "name": "x", "kind": "percent", "percent": "5", "coupon": "WIN TER"}),
            "coupon",
        ),
        (
            json!({"id": "x", "name": "x", "kind": "percent", "percent": "5", "coupon": "W".repeat(65)}),
            "coupon",
        ),
        (
            json!({"id": "x", "name": "x", "kind": "percent", "percent": "5", "starts_at": "2027-02-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z"}),
            "ends_at",
        ),
        (
            json!({"id": "x", "name": "x", "kind": "percent", "percent": "5", "usage_limit": 0}),
            "usage_limit",
        ),
        (
            json!({"id": "x", "name": "x", "kind": "percent", "percent": "5", "requirement": {"rule_set": "nope"}}),
            "requirement.rule_set",
        ),
        (
            json!({"id": "x", "name": "x", "kind": "percent", "percent": "5", "requirement": {"any": []}}),
            "requirement.any",
        ),
    ];
    for (bad, field) in cases {
        let error = Discount::parse(&spec(bad.clone()), 1, Currency::Eur, &known).unwrap_err();
        assert_eq!(error.field, field, "{bad}: {error}");
    }
}

#[test]
fn promotions_refuse_shared_coupons_stale_versions_and_deleting_used_rule_sets() {
    let p = promotions(vec![
        json!({"id": "vip-10", "name": "VIP", "kind": "percent", "percent": "10", "coupon": "VIP",
        "requirement": {"rule_set": "vip"}}),
    ]);
    let vip = Handle::parse("vip").unwrap();
    assert!(matches!(
        p.delete_rule_set(&vip, 1),
        Err(crate::promotions::PromotionError::InUse { .. })
    ));
    let twin = spec(
        json!({"id": "twin", "name": "Twin", "kind": "percent", "percent": "5", "coupon": "vip"}),
    );
    assert!(
        matches!(p.put_discount(&twin, 0, Currency::Eur), Err(crate::promotions::PromotionError::Invalid(e)) if e.field == "coupon")
    );
    let again = spec(json!({"id": "vip-10", "name": "VIP", "kind": "percent", "percent": "12"}));
    assert!(matches!(
        p.put_discount(&again, 0, Currency::Eur),
        Err(crate::promotions::PromotionError::Exists { .. })
    ));
    assert!(matches!(
        p.put_discount(&again, 7, Currency::Eur),
        Err(crate::promotions::PromotionError::Stale { current: 1, .. })
    ));
    let saved = p.put_discount(&again, 1, Currency::Eur).unwrap();
    assert_eq!(saved.discounts[0].version, 2);
    // A rule set referring to itself, or round a circle, is refused.
    let own = p.put_rule_set(&vip, "VIPs", &json!({"rule_set": "vip"}), 1, Currency::Eur);
    assert!(own.is_err());
    // Once unused, it can go; the document reads back the same.
    let freed = saved
        .put_discount(
            &spec(json!({"id": "vip-10", "name": "VIP", "kind": "percent", "percent": "12"})),
            2,
            Currency::Eur,
        )
        .unwrap();
    let gone = freed.delete_rule_set(&vip, 1).unwrap();
    assert!(gone.book.get(&vip).is_none());
    assert_eq!(
        Promotions::load(&freed.document(), Currency::Eur).unwrap(),
        freed
    );
}

fn arb_discount() -> impl Strategy<Value = Value> {
    prop_oneof![
        (1u32..=10000).prop_map(|bp| json!({"kind": "percent", "percent": Decimal::new(bp.into(), 2).to_string()})),
        (1u32..=20000).prop_map(|c| json!({"kind": "fixed", "amount": Decimal::new(c.into(), 2).to_string()})),
        Just(json!({"kind": "free_shipping"})),
        (1u32..=3000).prop_map(|c| json!({"kind": "fixed", "amount": Decimal::new(c.into(), 2).to_string(), "applies_to": "shipping"})),
        (1u32..=10000).prop_map(|bp| json!({"kind": "percent", "percent": Decimal::new(bp.into(), 2).to_string(), "applies_to": "categories", "categories": ["socks"]})),
    ]
}

proptest! {
    #[test]
    fn discounts_add_up_to_the_cent_and_never_go_below_zero(
        kinds in prop::collection::vec((arb_discount(), any::<bool>(), -3i32..3), 1..6),
        rows in prop::collection::vec((1u32..=500_000, any::<bool>()), 1..8),
    ) {
        let discounts: Vec<Value> = kinds
            .into_iter()
            .enumerate()
            .map(|(i, (mut d, stacks, priority))| {
                d["id"] = json!(format!("d{i}"));
                d["name"] = json!("d");
                d["stacks"] = json!(stacks);
                d["priority"] = json!(priority);
                d
            })
            .collect();
        let p = promotions(discounts);
        let names: Vec<String> = (0..rows.len()).map(|i| format!("P{i}")).collect();
        let table: Vec<(&str, &'static str, u32, Decimal)> = rows
            .iter()
            .zip(&names)
            .map(|((cents, socks), sku)| (sku.as_str(), if *socks { "socks" } else { "trousers" }, 1, Decimal::new((*cents).into(), 2)))
            .collect();
        let c = cart(&table, "DE", None, &[], 0);
        let out = apply(&p, &c, false);
        let lines: Decimal = out.line_discounts.iter().map(|m| m.amount()).sum();
        let applied: Decimal = out.applied.iter().map(|a| a.amount.amount()).sum();
        // The amounts the discounts name are the amounts on the lines and shipping.
        prop_assert_eq!(applied, lines + out.shipping_discount.amount());
        prop_assert!(out.applied.len() <= MAX_DISCOUNTS_PER_ORDER);
        for (taken, total) in out.line_discounts.iter().zip(&c.totals) {
            prop_assert!(!taken.is_negative());
            prop_assert!(taken.is_in_minor_units());
            prop_assert!(taken.amount() <= *total, "a line never goes below zero");
        }
        prop_assert!(!out.shipping_discount.is_negative());
        prop_assert!(out.shipping_discount.amount() <= c.shipping);
    }
}
