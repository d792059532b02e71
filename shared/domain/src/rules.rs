//! Rules: conditions on a cart, its customer, its addresses, its coupon and
//! the time, combined with `all`, `any` and `not`, and named rule sets that
//! rules refer to. Discounts and checkout offers take one as their
//! requirement.
//!
//! A rule is written as JSON (see the README's "Rules" section):
//! `{"all": [rule…]}`, `{"any": [rule…]}`, `{"not": rule}`,
//! `{"field": F, "op": OP, "value": V}` or `{"rule_set": "id"}`. It is
//! parsed once, when it is saved or when a stored document is loaded, into
//! a [`Rule`] whose every value has the type its field needs; evaluating
//! never parses, never fails and allocates nothing unless a trace is asked
//! for. A field a context does not know (the e-mail on a cart page) makes
//! its condition false.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::money::Money;
use crate::order::PaymentMethod;
use crate::types::{CountryCode, Email, ParseError, Sku};

#[cfg(test)]
mod tests;

/// The deepest a rule may nest (a rule set it refers to counts from 1 again).
pub const MAX_DEPTH: usize = 8;
/// The most nodes one rule may have.
pub const MAX_NODES: usize = 100;
/// The most values one `in`/`not_in` list may hold.
pub const MAX_LIST: usize = 100;

/// What a condition looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    CustomerIsNew,
    CustomerOrderCount,
    CustomerGroups,
    CustomerEmail,
    ShippingCountry,
    BillingCountry,
    CartSubtotal,
    CartQuantity,
    CartLineCount,
    CartSkus,
    CartCategories,
    CouponCode,
    PaymentMethod,
    Now,
}

/// The kind of value a field holds, which decides its operators and the
/// type of the values it is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Boolean,
    Integer,
    Money,
    DateTime,
    Email,
    Coupon,
    PaymentMethod,
    Country,
    /// A set of names (groups, categories).
    Names,
    Skus,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::CustomerIsNew,
        Field::CustomerOrderCount,
        Field::CustomerGroups,
        Field::CustomerEmail,
        Field::ShippingCountry,
        Field::BillingCountry,
        Field::CartSubtotal,
        Field::CartQuantity,
        Field::CartLineCount,
        Field::CartSkus,
        Field::CartCategories,
        Field::CouponCode,
        Field::PaymentMethod,
        Field::Now,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::CustomerIsNew => "customer.is_new",
            Field::CustomerOrderCount => "customer.order_count",
            Field::CustomerGroups => "customer.groups",
            Field::CustomerEmail => "customer.email",
            Field::ShippingCountry => "shipping.country",
            Field::BillingCountry => "billing.country",
            Field::CartSubtotal => "cart.subtotal",
            Field::CartQuantity => "cart.quantity",
            Field::CartLineCount => "cart.line_count",
            Field::CartSkus => "cart.skus",
            Field::CartCategories => "cart.categories",
            Field::CouponCode => "coupon.code",
            Field::PaymentMethod => "payment.method",
            Field::Now => "now",
        }
    }

    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn value_type(self) -> FieldType {
        match self {
            Field::CustomerIsNew => FieldType::Boolean,
            Field::CustomerOrderCount | Field::CartQuantity | Field::CartLineCount => {
                FieldType::Integer
            }
            Field::CartSubtotal => FieldType::Money,
            Field::Now => FieldType::DateTime,
            Field::CustomerEmail => FieldType::Email,
            Field::CouponCode => FieldType::Coupon,
            Field::PaymentMethod => FieldType::PaymentMethod,
            Field::ShippingCountry | Field::BillingCountry => FieldType::Country,
            Field::CustomerGroups | Field::CartCategories => FieldType::Names,
            Field::CartSkus => FieldType::Skus,
        }
    }

    /// Whether the customer's count of earlier orders decides the field: a
    /// checkout that relied on it writes that count conditionally.
    pub fn reads_order_count(self) -> bool {
        matches!(self, Field::CustomerIsNew | Field::CustomerOrderCount)
    }
}

impl FieldType {
    /// The operators that make sense for values of this type.
    pub fn operators(self) -> &'static [Op] {
        use Op::*;
        match self {
            FieldType::Boolean => &[Eq, Ne],
            FieldType::Integer => &[Eq, Ne, In, NotIn, Gt, Gte, Lt, Lte],
            FieldType::Money | FieldType::DateTime => &[Eq, Ne, Gt, Gte, Lt, Lte],
            FieldType::Email => &[Eq, Ne, In, NotIn, Contains, NotContains],
            FieldType::Coupon | FieldType::PaymentMethod | FieldType::Country => {
                &[Eq, Ne, In, NotIn]
            }
            FieldType::Names | FieldType::Skus => &[Contains, NotContains, In, NotIn],
        }
    }

    /// The name the API and the rule editor use.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Boolean => "boolean",
            FieldType::Integer => "integer",
            FieldType::Money => "money",
            FieldType::DateTime => "date_time",
            FieldType::Email => "email",
            FieldType::Coupon => "coupon_code",
            FieldType::PaymentMethod => "payment_method",
            FieldType::Country => "country",
            FieldType::Names => "name_set",
            FieldType::Skus => "sku_set",
        }
    }
}

