//! Staff's rule sets, discounts and checkout offers: listed, created,
//! replaced over the version they were read at, deleted; and a rule set
//! simulated against a sample cart and customer.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kontor_domain::discount::DiscountSpec;
use kontor_domain::order::{resolve_cart, CartLine, PaymentMethod};
use kontor_domain::pricing::price_cart;
use kontor_domain::promotions::{OfferSpec, Promotions};
use kontor_domain::rules::{CustomerFacts, Handle, Rule, RuleContext};
use kontor_domain::{CountryCode, Email};
use kontor_http::order_placer::cart_problem;
use kontor_http::views::{coupon_code, CartLineBody};
use kontor_http::{AppState, JsonBody, Problem, QueryParams, Staff};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::views::TraceStepView;

/// An id from a path: one that cannot be an id names nothing.
fn handle(id: &str, what: &str) -> Result<Handle, Problem> {
    Handle::parse(id).map_err(|_| Problem::not_found(what))
}

/// A replacement names the entry of its path (when it names one at all)
/// and the version it was read at: a replacement of nothing read is a
/// mistake, not a create.
fn check_replacement(
    path_id: &Handle,
    body_id: Option<&str>,
    version: u64,
    what: &str,
) -> Result<(), Problem> {
    if body_id.is_some_and(|body_id| body_id != path_id.as_str()) {
        return Err(Problem::invalid_field("id", "is the id in the path"));
    }
    if version == 0 {
        return Err(Problem::invalid_field(
            "version",
            format!("is the version the {what} was read at"),
        ));
    }
    Ok(())
}

/// The version a delete was read at.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// The version the entry was read at.
    pub version: u64,
}

// ---- rule sets ----------------------------------------------------------

/// A named rule set.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuleSetView {
    pub id: String,
    pub name: String,
    /// The rule (see the README's "Rules").
    #[schema(value_type = Object)]
    pub rule: serde_json::Value,
    pub version: u64,
    /// The rule sets, discounts and offers that refer to it.
    pub used_by: Vec<String>,
}

fn rule_set_view(promotions: &Promotions, id: &Handle) -> Option<RuleSetView> {
    let set = promotions.book.get(id)?;
    let mut used_by: Vec<String> = promotions
        .book
        .referrers(id)
        .into_iter()
        .map(|s| format!("rule set {s}"))
        .collect();
    let refers = |rule: &Option<Rule>| {
        let mut refs = std::collections::BTreeSet::new();
        if let Some(rule) = rule {
            rule.references(&mut refs);
        }
        refs.contains(id)
    };
    used_by.extend(
        promotions
            .discounts
            .iter()
            .filter(|d| refers(&d.requirement))
            .map(|d| format!("discount {}", d.id)),
    );
    used_by.extend(
        promotions
            .offers
            .iter()
            .filter(|o| refers(&o.requirement))
            .map(|o| format!("offer {}", o.id)),
    );
    Some(RuleSetView {
        id: set.id.to_string(),
        name: set.name.clone(),
        rule: set.rule.to_json(),
        version: set.version,
        used_by,
    })
}

/// A new rule set.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewRuleSetBody {
    /// 1 to 64 lower-case letters, digits and `-`.
    #[schema(example = "vip-austria")]
    pub id: String,
    #[schema(example = "VIPs in Austria")]
    pub name: String,
    #[schema(value_type = Object)]
    pub rule: serde_json::Value,
}

/// A rule set's new name and rule, over the version they were read at.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuleSetBody {
    pub name: String,
    #[schema(value_type = Object)]
    pub rule: serde_json::Value,
    pub version: u64,
}

