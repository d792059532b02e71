//! The event consumer port. In AWS, EventBridge rules deliver events to a
//! consumer's Lambda; locally the in-process bus calls the same consumer.
//! Delivery is at least once, so every consumer must be idempotent on the
//! event id (the store's `record_processed` helps with that).

use async_trait::async_trait;
use kontor_domain::events::Event;

#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// Worth another delivery: a dependency was unavailable.
    #[error("temporarily unable to handle the event: {0}")]
    Retryable(String),
    /// Another delivery would fail the same way.
    #[error("cannot handle the event: {0}")]
    Permanent(String),
}

#[async_trait]
pub trait EventConsumer: Send + Sync {
    /// A stable name; used as the idempotency scope and in logs.
    fn name(&self) -> &'static str;
    /// The event types this consumer subscribes to (the infra rules' filter).
    fn subscribes_to(&self) -> &'static [&'static str];
    async fn handle(&self, event: &Event) -> Result<(), ConsumeError>;
}
