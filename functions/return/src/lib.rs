//! The return function: customers send back units of a shipped order, and
//! staff take them back and pay for them.
//!
//! - `POST /orders/{id}/returns?token=` (guest), `POST /me/orders/{id}/returns`
//!   (customer) and `POST /admin/orders/{id}/returns` (staff on the
//!   customer's behalf, who may accept it after the return window):
//!   `{lines: [{line_id, quantity, reason}], requested_action, comment?}`.
//! - `POST /admin/orders/{id}/returns/{rid}/approve`, `…/reject`
//!   (`{reason}`), `…/receive` (`{lines: [{line_id, quantity, restock}]}`:
//!   restocked units go back to stock in the same write), `…/refund`
//!   (`{amount?, reason?}`: what the received units cost the customer, or
//!   less with a reason; `?dry_run=true` shows it first) and `…/close`
//!   (a replacement or exchange; approving one adds its units as lines
//!   at 0, packed like any line).
//! - `POST /admin/orders/{id}/shipments/{sid}/receive-back`: a parcel the
//!   carrier returned to sender is in the shop again; its units go back on
//!   the shelf (`restock`) or wait to be sent again.
//!
//! Returns live inside the order, so every step is an order command
//! through the order writer; each sends the version the caller saw.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kontor_domain::actor::Actor;
use kontor_domain::command::{OrderCommand, ReturnRequestLine};
use kontor_domain::order::{Order, PaymentStatus};
use kontor_domain::returns::{ReceivedLine, ReturnAction};
use kontor_domain::{LineId, OrderId, Quantity, Sku};
use kontor_http::views::{ReturnView, TotalsView};
use kontor_http::{
    AppState, Claims, Expect, JsonBody, Preview, Problem, QueryParams, SignedIn, Staff,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(guest_return))
        .routes(routes!(customer_return))
        .routes(routes!(staff_return))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(receive))
        .routes(routes!(refund))
        .routes(routes!(close))
        .routes(routes!(receive_back))
}

/// The most lines one return may name: more than any order has.
const MAX_LINES: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineBody {
    #[schema(value_type = kontor_http::schemas::LineId, example = "L1")]
    pub line_id: LineId,
    /// 1 to 999, at most what was shipped and is not in another return.
    #[schema(value_type = kontor_http::schemas::Quantity, example = 1)]
    pub quantity: Quantity,
    /// One of the shop's reasons ("too small", "too large", "not as
    /// described", "damaged", "wrong item", "changed my mind").
    #[schema(example = "too small")]
    pub reason: String,
    /// For an exchange: the product wanted instead (the same when left out).
    #[schema(value_type = Option<kontor_http::schemas::Sku>, example = "TR-CHINO-NAVY")]
    pub exchange_sku: Option<Sku>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequestBody {
    pub lines: Vec<ReturnLineBody>,
    /// `refund`, `replacement` or `exchange`.
    #[schema(value_type = kontor_http::schemas::ReturnAction, example = "refund")]
    pub requested_action: ReturnAction,
    /// Up to 1,000 characters for the shop.
    pub comment: Option<String>,
    /// The order's version the request was made on (optional for shoppers).
    pub version: Option<u64>,
    /// Staff only: accept it after the shopper's return window (noted in
    /// the history).
    #[serde(default)]
    pub override_window: bool,
}

/// A return after a step, with the order's money after it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReturnAnswer {
    pub order_id: String,
    pub number: String,
    /// The order's version after the step (send it with the next).
    pub version: u64,
    /// Whether this is only a preview: nothing was written.
    pub dry_run: bool,
    #[serde(rename = "return")]
    pub found: ReturnView,
    #[schema(value_type = kontor_http::schemas::PaymentStatus, example = "partially_refunded")]
    pub payment_status: PaymentStatus,
    #[serde(flatten)]
    pub totals: TotalsView,
    /// After a refund with money out: `by_staff` (transfer it; payment is
    /// offline) or `paid` (a provider paid it back).
    pub pay_back: Option<String>,
}

