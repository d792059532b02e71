//! The embedded store: the store port on one SQLite file.
//!
//! Aggregates are kept as JSON documents next to the columns that queries and
//! conditions need (stock, version, number, e-mail). SQLite allows one writer
//! at a time; every write runs in an `IMMEDIATE` transaction, so a checkout
//! reads and decrements stock with no other writer in between, and the
//! conditions below are checked all the same, as on DynamoDB.
//!
//! rusqlite is synchronous: calls run on Tokio's blocking pool behind one
//! connection. A std `Mutex` (not a Tokio one) guards it, since it is only
//! ever held inside `spawn_blocking` (or the order writer's thread) and
//! never across an `.await`. Order commits that arrive together share one
//! transaction (`group`).
//!
//! The same file keeps the local mail outbox ([`MailOutbox`]).
//!
//! Each role of the store port has its module (`catalog`, `checkout`,
//! `orders`, `customers`, `outbox`, `ledger`, `settings`); what several
//! roles share (reading rows, taking stock, writing events) stays here,
//! and `migrations` owns the schema.

mod catalog;
mod checkout;
mod customers;
mod group;
mod ledger;
mod mail;
mod migrations;
mod orders;
mod outbox;
mod promotions;
mod settings;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use kontor_domain::customer::Customer;
use kontor_domain::events::Event;
use kontor_domain::order::{Order, OrderStatus, PaymentMethod, StockTake};
use kontor_domain::product::Product;
use kontor_domain::stored;
use kontor_domain::{CustomerId, Email};
use kontor_platform::store::{IdempotencyRecord, StoreError};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};
use time::OffsetDateTime;

pub use mail::{MailOutbox, StoredMail};
pub use migrations::SCHEMA_VERSION;

/// When an order started waiting for a prepayment that has not come: the
/// expiry sweeper's index. None once anything is paid or the order closed.
pub(crate) fn awaiting_payment_since(order: &Order) -> Option<i64> {
    let waiting = order.status == OrderStatus::Open
        && order.payment_method == PaymentMethod::Prepayment
        && order.payments.is_empty();
    waiting.then(|| unix(order.created_at))
}

pub(crate) fn read_order_doc(doc: &str) -> Result<Order, StoreError> {
    stored::order_from_json(doc).map_err(|e| StoreError::Internal(e.to_string()))
}

#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    catalog: Arc<CatalogStamp>,
    /// Order commits go through one writer that groups them (`group`).
    writer: Arc<group::GroupWriter>,
}

/// What the catalog's stamp is made of: which store this is in the process
/// (so two stores' stamps never meet in one cache) and how many writes to
/// products it has committed. The runtime that opens the file is the only
/// process that writes it, so every change passes here.
struct CatalogStamp {
    store: u64,
    writes: AtomicU64,
}

impl CatalogStamp {
    fn new() -> Self {
        static STORES: AtomicU64 = AtomicU64::new(0);
        Self {
            store: STORES.fetch_add(1, Ordering::Relaxed),
            writes: AtomicU64::new(0),
        }
    }

    /// Called after a write to products committed, never before: a reader
    /// that saw the old stamp and the new rows only caches them under the
    /// old stamp, which is then out of date.
    fn bump(&self) {
        self.writes.fetch_add(1, Ordering::Release);
    }

    fn get(&self) -> u64 {
        (self.store << 40) | (self.writes.load(Ordering::Acquire) & ((1 << 40) - 1))
    }
}

impl SqliteStore {
    /// Opens (and if needed creates) the store in the file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let connection = Connection::open(path).map_err(internal)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(internal)?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(internal)?;
        Self::with_connection(connection)
    }

    /// A store that lives in memory only; for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory().map_err(internal)?)
    }

    fn with_connection(connection: Connection) -> Result<Self, StoreError> {
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(internal)?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let mut connection = connection;
        migrations::migrate(&mut connection)?;
        let connection = Arc::new(Mutex::new(connection));
        let writer = group::GroupWriter::start(Arc::clone(&connection), orders::write_commit)?;
        Ok(Self {
            connection,
            catalog: Arc::new(CatalogStamp::new()),
            writer: Arc::new(writer),
        })
    }

    /// The catalog changed (a product or its stock): see [`CatalogStamp`].
    pub(crate) fn catalog_changed(&self) {
        self.catalog.bump();
    }

    pub(crate) fn catalog_stamp_now(&self) -> u64 {
        self.catalog.get()
    }

    /// Runs `work` on the connection on the blocking pool.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut guard = connection
                .lock()
                .map_err(|_| StoreError::Internal("the connection lock was poisoned".into()))?;
            work(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("store task failed: {e}")))?
    }
}

/// How many prepared statements a connection keeps: more than the store
/// has, so that none is parsed twice.
const STATEMENT_CACHE: usize = 128;

/// `execute` and `query_row` through the connection's statement cache.
/// rusqlite's own methods parse and plan the SQL on every call, which was
/// an eighth of a checkout's time under load (docs/figures.md, "Where the
/// checkout's time went").
pub(crate) trait CachedStatements {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;

    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, read: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl CachedStatements for Connection {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, read: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, read)
    }
}

pub(crate) fn internal(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(error.to_string())
        }
        _ => StoreError::Internal(error.to_string()),
    }
}

pub(crate) fn is_unique_violation(error: &rusqlite::Error, column: &str) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::ConstraintViolation)
    ) && error.to_string().contains(column)
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(e.to_string()))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Internal(format!("unreadable document: {e}")))
}

pub(crate) fn unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

