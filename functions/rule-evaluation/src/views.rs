//! The JSON shapes of rule traces and discounts.

use kontor_domain::discount::{AppliedDiscount, NearlyDiscount, SkippedDiscount};
use kontor_domain::rules::TraceStep;
use kontor_http::views::money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One node of a rule as it was evaluated.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TraceStepView {
    /// Where the node is: `$`, `$.all[1]`, `$.all[2].rule_set(vip).any[0]`.
    pub path: String,
    /// `all`, `any`, `not`, `condition` or `rule_set`.
    pub node: String,
    pub field: Option<String>,
    pub op: Option<String>,
    /// The value the condition expects.
    #[schema(value_type = Option<Object>)]
    pub expected: Option<serde_json::Value>,
    /// The value the cart, customer or time had (null: unknown here).
    #[schema(value_type = Option<Object>)]
    pub seen: Option<serde_json::Value>,
    /// The rule set a `rule_set` node refers to.
    pub rule_set: Option<String>,
    pub result: bool,
}

impl From<&TraceStep> for TraceStepView {
    fn from(step: &TraceStep) -> Self {
        Self {
            path: step.path.clone(),
            node: step.node.to_string(),
            field: step.field.map(str::to_string),
            op: step.op.map(str::to_string),
            expected: step.expected.clone(),
            seen: step.seen.clone(),
            rule_set: step.rule_set.clone(),
            result: step.result,
        }
    }
}

pub fn trace(steps: Option<&Vec<TraceStep>>) -> Option<Vec<TraceStepView>> {
    steps.map(|steps| steps.iter().map(TraceStepView::from).collect())
}

/// A discount the cart gets.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppliedDiscountView {
    pub id: String,
    pub name: String,
    /// `percent`, `fixed`, `free_shipping` or `free_item`.
    pub kind: String,
    pub coupon: Option<String>,
    /// What it takes off (0.00 for a free item).
    pub amount: String,
    /// For a free item: the product given and how many.
    pub gift_sku: Option<String>,
    pub gift_quantity: Option<u32>,
    /// Why it applies (with `?explain=true`).
    pub trace: Option<Vec<TraceStepView>>,
}

impl From<&AppliedDiscount> for AppliedDiscountView {
    fn from(applied: &AppliedDiscount) -> Self {
        Self {
            id: applied.id.to_string(),
            name: applied.name.clone(),
            kind: applied.kind.to_string(),
            coupon: applied.coupon.as_ref().map(ToString::to_string),
            amount: money(applied.amount),
            gift_sku: applied.gift.as_ref().map(|(sku, _)| sku.to_string()),
            gift_quantity: applied.gift.as_ref().map(|(_, q)| q.get()),
            trace: trace(applied.trace.as_ref()),
        }
    }
}

/// A discount the cart does not get, and why (with `?explain=true`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SkippedDiscountView {
    pub id: String,
    pub name: String,
    /// `inactive`, `not_yet_valid`, `expired`, `no_coupon`,
    /// `requirement_not_met`, `used_up`, `used_up_by_customer`,
    /// `does_not_stack`, `nothing_to_discount` or `too_many`.
    pub reason: String,
    pub trace: Option<Vec<TraceStepView>>,
}

impl From<&SkippedDiscount> for SkippedDiscountView {
    fn from(skipped: &SkippedDiscount) -> Self {
        Self {
            id: skipped.id.to_string(),
            name: skipped.name.clone(),
            reason: skipped.reason.code().to_string(),
            trace: trace(skipped.trace.as_ref()),
        }
    }
}

/// A discount the cart would get with goods worth `missing` more
/// (`id` `shipping` for the shop's free-shipping threshold).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NearlyView {
    pub id: String,
    pub name: String,
    #[schema(example = "12.10")]
    pub missing: String,
}

impl From<&NearlyDiscount> for NearlyView {
    fn from(nearly: &NearlyDiscount) -> Self {
        Self {
            id: nearly.id.to_string(),
            name: nearly.name.clone(),
            missing: money(nearly.missing),
        }
    }
}