#[utoipa::path(get, path = "/admin/rule-sets", tag = "rules", security(("bearer" = [])),
    responses(
        (status = 200, body = [RuleSetView]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_rule_sets(
    State(state): State<AppState>,
    Staff(_): Staff,
) -> Result<Json<Vec<RuleSetView>>, Problem> {
    let (promotions, _) = state.promotions().await?;
    Ok(Json(
        promotions
            .book
            .sets()
            .filter_map(|s| rule_set_view(&promotions, &s.id))
            .collect(),
    ))
}

#[utoipa::path(post, path = "/admin/rule-sets", tag = "rules", security(("bearer" = [])),
    request_body = NewRuleSetBody,
    responses(
        (status = 201, body = RuleSetView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "A rule set with this `id` exists."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A bad `id` or `name`, or a rule with an unknown field, an operator that does not fit its field, a value of the wrong type, an empty `all`/`any`, or a reference to an unknown or cyclic rule set: `field` names the place (`rule.all[1].value`)."),
    ))]
pub(crate) async fn create_rule_set(
    State(state): State<AppState>,
    Staff(staff): Staff,
    body: JsonBody<NewRuleSetBody>,
) -> Result<Response, Problem> {
    let body = body.value;
    let id = Handle::parse(&body.id).map_err(|e| Problem::invalid_field("id", e.0))?;
    let currency = state.settings.pricing.currency;
    let saved = state
        .change_promotions(|p| p.put_rule_set(&id, &body.name, &body.rule, 0, currency))
        .await?;
    tracing::info!(rule_set = %id, by = %staff.staff_actor(), "rule set created");
    Ok((StatusCode::CREATED, Json(rule_set_view(&saved, &id))).into_response())
}

#[utoipa::path(get, path = "/admin/rule-sets/{id}", tag = "rules", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = RuleSetView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_rule_set(
    State(state): State<AppState>,
    Staff(_): Staff,
    Path(id): Path<String>,
) -> Result<Json<RuleSetView>, Problem> {
    let id = handle(&id, "rule set")?;
    let (promotions, _) = state.promotions().await?;
    rule_set_view(&promotions, &id)
        .map(Json)
        .ok_or_else(|| Problem::not_found("rule set"))
}

#[utoipa::path(put, path = "/admin/rule-sets/{id}", tag = "rules", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = RuleSetBody,
    responses(
        (status = 200, body = RuleSetView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Saved by someone else since `version` (`current_version`)."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A bad rule, naming its place; a reference back to this set (a cycle)."),
    ))]
pub(crate) async fn replace_rule_set(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    body: JsonBody<RuleSetBody>,
) -> Result<Json<RuleSetView>, Problem> {
    let id = handle(&id, "rule set")?;
    let body = body.value;
    check_replacement(&id, None, body.version, "rule set")?;
    let currency = state.settings.pricing.currency;
    let saved = state
        .change_promotions(|p| p.put_rule_set(&id, &body.name, &body.rule, body.version, currency))
        .await?;
    tracing::info!(rule_set = %id, by = %staff.staff_actor(), "rule set saved");
    rule_set_view(&saved, &id)
        .map(Json)
        .ok_or_else(|| Problem::not_found("rule set"))
}

#[utoipa::path(delete, path = "/admin/rule-sets/{id}", tag = "rules", security(("bearer" = [])),
    params(("id" = String, Path), VersionQuery),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "A discount, an offer or another rule set still uses it (`in-use`), or it was saved since `version`."),
    ))]
pub(crate) async fn delete_rule_set(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<VersionQuery>,
) -> Result<StatusCode, Problem> {
    let id = handle(&id, "rule set")?;
    state
        .change_promotions(|p| p.delete_rule_set(&id, query.version))
        .await?;
    tracing::info!(rule_set = %id, by = %staff.staff_actor(), "rule set deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// A sample customer for a simulation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SampleCustomer {
    /// Orders before this one (0: a new customer).
    #[serde(default)]
    pub order_count: u32,
    #[serde(default)]
    pub groups: Vec<String>,
    #[schema(value_type = Option<kontor_http::schemas::Email>)]
    pub email: Option<Email>,
}

/// A sample cart and customer to evaluate a rule set against.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SimulateBody {
    /// An edited rule to try instead of the saved one (nothing is saved).
    #[schema(value_type = Option<Object>)]
    pub rule: Option<serde_json::Value>,
    #[serde(default)]
    pub lines: Vec<CartLineBody>,
    #[schema(value_type = Option<kontor_http::schemas::CountryCode>, example = "AT")]
    pub shipping_country: Option<CountryCode>,
    #[schema(value_type = Option<kontor_http::schemas::CountryCode>)]
    pub billing_country: Option<CountryCode>,
    pub coupon: Option<String>,
    #[schema(value_type = Option<kontor_http::schemas::PaymentMethod>)]
    pub payment_method: Option<PaymentMethod>,
    #[serde(default)]
    pub customer: SampleCustomer,
    /// The moment to evaluate at (RFC 3339); now by default.
    pub now: Option<String>,
}

