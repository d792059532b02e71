//! `POST /cart/evaluate`: the cart page's prices, with the discounts the
//! cart gets (and why, on `?explain=true`), the ones it nearly gets, and
//! what to suggest with it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use kontor_domain::customer::Customer;
use kontor_domain::discount::Uses;
use kontor_domain::order::{
    discount_cart, resolve_cart, CartFacts, CartLine, DiscountedCart, PaymentMethod,
};
use kontor_domain::pricing::{price_cart, PricedCart};
use kontor_domain::product::Product;
use kontor_domain::promotions::{CouponError, Promotions};
use kontor_domain::rules::Handle;
use kontor_domain::{CountryCode, Email, Money, Quantity, Sku};
use kontor_http::order_placer::cart_problem;
use kontor_http::promotions::customer_facts;
use kontor_http::views::{coupon_code, money, CartLineBody, ProductView, TaxLineView};
use kontor_http::{AppState, Claims, JsonBody, MaybeSignedIn, Problem, QueryParams, SignedIn};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::views::{AppliedDiscountView, NearlyView, SkippedDiscountView};

/// How many suggestions the cart shows.
const MAX_SUGGESTIONS: usize = 4;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EvaluateRequest {
    pub lines: Vec<CartLineBody>,
    /// ISO 3166-1 alpha-2.
    #[schema(value_type = kontor_http::schemas::CountryCode, example = "DE")]
    pub shipping_country: CountryCode,
    /// Defaults to the shipping country.
    #[schema(value_type = Option<kontor_http::schemas::CountryCode>, example = "DE")]
    pub billing_country: Option<CountryCode>,
    /// The shopper's e-mail address, once the checkout page has it: rules
    /// for new customers count the orders of its mailbox.
    #[schema(value_type = Option<kontor_http::schemas::Email>, example = "anna@example.de")]
    pub email: Option<Email>,
    #[schema(value_type = Option<kontor_http::schemas::PaymentMethod>, example = "invoice")]
    pub payment_method: Option<PaymentMethod>,
    /// A coupon code.
    #[schema(example = "WINTER")]
    pub coupon: Option<String>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Explain {
    /// Answer every discount's trace, and the discounts that did not apply.
    #[serde(default)]
    pub explain: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PricedLineView {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    pub unit_price: String,
    /// Unit price × quantity, before discounts.
    pub total: String,
    /// This line's share of the discounts.
    pub discount: String,
    pub tax_rate: String,
    /// The VAT in what the line charges (after its discount).
    pub tax: String,
    /// Units that are not in stock now and would ship later.
    pub backordered: u32,
    pub image: Option<String>,
    /// The discount that gives this line away (a free item at 0).
    pub gift_of: Option<String>,
}

/// Whether the coupon entered applies, and why not.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CouponView {
    pub code: String,
    pub applied: bool,
    /// Why it does not apply (`requirement_not_met`, …).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PricedCartView {
    pub currency: String,
    pub lines: Vec<PricedLineView>,
    /// The goods, before discounts.
    pub subtotal: String,
    /// Everything the discounts take off (goods and shipping).
    pub discount_total: String,
    pub discounts: Vec<AppliedDiscountView>,
    /// Shipping, before discounts.
    pub shipping: String,
    /// What discounts take off shipping.
    pub shipping_discount: String,
    /// The goods value from which shipping is free, if any.
    pub free_shipping_from: Option<String>,
    pub tax: String,
    pub taxes: Vec<TaxLineView>,
    pub total: String,
    pub coupon: Option<CouponView>,
    /// Discounts a little more in the cart would bring.
    pub nearly: Vec<NearlyView>,
    /// Discounts that do not apply, and why (with `?explain=true`).
    pub not_applied: Vec<SkippedDiscountView>,
    /// Checkout-sell products of the cart's products and the offers whose
    /// rules the cart meets, not in the cart yet.
    pub suggestions: Vec<ProductView>,
}

/// Prices a cart with its discounts and suggests products.
#[utoipa::path(
    post,
    path = "/cart/evaluate",
    tag = "checkout",
    request_body = EvaluateRequest,
    params(Explain),
    responses(
        (status = 200, body = PricedCartView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "An unknown `sku` or a bad quantity (naming the line), or a `coupon` that is unknown, expired or used up."),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn evaluate_cart(
    State(state): State<AppState>,
    MaybeSignedIn(caller): MaybeSignedIn,
    QueryParams(explain): QueryParams<Explain>,
    body: JsonBody<EvaluateRequest>,
) -> Result<Json<PricedCartView>, Problem> {
    evaluate(state, caller, explain, body.value).await
}

/// Prices a signed-in shopper's cart: rules see their groups and orders.
/// (In AWS the JWT authorizer cannot be optional, so signed-in shoppers
/// have this route and guests `/cart/evaluate`.)
#[utoipa::path(
    post,
    path = "/me/cart/evaluate",
    tag = "checkout",
    security(("bearer" = [])),
    request_body = EvaluateRequest,
    params(Explain),
    responses(
        (status = 200, body = PricedCartView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "An unknown `sku` or a bad quantity (naming the line), or a `coupon` that is unknown, expired or used up."),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn evaluate_customer_cart(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    QueryParams(explain): QueryParams<Explain>,
    body: JsonBody<EvaluateRequest>,
) -> Result<Json<PricedCartView>, Problem> {
    evaluate(state, Some(caller), explain, body.value).await
}

async fn evaluate(
    state: AppState,
    caller: Option<Claims>,
    explain: Explain,
    request: EvaluateRequest,
) -> Result<Json<PricedCartView>, Problem> {
    let coupon = coupon_code(request.coupon.as_deref())?;
    let lines: Vec<CartLine> = request.lines.iter().map(CartLine::from).collect();
    let skus: Vec<Sku> = lines.iter().map(|l| l.sku.clone()).collect();
    // Who is asking: a signed-in shopper's record and e-mail, or the
    // e-mail the checkout page has; read in one round trip with the
    // products and the promotions.
    let email = request
        .email
        .clone()
        .or_else(|| caller.as_ref().and_then(|c| c.email.clone()));
    let mailbox = email.as_ref().map(Email::mailbox);
    let read = state
        .store
        .read_for_cart(
            &skus,
            caller.as_ref().map(|c| &c.subject),
            mailbox.as_deref(),
        )
        .await?;
    let items = resolve_cart(&lines, &read.products).map_err(cart_problem)?;
    let priced = price_cart(&items, &state.settings.pricing);
    let promotions = state.promotions_of(read.promotions.as_ref())?;
    let record: Option<Customer> = read.customer;
    let mailbox_orders = read.mailbox_orders;
    let uses = uses_of(&state, &promotions, mailbox.as_deref()).await?;
    let facts = CartFacts {
        customer: customer_facts(
            caller.as_ref(),
            record.as_ref(),
            mailbox_orders,
            email.as_ref(),
        ),
        shipping_country: Some(request.shipping_country.clone()),
        billing_country: Some(
            request
                .billing_country
                .clone()
                .unwrap_or(request.shipping_country.clone()),
        ),
        coupon: coupon.clone(),
        payment_method: request.payment_method,
        now: state.clock.now(),
    };
    let discounted = discount_cart(
        &items,
        &priced,
        &promotions,
        &facts,
        &|id| uses.get(id).copied(),
        explain.explain,
    )
    .map_err(coupon_problem)?;
    let extra = extra_products(&state, &promotions, &discounted, &items).await?;
    Ok(Json(view(
        &state,
        &priced,
        &items,
        &discounted,
        &promotions,
        &extra,
        explain.explain,
    )))
}

/// The uses so far of the discounts that have limits (those without are
/// not counted against anything here).
async fn uses_of(
    state: &AppState,
    promotions: &Promotions,
    customer_key: Option<&str>,
) -> Result<BTreeMap<Handle, Uses>, Problem> {
    let limited: Vec<Handle> = promotions
        .discounts
        .iter()
        .filter(|d| d.usage_limit.is_some() || d.per_customer_limit.is_some())
        .map(|d| d.id.clone())
        .collect();
    if limited.is_empty() {
        return Ok(BTreeMap::new());
    }
    let found = state.store.discount_uses(&limited, customer_key).await?;
    let mut uses: BTreeMap<Handle, Uses> = limited
        .into_iter()
        .map(|id| {
            let none = Uses {
                total: 0,
                by_customer: customer_key.map(|_| 0),
            };
            (id, none)
        })
        .collect();
    uses.extend(found);
    Ok(uses)
}

/// The problem for a coupon no discount can give now.
pub(crate) fn coupon_problem(error: CouponError) -> Problem {
    Problem::invalid_field("coupon", error.to_string())
}

/// The products the answer shows besides the cart's: free items and
/// suggestions, read in one round trip.
async fn extra_products(
    state: &AppState,
    promotions: &Promotions,
    discounted: &DiscountedCart,
    items: &[(&Product, Quantity)],
) -> Result<Vec<Product>, Problem> {
    let mut wanted: Vec<Sku> = Vec::new();
    let in_cart = |sku: &Sku| items.iter().any(|(p, _)| &p.sku == sku);
    let mut want = |sku: &Sku| {
        if !wanted.contains(sku) {
            wanted.push(sku.clone());
        }
    };
    for applied in &discounted.outcome.applied {
        if let Some((sku, _)) = &applied.gift {
            want(sku);
        }
    }
    // Suggestions already in the cart need no reading.
    for (product, _) in items {
        product
            .checkout_sell
            .iter()
            .filter(|sku| !in_cart(sku))
            .for_each(&mut want);
    }
    for offer in promotions.offers_for(&discounted.context) {
        if !in_cart(&offer.sku) {
            want(&offer.sku);
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    Ok(state.store.get_products(&wanted).await?)
}

fn view(
    state: &AppState,
    priced: &PricedCart,
    items: &[(&Product, Quantity)],
    discounted: &DiscountedCart,
    promotions: &Arc<Promotions>,
    extra: &[Product],
    explain: bool,
) -> PricedCartView {
    let outcome = &discounted.outcome;
    let totals = &discounted.totals;
    let zero = Money::zero(priced.currency);
    let mut lines: Vec<PricedLineView> = priced
        .lines
        .iter()
        .zip(items)
        .zip(&outcome.line_discounts)
        .map(|((line, (product, quantity)), discount)| {
            let charged = line.total - *discount;
            PricedLineView {
                sku: line.sku.to_string(),
                name: line.name.clone(),
                quantity: line.quantity.get(),
                unit_price: money(line.unit_price),
                total: money(line.total),
                discount: money(*discount),
                tax_rate: line.tax_rate.normalize().to_string(),
                tax: money(kontor_domain::tax::tax_in_gross(charged, line.tax_rate)),
                backordered: quantity.get().saturating_sub(product.stock),
                image: product.image.clone(),
                gift_of: None,
            }
        })
        .collect();
    // Free items, as the checkout would add them (while in stock).
    for applied in &outcome.applied {
        let Some((sku, quantity)) = &applied.gift else {
            continue;
        };
        let Some(product) = extra.iter().find(|p| &p.sku == sku) else {
            continue;
        };
        let in_cart: u32 = items
            .iter()
            .filter(|(p, _)| &p.sku == sku)
            .map(|(_, q)| q.get())
            .sum();
        if product.stock < in_cart.saturating_add(quantity.get()) && !product.allow_backorder {
            continue;
        }
        lines.push(PricedLineView {
            sku: sku.to_string(),
            name: product.name.clone(),
            quantity: quantity.get(),
            unit_price: money(zero),
            total: money(zero),
            discount: money(zero),
            tax_rate: state
                .settings
                .pricing
                .tax_rates
                .rate(product.tax_class)
                .normalize()
                .to_string(),
            tax: money(zero),
            backordered: 0,
            image: product.image.clone(),
            gift_of: Some(applied.id.to_string()),
        });
    }
    let mut nearly: Vec<NearlyView> = outcome.nearly.iter().map(NearlyView::from).collect();
    if let Some(free_from) = state.settings.pricing.shipping.free_from {
        let missing = free_from - priced.subtotal;
        if !priced.shipping.is_zero() && missing.amount().is_sign_positive() && !missing.is_zero() {
            nearly.push(NearlyView {
                id: "shipping".into(),
                name: "Free shipping".into(),
                missing: money(missing),
            });
        }
    }
    let coupon = discounted.context.coupon.as_ref().map(|code| {
        let skipped = discounted
            .coupon_skipped
            .as_ref()
            .filter(|(c, _)| c == code)
            .map(|(_, reason)| reason.code().to_string());
        CouponView {
            code: code.to_string(),
            applied: skipped.is_none(),
            reason: skipped,
        }
    });
    let in_cart = |sku: &Sku| items.iter().any(|(p, _)| &p.sku == sku);
    let mut suggested: Vec<Sku> = Vec::new();
    let candidates = items
        .iter()
        .flat_map(|(p, _)| p.checkout_sell.iter())
        .chain(promotions.offers_for(&discounted.context).map(|o| &o.sku));
    for sku in candidates {
        if !in_cart(sku) && !suggested.contains(sku) {
            suggested.push(sku.clone());
        }
    }
    let suggestions = suggested
        .iter()
        .filter_map(|sku| extra.iter().find(|p| &p.sku == sku))
        .filter(|p| p.stock > 0 || p.allow_backorder)
        .take(MAX_SUGGESTIONS)
        .map(ProductView::from)
        .collect();
    PricedCartView {
        currency: priced.currency.to_string(),
        lines,
        subtotal: money(totals.subtotal),
        discount_total: money(totals.discounts),
        discounts: outcome
            .applied
            .iter()
            .map(AppliedDiscountView::from)
            .collect(),
        shipping: money(totals.shipping),
        shipping_discount: money(outcome.shipping_discount),
        free_shipping_from: state.settings.pricing.shipping.free_from.map(money),
        tax: money(totals.tax),
        taxes: totals.taxes.iter().map(TaxLineView::from).collect(),
        total: money(totals.total),
        coupon,
        nearly,
        not_applied: if explain {
            outcome
                .skipped
                .iter()
                .map(SkippedDiscountView::from)
                .collect()
        } else {
            Vec::new()
        },
        suggestions,
    }
}