/// How a condition compares. On sets (`customer.groups`, `cart.skus`,
/// `cart.categories`) `contains` asks for one member and `in` for any of a
/// list; on an e-mail address `contains` looks for a part (`@example.com`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    Eq,
    Ne,
    In,
    NotIn,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
    NotContains,
}

impl Op {
    pub const ALL: [Op; 10] = [
        Op::Eq,
        Op::Ne,
        Op::In,
        Op::NotIn,
        Op::Gt,
        Op::Gte,
        Op::Lt,
        Op::Lte,
        Op::Contains,
        Op::NotContains,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Contains => "contains",
            Op::NotContains => "not_contains",
        }
    }

    pub fn parse(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.name() == name)
    }

    /// Whether the value is a list (`in`, `not_in`).
    fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::NotIn)
    }
}

crate::types::string_newtype!(
    /// The id of a named rule set, or of a discount or an offer: 1 to 64
    /// lower-case letters, digits and `-`, chosen by staff (`new-customers`).
    Handle
);

impl Handle {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let value = input.trim();
        let ok = !value.is_empty()
            && value.len() <= 64
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(Self(value.to_string()))
        } else {
            Err(ParseError(
                "an id has 1 to 64 lower-case letters, digits and '-'".into(),
            ))
        }
    }
}

crate::types::string_newtype!(
    /// A coupon code: 1 to 64 letters, digits, `-` and `_`, no spaces;
    /// folded to upper case, so `winter` and `WINTER` are one code.
    CouponCode
);

impl CouponCode {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let value = input.trim().to_uppercase();
        if value.is_empty() || value.chars().count() > 64 {
            return Err(ParseError("a coupon code has 1 to 64 characters".into()));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ParseError(
                "a coupon code has only letters, digits, '-' and '_' (no spaces)".into(),
            ));
        }
        Ok(Self(value))
    }
}

/// A condition's value, of its field's type. Lists are sorted and without
/// repeats, so that membership is a binary search.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    Boolean(bool),
    Integer(i64),
    Integers(Vec<i64>),
    /// An amount, and the same in hundredths to compare as an integer.
    Money {
        amount: Decimal,
        cents: i64,
    },
    /// A moment, and the same in Unix nanoseconds to compare as an integer.
    DateTime {
        at: OffsetDateTime,
        nanos: i128,
    },
    Text(String),
    Texts(Vec<String>),
    /// A country as its two letters in one number ([`country_key`]), so
    /// that comparing one is comparing integers.
    Country(u16),
    Countries(Vec<u16>),
    Sku(Sku),
    Skus(Vec<Sku>),
}

impl Expected {
    fn to_json(&self) -> Value {
        match self {
            Expected::Boolean(b) => json!(b),
            Expected::Integer(n) => json!(n),
            Expected::Integers(list) => json!(list),
            Expected::Money { amount, .. } => json!(amount.to_string()),
            Expected::DateTime { at, .. } => json!(format_time(*at)),
            Expected::Text(text) => json!(text),
            Expected::Texts(list) => json!(list),
            Expected::Country(code) => json!(country_text(*code)),
            Expected::Countries(list) => {
                Value::Array(list.iter().map(|c| json!(country_text(*c))).collect())
            }
            Expected::Sku(sku) => json!(sku.as_str()),
            Expected::Skus(list) => Value::Array(list.iter().map(|s| json!(s.as_str())).collect()),
        }
    }
}

/// An amount in hundredths (saturating: rule amounts and cart subtotals are
/// far inside `i64`).
fn cents(amount: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (amount * Decimal::ONE_HUNDRED)
        .round()
        .to_i64()
        .unwrap_or(if amount.is_sign_negative() {
            i64::MIN
        } else {
            i64::MAX
        })
}

/// A country code's two letters as one number.
pub fn country_key(code: &CountryCode) -> u16 {
    let bytes = code.as_str().as_bytes();
    (u16::from(bytes.first().copied().unwrap_or(0)) << 8)
        | u16::from(bytes.get(1).copied().unwrap_or(0))
}

fn country_text(key: u16) -> String {
    let [first, second] = key.to_be_bytes();
    [char::from(first), char::from(second)].iter().collect()
}

fn format_time(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// One comparison: a field, an operator and a typed value.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: Field,
    pub op: Op,
    pub expected: Expected,
}

/// A parsed rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    All(Vec<Rule>),
    Any(Vec<Rule>),
    Not(Box<Rule>),
    Condition(Condition),
    RuleSet(Handle),
}

