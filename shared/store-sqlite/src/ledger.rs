//! Which consumer handled which event.

use async_trait::async_trait;
use kontor_domain::EventId;
use kontor_platform::store::{ConsumerLedger, StoreError};
use rusqlite::{params, OptionalExtension};

use crate::{internal, SqliteStore};

#[async_trait]
impl ConsumerLedger for SqliteStore {
    async fn record_processed(
        &self,
        consumer: &str,
        event_id: &EventId,
    ) -> Result<bool, StoreError> {
        let consumer = consumer.to_string();
        let event_id = event_id.clone();
        self.run(move |connection| {
            let inserted = connection
                .execute(
                    "INSERT INTO processed_events (consumer, event_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![consumer, event_id.as_str()],
                )
                .map_err(internal)?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn has_processed(&self, consumer: &str, event_id: &EventId) -> Result<bool, StoreError> {
        let consumer = consumer.to_string();
        let event_id = event_id.clone();
        self.run(move |connection| {
            connection
                .query_row(
                    "SELECT 1 FROM processed_events WHERE consumer = ?1 AND event_id = ?2",
                    params![consumer, event_id.as_str()],
                    |_| Ok(()),
                )
                .optional()
                .map(|found| found.is_some())
                .map_err(internal)
        })
        .await
    }
}