/// A rule's result against a sample, with its trace.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SimulationView {
    pub result: bool,
    pub trace: Vec<TraceStepView>,
}

#[utoipa::path(post, path = "/admin/rule-sets/{id}/simulate", tag = "rules", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = SimulateBody,
    responses(
        (status = 200, body = SimulationView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A bad sample (an unknown `sku`, a bad `now`) or a bad edited `rule`, naming the place."),
    ))]
pub(crate) async fn simulate_rule_set(
    State(state): State<AppState>,
    Staff(_): Staff,
    Path(id): Path<String>,
    body: JsonBody<SimulateBody>,
) -> Result<Json<SimulationView>, Problem> {
    let id = handle(&id, "rule set")?;
    let body = body.value;
    let (promotions, _) = state.promotions().await?;
    let saved = promotions
        .book
        .get(&id)
        .ok_or_else(|| Problem::not_found("rule set"))?;
    let currency = state.settings.pricing.currency;
    let rule = match &body.rule {
        Some(edited) => Rule::parse(edited, currency, &|other: &Handle| {
            promotions.book.get(other).is_some()
        })
        .map_err(|e| Problem::invalid_field(e.field("rule"), e.message))?,
        None => saved.rule.clone(),
    };
    let lines: Vec<CartLine> = body.lines.iter().map(CartLine::from).collect();
    let skus: Vec<_> = lines.iter().map(|l| l.sku.clone()).collect();
    let products = state.store.get_products(&skus).await?;
    let items = resolve_cart(&lines, &products).map_err(cart_problem)?;
    let priced = price_cart(&items, &state.settings.pricing);
    let now = match body.now.as_deref() {
        Some(text) => OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
            Problem::invalid_field(
                "now",
                "is a date and time such as \"2027-01-31T23:59:59+01:00\"",
            )
        })?,
        None => state.clock.now(),
    };
    let context = RuleContext::new(
        CustomerFacts::new(
            body.customer.order_count,
            &body.customer.groups,
            body.customer.email.as_ref(),
        ),
        priced.lines.iter().zip(&items).map(|(line, (product, _))| {
            (
                &line.sku,
                product.category.as_str(),
                line.quantity.get(),
                line.total.amount(),
            )
        }),
        body.shipping_country.clone(),
        body.billing_country
            .clone()
            .or(body.shipping_country.clone()),
        coupon_code(body.coupon.as_deref())?,
        body.payment_method,
        now,
    );
    let mut steps = Vec::new();
    let result = rule.evaluate(&promotions.book, &context.facts(), Some(&mut steps));
    Ok(Json(SimulationView {
        result,
        trace: steps.iter().map(TraceStepView::from).collect(),
    }))
}

// ---- discounts ----------------------------------------------------------

