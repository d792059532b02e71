//! Discounts: what staff give (a percentage, an amount, free shipping, a
//! free item), on what (the order, some products or categories, shipping),
//! to whom (a rule as requirement, an optional coupon code), when (a
//! validity window) and how often (limits in total and per customer), in
//! which order (priority) and whether they add up (stacking).
//!
//! [`apply_discounts`] decides which discounts a cart gets and spreads each
//! amount over the lines it is on by largest remainder, to the cent, so
//! that every line's VAT and every later refund stays right. It is pure:
//! the checkout and the cart page call the same code with the same facts,
//! and the checkout's write enforces the limits with conditional counters.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::money::{Currency, Money};
use crate::rules::{CouponCode, Handle, Rule, RuleBook, RuleContext, TraceStep};
use crate::types::{Quantity, Sku};

#[cfg(test)]
mod tests;

/// The most discounts one order gets: with their usage counters, the
/// largest order still fits one DynamoDB transaction.
pub const MAX_DISCOUNTS_PER_ORDER: usize = 3;

/// A discount as staff write it (and as it is stored): plain values,
/// checked by [`Discount::parse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DiscountSpec {
    pub id: String,
    pub name: String,
    /// `percent`, `fixed`, `free_shipping` or `free_item`.
    pub kind: String,
    /// For `percent`: more than 0, at most 100.
    #[serde(default)]
    pub percent: Option<String>,
    /// For `fixed`: the gross amount off.
    #[serde(default)]
    pub amount: Option<String>,
    /// The currency of `amount`: the shop's (the default).
    #[serde(default)]
    pub currency: Option<String>,
    /// For `free_item`: the product given, and how many.
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub quantity: Option<u32>,
    /// `order` (the default), `products`, `categories` or `shipping`.
    #[serde(default)]
    pub applies_to: Option<String>,
    /// For `products`.
    #[serde(default)]
    pub skus: Vec<String>,
    /// For `categories`.
    #[serde(default)]
    pub categories: Vec<String>,
    /// A rule (see [`crate::rules`]); none: every cart.
    #[serde(default)]
    pub requirement: Option<Value>,
    #[serde(default)]
    pub coupon: Option<String>,
    #[serde(default)]
    pub starts_at: Option<String>,
    #[serde(default)]
    pub ends_at: Option<String>,
    #[serde(default)]
    pub usage_limit: Option<u32>,
    #[serde(default)]
    pub per_customer_limit: Option<u32>,
    #[serde(default)]
    pub priority: i32,
    #[serde(default = "yes")]
    pub stacks: bool,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// What a discount gives.
#[derive(Debug, Clone, PartialEq)]
pub enum DiscountKind {
    Percent(Decimal),
    Fixed(Money),
    FreeShipping,
    FreeItem { sku: Sku, quantity: Quantity },
}

impl DiscountKind {
    pub fn name(&self) -> &'static str {
        match self {
            DiscountKind::Percent(_) => "percent",
            DiscountKind::Fixed(_) => "fixed",
            DiscountKind::FreeShipping => "free_shipping",
            DiscountKind::FreeItem { .. } => "free_item",
        }
    }
}

/// What a discount is taken off.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Order,
    Products(Vec<Sku>),
    Categories(Vec<String>),
    Shipping,
}

/// A checked discount.
#[derive(Debug, Clone, PartialEq)]
pub struct Discount {
    pub id: Handle,
    pub name: String,
    pub kind: DiscountKind,
    pub target: Target,
    pub requirement: Option<Rule>,
    pub coupon: Option<CouponCode>,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
    pub usage_limit: Option<u32>,
    pub per_customer_limit: Option<u32>,
    pub priority: i32,
    pub stacks: bool,
    pub active: bool,
    /// Bumped by every save; saves are conditional on it.
    pub version: u64,
    /// The goods values at which the requirement's subtotal conditions
    /// change, ascending: where "add this much more" hints look. Set by
    /// [`Discount::index`] once the rule sets are known.
    subtotal_thresholds: Vec<Decimal>,
}

