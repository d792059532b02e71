//! The order-adjustment function: staff change placed orders after the
//! fact, as a shop's order desk does every day.
//!
//! - `POST /admin/orders/{id}/notes`: a note for colleagues (internal, the
//!   default: never shown to the shopper, never in a shopper's e-mail or
//!   an event's text) or for the customer (on the order page, e-mailed).
//!
//! - `POST /admin/orders/{id}/lines`: a new line — a gift at 0 from
//!   leftover stock, or at a price — taking stock now or backordered.
//!
//! Changing and removing lines, goodwill adjustments, addresses and phone
//! orders follow (issue 10). Every change is an order command through the
//! order writer.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kontor_domain::command::OrderCommand;
use kontor_domain::money::Money;
use kontor_domain::{NoteText, Quantity, Sku};
use kontor_http::views::{money, NoteView};
use kontor_http::{AppState, Expect, JsonBody, Problem, Staff};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_note))
        .routes(routes!(add_line))
}

/// The largest unit price staff can set: far above any product, small
/// enough that no total can overflow.
const MAX_UNIT_PRICE: Decimal = Decimal::from_parts(100_000_000, 0, 0, false, 0);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLineBody {
    #[schema(value_type = String, example = "BE-LEATHER-BROWN")]
    pub sku: Sku,
    /// 1 to 999 units.
    #[schema(value_type = u32, example = 1)]
    pub quantity: Quantity,
    /// The gross unit price staff sell at, as a decimal string ("0" for a
    /// gift); the product's price when left out.
    #[schema(value_type = Option<String>, example = "0")]
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub unit_price: Option<Decimal>,
    /// Why, for the history (at most 200 characters).
    pub reason: Option<String>,
    /// The order's version the line was added on (from the order); a newer
    /// one is a 409.
    pub version: u64,
}

/// The line as added, and the order's total and version after it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LineAnswer {
    pub order_id: String,
    pub version: u64,
    pub line_id: String,
    pub total: String,
    pub amount_due: String,
}

/// Add a line to a placed order (staff): always a new line, at the
/// product's price or the staff's own (0 for a gift), taking its stock now
/// or backordered when the product allows it.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/lines",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id")),
    request_body = NewLineBody,
    responses(
        (status = 201, body = LineAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Not in stock and no backorders (`sku`, `available`), the order is closed (`order_status`), or it changed since `version` (`current_version`)."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "An unknown `sku`, a `quantity` outside 1–999, a negative or fractional-cent `unit_price`, a `reason` over 200 characters."),
    )
)]
async fn add_line(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    body: JsonBody<NewLineBody>,
) -> Result<(StatusCode, Json<LineAnswer>), Problem> {
    let id = state.order_id(&id)?;
    let body = body.value;
    if body.unit_price.is_some_and(|p| p > MAX_UNIT_PRICE) {
        return Err(Problem::invalid_field(
            "unit_price",
            "a unit price is at most 100,000,000",
        ));
    }
    let command = OrderCommand::AddLine {
        sku: body.sku,
        quantity: body.quantity,
        unit_price: body
            .unit_price
            .map(|p| Money::new(p, state.settings.pricing.currency)),
        reason: body.reason,
    };
    let expect = Expect {
        version: Some(body.version),
        visible: None,
    };
    let changed = state
        .change_order_if(&id, &staff.staff_actor(), &command, expect)
        .await?;
    let order = changed.order;
    let line_id = order
        .lines
        .last()
        .map(|l| l.id.to_string())
        .ok_or_else(|| Problem::not_found("line"))?;
    Ok((
        StatusCode::CREATED,
        Json(LineAnswer {
            order_id: order.id.to_string(),
            version: order.version,
            line_id,
            total: money(order.totals.total),
            amount_due: money(order.amount_due()),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// 1 to 5,000 characters; line breaks allowed.
    #[schema(value_type = String, example = "Customer called: wants it before Friday.")]
    pub text: NoteText,
    /// Show it on the shopper's order page and e-mail it (default: an
    /// internal note, for staff only).
    #[serde(default)]
    pub visible_to_customer: bool,
    /// The order's version the note was written on; a newer one is a 409.
    pub version: Option<u64>,
}

/// The note as written, and the order's version after it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NoteAnswer {
    pub order_id: String,
    pub version: u64,
    pub note: NoteView,
}

/// Write a note on an order (staff).
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/notes",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id")),
    request_body = NoteBody,
    responses(
        (status = 201, body = NoteAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The order is closed (`order_status`), or it changed since `version` (`current_version`)."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "An empty text, one over 5,000 characters, or one with control characters (`text`)."),
    )
)]
async fn add_note(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    body: JsonBody<NoteBody>,
) -> Result<(StatusCode, Json<NoteAnswer>), Problem> {
    let id = state.order_id(&id)?;
    let body = body.value;
    let command = OrderCommand::AddNote {
        text: body.text,
        visible_to_customer: body.visible_to_customer,
    };
    let expect = Expect {
        version: body.version,
        visible: None,
    };
    let changed = state
        .change_order_if(&id, &staff.staff_actor(), &command, expect)
        .await?;
    let order = changed.order;
    let note = order
        .notes
        .last()
        .map(NoteView::from)
        .ok_or_else(|| Problem::not_found("note"))?;
    Ok((
        StatusCode::CREATED,
        Json(NoteAnswer {
            order_id: order.id.to_string(),
            version: order.version,
            note,
        }),
    ))
}
