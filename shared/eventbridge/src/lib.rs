//! The event publisher on Amazon EventBridge.
//!
//! Each event becomes one `PutEvents` entry on the bus (`KONTOR_EVENT_BUS`,
//! default `kontor`): source `kontor.orders`, detail-type the event's name,
//! detail the event's JSON (its schema is in `events/`). EventBridge may take
//! some entries of a call and refuse others; the refused ones are handed back
//! so the caller can retry exactly those. A call carries at most 10 entries
//! and 256 KiB, counted as EventBridge counts them; a batch over either is
//! sent in as many calls as it takes.

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

/// The most a `PutEvents` call may carry, summed over its entries.
pub const MAX_CALL_BYTES: usize = 256 * 1024;

/// An entry's size as EventBridge counts it against [`MAX_CALL_BYTES`]:
/// 14 bytes for the time, and the source, detail-type and detail in UTF-8.
pub fn entry_size(detail_type: &str, detail: &str) -> usize {
    14 + SOURCE.len() + detail_type.len() + detail.len()
}

/// Splits entries of `sizes` into consecutive calls of at most
/// [`MAX_PUBLISH_BATCH`] entries and [`MAX_CALL_BYTES`] each, in order. An
/// entry too large for any call goes alone (EventBridge then refuses it,
/// and it is reported like any refused entry).
pub fn calls(sizes: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut calls = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (index, size) in sizes.iter().enumerate() {
        let full = index - start == MAX_PUBLISH_BATCH || bytes + size > MAX_CALL_BYTES;
        if index > start && full {
            calls.push(start..index);
            start = index;
            bytes = 0;
        }
        bytes += size;
    }
    if start < sizes.len() {
        calls.push(start..sizes.len());
    }
    calls
}

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
        let config = kontor_aws_config::sdk_config().await;
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
        let mut sizes = Vec::with_capacity(events.len());
        for event in events {
            let detail =
                serde_json::to_string(event).map_err(|e| PublishError::Rejected(e.to_string()))?;
            sizes.push(entry_size(event.name(), &detail));
            entries.push(
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(SOURCE)
                    .detail_type(event.name())
                    .detail(detail)
                    .build(),
            );
        }
        let mut failed = Vec::new();
        for call in calls(&sizes) {
            let events = &events[call.clone()];
            let output = self
                .client
                .put_events()
                .set_entries(Some(entries[call].to_vec()))
                .send()
                .await
                .map_err(publish_error)?;
            // Result entries come back in the order of the request's entries.
            let refused: Vec<EventId> = output
                .entries()
                .iter()
                .zip(events)
                .filter(|(result, _)| result.error_code().is_some())
                .map(|(result, event)| {
                    tracing::warn!(event_id = %event.event_id, code = ?result.error_code(), message = ?result.error_message(), "EventBridge refused an entry");
                    event.event_id.clone()
                })
                .collect();
            if output.failed_entry_count() > 0 && refused.is_empty() {
                // The counts disagree with the entries: the whole call failed.
                failed.extend(events.iter().map(|e| e.event_id.clone()));
            } else {
                failed.extend(refused);
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn batches_split_by_count_and_by_bytes() {
        assert_eq!(calls(&[]), Vec::<std::ops::Range<usize>>::new());
        assert_eq!(calls(&[100; 10]), vec![0..10]);
        assert_eq!(calls(&[100; 11]), vec![0..10, 10..11]);
        let big = MAX_CALL_BYTES / 2;
        assert_eq!(calls(&[big, big, 1]), vec![0..2, 2..3]);
        assert_eq!(calls(&[big, big + 1, 10]), vec![0..1, 1..3]);
        // Too large for any call: alone.
        assert_eq!(calls(&[10, MAX_CALL_BYTES + 1, 10]), vec![0..1, 1..2, 2..3]);
    }

    proptest! {
        /// Every entry is in exactly one call, in order; no call holds more
        /// than ten entries or more bytes than allowed, unless it is one
        /// entry too large on its own.
        #[test]
        fn calls_cover_every_entry_within_the_limits(sizes in prop::collection::vec(1usize..120_000, 0..40)) {
            let calls = calls(&sizes);
            let mut next = 0;
            for call in &calls {
                prop_assert_eq!(call.start, next);
                prop_assert!(call.end > call.start);
                prop_assert!(call.len() <= MAX_PUBLISH_BATCH);
                let bytes: usize = sizes[call.clone()].iter().sum();
                prop_assert!(bytes <= MAX_CALL_BYTES || call.len() == 1);
                next = call.end;
            }
            prop_assert_eq!(next, sizes.len());
        }
    }
}