/// A discount as staff write it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DiscountBody {
    /// 1 to 64 lower-case letters, digits and `-`.
    #[schema(example = "winter")]
    pub id: String,
    #[schema(example = "5 € off in winter")]
    pub name: String,
    /// `percent`, `fixed`, `free_shipping` or `free_item`.
    #[schema(example = "fixed")]
    pub kind: String,
    /// For `percent`: more than 0, at most 100.
    pub percent: Option<String>,
    /// For `fixed`: the gross amount off, in whole cents.
    #[schema(example = "5.00")]
    pub amount: Option<String>,
    /// The currency of `amount`: the shop's.
    pub currency: Option<String>,
    /// For `free_item`: the product given, and how many (1 by default).
    pub sku: Option<String>,
    pub quantity: Option<u32>,
    /// `order` (default), `products`, `categories` or `shipping`.
    pub applies_to: Option<String>,
    #[serde(default)]
    pub skus: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    /// A rule (see the README's "Rules"); none: every cart.
    #[schema(value_type = Option<Object>)]
    pub requirement: Option<serde_json::Value>,
    /// Letters, digits, `-` and `_`, at most 64; folded to upper case.
    #[schema(example = "WINTER")]
    pub coupon: Option<String>,
    /// RFC 3339.
    pub starts_at: Option<String>,
    #[schema(example = "2027-01-31T23:59:59+01:00")]
    pub ends_at: Option<String>,
    /// How often it may be used in all (none: no limit).
    #[schema(minimum = 1)]
    pub usage_limit: Option<u32>,
    /// How often one customer (one mailbox) may use it.
    #[schema(minimum = 1)]
    pub per_customer_limit: Option<u32>,
    /// Higher first, -1000 to 1000.
    #[serde(default)]
    #[schema(minimum = -1000, maximum = 1000)]
    pub priority: i32,
    /// Whether it adds to other discounts (default); one that does not
    /// applies alone.
    #[serde(default = "yes")]
    pub stacks: bool,
    #[serde(default = "yes")]
    pub active: bool,
    /// For a replace: the version it was read at.
    #[serde(default)]
    pub version: u64,
}

fn yes() -> bool {
    true
}

impl DiscountBody {
    fn spec(&self) -> DiscountSpec {
        DiscountSpec {
            id: self.id.clone(),
            name: self.name.clone(),
            kind: self.kind.clone(),
            percent: self.percent.clone(),
            amount: self.amount.clone(),
            currency: self.currency.clone(),
            sku: self.sku.clone(),
            quantity: self.quantity,
            applies_to: self.applies_to.clone(),
            skus: self.skus.clone(),
            categories: self.categories.clone(),
            requirement: self.requirement.clone(),
            coupon: self.coupon.clone(),
            starts_at: self.starts_at.clone(),
            ends_at: self.ends_at.clone(),
            usage_limit: self.usage_limit,
            per_customer_limit: self.per_customer_limit,
            priority: self.priority,
            stacks: self.stacks,
            active: self.active,
        }
    }
}

/// A discount with its uses so far.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DiscountView {
    #[serde(flatten)]
    pub discount: DiscountBody,
    /// Orders that got it so far (counted for discounts with limits, and
    /// for every discount from its first use).
    pub uses: u32,
}

async fn discount_views(
    state: &AppState,
    promotions: &Promotions,
    only: Option<&Handle>,
) -> Result<Vec<DiscountView>, Problem> {
    let ids: Vec<Handle> = promotions
        .discounts
        .iter()
        .filter(|d| only.is_none_or(|id| &d.id == id))
        .map(|d| d.id.clone())
        .collect();
    let uses = state.store.discount_uses(&ids, None).await?;
    Ok(promotions
        .discounts
        .iter()
        .filter(|d| ids.contains(&d.id))
        .map(|d| {
            let spec = d.spec();
            DiscountView {
                discount: DiscountBody {
                    id: spec.id,
                    name: spec.name,
                    kind: spec.kind,
                    percent: spec.percent,
                    amount: spec.amount,
                    currency: spec.currency,
                    sku: spec.sku,
                    quantity: spec.quantity,
                    applies_to: spec.applies_to,
                    skus: spec.skus,
                    categories: spec.categories,
                    requirement: spec.requirement,
                    coupon: spec.coupon,
                    starts_at: spec.starts_at,
                    ends_at: spec.ends_at,
                    usage_limit: spec.usage_limit,
                    per_customer_limit: spec.per_customer_limit,
                    priority: spec.priority,
                    stacks: spec.stacks,
                    active: spec.active,
                    version: d.version,
                },
                uses: uses
                    .iter()
                    .find(|(id, _)| id == &d.id)
                    .map_or(0, |(_, u)| u.total),
            }
        })
        .collect())
}

