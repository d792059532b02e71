//! The SQLite file's schema, migration by migration.
//!
//! `PRAGMA user_version` holds the number of the last migration that ran;
//! opening a file runs the ones after it, each in its own transaction.
//! A file from a newer build is refused rather than misread.

use rusqlite::{params, Connection, TransactionBehavior};

use kontor_platform::StoreError;

use crate::{awaiting_payment_since, internal, read_order_doc, to_json};

/// Migration 1: the schema as the first release created it (every
/// statement idempotent, since data folders of that release carry no
/// `user_version` yet).
const MIGRATION_1: &str = r#"
CREATE TABLE IF NOT EXISTS products (
    sku TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    stock INTEGER NOT NULL CHECK (stock >= 0),
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    customer_id TEXT,
    created_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_email ON orders (email, created_at);
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (customer_id, created_at);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    published_at INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (published_at, seq);
CREATE TABLE IF NOT EXISTS mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    text TEXT NOT NULL,
    html TEXT NOT NULL,
    order_id TEXT,
    sent_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tracking (
    number TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    shipment_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_time ON orders (created_at);
CREATE TABLE IF NOT EXISTS processed_events (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
"#;

/// Migration 2 (order documents of schema 2): a column that finds unpaid
/// prepayment orders for expiry without reading every document; then every
/// stored order is upgraded in [`upgrade_orders`].
const MIGRATION_2: &str = r#"
ALTER TABLE orders ADD COLUMN awaiting_payment_since INTEGER;
CREATE INDEX IF NOT EXISTS orders_awaiting_payment ON orders (awaiting_payment_since)
    WHERE awaiting_payment_since IS NOT NULL;
"#;

/// Migration 3: shop settings carry a version, so that two people saving
/// one setting cannot overwrite each other (existing ones start at 1).
const MIGRATION_3: &str = r#"
ALTER TABLE settings ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
"#;

/// Migration 5: customers are found by e-mail (staff taking a phone
/// order); the order documents are rewritten in their schema 5.
const MIGRATION_5: &str = r#"
CREATE INDEX IF NOT EXISTS customers_by_email ON customers (lower(json_extract(doc, '$.email')));
"#;

/// Migration 6: the shop's counters (credit notes, gap-free); the order
/// documents are rewritten in their schema 6 (returns).
const MIGRATION_6: &str = r#"
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"#;

/// Migration 7: what promotions count — each mailbox's orders (counted
/// from the orders there are) and each discount's uses, in total
/// (`customer` empty) and per customer; order documents in schema 7.
const MIGRATION_7: &str = r#"
CREATE TABLE IF NOT EXISTS mailbox_orders (
    mailbox TEXT PRIMARY KEY,
    orders INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS discount_uses (
    discount TEXT NOT NULL,
    customer TEXT NOT NULL,
    uses INTEGER NOT NULL,
    PRIMARY KEY (discount, customer)
);
"#;

/// Migration 8: a delivery claims an event before it acts on it (an
/// e-mail), so two deliveries at once act once; rows written before are
/// handled events (NULL).
const MIGRATION_8: &str = r#"
ALTER TABLE processed_events ADD COLUMN claimed_until INTEGER;
"#;

/// Migration 9: a consumer's mark per key (the latest order version whose
/// message about a parcel went out), so a late, older one is not sent.
const MIGRATION_9: &str = r#"
CREATE TABLE IF NOT EXISTS consumer_marks (
    consumer TEXT NOT NULL,
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (consumer, key)
);
"#;

/// The schema's version after every migration ran (`PRAGMA user_version`).
/// Migration 4 adds no table: it rewrites the order documents in their
/// schema 4 (notes).
pub const SCHEMA_VERSION: u32 = 9;

/// Brings the file to [`SCHEMA_VERSION`], one numbered migration at a time,
/// each in its own transaction with the version it reaches.
pub(crate) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let current: u32 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(internal)?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::Internal(format!(
            "the data folder was written by a newer Kontor (schema {current}, this build knows {SCHEMA_VERSION})"
        )));
    }
    for version in current + 1..=SCHEMA_VERSION {
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(internal)?;
        match version {
            1 => tx.execute_batch(MIGRATION_1).map_err(internal)?,
            2 => {
                tx.execute_batch(MIGRATION_2).map_err(internal)?;
                upgrade_orders(&tx)?;
            }
            3 => tx.execute_batch(MIGRATION_3).map_err(internal)?,
            4 => upgrade_orders(&tx)?,
            5 => {
                tx.execute_batch(MIGRATION_5).map_err(internal)?;
                upgrade_orders(&tx)?;
            }
            6 => {
                tx.execute_batch(MIGRATION_6).map_err(internal)?;
                upgrade_orders(&tx)?;
            }
            7 => {
                tx.execute_batch(MIGRATION_7).map_err(internal)?;
                upgrade_orders(&tx)?;
                count_mailbox_orders(&tx)?;
            }
            8 => tx.execute_batch(MIGRATION_8).map_err(internal)?,
            9 => tx.execute_batch(MIGRATION_9).map_err(internal)?,
            _ => unreachable!("every version up to SCHEMA_VERSION has a migration"),
        }
        tx.pragma_update(None, "user_version", version)
            .map_err(internal)?;
        tx.commit().map_err(internal)?;
        tracing::info!(version, "migrated the SQLite store");
    }
    Ok(())
}

/// Counts the orders placed so far per mailbox, so that a shopper who
/// ordered before discounts existed is not new.
fn count_mailbox_orders(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let emails: Vec<String> = {
        let mut statement = tx
            .prepare("SELECT json_extract(doc, '$.email') FROM orders")
            .map_err(internal)?;
        let rows = statement
            .query_map([], |row| row.get(0))
            .map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)?
    };
    for email in emails {
        let Ok(email) = kontor_domain::Email::parse(&email) else {
            continue;
        };
        tx.execute(
            "INSERT INTO mailbox_orders (mailbox, orders) VALUES (?1, 1)
             ON CONFLICT (mailbox) DO UPDATE SET orders = orders + 1",
            params![email.mailbox()],
        )
        .map_err(internal)?;
    }
    Ok(())
}

/// Rewrites every order document in the current shape, and fills the
/// columns derived from it.
fn upgrade_orders(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let rows: Vec<(String, String)> = {
        let mut statement = tx.prepare("SELECT id, doc FROM orders").map_err(internal)?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)?
    };
    for (id, doc) in rows {
        let order = read_order_doc(&doc)?;
        tx.execute(
            "UPDATE orders SET doc = ?2, awaiting_payment_since = ?3 WHERE id = ?1",
            params![id, to_json(&order)?, awaiting_payment_since(&order)],
        )
        .map_err(internal)?;
    }
    Ok(())
}