/// A field of a discount (or an offer) that cannot be saved, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    pub field: String,
    pub message: String,
}

impl SpecError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

fn time_field(field: &str, value: &Option<String>) -> Result<Option<OffsetDateTime>, SpecError> {
    value
        .as_deref()
        .map(|text| {
            OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|_| {
                SpecError::new(
                    field,
                    "is a date and time such as \"2027-01-31T23:59:59+01:00\"",
                )
            })
        })
        .transpose()
}

fn format_time(value: Option<OffsetDateTime>) -> Option<String> {
    value.and_then(|t| t.format(&Rfc3339).ok())
}

impl Discount {
    /// Checks what staff wrote; `known` tells the rule sets that exist.
    pub fn parse(
        spec: &DiscountSpec,
        version: u64,
        currency: Currency,
        known: &dyn Fn(&Handle) -> bool,
    ) -> Result<Discount, SpecError> {
        let id = Handle::parse(&spec.id).map_err(|e| SpecError::new("id", e.0))?;
        let name = spec.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(SpecError::new("name", "has 1 to 100 characters"));
        }
        let kind = match spec.kind.as_str() {
            "percent" => {
                let percent: Decimal = spec
                    .percent
                    .as_deref()
                    .and_then(|p| p.trim().parse().ok())
                    .ok_or_else(|| SpecError::new("percent", "is a number such as \"10\""))?;
                if percent <= Decimal::ZERO || percent > Decimal::ONE_HUNDRED || percent.scale() > 2
                {
                    return Err(SpecError::new(
                        "percent",
                        "is more than 0 and at most 100, with at most two decimals",
                    ));
                }
                DiscountKind::Percent(percent.normalize())
            }
            "fixed" => {
                if let Some(code) = spec.currency.as_deref() {
                    if !code.trim().eq_ignore_ascii_case(currency.code()) {
                        return Err(SpecError::new(
                            "currency",
                            format!("the shop sells in {currency}"),
                        ));
                    }
                }
                let amount: Decimal = spec
                    .amount
                    .as_deref()
                    .and_then(|a| a.trim().parse().ok())
                    .ok_or_else(|| SpecError::new("amount", "is an amount such as \"5.00\""))?;
                let money = Money::new(amount, currency);
                if amount <= Decimal::ZERO
                    || !money.is_in_minor_units()
                    || amount > crate::product::MAX_UNIT_PRICE
                {
                    return Err(SpecError::new(
                        "amount",
                        "is more than 0, at most 1,000,000.00, in whole cents",
                    ));
                }
                DiscountKind::Fixed(money.rounded())
            }
            "free_shipping" => DiscountKind::FreeShipping,
            "free_item" => {
                let sku = spec
                    .sku
                    .as_deref()
                    .ok_or_else(|| SpecError::new("sku", "names the product given"))
                    .and_then(|s| Sku::parse(s).map_err(|e| SpecError::new("sku", e.0)))?;
                let quantity = Quantity::new(spec.quantity.unwrap_or(1))
                    .map_err(|e| SpecError::new("quantity", e.0))?;
                DiscountKind::FreeItem { sku, quantity }
            }
            _ => {
                return Err(SpecError::new(
                    "kind",
                    "is percent, fixed, free_shipping or free_item",
                ))
            }
        };
        let target = match spec.applies_to.as_deref().unwrap_or("order") {
            "order" => Target::Order,
            "shipping" => Target::Shipping,
            "products" => {
                if spec.skus.is_empty() || spec.skus.len() > 100 {
                    return Err(SpecError::new("skus", "names 1 to 100 products"));
                }
                let skus = spec
                    .skus
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        Sku::parse(s).map_err(|e| SpecError::new(format!("skus[{i}]"), e.0))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Target::Products(skus)
            }
            "categories" => {
                if spec.categories.is_empty() || spec.categories.len() > 100 {
                    return Err(SpecError::new("categories", "names 1 to 100 categories"));
                }
                let mut categories = Vec::with_capacity(spec.categories.len());
                for (i, c) in spec.categories.iter().enumerate() {
                    let c = c.trim();
                    if c.is_empty() || c.chars().count() > 64 {
                        return Err(SpecError::new(
                            format!("categories[{i}]"),
                            "is a name of 1 to 64 characters",
                        ));
                    }
                    categories.push(c.to_string());
                }
                Target::Categories(categories)
            }
            _ => {
                return Err(SpecError::new(
                    "applies_to",
                    "is order, products, categories or shipping",
                ))
            }
        };
        if matches!(
            kind,
            DiscountKind::FreeShipping | DiscountKind::FreeItem { .. }
        ) && !matches!(target, Target::Order)
        {
            return Err(SpecError::new(
                "applies_to",
                format!("a {} discount applies to the order", kind.name()),
            ));
        }
        let requirement = spec
            .requirement
            .as_ref()
            .filter(|r| !r.is_null())
            .map(|r| {
                Rule::parse(r, currency, known)
                    .map_err(|e| SpecError::new(e.field("requirement"), e.message))
            })
            .transpose()?;
        let coupon = spec
            .coupon
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| CouponCode::parse(c).map_err(|e| SpecError::new("coupon", e.0)))
            .transpose()?;
        let starts_at = time_field("starts_at", &spec.starts_at)?;
        let ends_at = time_field("ends_at", &spec.ends_at)?;
        if let (Some(start), Some(end)) = (starts_at, ends_at) {
            if end <= start {
                return Err(SpecError::new("ends_at", "is after starts_at"));
            }
        }
        for (field, limit) in [
            ("usage_limit", spec.usage_limit),
            ("per_customer_limit", spec.per_customer_limit),
        ] {
            if limit == Some(0) {
                return Err(SpecError::new(
                    field,
                    "is at least 1 (leave it out for no limit)",
                ));
            }
        }
        if !(-1000..=1000).contains(&spec.priority) {
            return Err(SpecError::new("priority", "is from -1000 to 1000"));
        }
        Ok(Discount {
            id,
            name: name.to_string(),
            kind,
            target,
            requirement,
            coupon,
            starts_at,
            ends_at,
            usage_limit: spec.usage_limit,
            per_customer_limit: spec.per_customer_limit,
            priority: spec.priority,
            stacks: spec.stacks,
            active: spec.active,
            version,
            subtotal_thresholds: Vec::new(),
        })
    }

    /// Works out what evaluating needs of the rule sets, once: the goods
    /// values at which the requirement's subtotal conditions turn.
    pub fn index(&mut self, book: &RuleBook, currency: Currency) {
        let minor = Decimal::new(1, currency.minor_unit_digits());
        let mut thresholds = Vec::new();
        if let Some(rule) = &self.requirement {
            rule.conditions(book, &mut |c| {
                if c.field != crate::rules::Field::CartSubtotal {
                    return;
                }
                if let crate::rules::Expected::Money { amount, .. } = c.expected {
                    match c.op {
                        crate::rules::Op::Gte | crate::rules::Op::Eq => thresholds.push(amount),
                        crate::rules::Op::Gt => thresholds.push(amount + minor),
                        _ => {}
                    }
                }
            });
        }
        thresholds.sort();
        thresholds.dedup();
        self.subtotal_thresholds = thresholds;
    }

    /// The discount as written, the form it is stored and shown in.
    pub fn spec(&self) -> DiscountSpec {
        let (percent, amount, currency, sku, quantity) = match &self.kind {
            DiscountKind::Percent(p) => (Some(p.to_string()), None, None, None, None),
            DiscountKind::Fixed(m) => (
                None,
                Some(m.amount().to_string()),
                Some(m.currency().code().to_string()),
                None,
                None,
            ),
            DiscountKind::FreeShipping => (None, None, None, None, None),
            DiscountKind::FreeItem { sku, quantity } => (
                None,
                None,
                None,
                Some(sku.to_string()),
                Some(quantity.get()),
            ),
        };
        let (applies_to, skus, categories) = match &self.target {
            Target::Order => ("order", vec![], vec![]),
            Target::Shipping => ("shipping", vec![], vec![]),
            Target::Products(skus) => (
                "products",
                skus.iter().map(Sku::to_string).collect(),
                vec![],
            ),
            Target::Categories(c) => ("categories", vec![], c.clone()),
        };
        DiscountSpec {
            id: self.id.to_string(),
            name: self.name.clone(),
            kind: self.kind.name().to_string(),
            percent,
            amount,
            currency,
            sku,
            quantity,
            applies_to: Some(applies_to.to_string()),
            skus,
            categories,
            requirement: self.requirement.as_ref().map(Rule::to_json),
            coupon: self.coupon.as_ref().map(CouponCode::to_string),
            starts_at: format_time(self.starts_at),
            ends_at: format_time(self.ends_at),
            usage_limit: self.usage_limit,
            per_customer_limit: self.per_customer_limit,
            priority: self.priority,
            stacks: self.stacks,
            active: self.active,
        }
    }

    /// Whether the discount can be used at `now` at all.
    pub fn window(&self, now: OffsetDateTime) -> Result<(), Skip> {
        if !self.active {
            return Err(Skip::Inactive);
        }
        if self.starts_at.is_some_and(|start| now < start) {
            return Err(Skip::NotYetValid);
        }
        if self.ends_at.is_some_and(|end| now > end) {
            return Err(Skip::Expired);
        }
        Ok(())
    }

    /// Whether the count of the customer's earlier orders decides this
    /// discount's requirement.
    pub fn reads_order_count(&self, book: &RuleBook) -> bool {
        let mut reads = false;
        if let Some(rule) = &self.requirement {
            rule.conditions(book, &mut |c| reads |= c.field.reads_order_count());
        }
        reads
    }

    fn used_up(&self, uses: Option<Uses>) -> Option<Skip> {
        let uses = uses?;
        if self.usage_limit.is_some_and(|limit| uses.total >= limit) {
            return Some(Skip::UsedUp);
        }
        match (self.per_customer_limit, uses.by_customer) {
            (Some(limit), Some(used)) if used >= limit => Some(Skip::UsedUpByCustomer),
            _ => None,
        }
    }
}

