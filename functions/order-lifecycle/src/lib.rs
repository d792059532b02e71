//! The order-lifecycle function: an order's way from open to cancelled or
//! completed, and the money received for it.
//!
//! - `POST /orders/{id}/cancel?token=` (guest) and `POST /me/orders/{id}/cancel`
//!   (customer): the shopper cancels while nothing is packed.
//! - `POST /admin/orders/{id}/cancel`: staff cancel while nothing has left
//!   the warehouse; every unit the order took goes back to stock.
//! - `POST /admin/orders/{id}/payments`: staff record money received;
//!   never more than is due.
//! - `POST /admin/orders/{id}/complete`: staff close an order (one that is
//!   delivered and paid completes by itself).
//! - [`expire_unpaid`]: cancels prepayment orders whose money did not come
//!   within the shop's deadline (a schedule in AWS, a timer locally).
//!
//! Every change is an order command through the order helper.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kontor_domain::actor::Actor;
use kontor_domain::command::{OrderCommand, OrderError};
use kontor_domain::money::Money;
use kontor_domain::order::{Order, OrderStatus, PaymentStatus, ShippingStatus};
use kontor_domain::TextLine;
use kontor_http::views::money;
use kontor_http::{AppState, ChangeError, Expect, JsonBody, Problem, QueryParams, SignedIn, Staff};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Duration;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(guest_cancel))
        .routes(routes!(customer_cancel))
        .routes(routes!(staff_cancel))
        .routes(routes!(record_payment))
        .routes(routes!(complete))
}

/// The largest payment staff can record at once: far above any order,
/// small enough that no sum of payments can overflow.
const MAX_PAYMENT: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// An order's statuses and money after a change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LifecycleAnswer {
    pub order_id: String,
    pub number: String,
    /// The order's version after the change (send it with later edits).
    pub version: u64,
    #[schema(value_type = kontor_http::schemas::OrderStatus, example = "cancelled")]
    pub status: OrderStatus,
    #[schema(value_type = kontor_http::schemas::PaymentStatus, example = "partially_paid")]
    pub payment_status: PaymentStatus,
    #[schema(value_type = kontor_http::schemas::ShippingStatus, example = "not_shipped")]
    pub shipping_status: ShippingStatus,
    pub currency: String,
    pub total: String,
    /// Received so far.
    pub paid: String,
    /// Still to pay.
    pub due: String,
}

impl From<&Order> for LifecycleAnswer {
    fn from(order: &Order) -> Self {
        Self {
            order_id: order.id.to_string(),
            number: order.number.to_string(),
            version: order.version,
            status: order.status,
            payment_status: order.payment_status,
            shipping_status: order.shipping_status,
            currency: order.currency.to_string(),
            total: money(order.totals.total),
            paid: money(order.paid()),
            due: money(order.amount_due()),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GuestAccess {
    /// The guest's access token from the order's link.
    pub token: Option<String>,
}

/// Cancel an order from its link (guest), while nothing is packed.
#[utoipa::path(
    post,
    path = "/orders/{id}/cancel",
    tag = "orders",
    params(("id" = String, Path, description = "The order's id"), GuestAccess),
    responses(
        (status = 200, body = LifecycleAnswer),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order, or not yours."),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Packing has started (`already-packed`), or the order is closed (`order_status`)."),
    )
)]
async fn guest_cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    QueryParams(access): QueryParams<GuestAccess>,
) -> Result<Json<LifecycleAnswer>, Problem> {
    let token = access.token.ok_or_else(|| Problem::not_found("order"))?;
    let id = state.order_id(&id)?;
    let command = OrderCommand::Cancel { reason: None };
    let visible = |order: &Order| order.opens_with(&token);
    let expect = Expect {
        visible: Some(&visible),
        ..Expect::default()
    };
    let changed = state
        .change_order_if(&id, &Actor::Guest, &command, expect)
        .await?;
    Ok(Json(LifecycleAnswer::from(&changed.order)))
}

