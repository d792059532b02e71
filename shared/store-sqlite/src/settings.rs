//! Shop settings staff edit: one JSON document per name, versioned.

use async_trait::async_trait;
use kontor_platform::store::{SettingsStore, StoreError, StoredSetting};
use rusqlite::{params, OptionalExtension};

use crate::{from_json, internal, to_json, CachedStatements, SqliteStore};

/// The promotions document's name, which the checkout reads with its
/// products.
pub(crate) const PROMOTIONS: &str =
    <kontor_domain::promotions::PromotionsDocument as kontor_platform::settings::ShopSetting>::NAME;

/// A setting as last saved, with its version.
pub(crate) fn read_setting(
    connection: &rusqlite::Connection,
    name: &str,
) -> Result<Option<StoredSetting>, StoreError> {
    let found: Option<(String, i64)> = connection
        .query_row_cached(
            "SELECT doc, version FROM settings WHERE name = ?1",
            params![name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(internal)?;
    found
        .map(|(doc, version)| {
            Ok(StoredSetting {
                value: from_json(&doc)?,
                version: version as u64,
            })
        })
        .transpose()
}

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn get_setting(&self, name: &str) -> Result<Option<StoredSetting>, StoreError> {
        let name = name.to_string();
        self.run(move |connection| read_setting(connection, &name))
            .await
    }

    async fn put_setting(
        &self,
        name: &str,
        value: &serde_json::Value,
        expected_version: u64,
    ) -> Result<u64, StoreError> {
        let name = name.to_string();
        let doc = to_json(value)?;
        self.run(move |connection| {
            let next = expected_version + 1;
            let changed = if expected_version == 0 {
                connection
                    .execute_cached(
                        "INSERT INTO settings (name, doc, version) VALUES (?1, ?2, 1)
                         ON CONFLICT (name) DO NOTHING",
                        params![name, doc],
                    )
                    .map_err(internal)?
            } else {
                connection
                    .execute_cached(
                        "UPDATE settings SET doc = ?2, version = ?3 WHERE name = ?1 AND version = ?4",
                        params![name, doc, next, expected_version],
                    )
                    .map_err(internal)?
            };
            if changed == 0 {
                return Err(StoreError::StaleVersion {
                    entity: "setting",
                    expected: expected_version,
                });
            }
            Ok(next)
        })
        .await
    }
}