/// Why a rule was refused, at which place in it (`all[1].value`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RuleError {
    /// Where in the rule, as a path below the rule (`""` for the rule itself).
    pub path: String,
    pub message: String,
}

impl RuleError {
    fn at(path: &str, message: impl Into<String>) -> Self {
        Self {
            path: path.to_string(),
            message: message.into(),
        }
    }

    /// The request field at fault, under the body field `root` (`rule`).
    pub fn field(&self, root: &str) -> String {
        if self.path.is_empty() {
            root.to_string()
        } else {
            format!("{root}.{}", self.path)
        }
    }
}

fn join(path: &str, part: &str) -> String {
    if path.is_empty() {
        part.to_string()
    } else if part.starts_with('[') {
        format!("{path}{part}")
    } else {
        format!("{path}.{part}")
    }
}

impl Rule {
    /// Parses a rule as written. `known` answers whether a rule set exists
    /// (references to unknown ones are refused here; cycles are checked by
    /// [`RuleBook::new`], which sees every set). Money values are in the
    /// shop's currency (`currency`).
    pub fn parse(
        value: &Value,
        currency: crate::money::Currency,
        known: &dyn Fn(&Handle) -> bool,
    ) -> Result<Rule, RuleError> {
        let mut nodes = 0;
        parse_node(value, "", 1, &mut nodes, currency, known)
    }

    /// The rule as written, the form it is stored and shown in.
    pub fn to_json(&self) -> Value {
        match self {
            Rule::All(rules) => json!({"all": rules.iter().map(Rule::to_json).collect::<Vec<_>>()}),
            Rule::Any(rules) => json!({"any": rules.iter().map(Rule::to_json).collect::<Vec<_>>()}),
            Rule::Not(rule) => json!({"not": rule.to_json()}),
            Rule::Condition(c) => {
                json!({"field": c.field.name(), "op": c.op.name(), "value": c.expected.to_json()})
            }
            Rule::RuleSet(id) => json!({"rule_set": id.as_str()}),
        }
    }

    /// The rule sets this rule refers to directly.
    pub fn references(&self, into: &mut BTreeSet<Handle>) {
        match self {
            Rule::All(rules) | Rule::Any(rules) => {
                rules.iter().for_each(|r| r.references(into));
            }
            Rule::Not(rule) => rule.references(into),
            Rule::Condition(_) => {}
            Rule::RuleSet(id) => {
                into.insert(id.clone());
            }
        }
    }

    /// Calls `visit` with every condition, through referenced sets too.
    pub fn conditions<'a>(&'a self, book: &'a RuleBook, visit: &mut dyn FnMut(&'a Condition)) {
        match self {
            Rule::All(rules) | Rule::Any(rules) => {
                rules.iter().for_each(|r| r.conditions(book, visit));
            }
            Rule::Not(rule) => rule.conditions(book, visit),
            Rule::Condition(c) => visit(c),
            Rule::RuleSet(id) => {
                if let Some(set) = book.get(id) {
                    set.rule.conditions(book, visit);
                }
            }
        }
    }

    /// Evaluates the rule; with `trace`, every node's step is added to it
    /// (and every branch is evaluated, so that the trace explains all of
    /// it; without, `all` and `any` stop at the first answer that decides).
    pub fn evaluate(
        &self,
        book: &RuleBook,
        facts: &Facts<'_>,
        trace: Option<&mut Vec<TraceStep>>,
    ) -> bool {
        match trace {
            None => self.decide(book, facts),
            Some(steps) => self.explain(book, facts, "", steps),
        }
    }

    fn decide(&self, book: &RuleBook, facts: &Facts<'_>) -> bool {
        match self {
            Rule::All(rules) => rules.iter().all(|r| r.decide(book, facts)),
            Rule::Any(rules) => rules.iter().any(|r| r.decide(book, facts)),
            Rule::Not(rule) => !rule.decide(book, facts),
            Rule::Condition(c) => c.holds(facts),
            Rule::RuleSet(id) => book.get(id).is_some_and(|set| set.rule.decide(book, facts)),
        }
    }

    fn explain(
        &self,
        book: &RuleBook,
        facts: &Facts<'_>,
        path: &str,
        steps: &mut Vec<TraceStep>,
    ) -> bool {
        let at = steps.len();
        let here = if path.is_empty() { "$" } else { path };
        steps.push(TraceStep::group(here, "", false));
        let (node, result) = match self {
            Rule::All(rules) | Rule::Any(rules) => {
                let all = matches!(self, Rule::All(_));
                let word = if all { "all" } else { "any" };
                let mut results = Vec::with_capacity(rules.len());
                for (i, rule) in rules.iter().enumerate() {
                    let child = format!("{}.{word}[{i}]", here);
                    results.push(rule.explain(book, facts, &child, steps));
                }
                let result = if all {
                    results.iter().all(|r| *r)
                } else {
                    results.iter().any(|r| *r)
                };
                (word, result)
            }
            Rule::Not(rule) => {
                let child = format!("{here}.not");
                ("not", !rule.explain(book, facts, &child, steps))
            }
            Rule::Condition(c) => {
                let result = c.holds(facts);
                steps[at] = TraceStep {
                    path: here.to_string(),
                    node: "condition",
                    field: Some(c.field.name()),
                    op: Some(c.op.name()),
                    expected: Some(c.expected.to_json()),
                    seen: Some(facts.seen(c.field)),
                    rule_set: None,
                    result,
                };
                return result;
            }
            Rule::RuleSet(id) => {
                let child = format!("{here}.rule_set({id})");
                let result = match book.get(id) {
                    Some(set) => set.rule.explain(book, facts, &child, steps),
                    None => false,
                };
                steps[at].rule_set = Some(id.to_string());
                ("rule_set", result)
            }
        };
        steps[at].node = node;
        steps[at].result = result;
        result
    }
}