/// Builds a product from its row; the stock and version columns are the
/// truth, since conditional updates change them without rewriting the document.
pub(crate) fn product_from_row(stock: i64, version: i64, doc: &str) -> Result<Product, StoreError> {
    let mut product: Product = from_json(doc)?;
    product.stock =
        u32::try_from(stock).map_err(|_| StoreError::Internal("negative stock".into()))?;
    product.version = version as u64;
    Ok(product)
}

pub(crate) fn read_products(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Product>, StoreError> {
    let mut statement = connection.prepare_cached(sql).map_err(internal)?;
    let rows = statement
        .query_map(params, |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
            ))
        })
        .map_err(internal)?;
    let mut products = Vec::new();
    for row in rows {
        let (stock, version, doc) = row.map_err(internal)?;
        products.push(product_from_row(stock, version, &doc)?);
    }
    Ok(products)
}

pub(crate) fn read_orders(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Order>, StoreError> {
    let mut statement = connection.prepare_cached(sql).map_err(internal)?;
    let docs = statement
        .query_map(params, |row| row.get::<_, String>(0))
        .map_err(internal)?;
    let mut orders = Vec::new();
    for doc in docs {
        orders.push(read_order_doc(&doc.map_err(internal)?)?);
    }
    Ok(orders)
}

pub(crate) fn read_customer(
    connection: &Connection,
    id: &CustomerId,
) -> Result<Option<Customer>, StoreError> {
    customer_where(connection, "id = ?1", id.as_str())
}

/// The customer whose record has `email` now (the one who ordered last,
/// should two accounts share it).
pub(crate) fn read_customer_by_email(
    connection: &Connection,
    email: &Email,
) -> Result<Option<Customer>, StoreError> {
    customer_where(
        connection,
        "lower(json_extract(doc, '$.email')) = ?1 ORDER BY json_extract(doc, '$.last_order_at') DESC",
        &email.normalized(),
    )
}

fn customer_where(
    connection: &Connection,
    condition: &str,
    value: &str,
) -> Result<Option<Customer>, StoreError> {
    let found: Option<(i64, String)> = connection
        .query_row_cached(
            &format!("SELECT version, doc FROM customers WHERE {condition} LIMIT 1"),
            params![value],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(internal)?;
    found
        .map(|(version, doc)| {
            let mut customer: Customer = from_json(&doc)?;
            customer.version = version as u64;
            Ok(customer)
        })
        .transpose()
}

/// Writes a customer's record if the stored one is the version before.
pub(crate) fn write_customer(
    connection: &Connection,
    customer: &Customer,
) -> Result<(), StoreError> {
    let expected = customer.version.saturating_sub(1);
    let doc = to_json(customer)?;
    let changed = if expected == 0 {
        connection
            .execute_cached(
                "INSERT INTO customers (id, version, doc) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
                params![customer.id.as_str(), customer.version, doc],
            )
            .map_err(internal)?
    } else {
        connection
            .execute_cached(
                "UPDATE customers SET version = ?2, doc = ?3 WHERE id = ?1 AND version = ?4",
                params![customer.id.as_str(), customer.version, doc, expected],
            )
            .map_err(internal)?
    };
    if changed == 0 {
        return Err(StoreError::StaleVersion {
            entity: "customer",
            expected,
        });
    }
    Ok(())
}

/// The products of `skus` that exist, in the order asked.
pub(crate) fn read_products_by_sku(
    connection: &Connection,
    skus: &[String],
) -> Result<Vec<Product>, StoreError> {
    let mut found = Vec::with_capacity(skus.len());
    for sku in skus {
        found.extend(read_products(
            connection,
            "SELECT stock, version, doc FROM products WHERE sku = ?1",
            params![sku],
        )?);
    }
    Ok(found)
}

pub(crate) fn read_idempotency(
    connection: &Connection,
    key: &str,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    connection
        .query_row_cached(
            "SELECT key, request_hash, status, body, created_at FROM idempotency WHERE key = ?1",
            params![key],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, u16>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, i64>(4)?,
                ))
            },
        )
        .optional()
        .map_err(internal)?
        .map(|(key, request_hash, status, body, created_at)| {
            Ok(IdempotencyRecord {
                key,
                request_hash,
                status,
                body,
                created_at: OffsetDateTime::from_unix_timestamp(created_at)
                    .map_err(|e| StoreError::Internal(e.to_string()))?,
            })
        })
        .transpose()
}

/// Takes units from stock, each only if that many are there.
pub(crate) fn take_stock(tx: &rusqlite::Connection, takes: &[StockTake]) -> Result<(), StoreError> {
    for take in takes {
        let changed = tx
            .execute_cached(
                "UPDATE products SET stock = stock - ?1, version = version + 1
                 WHERE sku = ?2 AND stock >= ?1",
                params![take.quantity, take.sku.as_str()],
            )
            .map_err(internal)?;
        if changed == 0 {
            let available: Option<i64> = tx
                .query_row_cached(
                    "SELECT stock FROM products WHERE sku = ?1",
                    params![take.sku.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(internal)?;
            return Err(StoreError::StockShort {
                sku: take.sku.clone(),
                available: available.unwrap_or(0).max(0) as u32,
            });
        }
    }
    Ok(())
}

pub(crate) fn insert_events(tx: &rusqlite::Connection, events: &[Event]) -> Result<(), StoreError> {
    for event in events {
        tx.execute_cached(
            "INSERT INTO outbox (event_id, event) VALUES (?1, ?2)",
            params![event.event_id.as_str(), to_json(event)?],
        )
        .map_err(internal)?;
    }
    Ok(())
}