/// Cancel one of the signed-in customer's orders, while nothing is packed.
#[utoipa::path(
    post,
    path = "/me/orders/{id}/cancel",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 200, body = LifecycleAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order, or not this customer's."),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Packing has started (`already-packed`), or the order is closed (`order_status`)."),
    )
)]
async fn customer_cancel(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<LifecycleAnswer>, Problem> {
    let id = state.order_id(&id)?;
    let command = OrderCommand::Cancel { reason: None };
    let visible = |order: &Order| order.customer_id.as_ref() == Some(&caller.subject);
    let expect = Expect {
        visible: Some(&visible),
        ..Expect::default()
    };
    let changed = state
        .change_order_if(&id, &caller.customer_actor(), &command, expect)
        .await?;
    Ok(Json(LifecycleAnswer::from(&changed.order)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Why, in a sentence the customer's e-mail quotes (1 to 200 characters).
    #[schema(value_type = Option<kontor_http::schemas::TextLine>, example = "Out of stock at our supplier")]
    pub reason: Option<TextLine>,
    /// The order's version the decision was made on; a newer order is a 409.
    pub version: Option<u64>,
}

/// Cancel an order (staff) while nothing has left the warehouse: every
/// unit it took goes back to stock, packed parcels are unpacked, and the
/// customer is e-mailed.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/cancel",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id")),
    request_body = CancelBody,
    responses(
        (status = 200, body = LifecycleAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "A parcel has left (`already-shipped`: return the items instead), the order is closed (`order_status`), or it changed since `version` (`current_version`)."),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn staff_cancel(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    body: JsonBody<CancelBody>,
) -> Result<Json<LifecycleAnswer>, Problem> {
    let id = state.order_id(&id)?;
    let command = OrderCommand::Cancel {
        reason: body.value.reason.map(|r| r.to_string()),
    };
    let changed = state
        .change_order_if(&id, &staff.staff_actor(), &command, at(body.value.version))
        .await?;
    Ok(Json(LifecycleAnswer::from(&changed.order)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    /// The amount received, in the order's currency, as a decimal string.
    #[schema(value_type = kontor_http::schemas::Amount, example = "59.90")]
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// The day it arrived (`YYYY-MM-DD`), not after today.
    #[schema(example = "2026-11-29")]
    pub date: String,
    /// The bank's or the carrier's reference (1 to 200 characters).
    #[schema(value_type = kontor_http::schemas::TextLine, example = "Überweisung K-7F3K-9QX2")]
    pub reference: TextLine,
    /// The order's version staff looked at; a newer order (a payment
    /// recorded meanwhile, a double click) is a 409 instead of a second
    /// payment.
    pub version: Option<u64>,
}

/// Record money received for an order (staff). The payment status follows;
/// more than is due is refused.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/payments",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id")),
    request_body = PaymentBody,
    responses(
        (status = 201, body = LifecycleAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Nothing is due, the order is closed (`order_status`), or it changed since `version` (`current_version`)."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "An amount of zero, below zero, in fractions of a cent or above what is due (`due`); a date that is no date or after today."),
    )
)]
async fn record_payment(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    body: JsonBody<PaymentBody>,
) -> Result<(StatusCode, Json<LifecycleAnswer>), Problem> {
    let id = state.order_id(&id)?;
    let body = body.value;
    if body.amount > MAX_PAYMENT {
        return Err(Problem::invalid_field(
            "amount",
            "a payment is at most 1,000,000,000",
        ));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(body.date.trim(), &format)
        .map_err(|_| Problem::invalid_field("date", "a date is written YYYY-MM-DD"))?;
    let command = OrderCommand::RecordPayment {
        // The order's currency: a shop takes payments in its one currency.
        amount: Money::new(body.amount, state.settings.pricing.currency),
        date,
        reference: body.reference.to_string(),
    };
    let changed = state
        .change_order_if(&id, &staff.staff_actor(), &command, at(body.version))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(LifecycleAnswer::from(&changed.order)),
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// Complete an order that is not yet delivered and paid, on purpose.
    #[serde(default)]
    pub even_if_open: bool,
    /// The order's version the decision was made on; a newer order is a 409.
    pub version: Option<u64>,
}

/// Complete an order (staff). A delivered, paid order completes by
/// itself; anything else only with `even_if_open`.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/complete",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id")),
    request_body = CompleteBody,
    responses(
        (status = 200, body = LifecycleAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Not delivered and paid without `even_if_open` (names `shipping_status` and `payment_status`), the order is closed (`order_status`), or it changed since `version` (`current_version`)."),
    )
)]
async fn complete(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    body: JsonBody<CompleteBody>,
) -> Result<Json<LifecycleAnswer>, Problem> {
    let id = state.order_id(&id)?;
    let command = OrderCommand::Complete {
        even_if_open: body.value.even_if_open,
    };
    let changed = state
        .change_order_if(&id, &staff.staff_actor(), &command, at(body.value.version))
        .await?;
    Ok(Json(LifecycleAnswer::from(&changed.order)))
}

/// Expects the order at `version`, when the caller sent one.
fn at(version: Option<u64>) -> Expect<'static> {
    Expect {
        version,
        visible: None,
    }
}

/// How many unpaid orders one sweep looks at, at most: a sweep stays short,
/// and the next one takes the rest.
const SWEEP_LIMIT: usize = 500;

/// Cancels every prepayment order that was not paid within the shop's
/// deadline; answers how many. An order paid meanwhile is left alone. A
/// store failure on one order does not stop the others; the sweep then
/// fails, so the scheduler tries again.
pub async fn expire_unpaid(state: &AppState) -> Result<usize, ChangeError> {
    let days = state.settings.unpaid_expiry_days;
    let cutoff = state.clock.now() - Duration::days(i64::from(days));
    let candidates = state.store.unpaid_orders(cutoff, SWEEP_LIMIT).await?;
    let actor = Actor::System {
        reason: format!("no payment within {days} days"),
    };
    let command = OrderCommand::ExpireUnpaid { after_days: days };
    let mut expired = 0;
    let mut failure = None;
    for id in candidates {
        match state.change_order(&id, &actor, &command).await {
            Ok(_) => expired += 1,
            Err(ChangeError::Refused(OrderError::NotExpired | OrderError::Closed { .. })) => {}
            Err(error) => {
                tracing::error!(order_id = %id, %error, "could not expire an unpaid order");
                failure = Some(error);
            }
        }
    }
    if expired > 0 {
        tracing::info!(expired, days, "unpaid prepayment orders cancelled");
    }
    match failure {
        Some(error) => Err(error),
        None => Ok(expired),
    }
}