fn parse_node(
    value: &Value,
    path: &str,
    depth: usize,
    nodes: &mut usize,
    currency: crate::money::Currency,
    known: &dyn Fn(&Handle) -> bool,
) -> Result<Rule, RuleError> {
    *nodes += 1;
    if *nodes > MAX_NODES {
        return Err(RuleError::at(
            path,
            format!("a rule has at most {MAX_NODES} nodes"),
        ));
    }
    if depth > MAX_DEPTH {
        return Err(RuleError::at(
            path,
            format!("a rule nests at most {MAX_DEPTH} levels"),
        ));
    }
    let object = value.as_object().ok_or_else(|| {
        RuleError::at(
            path,
            "a rule is an object: all, any, not, a condition or a rule_set",
        )
    })?;
    let only = |key: &str| -> Result<(), RuleError> {
        match object.keys().find(|k| k.as_str() != key) {
            Some(other) => Err(RuleError::at(
                &join(path, other),
                format!("a '{key}' rule has no other keys"),
            )),
            None => Ok(()),
        }
    };
    for group in ["all", "any"] {
        if let Some(children) = object.get(group) {
            only(group)?;
            let here = join(path, group);
            let list = children
                .as_array()
                .ok_or_else(|| RuleError::at(&here, "is a list of rules"))?;
            if list.is_empty() {
                return Err(RuleError::at(&here, "needs at least one rule"));
            }
            let rules = list
                .iter()
                .enumerate()
                .map(|(i, child)| {
                    parse_node(
                        child,
                        &format!("{here}[{i}]"),
                        depth + 1,
                        nodes,
                        currency,
                        known,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(if group == "all" {
                Rule::All(rules)
            } else {
                Rule::Any(rules)
            });
        }
    }
    if let Some(child) = object.get("not") {
        only("not")?;
        let rule = parse_node(child, &join(path, "not"), depth + 1, nodes, currency, known)?;
        return Ok(Rule::Not(Box::new(rule)));
    }
    if let Some(reference) = object.get("rule_set") {
        only("rule_set")?;
        let here = join(path, "rule_set");
        let id = reference
            .as_str()
            .ok_or_else(|| RuleError::at(&here, "names a rule set by its id"))
            .and_then(|s| Handle::parse(s).map_err(|e| RuleError::at(&here, e.0)))?;
        if !known(&id) {
            return Err(RuleError::at(
                &here,
                format!("no rule set has the id '{id}'"),
            ));
        }
        return Ok(Rule::RuleSet(id));
    }
    if object.contains_key("field") {
        return parse_condition(object, path, currency).map(Rule::Condition);
    }
    Err(RuleError::at(
        path,
        "a rule is all, any, not, a condition (field, op, value) or a rule_set",
    ))
}

fn parse_condition(
    object: &Map<String, Value>,
    path: &str,
    currency: crate::money::Currency,
) -> Result<Condition, RuleError> {
    if let Some(other) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "field" | "op" | "value"))
    {
        return Err(RuleError::at(
            &join(path, other),
            "a condition has only field, op and value",
        ));
    }
    let field_path = join(path, "field");
    let field = object
        .get("field")
        .and_then(Value::as_str)
        .and_then(Field::parse)
        .ok_or_else(|| {
            let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
            RuleError::at(&field_path, format!("is one of {}", names.join(", ")))
        })?;
    let kind = field.value_type();
    let op_path = join(path, "op");
    let op = object
        .get("op")
        .and_then(Value::as_str)
        .and_then(Op::parse)
        .ok_or_else(|| {
            RuleError::at(
                &op_path,
                "is one of eq, ne, in, not_in, gt, gte, lt, lte, contains, not_contains",
            )
        })?;
    if !kind.operators().contains(&op) {
        let fits: Vec<&str> = kind.operators().iter().map(|o| o.name()).collect();
        return Err(RuleError::at(
            &op_path,
            format!(
                "'{}' does not fit {} (a {}); it takes {}",
                op.name(),
                field.name(),
                kind.name(),
                fits.join(", ")
            ),
        ));
    }
    let value_path = join(path, "value");
    let value = object
        .get("value")
        .ok_or_else(|| RuleError::at(&value_path, "is required"))?;
    let expected = parse_value(kind, op, value, &value_path, currency)?;
    Ok(Condition {
        field,
        op,
        expected,
    })
}

fn parse_value(
    kind: FieldType,
    op: Op,
    value: &Value,
    path: &str,
    currency: crate::money::Currency,
) -> Result<Expected, RuleError> {
    if op.takes_list() {
        let list = value
            .as_array()
            .ok_or_else(|| RuleError::at(path, format!("'{}' takes a list", op.name())))?;
        if list.is_empty() || list.len() > MAX_LIST {
            return Err(RuleError::at(
                path,
                format!("a list has 1 to {MAX_LIST} values"),
            ));
        }
        let one =
            |i: usize, v: &Value| parse_scalar(kind, op, v, &format!("{path}[{i}]"), currency);
        let items = list
            .iter()
            .enumerate()
            .map(|(i, v)| one(i, v))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(match kind {
            FieldType::Integer => {
                Expected::Integers(sorted(items.into_iter().filter_map(|e| match e {
                    Expected::Integer(n) => Some(n),
                    _ => None,
                })))
            }
            FieldType::Country => {
                Expected::Countries(sorted(items.into_iter().filter_map(|e| match e {
                    Expected::Country(c) => Some(c),
                    _ => None,
                })))
            }
            FieldType::Skus => Expected::Skus(sorted(items.into_iter().filter_map(|e| match e {
                Expected::Sku(s) => Some(s),
                _ => None,
            }))),
            _ => Expected::Texts(sorted(items.into_iter().filter_map(|e| match e {
                Expected::Text(t) => Some(t),
                _ => None,
            }))),
        });
    }
    parse_scalar(kind, op, value, path, currency)
}

fn sorted<T: Ord>(items: impl Iterator<Item = T>) -> Vec<T> {
    let set: BTreeSet<T> = items.collect();
    set.into_iter().collect()
}

fn parse_scalar(
    kind: FieldType,
    op: Op,
    value: &Value,
    path: &str,
    currency: crate::money::Currency,
) -> Result<Expected, RuleError> {
    let text = || {
        value
            .as_str()
            .ok_or_else(|| RuleError::at(path, format!("a {} value is a string", kind.name())))
    };
    let refuse = |e: ParseError| RuleError::at(path, e.0);
    Ok(match kind {
        FieldType::Boolean => Expected::Boolean(
            value
                .as_bool()
                .ok_or_else(|| RuleError::at(path, "is true or false"))?,
        ),
        FieldType::Integer => Expected::Integer(
            value
                .as_u64()
                .filter(|n| *n <= 1_000_000_000)
                .and_then(|n| i64::try_from(n).ok())
                .ok_or_else(|| RuleError::at(path, "is a whole number from 0 to 1,000,000,000"))?,
        ),
        FieldType::Money => {
            let amount: Decimal = text()?
                .trim()
                .parse()
                .map_err(|_| RuleError::at(path, "is an amount such as \"50.00\""))?;
            let money = Money::new(amount, currency);
            if amount.is_sign_negative()
                || !money.is_in_minor_units()
                || amount > crate::product::MAX_UNIT_PRICE * Decimal::from(1000)
            {
                return Err(RuleError::at(
                    path,
                    format!("is an amount in whole cents of {currency}, 0 or more"),
                ));
            }
            Expected::Money {
                amount,
                cents: cents(amount),
            }
        }
        FieldType::DateTime => {
            let at = OffsetDateTime::parse(text()?, &Rfc3339).map_err(|_| {
                RuleError::at(
                    path,
                    "is a date and time such as \"2027-01-31T23:59:59+01:00\"",
                )
            })?;
            Expected::DateTime {
                at,
                nanos: at.unix_timestamp_nanos(),
            }
        }
        FieldType::Email if matches!(op, Op::Contains | Op::NotContains) => {
            let part = text()?.trim().to_lowercase();
            if part.is_empty() || part.len() > 254 {
                return Err(RuleError::at(
                    path,
                    "is a part of an address, 1 to 254 characters",
                ));
            }
            Expected::Text(part)
        }
        FieldType::Email => Expected::Text(Email::parse(text()?).map_err(refuse)?.normalized()),
        FieldType::Coupon => Expected::Text(CouponCode::parse(text()?).map_err(refuse)?.0),
        FieldType::PaymentMethod => {
            let method: PaymentMethod = serde_json::from_value(value.clone())
                .map_err(|_| RuleError::at(path, "is prepayment, invoice or cash_on_delivery"))?;
            Expected::Text(payment_method_name(method).to_string())
        }
        FieldType::Country => {
            Expected::Country(country_key(&CountryCode::parse(text()?).map_err(refuse)?))
        }
        FieldType::Names => {
            let name = text()?.trim();
            if name.is_empty() || name.chars().count() > 64 {
                return Err(RuleError::at(path, "is a name of 1 to 64 characters"));
            }
            Expected::Text(name.to_string())
        }
        FieldType::Skus => Expected::Sku(Sku::parse(text()?).map_err(refuse)?),
    })
}

fn payment_method_name(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::Prepayment => "prepayment",
        PaymentMethod::Invoice => "invoice",
        PaymentMethod::CashOnDelivery => "cash_on_delivery",
    }
}

