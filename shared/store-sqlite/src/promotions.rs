//! What promotions count: each mailbox's orders and each discount's uses.
//! The checkout's commit moves both on, within their conditions, in the
//! order's own transaction ([`count_order`]).

use async_trait::async_trait;
use kontor_domain::discount::Uses;
use kontor_domain::order::DiscountUse;
use kontor_domain::rules::Handle;
use kontor_platform::store::{MailboxOrder, PromotionStore, StoreError};
use rusqlite::{params, Connection, OptionalExtension};

use crate::{internal, CachedStatements, SqliteStore};

#[async_trait]
impl PromotionStore for SqliteStore {
    async fn discount_uses(
        &self,
        discounts: &[Handle],
        customer_key: Option<&str>,
    ) -> Result<Vec<(Handle, Uses)>, StoreError> {
        let discounts = discounts.to_vec();
        let customer_key = customer_key.map(str::to_string);
        self.run(move |connection| {
            let mut found = Vec::new();
            for discount in discounts {
                let total = uses(connection, discount.as_str(), "")?;
                let by_customer = match &customer_key {
                    Some(key) => Some(uses(connection, discount.as_str(), key)?),
                    None => None,
                };
                if total > 0 || by_customer.is_some_and(|n| n > 0) {
                    found.push((discount, Uses { total, by_customer }));
                }
            }
            Ok(found)
        })
        .await
    }

    async fn mailbox_orders(&self, mailbox: &str) -> Result<u32, StoreError> {
        let mailbox = mailbox.to_string();
        self.run(move |connection| read_mailbox_orders(connection, &mailbox))
            .await
    }
}

fn uses(connection: &Connection, discount: &str, customer: &str) -> Result<u32, StoreError> {
    let found: Option<i64> = connection
        .query_row_cached(
            "SELECT uses FROM discount_uses WHERE discount = ?1 AND customer = ?2",
            params![discount, customer],
            |row| row.get(0),
        )
        .optional()
        .map_err(internal)?;
    Ok(found.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
}

pub(crate) fn read_mailbox_orders(
    connection: &Connection,
    mailbox: &str,
) -> Result<u32, StoreError> {
    let found: Option<i64> = connection
        .query_row_cached(
            "SELECT orders FROM mailbox_orders WHERE mailbox = ?1",
            params![mailbox],
            |row| row.get(0),
        )
        .optional()
        .map_err(internal)?;
    Ok(found.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
}

/// Counts a placed order: its mailbox's orders (held at the count the
/// checkout read when a discount relied on it) and each discount's uses
/// (within their limits).
pub(crate) fn count_order(
    tx: &rusqlite::Connection,
    mailbox: Option<&MailboxOrder>,
    discount_uses: &[DiscountUse],
) -> Result<(), StoreError> {
    if let Some(mailbox) = mailbox {
        let now = read_mailbox_orders(tx, &mailbox.mailbox)?;
        if mailbox.hold && now != mailbox.seen {
            return Err(StoreError::StaleVersion {
                entity: "mailbox's order count",
                expected: mailbox.seen.into(),
            });
        }
        tx.execute_cached(
            "INSERT INTO mailbox_orders (mailbox, orders) VALUES (?1, 1)
             ON CONFLICT (mailbox) DO UPDATE SET orders = orders + 1",
            params![mailbox.mailbox],
        )
        .map_err(internal)?;
    }
    for used in discount_uses {
        let discount = used.discount.as_str();
        let counters = [
            ("", used.usage_limit, false),
            (used.customer_key.as_str(), used.per_customer_limit, true),
        ];
        for (customer, limit, per_customer) in counters {
            // Uses per customer are counted only where a limit needs them.
            if per_customer && limit.is_none() {
                continue;
            }
            if limit.is_some_and(|limit| uses(tx, discount, customer).is_ok_and(|n| n >= limit)) {
                return Err(StoreError::DiscountUsedUp {
                    discount: discount.to_string(),
                    per_customer,
                });
            }
            tx.execute_cached(
                "INSERT INTO discount_uses (discount, customer, uses) VALUES (?1, ?2, 1)
                 ON CONFLICT (discount, customer) DO UPDATE SET uses = uses + 1",
                params![discount, customer],
            )
            .map_err(internal)?;
        }
    }
    Ok(())
}