/// How often a discount was used, in total and by this customer (unknown
/// when the customer is not known yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Uses {
    pub total: u32,
    pub by_customer: Option<u32>,
}

/// Why a discount did not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    Inactive,
    NotYetValid,
    Expired,
    /// It has a coupon code the cart does not carry.
    NoCoupon,
    RequirementNotMet,
    UsedUp,
    UsedUpByCustomer,
    /// A discount of higher priority that does not stack applied, or this
    /// one does not stack and another applied first.
    DoesNotStack,
    /// Nothing in the cart it applies to (or nothing left to take off).
    NothingToDiscount,
    /// The order has its most discounts already.
    TooMany,
}

impl Skip {
    pub fn code(self) -> &'static str {
        match self {
            Skip::Inactive => "inactive",
            Skip::NotYetValid => "not_yet_valid",
            Skip::Expired => "expired",
            Skip::NoCoupon => "no_coupon",
            Skip::RequirementNotMet => "requirement_not_met",
            Skip::UsedUp => "used_up",
            Skip::UsedUpByCustomer => "used_up_by_customer",
            Skip::DoesNotStack => "does_not_stack",
            Skip::NothingToDiscount => "nothing_to_discount",
            Skip::TooMany => "too_many",
        }
    }
}

/// A line of the cart as discounts see it.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscountLine<'a> {
    pub sku: &'a Sku,
    pub category: &'a str,
    /// The line's gross total before discounts.
    pub total: Money,
}