/// What a rule is evaluated against: the cart, its customer, addresses,
/// coupon, payment method and the time. Sets are sorted once here.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleContext {
    pub customer: CustomerFacts,
    shipping_country: Option<CountryCode>,
    billing_country: Option<CountryCode>,
    /// The countries as [`country_key`]s, to compare as numbers.
    shipping_key: Option<u16>,
    billing_key: Option<u16>,
    /// The goods' gross value before discounts.
    pub cart_subtotal: Decimal,
    pub cart_quantity: u32,
    pub cart_line_count: u32,
    skus: Vec<Sku>,
    categories: Vec<String>,
    pub coupon: Option<CouponCode>,
    pub payment_method: Option<PaymentMethod>,
    pub now: OffsetDateTime,
    /// `now` in Unix nanoseconds, to compare as an integer.
    now_nanos: i128,
}

/// What rules may ask about the customer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomerFacts {
    /// Orders before this one, by the account or by the mailbox of the
    /// e-mail address, whichever counts more.
    pub order_count: u32,
    groups: Vec<String>,
    /// Folded to lower case; unknown on a cart page before checkout.
    pub email: Option<String>,
}

impl CustomerFacts {
    pub fn new(order_count: u32, groups: &[String], email: Option<&Email>) -> Self {
        Self {
            order_count,
            groups: sorted(groups.iter().cloned()),
            email: email.map(Email::normalized),
        }
    }

