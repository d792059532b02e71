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
//! ever held inside `spawn_blocking` and never across an `.await`.
//!
//! The same file keeps the local mail outbox ([`MailOutbox`]).

mod mail;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use kontor_domain::command::Effect;
use kontor_domain::customer::Customer;
use kontor_domain::events::Event;
use kontor_domain::order::{Order, OrderLookup, OrderStatus, PaymentMethod, StockTake};
use kontor_domain::product::Product;
use kontor_domain::shipment::TrackingNumber;
use kontor_domain::stored;
use kontor_domain::{CustomerId, EventId, OrderId, Sku};
use kontor_platform::store::{
    CheckoutRead, IdempotencyRecord, OrderCommit, OrderPlacement, OrderSearch, ProductQuery, Store,
    StoreError, TrackingClaim,
};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use time::OffsetDateTime;

pub use mail::{MailOutbox, StoredMail};

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

/// The schema's version after every migration ran (`PRAGMA user_version`).
pub const SCHEMA_VERSION: u32 = 2;

/// Brings the file to [`SCHEMA_VERSION`], one numbered migration at a time,
/// each in its own transaction with the version it reaches.
fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
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
            _ => unreachable!("every version up to SCHEMA_VERSION has a migration"),
        }
        tx.pragma_update(None, "user_version", version)
            .map_err(internal)?;
        tx.commit().map_err(internal)?;
        tracing::info!(version, "migrated the SQLite store");
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

/// When an order started waiting for a prepayment that has not come: the
/// expiry sweeper's index. None once anything is paid or the order closed.
fn awaiting_payment_since(order: &Order) -> Option<i64> {
    let waiting = order.status == OrderStatus::Open
        && order.payment_method == PaymentMethod::Prepayment
        && order.payments.is_empty();
    waiting.then(|| unix(order.created_at))
}

fn read_order_doc(doc: &str) -> Result<Order, StoreError> {
    stored::order_from_json(doc).map_err(|e| StoreError::Internal(e.to_string()))
}

#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
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
        let mut connection = connection;
        migrate(&mut connection)?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
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

pub(crate) fn internal(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(error.to_string())
        }
        _ => StoreError::Internal(error.to_string()),
    }
}

fn is_unique_violation(error: &rusqlite::Error, column: &str) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::ConstraintViolation)
    ) && error.to_string().contains(column)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Internal(format!("unreadable document: {e}")))
}

fn unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

/// Builds a product from its row; the stock and version columns are the
/// truth, since conditional updates change them without rewriting the document.
fn product_from_row(stock: i64, version: i64, doc: &str) -> Result<Product, StoreError> {
    let mut product: Product = from_json(doc)?;
    product.stock =
        u32::try_from(stock).map_err(|_| StoreError::Internal("negative stock".into()))?;
    product.version = version as u64;
    Ok(product)
}

