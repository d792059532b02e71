//! The event publisher port: puts committed events on the bus (EventBridge
//! in AWS). The outbox relay is its only caller.

use async_trait::async_trait;
use kontor_domain::events::Event;
use kontor_domain::EventId;

/// The most events one publish call takes (EventBridge's `PutEvents` limit).
pub const MAX_PUBLISH_BATCH: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The call failed as a whole (throttled, unreachable): retry it.
    #[error("the event bus is unavailable: {0}")]
    Unavailable(String),
    /// The call was malformed: a bug.
    #[error("the event bus refused the request: {0}")]
    Rejected(String),
}

#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes up to [`MAX_PUBLISH_BATCH`] events and returns the ids of
    /// those the bus did not take (it may take some and refuse others).
    async fn publish(&self, events: &[Event]) -> Result<Vec<EventId>, PublishError>;
}
