//! `POST /cart/evaluate`: live prices for the cart page.

use axum::extract::State;
use axum::Json;
use kontor_domain::order::{resolve_cart, CartLine};
use kontor_domain::pricing::{price_cart, PricedCart};
use kontor_domain::product::Product;
use kontor_domain::{CountryCode, Quantity, Sku};
use kontor_http::order_placer::cart_problem;
use kontor_http::views::{money, ProductView, TaxLineView};
use kontor_http::{AppState, JsonBody, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A line of a cart.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CartLineBody {
    #[schema(value_type = String, example = "TR-CHINO-BEIGE")]
    pub sku: Sku,
    /// 1 to 999.
    #[schema(value_type = u32, minimum = 1, maximum = 999)]
    pub quantity: Quantity,
}

impl From<&CartLineBody> for CartLine {
    fn from(line: &CartLineBody) -> Self {
        CartLine {
            sku: line.sku.clone(),
            quantity: line.quantity,
            unit_price: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EvaluateRequest {
    pub lines: Vec<CartLineBody>,
    /// ISO 3166-1 alpha-2.
    #[schema(value_type = String, example = "DE")]
    pub shipping_country: CountryCode,
    /// A discount code; discounts arrive with the rule builder.
    pub coupon: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PricedLineView {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    pub unit_price: String,
    pub total: String,
    pub tax_rate: String,
    pub tax: String,
    /// Units that are not in stock now and would ship later.
    pub backordered: u32,
    pub image: Option<String>,
}

/// A discount that applied, with the rule trace that made it apply.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DiscountView {
    pub name: String,
    pub amount: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PricedCartView {
    pub currency: String,
    pub lines: Vec<PricedLineView>,
    pub subtotal: String,
    pub discounts: Vec<DiscountView>,
    pub shipping: String,
    /// The goods value from which shipping is free, if any.
    pub free_shipping_from: Option<String>,
    pub tax: String,
    pub taxes: Vec<TaxLineView>,
    pub total: String,
    /// Checkout-sell products of the cart's products that are not in it yet.
    pub suggestions: Vec<ProductView>,
}

/// Prices a cart and suggests checkout-sell products.
#[utoipa::path(
    post,
    path = "/cart/evaluate",
    tag = "checkout",
    request_body = EvaluateRequest,
    responses(
        (status = 200, body = PricedCartView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn evaluate_cart(
    State(state): State<AppState>,
    body: JsonBody<EvaluateRequest>,
) -> Result<Json<PricedCartView>, Problem> {
    let request = body.value;
    if let Some(coupon) = request.coupon.as_deref().filter(|c| !c.trim().is_empty()) {
        return Err(unknown_coupon(coupon));
    }
    let lines: Vec<CartLine> = request.lines.iter().map(CartLine::from).collect();
    let skus: Vec<Sku> = lines.iter().map(|l| l.sku.clone()).collect();
    let products = state.store.get_products(&skus).await?;
    let items = resolve_cart(&lines, &products).map_err(cart_problem)?;
    let priced = price_cart(&items, &state.settings.pricing);
    let suggestions = suggestions(&state, &items).await?;
    Ok(Json(view(&priced, &items, &state, suggestions)))
}

/// The problem for a coupon code no discount carries.
pub(crate) fn unknown_coupon(code: &str) -> Problem {
    Problem::invalid_field("coupon", format!("no discount has the code '{code}'"))
}

async fn suggestions(
    state: &AppState,
    items: &[(&Product, Quantity)],
) -> Result<Vec<ProductView>, Problem> {
    let mut wanted: Vec<Sku> = Vec::new();
    for (product, _) in items {
        for sku in &product.checkout_sell {
            let in_cart = items.iter().any(|(p, _)| &p.sku == sku);
            if !in_cart && !wanted.contains(sku) {
                wanted.push(sku.clone());
            }
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let found = state.store.get_products(&wanted).await?;
    Ok(wanted
        .iter()
        .filter_map(|sku| found.iter().find(|p| &p.sku == sku))
        .filter(|p| p.stock > 0 || p.allow_backorder)
        .take(4)
        .map(ProductView::from)
        .collect())
}

fn view(
    priced: &PricedCart,
    items: &[(&Product, Quantity)],
    state: &AppState,
    suggestions: Vec<ProductView>,
) -> PricedCartView {
    PricedCartView {
        currency: priced.currency.to_string(),
        lines: priced
            .lines
            .iter()
            .zip(items)
            .map(|(line, (product, quantity))| PricedLineView {
                sku: line.sku.to_string(),
                name: line.name.clone(),
                quantity: line.quantity.get(),
                unit_price: money(line.unit_price),
                total: money(line.total),
                tax_rate: line.tax_rate.normalize().to_string(),
                tax: money(line.tax),
                backordered: quantity.get().saturating_sub(product.stock),
                image: product.image.clone(),
            })
            .collect(),
        subtotal: money(priced.subtotal),
        discounts: Vec::new(),
        shipping: money(priced.shipping),
        free_shipping_from: state.settings.pricing.shipping.free_from.map(money),
        tax: money(priced.tax),
        taxes: priced.taxes.iter().map(TaxLineView::from).collect(),
        total: money(priced.total),
        suggestions,
    }
}
