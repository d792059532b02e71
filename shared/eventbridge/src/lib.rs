//! The event publisher on Amazon EventBridge.
//!
//! Each event becomes one `PutEvents` entry on the bus (`KONTOR_EVENT_BUS`,
//! default `kontor`): source `kontor.orders`, detail-type the event's name,
//! detail the event's JSON (its schema is in `events/`). EventBridge may take
//! some entries of a call and refuse others; the refused ones are handed back
//! so the caller can retry exactly those.

use async_trait::async_trait;
use aws_sdk_eventbridge::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;
use kontor_aws_errors::{classify, AwsFailure, HttpResponse};
use kontor_domain::events::Event;
use kontor_domain::EventId;
use kontor_platform::{EventPublisher, PublishError, MAX_PUBLISH_BATCH};

/// The source every Kontor event carries on the bus; rules filter on it.
pub const SOURCE: &str = "kontor.orders";

#[derive(Clone)]
pub struct EventBridgePublisher {
    client: Client,
    bus: String,
}

impl EventBridgePublisher {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }

    /// A publisher on the bus named by `KONTOR_EVENT_BUS` (default `kontor`),
    /// with the SDK configured from the environment.
    pub async fn from_env() -> Self {
        let config = aws_config::load_from_env().await;
        let bus = std::env::var("KONTOR_EVENT_BUS").unwrap_or_else(|_| "kontor".into());
        Self::new(Client::new(&config), bus)
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[Event]) -> Result<Vec<EventId>, PublishError> {
        if events.len() > MAX_PUBLISH_BATCH {
            return Err(PublishError::Rejected(format!(
                "{} events exceed PutEvents' limit of {MAX_PUBLISH_BATCH}",
                events.len()
            )));
        }
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut entries = Vec::with_capacity(events.len());
        for event in events {
            let detail =
                serde_json::to_string(event).map_err(|e| PublishError::Rejected(e.to_string()))?;
            entries.push(
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(SOURCE)
                    .detail_type(event.name())
                    .detail(detail)
                    .build(),
            );
        }
        let output = self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(publish_error)?;
        // Result entries come back in the order of the request's entries.
        let failed: Vec<EventId> = output
            .entries()
            .iter()
            .zip(events)
            .filter(|(result, _)| result.error_code().is_some())
            .map(|(result, event)| {
                tracing::warn!(event_id = %event.event_id, code = ?result.error_code(), message = ?result.error_message(), "EventBridge refused an entry");
                event.event_id.clone()
            })
            .collect();
        if output.failed_entry_count() > 0 && failed.is_empty() {
            // The counts disagree with the entries: treat the whole call as failed.
            return Ok(events.iter().map(|e| e.event_id.clone()).collect());
        }
        Ok(failed)
    }
}

fn publish_error<E>(error: SdkError<E, HttpResponse>) -> PublishError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match classify(&error, &[]) {
        AwsFailure::Retryable(message) => PublishError::Unavailable(message),
        AwsFailure::Refused(message) => PublishError::Rejected(message),
    }
}