impl ReturnAnswer {
    fn new(order: &Order, return_id: &str, dry_run: bool) -> Result<Self, Problem> {
        let found = order
            .returns
            .iter()
            .find(|r| r.id == return_id)
            .ok_or_else(|| Problem::not_found("return"))?;
        Ok(Self {
            order_id: order.id.to_string(),
            number: order.number.to_string(),
            version: order.version,
            dry_run,
            found: ReturnView::from(found),
            payment_status: order.payment_status,
            totals: TotalsView::from(order),
            pay_back: None,
        })
    }
}

fn request_command(body: ReturnRequestBody, staff: bool) -> Result<OrderCommand, Problem> {
    if body.lines.len() > MAX_LINES {
        return Err(Problem::invalid_field(
            "lines",
            format!("a return names at most {MAX_LINES} lines"),
        ));
    }
    Ok(OrderCommand::RequestReturn {
        lines: body
            .lines
            .into_iter()
            .map(|l| ReturnRequestLine {
                line_id: l.line_id,
                quantity: l.quantity,
                reason: l.reason,
                exchange_sku: l.exchange_sku,
            })
            .collect(),
        action: body.requested_action,
        comment: body.comment,
        override_window: staff && body.override_window,
    })
}

/// Requests a return of order `id` as `actor`, if the order is theirs.
async fn request(
    state: &AppState,
    id: &OrderId,
    actor: &Actor,
    body: ReturnRequestBody,
    visible: Option<&(dyn Fn(&Order) -> bool + Send + Sync)>,
) -> Result<(StatusCode, Json<ReturnAnswer>), Problem> {
    let version = body.version;
    let command = request_command(body, visible.is_none())?;
    let expect = Expect { version, visible };
    let order = state
        .change_order_if(id, actor, &command, expect)
        .await?
        .order;
    let return_id = order
        .returns
        .last()
        .map(|r| r.id.clone())
        .unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(ReturnAnswer::new(&order, &return_id, false)?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GuestAccess {
    /// The guest's access token from the order's link.
    pub token: Option<String>,
}

/// Ask to return units of an order from its link (guest).
#[utoipa::path(
    post,
    path = "/orders/{id}/returns",
    tag = "returns",
    params(("id" = String, Path, description = "The order's id"), GuestAccess),
    request_body = ReturnRequestBody,
    responses(
        (status = 201, body = ReturnAnswer),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order, or not yours."),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The order is closed, or it changed since `version`."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A line never shipped or more than returnable (`lines[i].quantity`, `returnable`), a reason the shop does not know (`lines[i].reason`), an action it does not offer, after the return window (`lines[i].line_id`, `deadline`)."),
    )
)]
async fn guest_return(
    State(state): State<AppState>,
    Path(id): Path<String>,
    QueryParams(access): QueryParams<GuestAccess>,
    body: JsonBody<ReturnRequestBody>,
) -> Result<(StatusCode, Json<ReturnAnswer>), Problem> {
    let token = access.token.ok_or_else(|| Problem::not_found("order"))?;
    let id = state.order_id(&id)?;
    let visible = |order: &Order| order.opens_with(&token);
    request(&state, &id, &Actor::Guest, body.value, Some(&visible)).await
}

/// Ask to return units of one of the signed-in customer's orders.
#[utoipa::path(
    post,
    path = "/me/orders/{id}/returns",
    tag = "returns",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id")),
    request_body = ReturnRequestBody,
    responses(
        (status = 201, body = ReturnAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order, or not this customer's."),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The order is closed, or it changed since `version`."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "As for a guest's return."),
    )
)]
async fn customer_return(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
    body: JsonBody<ReturnRequestBody>,
) -> Result<(StatusCode, Json<ReturnAnswer>), Problem> {
    let id = state.order_id(&id)?;
    let visible = |order: &Order| order.customer_id.as_ref() == Some(&caller.subject);
    request(
        &state,
        &id,
        &caller.customer_actor(),
        body.value,
        Some(&visible),
    )
    .await
}

/// Record a return on the customer's behalf (staff), after the return
/// window too when `override_window` says so.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/returns",
    tag = "returns",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id")),
    request_body = ReturnRequestBody,
    responses(
        (status = 201, body = ReturnAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The order is closed, or it changed since `version`."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "As for a shopper's return."),
    )
)]
async fn staff_return(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    body: JsonBody<ReturnRequestBody>,
) -> Result<(StatusCode, Json<ReturnAnswer>), Problem> {
    let id = state.order_id(&id)?;
    request(&state, &id, &staff.staff_actor(), body.value, None).await
}