    pub fn is_new(&self) -> bool {
        self.order_count == 0
    }

    pub fn groups(&self) -> &[String] {
        &self.groups
    }
}

impl RuleContext {
    /// A context of a cart: its lines as (sku, category, quantity, gross
    /// line total).
    #[allow(clippy::too_many_arguments)]
    pub fn new<'a>(
        customer: CustomerFacts,
        lines: impl IntoIterator<Item = (&'a Sku, &'a str, u32, Decimal)>,
        shipping_country: Option<CountryCode>,
        billing_country: Option<CountryCode>,
        coupon: Option<CouponCode>,
        payment_method: Option<PaymentMethod>,
        now: OffsetDateTime,
    ) -> Self {
        let mut skus: Vec<Sku> = Vec::new();
        let mut categories: Vec<String> = Vec::new();
        let mut quantity: u32 = 0;
        let mut subtotal = Decimal::ZERO;
        let mut line_count: u32 = 0;
        for (sku, category, units, total) in lines {
            skus.push(sku.clone());
            if !category.is_empty() && !categories.iter().any(|c| c == category) {
                categories.push(category.to_string());
            }
            quantity = quantity.saturating_add(units);
            subtotal = subtotal.saturating_add(total);
            line_count = line_count.saturating_add(1);
        }
        // Sorted once, so that every condition on them is a search.
        skus.sort_unstable();
        skus.dedup();
        categories.sort_unstable();
        Self {
            customer,
            shipping_key: shipping_country.as_ref().map(country_key),
            billing_key: billing_country.as_ref().map(country_key),
            shipping_country,
            billing_country,
            cart_subtotal: subtotal,
            cart_quantity: quantity,
            cart_line_count: line_count,
            skus,
            categories,
            coupon,
            payment_method,
            now_nanos: now.unix_timestamp_nanos(),
            now,
        }
    }

    /// The facts rules see: this context as it is.
    pub fn facts(&self) -> Facts<'_> {
        Facts {
            context: self,
            subtotal: self.cart_subtotal,
            subtotal_cents: cents(self.cart_subtotal),
        }
    }

    pub fn skus(&self) -> &[Sku] {
        &self.skus
    }

    pub fn shipping_country(&self) -> Option<&CountryCode> {
        self.shipping_country.as_ref()
    }

    pub fn billing_country(&self) -> Option<&CountryCode> {
        self.billing_country.as_ref()
    }

    pub fn categories(&self) -> &[String] {
        &self.categories
    }
}

/// A context as a rule sees it, with the subtotal it assumes: "what if the
/// cart were worth more" asks the same rule with another subtotal, without
/// copying the context.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    context: &'a RuleContext,
    subtotal: Decimal,
    subtotal_cents: i64,
}

impl<'a> Facts<'a> {
    pub fn with_subtotal(self, subtotal: Decimal) -> Self {
        Self {
            subtotal,
            subtotal_cents: cents(subtotal),
            ..self
        }
    }

