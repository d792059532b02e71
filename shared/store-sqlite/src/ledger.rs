//! Which consumer handled which event, and which delivery is handling one
//! now: a row per consumer and event, with `claimed_until` while a delivery
//! holds it and NULL once it is handled.

use async_trait::async_trait;
use kontor_domain::EventId;
use kontor_platform::store::{Claim, ConsumerLedger, StoreError};
use rusqlite::{params, OptionalExtension};

use crate::{internal, CachedStatements, SqliteStore};

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
            // New, or a claim turned into a record: one changed row.
            let changed = connection
                .execute_cached(
                    "INSERT INTO processed_events (consumer, event_id, claimed_until) VALUES (?1, ?2, NULL)
                     ON CONFLICT (consumer, event_id) DO UPDATE SET claimed_until = NULL
                     WHERE processed_events.claimed_until IS NOT NULL",
                    params![consumer, event_id.as_str()],
                )
                .map_err(internal)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn has_processed(&self, consumer: &str, event_id: &EventId) -> Result<bool, StoreError> {
        let consumer = consumer.to_string();
        let event_id = event_id.clone();
        self.run(move |connection| {
            connection
                .query_row_cached(
                    "SELECT 1 FROM processed_events
                     WHERE consumer = ?1 AND event_id = ?2 AND claimed_until IS NULL",
                    params![consumer, event_id.as_str()],
                    |_| Ok(()),
                )
                .optional()
                .map(|found| found.is_some())
                .map_err(internal)
        })
        .await
    }

    async fn claim(
        &self,
        consumer: &str,
        event_id: &EventId,
        now_unix: i64,
        lease_seconds: i64,
    ) -> Result<Claim, StoreError> {
        let consumer = consumer.to_string();
        let event_id = event_id.clone();
        let until = now_unix.saturating_add(lease_seconds);
        self.run(move |connection| {
            // New, or a lapsed claim taken over: one changed row.
            let changed = connection
                .execute_cached(
                    "INSERT INTO processed_events (consumer, event_id, claimed_until) VALUES (?1, ?2, ?3)
                     ON CONFLICT (consumer, event_id) DO UPDATE SET claimed_until = excluded.claimed_until
                     WHERE processed_events.claimed_until IS NOT NULL AND processed_events.claimed_until <= ?4",
                    params![consumer, event_id.as_str(), until, now_unix],
                )
                .map_err(internal)?;
            if changed == 1 {
                return Ok(Claim::Claimed);
            }
            let held: Option<i64> = connection
                .query_row_cached(
                    "SELECT claimed_until FROM processed_events WHERE consumer = ?1 AND event_id = ?2",
                    params![consumer, event_id.as_str()],
                    |row| row.get(0),
                )
                .map_err(internal)?;
            Ok(if held.is_some() { Claim::Busy } else { Claim::Done })
        })
        .await
    }

    async fn advance(&self, consumer: &str, key: &str, version: u64) -> Result<bool, StoreError> {
        let consumer = consumer.to_string();
        let key = key.to_string();
        let version = i64::try_from(version).map_err(|_| {
            StoreError::Internal(format!("version {version} is past SQLite's integers"))
        })?;
        self.run(move |connection| {
            connection
                .execute_cached(
                    "INSERT INTO consumer_marks (consumer, key, version) VALUES (?1, ?2, ?3)
                     ON CONFLICT (consumer, key) DO UPDATE SET version = excluded.version
                     WHERE consumer_marks.version <= excluded.version",
                    params![consumer, key, version],
                )
                .map(|changed| changed == 1)
                .map_err(internal)
        })
        .await
    }

    async fn release(&self, consumer: &str, event_id: &EventId) -> Result<(), StoreError> {
        let consumer = consumer.to_string();
        let event_id = event_id.clone();
        self.run(move |connection| {
            connection
                .execute_cached(
                    "DELETE FROM processed_events
                     WHERE consumer = ?1 AND event_id = ?2 AND claimed_until IS NOT NULL",
                    params![consumer, event_id.as_str()],
                )
                .map(|_| ())
                .map_err(internal)
        })
        .await
    }
}