/// A discount the cart gets.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedDiscount {
    pub id: Handle,
    pub name: String,
    pub kind: &'static str,
    pub coupon: Option<CouponCode>,
    /// What it takes off (zero for a free item).
    pub amount: Money,
    /// The product given, for a free item.
    pub gift: Option<(Sku, Quantity)>,
    pub usage_limit: Option<u32>,
    pub per_customer_limit: Option<u32>,
    /// Whether the requirement counted the customer's earlier orders.
    pub reads_order_count: bool,
    pub trace: Option<Vec<TraceStep>>,
}

/// A discount the cart does not get, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedDiscount {
    pub id: Handle,
    pub name: String,
    pub reason: Skip,
    pub trace: Option<Vec<TraceStep>>,
}

/// A discount the cart would get with more goods in it.
#[derive(Debug, Clone, PartialEq)]
pub struct NearlyDiscount {
    pub id: Handle,
    pub name: String,
    /// How much more the goods must be worth.
    pub missing: Money,
}

/// Which discounts a cart gets and where their money goes.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscountOutcome {
    pub applied: Vec<AppliedDiscount>,
    /// Filled only when explaining.
    pub skipped: Vec<SkippedDiscount>,
    pub nearly: Vec<NearlyDiscount>,
    /// Each line's share of the discounts, in the lines' order.
    pub line_discounts: Vec<Money>,
    pub shipping_discount: Money,
}