/// Runs a staff step on return `rid` of order `id`.
async fn step(
    state: &AppState,
    staff: &Claims,
    (id, return_id): (String, String),
    command: OrderCommand,
    version: u64,
    dry_run: bool,
) -> Result<Json<ReturnAnswer>, Problem> {
    let id = state.order_id(&id)?;
    let order = state
        .edit_order(&id, &staff.staff_actor(), &command, version, dry_run)
        .await?;
    Ok(Json(ReturnAnswer::new(&order, &return_id, dry_run)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    /// The order's version the step was decided on.
    pub version: u64,
}

/// Approve a requested return (staff); the customer is e-mailed.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/returns/{rid}/approve",
    tag = "returns",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id"), ("rid" = String, Path, description = "The return's id (`R1`, …)")),
    request_body = VersionBody,
    responses(
        (status = 200, body = ReturnAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order or return."),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The return is not requested (`return_status`), or the order changed since `version`."),
    )
)]
async fn approve(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(ids): Path<(String, String)>,
    body: JsonBody<VersionBody>,
) -> Result<Json<ReturnAnswer>, Problem> {
    let command = OrderCommand::ApproveReturn {
        return_id: ids.1.clone(),
    };
    step(&state, &staff, ids, command, body.value.version, false).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why, for the customer (1 to 200 characters).
    pub reason: String,
    pub version: u64,
}

/// Reject a requested return (staff), with the reason the customer reads.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/returns/{rid}/reject",
    tag = "returns",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id"), ("rid" = String, Path, description = "The return's id")),
    request_body = RejectBody,
    responses(
        (status = 200, body = ReturnAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The return is not requested, or the order changed since `version`."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "An empty or overlong `reason`."),
    )
)]
async fn reject(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(ids): Path<(String, String)>,
    body: JsonBody<RejectBody>,
) -> Result<Json<ReturnAnswer>, Problem> {
    let body = body.value;
    let command = OrderCommand::RejectReturn {
        return_id: ids.1.clone(),
        reason: body.reason,
    };
    step(&state, &staff, ids, command, body.version, false).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceivedLineBody {
    #[schema(value_type = kontor_http::schemas::LineId, example = "L1")]
    pub line_id: LineId,
    /// Units that arrived (0 to what the return named).
    pub quantity: u32,
    /// Put them back in stock (they are sellable).
    pub restock: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveBody {
    pub lines: Vec<ReceivedLineBody>,
    pub version: u64,
}

/// Record what arrived of an approved return (staff); restocked units go
/// back to stock in the same write.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/returns/{rid}/receive",
    tag = "returns",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id"), ("rid" = String, Path, description = "The return's id")),
    request_body = ReceiveBody,
    responses(
        (status = 200, body = ReturnAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The return is not approved (`return_status`), or the order changed since `version`."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A line not in the return, or more than it named (`lines[i].quantity`)."),
    )
)]
async fn receive(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(ids): Path<(String, String)>,
    body: JsonBody<ReceiveBody>,
) -> Result<Json<ReturnAnswer>, Problem> {
    let body = body.value;
    if body.lines.len() > MAX_LINES {
        return Err(Problem::invalid_field("lines", "at most 100 lines"));
    }
    let command = OrderCommand::ReceiveReturn {
        return_id: ids.1.clone(),
        lines: body
            .lines
            .into_iter()
            .map(|l| ReceivedLine {
                line_id: l.line_id,
                quantity: l.quantity,
                restocked: l.restock,
            })
            .collect(),
    };
    step(&state, &staff, ids, command, body.version, false).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// Less than what is refundable, as a decimal string; the refundable
    /// amount when left out.
    #[schema(value_type = Option<kontor_http::schemas::AmountOrEmpty>, example = "20.00")]
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub amount: Option<Decimal>,
    /// Why less (needed when `amount` is below what is refundable).
    pub reason: Option<String>,
    pub version: u64,
}

