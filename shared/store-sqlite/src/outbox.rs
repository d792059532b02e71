//! The outbox: committed events until the bus has them.

use async_trait::async_trait;
use kontor_domain::events::Event;
use kontor_domain::EventId;
use kontor_platform::store::{Outbox, StoreError};
use rusqlite::params;
use time::OffsetDateTime;

use crate::{from_json, internal, unix, CachedStatements, SqliteStore};

#[async_trait]
impl Outbox for SqliteStore {
    async fn pending_events(&self, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.run(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT event FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?1",
                )
                .map_err(internal)?;
            let rows = statement
                .query_map(params![limit as i64], |row| row.get::<_, String>(0))
                .map_err(internal)?;
            let mut events = Vec::new();
            for row in rows {
                events.push(from_json(&row.map_err(internal)?)?);
            }
            Ok(events)
        })
        .await
    }

    async fn mark_published(&self, ids: &[EventId]) -> Result<(), StoreError> {
        let ids: Vec<String> = ids.iter().map(|id| id.as_str().to_string()).collect();
        self.run(move |connection| {
            let now = unix(OffsetDateTime::now_utc());
            let tx = connection.transaction().map_err(internal)?;
            for id in &ids {
                tx.execute_cached(
                    "UPDATE outbox SET published_at = ?1 WHERE event_id = ?2",
                    params![now, id],
                )
                .map_err(internal)?;
            }
            tx.commit().map_err(internal)
        })
        .await
    }
}
