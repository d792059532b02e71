//! The tracking-update function: carriers tell Kontor where parcels are.
//!
//! `POST /webhooks/carriers/{carrier}` takes a carrier's message, signed
//! with the `Kontor-Signature` header under that carrier's secret (see
//! `kontor_platform::webhooks`): an unsigned, mis-signed or stale delivery
//! is refused with 401 and writes nothing. The message finds its parcel by
//! tracking number (a lookup, not a scan), its status is ours or the
//! carrier's own code, and it is applied once per carrier `event_id`: a
//! repeat changes nothing and e-mails nobody. A message that would move a
//! parcel backwards (it arrived late) is acknowledged and ignored. Unknown
//! tracking numbers are acknowledged and logged, because carriers retry
//! whatever is not a success.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use kontor_domain::actor::Actor;
use kontor_domain::command::{CarrierUpdate, OrderCommand, OrderError};
use kontor_domain::shipment::{Carrier, ShipmentError, TrackingNumber};
use kontor_http::extract::parse_json;
use kontor_http::{AppState, ChangeError, Problem};
use kontor_platform::webhooks::{self, SIGNATURE_HEADER};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(carrier_webhook))
}

/// A carrier's message about one parcel.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CarrierMessage {
    /// The carrier's id for this message; each is applied once.
    pub event_id: String,
    #[schema(value_type = String, example = "00340434161094042557")]
    pub tracking_number: TrackingNumber,
    /// One of Kontor's statuses (`in_transit`) or the carrier's own code.
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
        (status = 202, body = WebhookAnswer, description = "Acknowledged without a change: a repeat, a late message, or an unknown tracking number."),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "The body is not JSON."),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "Unsigned, mis-signed, or signed more than five minutes away from now."),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such carrier."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A field is missing or invalid, or the status is unknown to this carrier."),
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
    .map_err(|error| {
        tracing::warn!(%carrier, %error, "refused a carrier webhook");
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "bad-signature",
            "Bad signature",
            error.to_string(),
        )
    })?;
    let message: CarrierMessage = parse_json(&body)?.value;
    if message.event_id.trim().is_empty() || message.event_id.len() > 200 {
        return Err(Problem::invalid_field(
            "event_id",
            "an event id is 1 to 200 characters",
        ));
    }
    let status = carrier.status_for(&message.status).ok_or_else(|| {
        Problem::invalid_field(
            "status",
            format!("'{}' is not a status {carrier} sends", message.status),
        )
    })?;

    let Some(claim) = state.store.find_tracking(&message.tracking_number).await? else {
        tracing::warn!(%carrier, tracking_number = %message.tracking_number, "a carrier message for an unknown tracking number");
        return Ok(accepted(Outcome::UnknownTrackingNumber));
    };
    let command = OrderCommand::ApplyCarrierMessage(CarrierUpdate {
        shipment_id: claim.shipment_id.clone(),
        carrier,
        event_id: message.event_id.clone(),
        status,
        occurred_at: message.occurred_at.unwrap_or_else(|| state.clock.now()),
        location: message.location,
    });
    let actor = Actor::Carrier { carrier };
    match state.change_order(&claim.order_id, &actor, &command).await {
        Ok(_) => Ok(accepted(Outcome::Applied)),
        Err(ChangeError::Refused(OrderError::DuplicateCarrierMessage)) => {
            Ok(accepted(Outcome::Duplicate))
        }
        Err(ChangeError::Refused(OrderError::LateCarrierMessage { from, to })) => {
            tracing::info!(%carrier, %from, %to, event_id = %message.event_id, "ignored a late carrier message");
            Ok(accepted(Outcome::Stale))
        }
        // A parcel whose history is full takes no more steps; acknowledged
        // and logged, like a late message.
        Err(ChangeError::Refused(OrderError::Shipment(ShipmentError::TooManySteps))) => {
            tracing::warn!(%carrier, event_id = %message.event_id, "ignored a carrier message: the parcel's history is full");
            Ok(accepted(Outcome::Stale))
        }
        // The number points at another carrier's parcel, at a parcel that
        // is gone, or at an order that is: nothing of ours to move.
        Err(
            ChangeError::NotFound
            | ChangeError::Refused(OrderError::WrongCarrier | OrderError::Shipment(_)),
        ) => {
            tracing::warn!(%carrier, tracking_number = %message.tracking_number, "the tracking number names no parcel of this carrier");
            Ok(accepted(Outcome::UnknownTrackingNumber))
        }
        // A closed order takes no more news; acknowledged, so the carrier
        // stops sending it.
        Err(ChangeError::Refused(OrderError::Closed { status })) => {
            tracing::info!(%carrier, %status, event_id = %message.event_id, "a carrier message for a closed order");
            Ok(accepted(Outcome::Stale))
        }
        // Anything else (the store unavailable) is not a success, so the
        // carrier delivers the message again later.
        Err(other) => Err(other.into()),
    }
}