/// Refund a received return (staff): what the customer paid for the units
/// that came back (shipping too once everything came back), under a new
/// credit note; on an order not fully paid, first as a credit off what is
/// due. `?dry_run=true` shows it without making it.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/returns/{rid}/refund",
    tag = "returns",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id"), ("rid" = String, Path, description = "The return's id"), Preview),
    request_body = RefundBody,
    responses(
        (status = 200, body = ReturnAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The return is not received (`return_status`), or the order changed since `version`."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "An `amount` above what is refundable (`refundable`), negative or in fractions of a cent; a lower amount without a `reason`."),
    )
)]
async fn refund(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(ids): Path<(String, String)>,
    QueryParams(preview): QueryParams<Preview>,
    body: JsonBody<RefundBody>,
) -> Result<Json<ReturnAnswer>, Problem> {
    let body = body.value;
    let command = OrderCommand::RefundReturn {
        return_id: ids.1.clone(),
        amount: body
            .amount
            .map(|a| state.typed_amount("amount", a))
            .transpose()?,
        reason: body.reason,
    };
    let Json(mut answer) =
        step(&state, &staff, ids, command, body.version, preview.dry_run).await?;
    if preview.dry_run {
        return Ok(Json(answer));
    }
    // The refund is recorded; now the money goes back the way the order
    // was paid (offline: staff transfer it).
    let order = state.order(&answer.order_id).await?;
    if let Some(refund) = order
        .returns
        .iter()
        .find(|r| r.id == answer.found.id)
        .and_then(|r| r.refund.as_ref())
        .filter(|r| !r.money_out.is_zero())
    {
        let paid_back = state
            .payments
            .pay_back(
                &order.id,
                order.payment_method,
                &refund.credit_note,
                refund.money_out,
            )
            .await;
        answer.pay_back = Some(match paid_back {
            Ok(how) => how.code().to_string(),
            Err(error) => {
                tracing::warn!(order_id = %order.id, credit_note = %refund.credit_note, %error, "refund recorded, paying it back failed");
                "failed".to_string()
            }
        });
    }
    Ok(Json(answer))
}

/// Close a received replacement or exchange (staff).
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/returns/{rid}/close",
    tag = "returns",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id"), ("rid" = String, Path, description = "The return's id")),
    request_body = VersionBody,
    responses(
        (status = 200, body = ReturnAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The return is not received, asked for a refund, or the order changed since `version`."),
    )
)]
async fn close(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(ids): Path<(String, String)>,
    body: JsonBody<VersionBody>,
) -> Result<Json<ReturnAnswer>, Problem> {
    let command = OrderCommand::CloseReturn {
        return_id: ids.1.clone(),
    };
    step(&state, &staff, ids, command, body.value.version, false).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveBackBody {
    /// Put the units back in stock (they are then backordered until sent
    /// again); otherwise they wait on the shelf to be sent again.
    pub restock: bool,
    pub version: u64,
}

/// What staff do with an order after a parcel came back.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceivedBackAnswer {
    pub order_id: String,
    pub version: u64,
    /// Units of each line still to pack (the parcel's, to send again).
    pub left_to_pack: std::collections::BTreeMap<String, u32>,
}

/// Take back a parcel the carrier returned to sender (staff), without a
/// customer's request: restock its units or keep them to send again.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/shipments/{sid}/receive-back",
    tag = "returns",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id"), ("sid" = String, Path, description = "The parcel's id (`S1`, …)")),
    request_body = ReceiveBackBody,
    responses(
        (status = 200, body = ReceivedBackAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order or parcel."),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The parcel is not returned to sender or was taken back already (`not-back-from-carrier`), or the order changed since `version`."),
    )
)]
async fn receive_back(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path((id, shipment_id)): Path<(String, String)>,
    body: JsonBody<ReceiveBackBody>,
) -> Result<Json<ReceivedBackAnswer>, Problem> {
    let id = state.order_id(&id)?;
    let body = body.value;
    let command = OrderCommand::ReceiveReturnedParcel {
        shipment_id,
        restock: body.restock,
    };
    let order = state
        .edit_order(&id, &staff.staff_actor(), &command, body.version, false)
        .await?;
    Ok(Json(ReceivedBackAnswer {
        order_id: order.id.to_string(),
        version: order.version,
        left_to_pack: order
            .lines
            .iter()
            .map(|l| (l.id.to_string(), order.units_left_to_pack(&l.id)))
            .filter(|(_, left)| *left > 0)
            .collect(),
    }))
}