    /// What the context holds for `field`, as the trace shows it.
    pub fn seen(&self, field: Field) -> Value {
        let c = self.context;
        match field {
            Field::CustomerIsNew => json!(c.customer.is_new()),
            Field::CustomerOrderCount => json!(c.customer.order_count),
            Field::CustomerGroups => json!(c.customer.groups),
            Field::CustomerEmail => json!(c.customer.email),
            Field::ShippingCountry => json!(c.shipping_country.as_ref().map(|x| x.as_str())),
            Field::BillingCountry => json!(c.billing_country.as_ref().map(|x| x.as_str())),
            Field::CartSubtotal => json!(self.subtotal.to_string()),
            Field::CartQuantity => json!(c.cart_quantity),
            Field::CartLineCount => json!(c.cart_line_count),
            Field::CartSkus => Value::Array(c.skus.iter().map(|s| json!(s.as_str())).collect()),
            Field::CartCategories => json!(c.categories),
            Field::CouponCode => json!(c.coupon.as_ref().map(CouponCode::as_str)),
            Field::PaymentMethod => json!(c.payment_method.map(payment_method_name)),
            Field::Now => json!(format_time(c.now)),
        }
    }
}

impl Condition {
    /// Whether the condition holds; an unknown value makes it false.
    pub fn holds(&self, facts: &Facts<'_>) -> bool {
        let c = facts.context;
        match self.field {
            Field::CustomerIsNew => match self.expected {
                Expected::Boolean(b) => compare_eq(self.op, c.customer.is_new() == b),
                _ => false,
            },
            Field::CustomerOrderCount => {
                integer(self.op, &self.expected, c.customer.order_count.into())
            }
            Field::CartQuantity => integer(self.op, &self.expected, c.cart_quantity.into()),
            Field::CartLineCount => integer(self.op, &self.expected, c.cart_line_count.into()),
            Field::CartSubtotal => match &self.expected {
                Expected::Money { cents, .. } => ordered(self.op, facts.subtotal_cents.cmp(cents)),
                _ => false,
            },
            Field::Now => match &self.expected {
                Expected::DateTime { nanos, .. } => ordered(self.op, c.now_nanos.cmp(nanos)),
                _ => false,
            },
            Field::CustomerEmail => c
                .customer
                .email
                .as_deref()
                .is_some_and(|seen| text(self.op, &self.expected, seen)),
            Field::CouponCode => c
                .coupon
                .as_ref()
                .is_some_and(|seen| text(self.op, &self.expected, seen.as_str())),
            Field::PaymentMethod => c
                .payment_method
                .is_some_and(|seen| text(self.op, &self.expected, payment_method_name(seen))),
            Field::ShippingCountry => c
                .shipping_key
                .is_some_and(|seen| country(self.op, &self.expected, seen)),
            Field::BillingCountry => c
                .billing_key
                .is_some_and(|seen| country(self.op, &self.expected, seen)),
            Field::CustomerGroups => names(self.op, &self.expected, &c.customer.groups),
            Field::CartCategories => names(self.op, &self.expected, &c.categories),
            Field::CartSkus => match (&self.expected, self.op) {
                (Expected::Sku(sku), Op::Contains) => c.skus.binary_search(sku).is_ok(),
                (Expected::Sku(sku), Op::NotContains) => c.skus.binary_search(sku).is_err(),
                (Expected::Skus(list), Op::In) => intersects(&c.skus, list),
                (Expected::Skus(list), Op::NotIn) => !intersects(&c.skus, list),
                _ => false,
            },
        }
    }
}

fn compare_eq(op: Op, equal: bool) -> bool {
    match op {
        Op::Eq => equal,
        Op::Ne => !equal,
        _ => false,
    }
}

fn ordered(op: Op, seen_vs_expected: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => seen_vs_expected == Equal,
        Op::Ne => seen_vs_expected != Equal,
        Op::Gt => seen_vs_expected == Greater,
        Op::Gte => seen_vs_expected != Less,
        Op::Lt => seen_vs_expected == Less,
        Op::Lte => seen_vs_expected != Greater,
        _ => false,
    }
}

fn integer(op: Op, expected: &Expected, seen: i64) -> bool {
    match (expected, op) {
        (Expected::Integer(v), _) => ordered(op, seen.cmp(v)),
        (Expected::Integers(list), Op::In) => list.binary_search(&seen).is_ok(),
        (Expected::Integers(list), Op::NotIn) => list.binary_search(&seen).is_err(),
        _ => false,
    }
}

fn text(op: Op, expected: &Expected, seen: &str) -> bool {
    match (expected, op) {
        (Expected::Text(v), Op::Eq | Op::Ne) => compare_eq(op, seen == v),
        (Expected::Text(v), Op::Contains) => seen.contains(v.as_str()),
        (Expected::Text(v), Op::NotContains) => !seen.contains(v.as_str()),
        (Expected::Texts(list), Op::In) => list.iter().any(|v| v == seen),
        (Expected::Texts(list), Op::NotIn) => !list.iter().any(|v| v == seen),
        _ => false,
    }
}