#[utoipa::path(get, path = "/admin/discounts", tag = "rules", security(("bearer" = [])),
    responses(
        (status = 200, body = [DiscountView], description = "In the order they are considered: highest priority first."),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_discounts(
    State(state): State<AppState>,
    Staff(_): Staff,
) -> Result<Json<Vec<DiscountView>>, Problem> {
    let (promotions, _) = state.promotions().await?;
    Ok(Json(discount_views(&state, &promotions, None).await?))
}

async fn one_discount(
    state: &AppState,
    promotions: &Promotions,
    id: &Handle,
) -> Result<DiscountView, Problem> {
    discount_views(state, promotions, Some(id))
        .await?
        .pop()
        .ok_or_else(|| Problem::not_found("discount"))
}

#[utoipa::path(post, path = "/admin/discounts", tag = "rules", security(("bearer" = [])),
    request_body = DiscountBody,
    responses(
        (status = 201, body = DiscountView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "A discount with this `id` exists."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A percent over 100 or not above 0, an amount in another `currency`, a window that ends before it starts, a coupon with spaces, over 64 characters or another discount's, a bad requirement (naming its place): `field` names it."),
    ))]
pub(crate) async fn create_discount(
    State(state): State<AppState>,
    Staff(staff): Staff,
    body: JsonBody<DiscountBody>,
) -> Result<Response, Problem> {
    let spec = body.value.spec();
    let currency = state.settings.pricing.currency;
    let saved = state
        .change_promotions(|p| p.put_discount(&spec, 0, currency))
        .await?;
    let id = handle(&spec.id, "discount")?;
    tracing::info!(discount = %id, by = %staff.staff_actor(), "discount created");
    let view = one_discount(&state, &saved, &id).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[utoipa::path(get, path = "/admin/discounts/{id}", tag = "rules", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = DiscountView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_discount(
    State(state): State<AppState>,
    Staff(_): Staff,
    Path(id): Path<String>,
) -> Result<Json<DiscountView>, Problem> {
    let id = handle(&id, "discount")?;
    let (promotions, _) = state.promotions().await?;
    Ok(Json(one_discount(&state, &promotions, &id).await?))
}

#[utoipa::path(put, path = "/admin/discounts/{id}", tag = "rules", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = DiscountBody,
    responses(
        (status = 200, body = DiscountView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Saved by someone else since `version`."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A bad field, named; an `id` other than the path's."),
    ))]
pub(crate) async fn replace_discount(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    body: JsonBody<DiscountBody>,
) -> Result<Json<DiscountView>, Problem> {
    let id = handle(&id, "discount")?;
    let body = body.value;
    check_replacement(&id, Some(&body.id), body.version, "discount")?;
    let spec = body.spec();
    let currency = state.settings.pricing.currency;
    let saved = state
        .change_promotions(|p| p.put_discount(&spec, body.version, currency))
        .await?;
    tracing::info!(discount = %id, by = %staff.staff_actor(), "discount saved");
    Ok(Json(one_discount(&state, &saved, &id).await?))
}

#[utoipa::path(delete, path = "/admin/discounts/{id}", tag = "rules", security(("bearer" = [])),
    params(("id" = String, Path), VersionQuery),
    responses(
        (status = 204, description = "Deleted; orders that got it keep it."),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Saved by someone else since `version`."),
    ))]
pub(crate) async fn delete_discount(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<VersionQuery>,
) -> Result<StatusCode, Problem> {
    let id = handle(&id, "discount")?;
    state
        .change_promotions(|p| p.delete_discount(&id, query.version))
        .await?;
    tracing::info!(discount = %id, by = %staff.staff_actor(), "discount deleted");
    Ok(StatusCode::NO_CONTENT)
}

