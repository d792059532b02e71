//! Placed orders: read whole, found for lists, changed by commits.

use async_trait::async_trait;
use kontor_domain::command::Effect;
use kontor_domain::order::{Order, OrderLookup};
use kontor_domain::shipment::TrackingNumber;
use kontor_domain::{CustomerId, OrderId};
use kontor_platform::store::{
    IdempotencyRecord, OrderCommit, OrderCursor, OrderSearch, OrderStore, StoreError, TrackingClaim,
};
use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

use crate::{
    awaiting_payment_since, insert_events, internal, is_unique_violation, read_order_doc,
    read_orders, take_stock, to_json, unix, write_customer, CachedStatements, SqliteStore,
};

#[async_trait]
impl OrderStore for SqliteStore {
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let id = id.clone();
        self.run(move |connection| {
            let doc: Option<String> = connection
                .query_row_cached(
                    "SELECT doc FROM orders WHERE id = ?1",
                    params![id.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(internal)?;
            doc.as_deref().map(read_order_doc).transpose()
        })
        .await
    }

    async fn commit_order(&self, commit: &OrderCommit) -> Result<(), StoreError> {
        let moves_stock = commit
            .effects
            .iter()
            .any(|effect| matches!(effect, Effect::TakeStock(_) | Effect::ReturnStock(_)));
        // With the commits waiting at the same moment, in one transaction.
        let committed = self.writer.commit(commit.clone()).await;
        if moves_stock {
            self.catalog_changed();
        }
        committed
    }

    async fn unpaid_orders(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<OrderId>, StoreError> {
        self.run(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT id FROM orders WHERE awaiting_payment_since < ?1
                     ORDER BY awaiting_payment_since, id LIMIT ?2",
                )
                .map_err(internal)?;
            let rows = statement
                .query_map(params![unix(before), limit as i64], |row| {
                    row.get::<_, String>(0)
                })
                .map_err(internal)?;
            let mut ids = Vec::new();
            for row in rows {
                ids.push(
                    OrderId::parse(&row.map_err(internal)?)
                        .map_err(|e| StoreError::Internal(e.to_string()))?,
                );
            }
            Ok(ids)
        })
        .await
    }

