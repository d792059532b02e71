//! The tracking-update function: carriers, and the tracking services that
//! speak for them, tell Kontor where parcels are.
//!
//! `POST /webhooks/carriers/{carrier}` takes a carrier's message in
//! Kontor's envelope, signed with the `Kontor-Signature` header under that
//! carrier's secret (see `kontor_platform::webhooks`). `POST
//! /webhooks/aftership` and `POST /webhooks/sendcloud` take those
//! services' own payloads, signed their way under their own secrets
//! ([`services`]). An unsigned, mis-signed or stale delivery is refused
//! with 401 and writes nothing.
//!
//! A message finds its parcel by tracking number (a lookup, not a scan);
//! its status is ours or the sender's own code, looked up in the sender's
//! table; and it is applied once per sender's event identity: a repeat
//! changes nothing and e-mails nobody. A status no table knows is kept in
//! the parcel's history in the sender's words and moves nothing. A message
//! that would move a parcel backwards (it arrived late) is acknowledged
//! and ignored. Unknown tracking numbers are acknowledged and logged,
//! because senders retry whatever is not a success.

mod services;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use kontor_domain::command::{CarrierUpdate, MessageSource, OrderCommand, OrderError};
use kontor_domain::shipment::{Carrier, ShipmentError, ShipmentStatus, TrackingNumber};
use kontor_http::extract::parse_json;
use kontor_http::{AppState, ChangeError, Problem};
use kontor_platform::webhooks::{self, SignatureError, SIGNATURE_HEADER};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(carrier_webhook))
        .routes(routes!(services::aftership_webhook))
        .routes(routes!(services::sendcloud_webhook))
}

/// A carrier's message about one parcel.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CarrierMessage {
    /// The carrier's id for this message; each is applied once.
    pub event_id: String,
    #[schema(value_type = kontor_http::schemas::TrackingNumber, example = "00340434161094042557")]
    pub tracking_number: TrackingNumber,
    /// One of Kontor's statuses (`in_transit`) or the carrier's own code;
    /// a code neither knows is kept in the parcel's history.
    #[schema(min_length = 1, max_length = 100)]
    pub status: String,
    /// When it happened, as the carrier says (default: when received).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<OffsetDateTime>,
    pub location: Option<String>,
}

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The parcel moved on.
    Applied,
    /// This `event_id` was applied before.
    Duplicate,
    /// It would move the parcel backwards; a later message came first.
    Stale,
    /// No parcel of this carrier has the tracking number.
    UnknownTrackingNumber,
    /// A status Kontor has no word for: kept in the parcel's history for
    /// staff, the parcel stays where it is.
    Recorded,
    /// Not news of a parcel's way (an estimated-delivery update, a label
    /// announcement): acknowledged, nothing to do.
    Ignored,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookAnswer {
    pub outcome: Outcome,
}

fn accepted(outcome: Outcome) -> (StatusCode, Json<WebhookAnswer>) {
    let status = match outcome {
        Outcome::Applied => StatusCode::OK,
        _ => StatusCode::ACCEPTED,
    };
    (status, Json(WebhookAnswer { outcome }))
}

fn refused(carrier: Carrier, error: SignatureError) -> Problem {
    tracing::warn!(%carrier, %error, "refused a carrier webhook");
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "bad-signature",
        "Bad signature",
        error.to_string(),
    )
}

/// A carrier's tracking message (signed with `Kontor-Signature`).
#[utoipa::path(
    post,
    path = "/webhooks/carriers/{carrier}",
    tag = "shipments",
    params(
        ("carrier" = String, Path, description = "dhl, dpd, ups, gls, hermes or other"),
        ("Kontor-Signature" = String, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\"> under the carrier's secret"),
    ),
    request_body = CarrierMessage,
    responses(
        (status = 200, body = WebhookAnswer, description = "Applied: the parcel moved on."),
        (status = 202, body = WebhookAnswer, description = "Acknowledged without a move: a repeat, a late message, an unknown tracking number, or a status kept in the parcel's history."),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "The body is not JSON."),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "Unsigned, mis-signed, or signed more than five minutes away from now."),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such carrier."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A field is missing or invalid."),
    )
)]
async fn carrier_webhook(
    State(state): State<AppState>,
    Path(carrier): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<WebhookAnswer>), Problem> {
    let carrier = Carrier::parse(&carrier).map_err(|_| Problem::not_found("carrier"))?;
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    webhooks::verify(
        signature,
        state.settings.webhook_secrets.for_carrier(carrier),
        &body,
        state.clock.now().unix_timestamp(),
    )
    .map_err(|error| refused(carrier, error))?;
    let message: CarrierMessage = parse_json(&body)?.value;
    let event_id = checked_event_id(&message.event_id, "event_id")?;
    let code = message.status.trim();
    if code.is_empty() || code.chars().count() > 100 {
        return Err(Problem::invalid_field(
            "status",
            "a status is 1 to 100 characters",
        ));
    }
    let status = carrier.status_for(code);
    apply(
        &state,
        News {
            number: message.tracking_number,
            source: MessageSource::Carrier(carrier),
            event_id,
            status,
            reported: status.is_none().then(|| format!("{carrier} {code}")),
            occurred_at: message.occurred_at,
            location: message.location,
        },
    )
    .await
}