fn read_products(
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

fn read_orders(
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

fn read_customer(connection: &Connection, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
    let found: Option<(i64, String)> = connection
        .query_row(
            "SELECT version, doc FROM customers WHERE id = ?1",
            params![id.as_str()],
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
fn write_customer(connection: &Connection, customer: &Customer) -> Result<(), StoreError> {
    let expected = customer.version.saturating_sub(1);
    let doc = to_json(customer)?;
    let changed = if expected == 0 {
        connection
            .execute(
                "INSERT INTO customers (id, version, doc) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
                params![customer.id.as_str(), customer.version, doc],
            )
            .map_err(internal)?
    } else {
        connection
            .execute(
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
fn read_products_by_sku(
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

fn read_idempotency(
    connection: &Connection,
    key: &str,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    connection
        .query_row(
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

#[async_trait]
impl Store for SqliteStore {
    async fn list_products(&self, query: &ProductQuery) -> Result<Vec<Product>, StoreError> {
        let query = query.clone();
        self.run(move |connection| {
            let products = match &query.category {
                Some(category) => read_products(
                    connection,
                    "SELECT stock, version, doc FROM products WHERE category = ?1 ORDER BY sku",
                    params![category],
                )?,
                None => read_products(
                    connection,
                    "SELECT stock, version, doc FROM products ORDER BY sku",
                    [],
                )?,
            };
            Ok(match &query.text {
                Some(text) => products
                    .into_iter()
                    .filter(|p| p.matches_text(text))
                    .collect(),
                None => products,
            })
        })
        .await
    }

    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let sku = sku.clone();
        self.run(move |connection| {
            let mut products = read_products(
                connection,
                "SELECT stock, version, doc FROM products WHERE sku = ?1",
                params![sku.as_str()],
            )?;
            Ok(products.pop())
        })
        .await
    }

    async fn get_products(&self, skus: &[Sku]) -> Result<Vec<Product>, StoreError> {
        let skus: Vec<String> = skus.iter().map(|s| s.as_str().to_string()).collect();
        self.run(move |connection| read_products_by_sku(connection, &skus))
            .await
    }

    async fn put_product(
        &self,
        product: &Product,
        expected_version: Option<u64>,
    ) -> Result<Product, StoreError> {
        let mut stored = product.clone();
        stored.version = expected_version.map_or(1, |v| v + 1);
        self.run(move |connection| {
            let doc = to_json(&stored)?;
            let changed = match expected_version {
                None => connection
                    .execute(
                        "INSERT INTO products (sku, category, stock, version, doc) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (sku) DO NOTHING",
                        params![stored.sku.as_str(), stored.category, stored.stock, stored.version, doc],
                    )
                    .map_err(internal)?,
                Some(expected) => connection
                    .execute(
                        "UPDATE products SET category = ?2, stock = ?3, version = ?4, doc = ?5
                         WHERE sku = ?1 AND version = ?6",
                        params![stored.sku.as_str(), stored.category, stored.stock, stored.version, doc, expected],
                    )
                    .map_err(internal)?,
            };
            match (changed, expected_version) {
                (1, _) => Ok(stored),
                (_, None) => Err(StoreError::AlreadyExists { entity: "product" }),
                (_, Some(expected)) => Err(StoreError::StaleVersion { entity: "product", expected }),
            }
        })
        .await
    }

    async fn place_order(&self, placement: &OrderPlacement) -> Result<(), StoreError> {
        let placement = placement.clone();
        self.run(move |connection| {
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;

            if let Some(record) = &placement.idempotency {
                let inserted = tx
                    .execute(
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
            }

            let order = &placement.order;
            tx.execute(
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

            take_stock(&tx, &placement.stock_takes)?;

            if let Some(customer) = &placement.customer {
                write_customer(&tx, customer)?;
            }
            insert_events(&tx, &placement.events)?;
            tx.commit().map_err(internal)
        })
        .await
    }

    async fn get_customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        let id = id.clone();
        self.run(move |connection| read_customer(connection, &id))
            .await
    }

    async fn customer_orders(
        &self,
        id: &CustomerId,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let id = id.as_str().to_string();
        self.run(move |connection| {
            read_orders(
                connection,
                "SELECT doc FROM orders WHERE customer_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
                params![id, limit as i64],
            )
        })
        .await
    }

    async fn search_orders(&self, search: &OrderSearch) -> Result<Vec<Order>, StoreError> {
        let search = search.clone();
        self.run(move |connection| {
            let lookup = OrderLookup::parse(search.text.as_deref());
            let candidates = match &lookup {
                OrderLookup::Number(number) => read_orders(
                    connection,
                    "SELECT doc FROM orders WHERE number = ?1",
                    params![number.as_str()],
                )?,
                OrderLookup::Email(email) => read_orders(
                    connection,
                    "SELECT doc FROM orders WHERE email = ?1 ORDER BY created_at DESC, id DESC",
                    params![email.normalized()],
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
                    "SELECT doc FROM orders WHERE lower(doc) LIKE ?1 ORDER BY created_at DESC, id DESC",
                    params![format!("%{}%", words[0])],
                )?,
                OrderLookup::Name(_) | OrderLookup::All => read_orders(
                    connection,
                    "SELECT doc FROM orders ORDER BY created_at DESC, id DESC",
                    [],
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

    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let id = id.clone();
        self.run(move |connection| {
            let doc: Option<String> = connection
                .query_row(
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
        let commit = commit.clone();
        self.run(move |connection| {
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;
            let order = &commit.order;
            let expected = commit.expected_version;
            let changed = tx
                .execute(
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
            for effect in &commit.effects {
                apply_effect(&tx, order, effect)?;
            }
            insert_events(&tx, &commit.events)?;
            tx.commit().map_err(internal)
        })
        .await
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

    async fn get_setting(&self, name: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let name = name.to_string();
        self.run(move |connection| {
            let doc: Option<String> = connection
                .query_row(
                    "SELECT doc FROM settings WHERE name = ?1",
                    params![name],
                    |r| r.get(0),
                )
                .optional()
                .map_err(internal)?;
            doc.as_deref().map(from_json).transpose()
        })
        .await
    }

    async fn put_setting(&self, name: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        let name = name.to_string();
        let doc = to_json(value)?;
        self.run(move |connection| {
            connection
                .execute(
                    "INSERT INTO settings (name, doc) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET doc = excluded.doc",
                    params![name, doc],
                )
                .map_err(internal)?;
            Ok(())
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
                .query_row(
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

    async fn get_idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let key = key.to_string();
        self.run(move |connection| read_idempotency(connection, &key))
            .await
    }

    async fn read_for_checkout(
        &self,
        key: &str,
        skus: &[Sku],
        customer: Option<&CustomerId>,
    ) -> Result<CheckoutRead, StoreError> {
        let key = key.to_string();
        let skus: Vec<String> = skus.iter().map(|s| s.as_str().to_string()).collect();
        let customer = customer.cloned();
        self.run(move |connection| {
            // One read transaction, so the answers come from the same state.
            let tx = connection.unchecked_transaction().map_err(internal)?;
            let read = CheckoutRead {
                replay: read_idempotency(&tx, &key)?,
                products: read_products_by_sku(&tx, &skus)?,
                customer: match &customer {
                    Some(id) => read_customer(&tx, id)?,
                    None => None,
                },
            };
            tx.finish().map_err(internal)?;
            Ok(read)
        })
        .await
    }

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
                tx.execute(
                    "UPDATE outbox SET published_at = ?1 WHERE event_id = ?2",
                    params![now, id],
                )
                .map_err(internal)?;
            }
            tx.commit().map_err(internal)
        })
        .await
    }

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

/// Takes units from stock, each only if that many are there.
fn take_stock(tx: &rusqlite::Transaction<'_>, takes: &[StockTake]) -> Result<(), StoreError> {
    for take in takes {
        let changed = tx
            .execute(
                "UPDATE products SET stock = stock - ?1, version = version + 1
                 WHERE sku = ?2 AND stock >= ?1",
                params![take.quantity, take.sku.as_str()],
            )
            .map_err(internal)?;
        if changed == 0 {
            let available: Option<i64> = tx
                .query_row(
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

/// One effect of an order's decision, inside the order's transaction.
fn apply_effect(
    tx: &rusqlite::Transaction<'_>,
    order: &Order,
    effect: &Effect,
) -> Result<(), StoreError> {
    match effect {
        Effect::TakeStock(take) => take_stock(tx, std::slice::from_ref(take)),
        Effect::ReturnStock(units) => {
            tx.execute(
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
            tx.execute(
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
            tx.execute(
                "DELETE FROM tracking WHERE number = ?1 AND order_id = ?2",
                params![number.as_str(), order.id.as_str()],
            )
            .map_err(internal)?;
            Ok(())
        }
    }
}

fn insert_events(tx: &rusqlite::Transaction<'_>, events: &[Event]) -> Result<(), StoreError> {
    for event in events {
        tx.execute(
            "INSERT INTO outbox (event_id, event) VALUES (?1, ?2)",
            params![event.event_id.as_str(), to_json(event)?],
        )
        .map_err(internal)?;
    }
    Ok(())
}