impl DiscountOutcome {
    pub fn total(&self, currency: Currency) -> Money {
        Money::sum(currency, self.applied.iter().map(|a| &a.amount))
    }
}

/// What [`apply_discounts`] needs besides the discounts.
pub struct DiscountInput<'a> {
    pub lines: &'a [DiscountLine<'a>],
    pub shipping: Money,
    pub context: &'a RuleContext,
    /// Uses so far per discount, where known (the cart page reads them;
    /// the checkout's write enforces the limits instead).
    pub uses: &'a dyn Fn(&Handle) -> Option<Uses>,
    /// Collect the skipped discounts and every trace.
    pub explain: bool,
    /// A discount whose reason to keep when it is skipped, explained or
    /// not (the coupon's: a refused coupon says why).
    pub watch: Option<&'a Handle>,
}

/// Decides the discounts of a cart. `discounts` are in the order they are
/// considered: highest priority first ([`crate::promotions::Promotions`]
/// keeps them so).
pub fn apply_discounts(
    discounts: &[Discount],
    book: &RuleBook,
    input: &DiscountInput<'_>,
) -> DiscountOutcome {
    let currency = input.shipping.currency();
    let zero = Money::zero(currency);
    let mut outcome = DiscountOutcome {
        applied: Vec::new(),
        skipped: Vec::new(),
        nearly: Vec::new(),
        line_discounts: vec![zero; input.lines.len()],
        shipping_discount: zero,
    };
    let facts = input.context.facts();
    // An exclusive (non-stacking) discount that applied closes the list.
    let mut closed = false;
    for discount in discounts {
        let mut trace = input.explain.then(Vec::new);
        let decision = (|| {
            discount.window(input.context.now)?;
            if let Some(code) = &discount.coupon {
                if input.context.coupon.as_ref() != Some(code) {
                    return Err(Skip::NoCoupon);
                }
            }
            if let Some(rule) = &discount.requirement {
                if !rule.evaluate(book, &facts, trace.as_mut()) {
                    return Err(Skip::RequirementNotMet);
                }
            }
            if let Some(skip) = discount.used_up((input.uses)(&discount.id)) {
                return Err(skip);
            }
            if closed || (!discount.stacks && !outcome.applied.is_empty()) {
                return Err(Skip::DoesNotStack);
            }
            if outcome.applied.len() >= MAX_DISCOUNTS_PER_ORDER {
                return Err(Skip::TooMany);
            }
            Ok(())
        })();
        let result = decision.and_then(|()| take_off(discount, input, &mut outcome));
        match result {
            Ok((amount, gift)) => {
                closed |= !discount.stacks;
                outcome.applied.push(AppliedDiscount {
                    id: discount.id.clone(),
                    name: discount.name.clone(),
                    kind: discount.kind.name(),
                    coupon: discount.coupon.clone(),
                    amount,
                    gift,
                    usage_limit: discount.usage_limit,
                    per_customer_limit: discount.per_customer_limit,
                    reads_order_count: discount.reads_order_count(book),
                    trace,
                });
            }
            Err(reason) => {
                if reason == Skip::RequirementNotMet {
                    if let Some(nearly) = nearly(discount, book, input) {
                        outcome.nearly.push(nearly);
                    }
                }
                if input.explain || input.watch == Some(&discount.id) {
                    outcome.skipped.push(SkippedDiscount {
                        id: discount.id.clone(),
                        name: discount.name.clone(),
                        reason,
                        trace,
                    });
                }
            }
        }
    }
    outcome
}

