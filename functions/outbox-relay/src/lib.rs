//! The outbox relay: puts committed events on EventBridge.
//!
//! The table's stream delivers every new outbox row (an `INSERT` whose key
//! starts with `OUTBOX#`); the relay publishes their events in batches of at
//! most 10, retries the entries EventBridge refused, and marks published
//! what went out. An event that still cannot be published is reported as a
//! batch item failure (the stream mapping has `ReportBatchItemFailures`), so
//! Lambda delivers the stream again from that record: nothing is dropped.
//! Records after it may be published twice; consumers apply each event id
//! once.
//!
//! When the stream gives a batch up (its retries and record age spent),
//! its rows stay pending: [`sweep`], run on a schedule, publishes every row
//! still pending a while after it was written, the same way.

use std::time::Duration;

use kontor_domain::events::Event;
use kontor_platform::{EventPublisher, Outbox, MAX_PUBLISH_BATCH};
use serde::{Deserialize, Serialize};

/// How often a refused entry is tried again within one invocation.
const ATTEMPTS: u32 = 3;

/// The parts of a DynamoDB stream event the relay reads.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StreamRecord {
    #[serde(rename = "eventName")]
    pub event_name: String,
    pub dynamodb: StreamChange,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StreamChange {
    #[serde(rename = "SequenceNumber")]
    pub sequence_number: String,
    #[serde(rename = "NewImage", default)]
    pub new_image: serde_json::Map<String, serde_json::Value>,
}

/// The answer Lambda reads to know where to resume the stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<BatchItemFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct BatchItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("outbox row {sequence} holds no readable event: {reason}")]
    Unreadable { sequence: String, reason: String },
}

/// A string attribute of a stream image (`{"S": "…"}`).
fn text<'a>(image: &'a serde_json::Map<String, serde_json::Value>, name: &str) -> Option<&'a str> {
    image.get(name)?.get("S")?.as_str()
}

/// The events of the outbox rows that the stream inserted, with their
/// sequence numbers, in stream order.
pub fn outbox_events(stream: &StreamEvent) -> Vec<(String, Result<Event, RecordError>)> {
    stream
        .records
        .iter()
        .filter(|r| r.event_name == "INSERT")
        .filter(|r| text(&r.dynamodb.new_image, "PK").is_some_and(|pk| pk.starts_with("OUTBOX#")))
        .map(|r| {
            let sequence = r.dynamodb.sequence_number.clone();
            let event = text(&r.dynamodb.new_image, "event")
                .ok_or_else(|| "no event attribute".to_string())
                .and_then(|json| serde_json::from_str::<Event>(json).map_err(|e| e.to_string()))
                .map_err(|reason| RecordError::Unreadable {
                    sequence: sequence.clone(),
                    reason,
                });
            (sequence, event)
        })
        .collect()
}

/// Relays one stream batch; returns where the stream must resume, if anywhere.
pub async fn relay(
    stream: &StreamEvent,
    publisher: &dyn EventPublisher,
    store: &dyn Outbox,
) -> BatchResponse {
    let records = outbox_events(stream);
    let mut readable: Vec<(String, Event)> = Vec::with_capacity(records.len());
    for (sequence, event) in records {
        match event {
            Ok(event) => readable.push((sequence, event)),
            // A row no code can read will not become readable by retrying:
            // log it loudly (it stays in the table) and go on.
            Err(error) => tracing::error!(%error, "skipping an unreadable outbox row"),
        }
    }

    for batch in readable.chunks(MAX_PUBLISH_BATCH) {
        let events: Vec<Event> = batch.iter().map(|(_, e)| e.clone()).collect();
        let unpublished = publish_batch(events, publisher, store).await;
        if let Some(first) = unpublished.first() {
            let sequence = batch
                .iter()
                .find(|(_, e)| e.event_id == first.event_id)
                .map(|(s, _)| s.clone())
                .unwrap_or_default();
            tracing::error!(event_id = %first.event_id, %sequence, "event not published; the stream will deliver it again");
            return BatchResponse {
                batch_item_failures: vec![BatchItemFailure {
                    item_identifier: sequence,
                }],
            };
        }
    }
    BatchResponse::default()
}

/// Publishes `events` (at most [`MAX_PUBLISH_BATCH`]), tries the entries
/// EventBridge refused again a few times, and marks published what went
/// out; answers the events still unpublished, in their order.
async fn publish_batch(
    events: Vec<Event>,
    publisher: &dyn EventPublisher,
    store: &dyn Outbox,
) -> Vec<Event> {
    let mut pending = events;
    for attempt in 1..=ATTEMPTS {
        let failed = match publisher.publish(&pending).await {
            Ok(failed) => failed,
            Err(error) => {
                tracing::warn!(%error, attempt, "publishing failed");
                pending.iter().map(|e| e.event_id.clone()).collect()
            }
        };
        let published: Vec<_> = pending
            .iter()
            .filter(|e| !failed.contains(&e.event_id))
            .map(|e| e.event_id.clone())
            .collect();
        if !published.is_empty() {
            // The events are out; failing to note it only means the
            // sweeper offers them again.
            if let Err(error) = store.mark_published(&published).await {
                tracing::warn!(%error, "could not mark events published");
            }
            tracing::info!(count = published.len(), "events published");
        }
        pending.retain(|e| failed.contains(&e.event_id));
        if pending.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
    }
    pending
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub published: usize,
    /// Rows old enough that still could not be published.
    pub left: usize,
}

/// Publishes the outbox rows still pending `grace` after their event
/// happened (the stream relay had its chance; a batch it gave up stays
/// pending), oldest first, at most `limit`. Rows younger than `grace` are
/// left to the stream.
pub async fn sweep(
    publisher: &dyn EventPublisher,
    store: &dyn Outbox,
    now: time::OffsetDateTime,
    grace: time::Duration,
    limit: usize,
) -> Result<Swept, kontor_platform::StoreError> {
    let due: Vec<Event> = store
        .pending_events(limit)
        .await?
        .into_iter()
        .filter(|event| event.occurred_at + grace <= now)
        .collect();
    let mut swept = Swept::default();
    for batch in due.chunks(MAX_PUBLISH_BATCH) {
        let left = publish_batch(batch.to_vec(), publisher, store).await.len();
        swept.published += batch.len() - left;
        swept.left += left;
    }
    if swept.published > 0 || swept.left > 0 {
        tracing::warn!(
            published = swept.published,
            left = swept.left,
            "swept outbox rows the stream had not published"
        );
    }
    Ok(swept)
}
