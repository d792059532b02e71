//! Tracking services' webhooks: AfterShip and Sendcloud post carriers'
//! news in their own payloads, each signed its own way under its own
//! secret, and each message has its own identity that Kontor applies once.
//!
//! The payloads follow the services' documentation: AfterShip's "Webhook
//! specifications" (`event`, `event_id`, `ts`, `msg` with `tracking_number`,
//! `tag`, `subtag`, `checkpoints`) and Sendcloud's `parcel_status_changed`
//! webhook (`action`, `timestamp` in milliseconds, `parcel` with `id`,
//! `tracking_number`, `status.id` and `status.message`). Fields Kontor does
//! not need are ignored, so the services may add more.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use kontor_domain::carrier::{aftership_status, sendcloud_status, TrackingService};
use kontor_domain::command::MessageSource;
use kontor_domain::shipment::TrackingNumber;
use kontor_http::extract::parse_json;
use kontor_http::{AppState, Problem};
use kontor_platform::webhooks::{self, Sender, SignatureError};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::{accepted, apply, checked_event_id, News, Outcome, WebhookAnswer};

/// AfterShip's webhook body (the fields Kontor reads).
#[derive(Debug, Deserialize, ToSchema)]
pub struct AfterShipWebhook {
    /// `tracking_update` is news of a parcel; other events are ignored.
    pub event: String,
    /// AfterShip's id for this delivery; each is applied once.
    pub event_id: String,
    /// When it happened, in Unix seconds.
    pub ts: Option<i64>,
    pub msg: AfterShipTracking,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AfterShipTracking {
    pub tracking_number: String,
    /// `InfoReceived`, `InTransit`, `OutForDelivery`, `AvailableForPickup`,
    /// `AttemptFail`, `Delivered`, `Exception`, `Expired` or `Pending`.
    pub tag: String,
    /// The detail, such as `Exception_011` (returned to sender).
    pub subtag: Option<String>,
    pub subtag_message: Option<String>,
    /// The carrier's scans, oldest first; the last one says where.
    #[serde(default)]
    pub checkpoints: Vec<AfterShipCheckpoint>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AfterShipCheckpoint {
    pub location: Option<String>,
    pub city: Option<String>,
}

/// Sendcloud's webhook body (the fields Kontor reads).
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendcloudWebhook {
    /// `parcel_status_changed` is news of a parcel; other actions are
    /// ignored.
    pub action: String,
    /// When Sendcloud sent it, in Unix milliseconds.
    pub timestamp: Option<i64>,
    /// When the carrier's status changed, in Unix milliseconds.
    pub carrier_status_change_timestamp: Option<i64>,
    pub parcel: Option<SendcloudParcel>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SendcloudParcel {
    pub id: i64,
    pub tracking_number: Option<String>,
    pub status: SendcloudStatus,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SendcloudStatus {
    pub id: i64,
    pub message: Option<String>,
}

/// Checks a service's signature of the raw body under its secret.
fn verify(
    state: &AppState,
    service: TrackingService,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(), Problem> {
    let header = headers
        .get(webhooks::service_signature_header(service))
        .and_then(|v| v.to_str().ok());
    let secret = state
        .settings
        .webhook_secrets
        .for_sender(Sender::Service(service));
    webhooks::verify_body(service, header, secret, body).map_err(|error| {
        let name = webhooks::service_signature_header(service);
        // The carriers' words name Kontor's own header; a service has its own.
        let detail = match error {
            SignatureError::Missing => format!("the request has no {name} header"),
            SignatureError::Malformed => format!("the {name} header is not a signature"),
            _ => error.to_string(),
        };
        tracing::warn!(%service, %error, "refused a webhook");
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "bad-signature",
            "Bad signature",
            detail,
        )
    })
}

/// A number as the service posts it; one that cannot be a tracking number
/// names no parcel of ours.
fn number(text: &str) -> Option<TrackingNumber> {
    TrackingNumber::parse(text).ok()
}

/// The time a service gives, if it is one.
fn at_unix(seconds: Option<i64>) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(seconds?).ok()
}

/// AfterShip's tracking update (signed with `aftership-hmac-sha256`).
#[utoipa::path(
    post,
    path = "/webhooks/aftership",
    tag = "shipments",
    params(
        ("aftership-hmac-sha256" = String, Header, description = "base64 HMAC-SHA256 of the raw body under the AfterShip webhook secret"),
    ),
    request_body = AfterShipWebhook,
    responses(
        (status = 200, body = WebhookAnswer, description = "Applied: the parcel moved on."),
        (status = 202, body = WebhookAnswer, description = "Acknowledged without a move: a repeat, a late message, an unknown tracking number, a status kept in the parcel's history, or an event that is not a tracking update."),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "The body is not JSON."),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "Unsigned or mis-signed."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A field is missing or invalid."),
    )
)]
pub(crate) async fn aftership_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<WebhookAnswer>), Problem> {
    let service = TrackingService::AfterShip;
    verify(&state, service, &headers, &body)?;
    let webhook: AfterShipWebhook = parse_json(&body)?.value;
    let event_id = checked_event_id(&webhook.event_id, "event_id")?;
    if webhook.event != "tracking_update" {
        return Ok(accepted(Outcome::Ignored));
    }
    let msg = webhook.msg;
    let Some(number) = number(&msg.tracking_number) else {
        return Ok(accepted(Outcome::UnknownTrackingNumber));
    };
    let status = aftership_status(&msg.tag, msg.subtag.as_deref());
    let words = [
        Some(msg.tag.as_str()),
        msg.subtag.as_deref(),
        msg.subtag_message.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let location = msg
        .checkpoints
        .last()
        .and_then(|c| c.location.clone().or_else(|| c.city.clone()));
    apply(
        &state,
        News {
            number,
            source: MessageSource::Service(service),
            event_id: format!("{}:{event_id}", service.code()),
            status,
            reported: status.is_none().then(|| format!("{service} {words}")),
            occurred_at: at_unix(webhook.ts),
            location,
        },
    )
    .await
}

/// Sendcloud's parcel status change (signed with `Sendcloud-Signature`).
#[utoipa::path(
    post,
    path = "/webhooks/sendcloud",
    tag = "shipments",
    params(
        ("Sendcloud-Signature" = String, Header, description = "hex HMAC-SHA256 of the raw body under the integration's secret key"),
    ),
    request_body = SendcloudWebhook,
    responses(
        (status = 200, body = WebhookAnswer, description = "Applied: the parcel moved on."),
        (status = 202, body = WebhookAnswer, description = "Acknowledged without a move: a repeat, a late message, an unknown tracking number, a status kept in the parcel's history, or an action that is not a status change."),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "The body is not JSON."),
        (status = 401, body = Problem, content_type = "application/problem+json", description = "Unsigned or mis-signed."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A field is missing or invalid."),
    )
)]
pub(crate) async fn sendcloud_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<WebhookAnswer>), Problem> {
    let service = TrackingService::Sendcloud;
    verify(&state, service, &headers, &body)?;
    let webhook: SendcloudWebhook = parse_json(&body)?.value;
    if webhook.action != "parcel_status_changed" {
        return Ok(accepted(Outcome::Ignored));
    }
    let parcel = webhook
        .parcel
        .ok_or_else(|| Problem::invalid_field("parcel", "a status change names its parcel"))?;
    let Some(number) = parcel.tracking_number.as_deref().and_then(number) else {
        return Ok(accepted(Outcome::UnknownTrackingNumber));
    };
    // Sendcloud gives a delivery no id of its own: the parcel, its new
    // status and the moment it changed name one status change, and a
    // redelivery of it carries the same three.
    let changed_ms = webhook
        .carrier_status_change_timestamp
        .or(webhook.timestamp)
        .unwrap_or_default();
    let event_id = format!(
        "{}:{}:{}:{changed_ms}",
        service.code(),
        parcel.id,
        parcel.status.id
    );
    let status = sendcloud_status(parcel.status.id);
    let words = match parcel.status.message.as_deref() {
        Some(message) => format!("{service} {} · {message}", parcel.status.id),
        None => format!("{service} {}", parcel.status.id),
    };
    apply(
        &state,
        News {
            number,
            source: MessageSource::Service(service),
            event_id,
            status,
            reported: status.is_none().then_some(words),
            occurred_at: at_unix(Some(changed_ms.div_euclid(1000))).filter(|_| changed_ms != 0),
            location: None,
        },
    )
    .await
}
