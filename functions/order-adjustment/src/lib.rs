//! The order-adjustment function: staff change placed orders after the
//! fact, as a shop's order desk does every day.
//!
//! - `POST /admin/orders/{id}/notes`: a note for colleagues (internal, the
//!   default: never shown to the shopper, never in a shopper's e-mail or
//!   an event's text) or for the customer (on the order page, e-mailed).
//!
//! Adding and changing lines, goodwill adjustments, addresses and phone
//! orders follow (issue 10). Every change is an order command through the
//! order writer.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kontor_domain::command::OrderCommand;
use kontor_domain::NoteText;
use kontor_http::views::NoteView;
use kontor_http::{AppState, Expect, JsonBody, Problem, Staff};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add_note))
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