// ---- checkout offers ----------------------------------------------------

/// A checkout offer: a product suggested in the cart and at checkout when
/// its rule holds.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OfferBody {
    #[schema(example = "gift-box")]
    pub id: String,
    #[schema(example = "GIFT-BOX")]
    pub sku: String,
    #[schema(value_type = Option<Object>)]
    pub requirement: Option<serde_json::Value>,
    #[serde(default)]
    pub priority: i32,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub version: u64,
}

impl OfferBody {
    fn spec(&self) -> OfferSpec {
        OfferSpec {
            id: self.id.clone(),
            sku: self.sku.clone(),
            requirement: self.requirement.clone(),
            priority: self.priority,
            active: self.active,
        }
    }
}

fn offer_views(promotions: &Promotions) -> Vec<OfferBody> {
    promotions
        .offers
        .iter()
        .map(|o| {
            let spec = o.spec();
            OfferBody {
                id: spec.id,
                sku: spec.sku,
                requirement: spec.requirement,
                priority: spec.priority,
                active: spec.active,
                version: o.version,
            }
        })
        .collect()
}

fn one_offer(promotions: &Promotions, id: &str) -> Result<OfferBody, Problem> {
    offer_views(promotions)
        .into_iter()
        .find(|o| o.id == id)
        .ok_or_else(|| Problem::not_found("offer"))
}

#[utoipa::path(get, path = "/admin/offers", tag = "rules", security(("bearer" = [])),
    responses(
        (status = 200, body = [OfferBody]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_offers(
    State(state): State<AppState>,
    Staff(_): Staff,
) -> Result<Json<Vec<OfferBody>>, Problem> {
    let (promotions, _) = state.promotions().await?;
    Ok(Json(offer_views(&promotions)))
}

#[utoipa::path(post, path = "/admin/offers", tag = "rules", security(("bearer" = [])),
    request_body = OfferBody,
    responses(
        (status = 201, body = OfferBody),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "An offer with this `id` exists."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A bad `id`, `sku` or requirement, named."),
    ))]
pub(crate) async fn create_offer(
    State(state): State<AppState>,
    Staff(_): Staff,
    body: JsonBody<OfferBody>,
) -> Result<Response, Problem> {
    let spec = body.value.spec();
    let currency = state.settings.pricing.currency;
    let saved = state
        .change_promotions(|p| p.put_offer(&spec, 0, currency))
        .await?;
    Ok((StatusCode::CREATED, Json(one_offer(&saved, &spec.id)?)).into_response())
}

#[utoipa::path(put, path = "/admin/offers/{id}", tag = "rules", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = OfferBody,
    responses(
        (status = 200, body = OfferBody),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Saved by someone else since `version`."),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn replace_offer(
    State(state): State<AppState>,
    Staff(_): Staff,
    Path(id): Path<String>,
    body: JsonBody<OfferBody>,
) -> Result<Json<OfferBody>, Problem> {
    let id = handle(&id, "offer")?;
    let body = body.value;
    check_replacement(&id, Some(&body.id), body.version, "offer")?;
    let spec = body.spec();
    let currency = state.settings.pricing.currency;
    let saved = state
        .change_promotions(|p| p.put_offer(&spec, body.version, currency))
        .await?;
    Ok(Json(one_offer(&saved, id.as_str())?))
}

#[utoipa::path(delete, path = "/admin/offers/{id}", tag = "rules", security(("bearer" = [])),
    params(("id" = String, Path), VersionQuery),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Saved by someone else since `version`."),
    ))]
pub(crate) async fn delete_offer(
    State(state): State<AppState>,
    Staff(_): Staff,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<VersionQuery>,
) -> Result<StatusCode, Problem> {
    let id = handle(&id, "offer")?;
    state
        .change_promotions(|p| p.delete_offer(&id, query.version))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
