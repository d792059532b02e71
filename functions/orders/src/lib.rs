//! The orders function: the read side of orders.
//!
//! `GET /orders/{id}` shows a shopper their order: lines, totals with the tax
//! breakdown, addresses and statuses. A guest opens it with the token from
//! the order's link; without the right token the order does not exist (404),
//! so ids cannot be probed. Customer history and staff views build on this.

use axum::extract::{Path, State};
use axum::Json;
use kontor_domain::order::{Order, OrderStatus, PaymentMethod, PaymentStatus, ShippingStatus};
use kontor_domain::OrderId;
use kontor_http::views::{money, AddressBody, TaxLineView};
use kontor_http::{AppState, Problem, QueryParams};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_order))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OrderAccess {
    /// The guest's access token from the order's link.
    pub token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderLineView {
    /// The `line_id` that shipments and returns name.
    pub id: String,
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    /// Units that were not in stock and ship later.
    pub backordered: u32,
    pub unit_price: String,
    pub total: String,
    pub tax_rate: String,
    pub tax: String,
}

/// An order as its shopper sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderView {
    pub id: String,
    pub number: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    pub email: String,
    pub currency: String,
    pub lines: Vec<OrderLineView>,
    pub subtotal: String,
    pub shipping: String,
    pub tax: String,
    pub taxes: Vec<TaxLineView>,
    pub total: String,
    pub shipping_address: AddressBody,
    pub billing_address: AddressBody,
    #[schema(value_type = String, example = "invoice")]
    pub payment_method: PaymentMethod,
    #[schema(value_type = String, example = "pending")]
    pub payment_status: PaymentStatus,
    #[schema(value_type = String, example = "open")]
    pub status: OrderStatus,
    #[schema(value_type = String, example = "not_shipped")]
    pub shipping_status: ShippingStatus,
}

impl From<&Order> for OrderView {
    fn from(order: &Order) -> Self {
        Self {
            id: order.id.to_string(),
            number: order.number.to_string(),
            created_at: order.created_at,
            email: order.email.to_string(),
            currency: order.currency.to_string(),
            lines: order
                .lines
                .iter()
                .map(|line| OrderLineView {
                    id: line.id.to_string(),
                    sku: line.sku.to_string(),
                    name: line.name.clone(),
                    quantity: line.quantity.get(),
                    backordered: line.backordered,
                    unit_price: money(line.unit_price),
                    total: money(line.total),
                    tax_rate: line.tax_rate.normalize().to_string(),
                    tax: money(line.tax),
                })
                .collect(),
            subtotal: money(order.totals.subtotal),
            shipping: money(order.totals.shipping),
            tax: money(order.totals.tax),
            taxes: order.totals.taxes.iter().map(TaxLineView::from).collect(),
            total: money(order.totals.total),
            shipping_address: AddressBody::from(&order.shipping_address),
            billing_address: AddressBody::from(&order.billing_address),
            payment_method: order.payment_method,
            payment_status: order.payment_status,
            status: order.status,
            shipping_status: order.shipping_status,
        }
    }
}

/// A shopper's view of one order.
#[utoipa::path(
    get,
    path = "/orders/{id}",
    tag = "orders",
    params(("id" = String, Path, description = "The order's id"), OrderAccess),
    responses(
        (status = 200, body = OrderView),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order, or not yours to see."),
    )
)]
async fn get_order(
    State(state): State<AppState>,
    Path(id): Path<String>,
    QueryParams(access): QueryParams<OrderAccess>,
) -> Result<Json<OrderView>, Problem> {
    let not_found = || Problem::not_found("order");
    let id = OrderId::parse(&id).map_err(|_| not_found())?;
    let token = access.token.ok_or_else(not_found)?;
    let order = state.store.get_order(&id).await?.ok_or_else(not_found)?;
    if !order.opens_with(&token) {
        return Err(not_found());
    }
    Ok(Json(OrderView::from(&order)))
}