fn country(op: Op, expected: &Expected, seen: u16) -> bool {
    match (expected, op) {
        (Expected::Country(v), _) => compare_eq(op, seen == *v),
        (Expected::Countries(list), Op::In) => list.contains(&seen),
        (Expected::Countries(list), Op::NotIn) => !list.contains(&seen),
        _ => false,
    }
}

fn names(op: Op, expected: &Expected, seen: &[String]) -> bool {
    match (expected, op) {
        (Expected::Text(v), Op::Contains) => has_name(seen, v),
        (Expected::Text(v), Op::NotContains) => !has_name(seen, v),
        (Expected::Texts(list), Op::In) => intersects(seen, list),
        (Expected::Texts(list), Op::NotIn) => !intersects(seen, list),
        _ => false,
    }
}

/// Whether a sorted set of names has `name`: a customer's groups and a
/// cart's categories are a handful, and comparing lengths first skips most
/// of them faster than a binary search compares bytes.
fn has_name(names: &[String], name: &str) -> bool {
    if names.len() <= 16 {
        names.iter().any(|n| n == name)
    } else {
        names.binary_search_by(|n| n.as_str().cmp(name)).is_ok()
    }
}

/// Whether two sorted lists share a member.
fn intersects<T: Ord>(a: &[T], b: &[T]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// One step of a trace: a node of the rule, what it compared and its result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TraceStep {
    /// Where the node is (`$`, `$.all[1]`, `$.all[2].rule_set(vip).any[0]`).
    pub path: String,
    /// `all`, `any`, `not`, `condition` or `rule_set`.
    pub node: &'static str,
    pub field: Option<&'static str>,
    pub op: Option<&'static str>,
    /// The value the condition expects.
    pub expected: Option<Value>,
    /// The value the context held.
    pub seen: Option<Value>,
    /// The rule set a `rule_set` node refers to.
    pub rule_set: Option<String>,
    pub result: bool,
}

impl TraceStep {
    fn group(path: &str, node: &'static str, result: bool) -> Self {
        Self {
            path: path.to_string(),
            node,
            field: None,
            op: None,
            expected: None,
            seen: None,
            rule_set: None,
            result,
        }
    }
}

/// A named rule set staff saved.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    pub id: Handle,
    pub name: String,
    pub rule: Rule,
    /// Bumped by every save; saves are conditional on it.
    pub version: u64,
}

/// Every rule set of the shop, checked together: each reference resolves
/// and no set reaches itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleBook {
    sets: BTreeMap<Handle, RuleSet>,
}

impl RuleBook {
    /// Checks the sets together; a reference cycle is refused naming a set
    /// on it.
    pub fn new(sets: impl IntoIterator<Item = RuleSet>) -> Result<Self, CycleError> {
        let book = Self {
            sets: sets.into_iter().map(|s| (s.id.clone(), s)).collect(),
        };
        // Depth-first over references; a set seen again on the current
        // path closes a cycle.
        let mut done: BTreeSet<&Handle> = BTreeSet::new();
        for start in book.sets.keys() {
            let mut path: Vec<&Handle> = Vec::new();
            book.visit(start, &mut path, &mut done)?;
        }
        Ok(book)
    }

    fn visit<'a>(
        &'a self,
        id: &'a Handle,
        path: &mut Vec<&'a Handle>,
        done: &mut BTreeSet<&'a Handle>,
    ) -> Result<(), CycleError> {
        if done.contains(id) {
            return Ok(());
        }
        if path.contains(&id) {
            return Err(CycleError {
                rule_set: id.clone(),
            });
        }
        path.push(id);
        if let Some(set) = self.sets.get(id) {
            let mut refs = BTreeSet::new();
            set.rule.references(&mut refs);
            for next in &refs {
                let next = self.sets.get_key_value(next).map(|(k, _)| k);
                if let Some(next) = next {
                    self.visit(next, path, done)?;
                }
            }
        }
        path.pop();
        done.insert(id);
        Ok(())
    }

    pub fn get(&self, id: &Handle) -> Option<&RuleSet> {
        self.sets.get(id)
    }

    pub fn sets(&self) -> impl Iterator<Item = &RuleSet> {
        self.sets.values()
    }

    /// The rule sets that refer to `id` directly.
    pub fn referrers(&self, id: &Handle) -> Vec<&Handle> {
        self.sets
            .values()
            .filter(|s| {
                let mut refs = BTreeSet::new();
                s.rule.references(&mut refs);
                refs.contains(id)
            })
            .map(|s| &s.id)
            .collect()
    }
}

/// A rule set reaches itself through its references.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the rule set '{rule_set}' refers back to itself")]
pub struct CycleError {
    pub rule_set: Handle,
}