/// Takes one discount off the cart: its amount, spread over what it
/// applies to in proportion to what each part still charges.
fn take_off(
    discount: &Discount,
    input: &DiscountInput<'_>,
    outcome: &mut DiscountOutcome,
) -> Result<(Money, Option<(Sku, Quantity)>), Skip> {
    let currency = input.shipping.currency();
    let shipping_left = input.shipping - outcome.shipping_discount;
    match (&discount.kind, &discount.target) {
        (DiscountKind::FreeItem { sku, quantity }, _) => {
            Ok((Money::zero(currency), Some((sku.clone(), *quantity))))
        }
        (DiscountKind::FreeShipping, _) | (_, Target::Shipping) => {
            let amount = match &discount.kind {
                DiscountKind::Percent(p) => percent_of(shipping_left, *p),
                DiscountKind::Fixed(m) => min(*m, shipping_left),
                _ => shipping_left,
            };
            if !amount.amount().is_sign_positive() || amount.is_zero() {
                return Err(Skip::NothingToDiscount);
            }
            outcome.shipping_discount = outcome.shipping_discount + amount;
            Ok((amount, None))
        }
        (kind, target) => {
            let left: Vec<Decimal> = input
                .lines
                .iter()
                .zip(&outcome.line_discounts)
                .map(|(line, taken)| {
                    let applies = match target {
                        Target::Order => true,
                        Target::Products(skus) => skus.contains(line.sku),
                        Target::Categories(c) => c.iter().any(|c| c == line.category),
                        Target::Shipping => false,
                    };
                    if applies {
                        (line.total - *taken).amount().max(Decimal::ZERO)
                    } else {
                        Decimal::ZERO
                    }
                })
                .collect();
            let base = Money::new(left.iter().copied().sum(), currency);
            let amount = match kind {
                DiscountKind::Percent(p) => percent_of(base, *p),
                DiscountKind::Fixed(m) => min(*m, base),
                _ => Money::zero(currency),
            };
            if amount.is_zero() || amount.is_negative() {
                return Err(Skip::NothingToDiscount);
            }
            let shares = amount.split(&left).ok_or(Skip::NothingToDiscount)?;
            for (taken, share) in outcome.line_discounts.iter_mut().zip(shares) {
                *taken = *taken + share;
            }
            Ok((amount, None))
        }
    }
}

fn percent_of(base: Money, percent: Decimal) -> Money {
    let exact = base.amount() * percent / Decimal::ONE_HUNDRED;
    Money::new(
        exact.round_dp_with_strategy(
            base.currency().minor_unit_digits(),
            RoundingStrategy::MidpointAwayFromZero,
        ),
        base.currency(),
    )
}

fn min(a: Money, b: Money) -> Money {
    if a.amount() <= b.amount() {
        a
    } else {
        b
    }
}

/// The smallest extra goods value that would make the requirement hold,
/// when the cart's subtotal is all that stands in its way.
fn nearly(
    discount: &Discount,
    book: &RuleBook,
    input: &DiscountInput<'_>,
) -> Option<NearlyDiscount> {
    let rule = discount.requirement.as_ref()?;
    if discount
        .coupon
        .as_ref()
        .is_some_and(|c| input.context.coupon.as_ref() != Some(c))
    {
        return None;
    }
    let subtotal = input.context.cart_subtotal;
    let thresholds = discount
        .subtotal_thresholds
        .iter()
        .copied()
        .filter(|at| *at > subtotal);
    let facts = input.context.facts();
    thresholds
        .into_iter()
        .find(|at| rule.evaluate(book, &facts.with_subtotal(*at), None))
        .map(|at| NearlyDiscount {
            id: discount.id.clone(),
            name: discount.name.clone(),
            missing: Money::new(at - subtotal, input.shipping.currency()),
        })
}