/// A sender's event id, checked: it is stored per parcel step.
fn checked_event_id(id: &str, field: &str) -> Result<String, Problem> {
    let id = id.trim();
    if id.is_empty() || id.len() > 200 || id.chars().any(char::is_control) {
        return Err(Problem::invalid_field(
            field,
            "an event id is 1 to 200 printable characters",
        ));
    }
    Ok(id.to_string())
}

/// One sender's news of one parcel, whatever format it came in.
struct News {
    number: TrackingNumber,
    source: MessageSource,
    /// The sender's event identity, unique per sender.
    event_id: String,
    /// `None`: a status no table knows, kept in words.
    status: Option<ShipmentStatus>,
    reported: Option<String>,
    occurred_at: Option<OffsetDateTime>,
    location: Option<String>,
}

/// Applies news through the order write path, and says what became of it.
async fn apply(state: &AppState, news: News) -> Result<(StatusCode, Json<WebhookAnswer>), Problem> {
    let source = news.source;
    let Some(claim) = state.store.find_tracking(&news.number).await? else {
        tracing::warn!(?source, tracking_number = %news.number, "news for an unknown tracking number");
        return Ok(accepted(Outcome::UnknownTrackingNumber));
    };
    let recorded = news.status.is_none();
    let command = OrderCommand::ApplyCarrierMessage(CarrierUpdate {
        shipment_id: claim.shipment_id.clone(),
        source,
        event_id: news.event_id.clone(),
        status: news.status,
        reported: news.reported,
        occurred_at: news.occurred_at.unwrap_or_else(|| state.clock.now()),
        location: news.location,
    });
    let event_id = news.event_id;
    match state
        .change_order(&claim.order_id, &source.actor(), &command)
        .await
    {
        Ok(_) if recorded => {
            tracing::info!(?source, %event_id, "kept news without a status in the parcel's history");
            Ok(accepted(Outcome::Recorded))
        }
        Ok(_) => Ok(accepted(Outcome::Applied)),
        Err(ChangeError::Refused(OrderError::DuplicateCarrierMessage)) => {
            Ok(accepted(Outcome::Duplicate))
        }
        Err(ChangeError::Refused(OrderError::LateCarrierMessage { from, to })) => {
            tracing::info!(?source, %from, %to, %event_id, "ignored a late carrier message");
            Ok(accepted(Outcome::Stale))
        }
        // A parcel whose history is full takes no more steps; acknowledged
        // and logged, like a late message.
        Err(ChangeError::Refused(OrderError::Shipment(ShipmentError::TooManySteps))) => {
            tracing::warn!(?source, %event_id, "ignored a carrier message: the parcel's history is full");
            Ok(accepted(Outcome::Stale))
        }
        // The number points at another carrier's parcel, at a parcel that
        // is gone, or at an order that is: nothing of ours to move.
        Err(
            ChangeError::NotFound
            | ChangeError::Refused(OrderError::WrongCarrier | OrderError::Shipment(_)),
        ) => {
            tracing::warn!(?source, tracking_number = %news.number, "the tracking number names no parcel of this carrier");
            Ok(accepted(Outcome::UnknownTrackingNumber))
        }
        // A closed order takes no more news; acknowledged, so the sender
        // stops sending it.
        Err(ChangeError::Refused(OrderError::Closed { status })) => {
            tracing::info!(?source, %status, %event_id, "a carrier message for a closed order");
            Ok(accepted(Outcome::Stale))
        }
        // Anything else (the store unavailable) is not a success, so the
        // sender delivers the message again later.
        Err(other) => Err(other.into()),
    }
}