    async fn find_tracking(
        &self,
        number: &TrackingNumber,
    ) -> Result<Option<TrackingClaim>, StoreError> {
        let number = number.clone();
        self.run(move |connection| {
            let found: Option<(String, String)> = connection
                .query_row_cached(
                    "SELECT order_id, shipment_id FROM tracking WHERE number = ?1",
                    params![number.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(internal)?;
            found
                .map(|(order_id, shipment_id)| {
                    Ok(TrackingClaim {
                        number: number.clone(),
                        order_id: OrderId::parse(&order_id)
                            .map_err(|e| StoreError::Internal(e.to_string()))?,
                        shipment_id,
                    })
                })
                .transpose()
        })
        .await
    }

    async fn customer_orders(
        &self,
        id: &CustomerId,
        after: Option<&OrderCursor>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let id = id.as_str().to_string();
        let (after_time, after_id) = cursor_params(after);
        self.run(move |connection| {
            read_orders(
                connection,
                &format!(
                    "SELECT doc FROM orders WHERE customer_id = ?1 AND {} \
                     ORDER BY created_at DESC, id DESC LIMIT ?4",
                    after_cursor(2)
                ),
                params![id, after_time, after_id, limit as i64],
            )
        })
        .await
    }

    async fn credit_notes_issued(&self) -> Result<u64, StoreError> {
        self.run(|connection| {
            let value: Option<i64> = connection
                .query_row_cached(
                    "SELECT value FROM counters WHERE name = 'credit-note'",
                    [],
                    |row| row.get(0),
                )
                .optional()
                .map_err(internal)?;
            Ok(value.map_or(0, |v| v.max(0) as u64))
        })
        .await
    }

    async fn search_orders(&self, search: &OrderSearch) -> Result<Vec<Order>, StoreError> {
        let search = search.clone();
        self.run(move |connection| {
            let lookup = OrderLookup::parse(search.text.as_deref());
            let (after_time, after_id) = cursor_params(search.after.as_ref());
            let candidates = match &lookup {
                // A number or a tracking number names one order: one page.
                OrderLookup::Number(_) | OrderLookup::Tracking(_) if search.after.is_some() => {
                    Vec::new()
                }
                OrderLookup::Number(number) => read_orders(
                    connection,
                    "SELECT doc FROM orders WHERE number = ?1",
                    params![number.as_str()],
                )?,
                OrderLookup::Email(email) => read_orders(
                    connection,
                    &format!(
                        "SELECT doc FROM orders WHERE email = ?1 AND {} \
                         ORDER BY created_at DESC, id DESC",
                        after_cursor(2)
                    ),
                    params![email.normalized(), after_time, after_id],
                )?,
                OrderLookup::Tracking(number) => read_orders(
                    connection,
                    "SELECT doc FROM orders WHERE id IN (SELECT order_id FROM tracking WHERE number = ?1)",
                    params![number.as_str()],
                )?,
                // The documents hold the names; a LIKE narrows the rows and
                // the domain decides, so both stores match names alike.
                // (SQLite's lower() folds ASCII only, so other words are
                // left to the domain alone.)
                OrderLookup::Name(words) if words[0].is_ascii() => read_orders(
                    connection,
                    &format!(
                        "SELECT doc FROM orders WHERE lower(doc) LIKE ?1 AND {} \
                         ORDER BY created_at DESC, id DESC",
                        after_cursor(2)
                    ),
                    params![format!("%{}%", words[0]), after_time, after_id],
                )?,
                OrderLookup::Name(_) | OrderLookup::All => read_orders(
                    connection,
                    &format!(
                        "SELECT doc FROM orders WHERE {} ORDER BY created_at DESC, id DESC",
                        after_cursor(1)
                    ),
                    params![after_time, after_id],
                )?,
            };
            Ok(candidates
                .into_iter()
                .filter(|order| lookup.matches(order) && search.filter.matches(order))
                .take(search.limit)
                .collect())
        })
        .await
    }
}

/// The rows listed after a cursor whose time is parameter `time` and id
/// parameter `time + 1` (both null from the start), in the order lists
/// sort by: seconds, then id.
fn after_cursor(time: usize) -> String {
    let id = time + 1;
    format!("(?{time} IS NULL OR created_at < ?{time} OR (created_at = ?{time} AND id < ?{id}))")
}

/// A cursor as [`after_cursor`]'s parameters, at the precision the
/// `created_at` column holds.
fn cursor_params(after: Option<&OrderCursor>) -> (Option<i64>, Option<String>) {
    after.map_or((None, None), |cursor| {
        (Some(unix(cursor.created_at)), Some(cursor.id.to_string()))
    })
}

/// Everything one commit writes, inside the transaction (a savepoint of
/// it: `crate::group`) it shares with the commits that came with it.
pub(crate) fn write_commit(
    tx: &rusqlite::Connection,
    commit: &OrderCommit,
) -> Result<(), StoreError> {
    if let Some(record) = &commit.idempotency {
        insert_idempotency(tx, record)?;
    }
    if commit.is_new_order() {
        insert_order(tx, &commit.order)?;
    } else {
        update_order(tx, &commit.order, commit.expected_version)?;
    }
    for effect in &commit.effects {
        apply_effect(tx, &commit.order, effect)?;
    }
    if let Some(customer) = &commit.customer {
        write_customer(tx, customer)?;
    }
    crate::promotions::count_order(tx, commit.mailbox_order.as_ref(), &commit.discount_uses)?;
    insert_events(tx, &commit.events)
}

/// One effect of an order's decision, inside the order's transaction.
fn apply_effect(
    tx: &rusqlite::Connection,
    order: &Order,
    effect: &Effect,
) -> Result<(), StoreError> {
    match effect {
        Effect::TakeStock(take) => take_stock(tx, std::slice::from_ref(take)),
        Effect::ReturnStock(units) => {
            tx.execute_cached(
                "UPDATE products SET stock = stock + ?1, version = version + 1 WHERE sku = ?2",
                params![units.quantity, units.sku.as_str()],
            )
            .map_err(internal)?;
            Ok(())
        }
        Effect::ClaimTracking {
            number,
            shipment_id,
        } => {
            tx.execute_cached(
                "INSERT INTO tracking (number, order_id, shipment_id) VALUES (?1, ?2, ?3)",
                params![number.as_str(), order.id.as_str(), shipment_id],
            )
            .map_err(|e| {
                if is_unique_violation(&e, "tracking.number") {
                    StoreError::TrackingNumberTaken(number.clone())
                } else {
                    internal(e)
                }
            })?;
            Ok(())
        }
        // Only this order's claim: a number another order claimed since
        // stays theirs.
        Effect::ReleaseTracking { number } => {
            tx.execute_cached(
                "DELETE FROM tracking WHERE number = ?1 AND order_id = ?2",
                params![number.as_str(), order.id.as_str()],
            )
            .map_err(internal)?;
            Ok(())
        }
        // The documents hold the names, which search reads: nothing to
        // keep beside them.
        Effect::RenameOrder { .. } => Ok(()),
        // Gap-free: the counter moves by one from the number before.
        Effect::ClaimCreditNote { number } => {
            let changed = if *number <= 1 {
                tx.execute_cached(
                    "INSERT INTO counters (name, value) VALUES ('credit-note', ?1) ON CONFLICT (name) DO NOTHING",
                    params![*number as i64],
                )
            } else {
                tx.execute_cached(
                    "UPDATE counters SET value = ?1 WHERE name = 'credit-note' AND value = ?2",
                    params![*number as i64, (*number - 1) as i64],
                )
            }
            .map_err(internal)?;
            if changed == 0 {
                return Err(StoreError::StaleVersion {
                    entity: "credit note",
                    expected: number.saturating_sub(1),
                });
            }
            Ok(())
        }
    }
}

/// The first answer under an idempotency key, unless the key is taken.
fn insert_idempotency(
    tx: &rusqlite::Connection,
    record: &IdempotencyRecord,
) -> Result<(), StoreError> {
    let inserted = tx
        .execute_cached(
            "INSERT INTO idempotency (key, request_hash, status, body, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) DO NOTHING",
            params![
                record.key,
                record.request_hash,
                record.status,
                record.body,
                unix(record.created_at)
            ],
        )
        .map_err(internal)?;
    if inserted == 0 {
        return Err(StoreError::IdempotencyKeyTaken);
    }
    Ok(())
}

/// A new order, unless its id or its number is taken.
fn insert_order(tx: &rusqlite::Connection, order: &Order) -> Result<(), StoreError> {
    tx.execute_cached(
        "INSERT INTO orders (id, number, email, customer_id, created_at, version, doc, awaiting_payment_since)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            order.id.as_str(),
            order.number.as_str(),
            order.email.normalized(),
            order.customer_id.as_ref().map(|c| c.as_str()),
            unix(order.created_at),
            order.version,
            to_json(order)?,
            awaiting_payment_since(order)
        ],
    )
    .map_err(|e| {
        if is_unique_violation(&e, "orders.number") {
            StoreError::OrderNumberTaken
        } else if is_unique_violation(&e, "orders.id") {
            StoreError::AlreadyExists { entity: "order" }
        } else {
            internal(e)
        }
    })?;
    Ok(())
}

/// The changed order, if the stored one is still at `expected`.
fn update_order(tx: &rusqlite::Connection, order: &Order, expected: u64) -> Result<(), StoreError> {
    let changed = tx
        .execute_cached(
            "UPDATE orders SET email = ?2, customer_id = ?3, version = ?4, doc = ?5,
                 awaiting_payment_since = ?7
             WHERE id = ?1 AND version = ?6",
            params![
                order.id.as_str(),
                order.email.normalized(),
                order.customer_id.as_ref().map(|c| c.as_str()),
                order.version,
                to_json(order)?,
                expected,
                awaiting_payment_since(order)
            ],
        )
        .map_err(internal)?;
    if changed == 0 {
        return Err(StoreError::StaleVersion {
            entity: "order",
            expected,
        });
    }
    Ok(())
}
