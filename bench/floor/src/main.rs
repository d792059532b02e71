//! The floor for `bench/throughput.sh`: the least a server on this machine
//! does for Kontor's two hottest requests, so Kontor's figures can be read
//! as a ratio to it, measured in the same run.
//!
//! - `GET /catalog/products` answers the bytes of a file (Kontor's own
//!   answer, saved by the script) from memory: routing, HTTP and the
//!   socket, nothing else.
//! - `POST /checkout` runs one SQLite transaction of the checkout's shape
//!   with Kontor's settings (WAL, `synchronous = NORMAL`, one connection
//!   behind a mutex on a blocking thread): read the product's stock,
//!   decrement it, insert the order, the idempotency row and an outbox
//!   row, commit, and answer 201 with a small JSON.
//!
//! Usage: `kontor-floor ADDR CATALOG_FILE DATA_DIR`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use rusqlite::{params, Connection};

#[derive(Clone)]
struct Floor {
    catalog: Bytes,
    connection: Arc<Mutex<Connection>>,
    orders: Arc<AtomicU64>,
}

fn open(data: &str) -> rusqlite::Result<Connection> {
    let connection = Connection::open(format!("{data}/floor.sqlite"))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS products (sku TEXT PRIMARY KEY, stock INTEGER NOT NULL, version INTEGER NOT NULL);
         CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, doc TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, body TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, payload TEXT NOT NULL, published INTEGER NOT NULL DEFAULT 0);
         INSERT OR REPLACE INTO products (sku, stock, version) VALUES ('TR-CHINO-BEIGE', 1000000000, 1);",
    )?;
    Ok(connection)
}

async fn serve_catalog(State(floor): State<Floor>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        floor.catalog.clone(),
    )
}

async fn place_order(
    State(floor): State<Floor>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("none")
        .to_string();
    let n = floor.orders.fetch_add(1, Ordering::Relaxed);
    let connection = Arc::clone(&floor.connection);
    let placed = tokio::task::spawn_blocking(move || -> rusqlite::Result<String> {
        let mut connection = connection.lock().expect("the floor's connection");
        let tx = connection.transaction()?;
        let stock: i64 = tx.query_row(
            "SELECT stock FROM products WHERE sku = 'TR-CHINO-BEIGE'",
            [],
            |row| row.get(0),
        )?;
        tx.execute(
            "UPDATE products SET stock = ?1, version = version + 1 WHERE sku = 'TR-CHINO-BEIGE'",
            params![stock - 1],
        )?;
        let id = format!("floor-{n}");
        let answer = format!("{{\"id\":\"{id}\",\"status\":\"open\"}}");
        tx.execute(
            "INSERT INTO orders (id, created_at, doc) VALUES (?1, ?2, ?3)",
            params![id, n as i64, String::from_utf8_lossy(&body)],
        )?;
        tx.execute(
            "INSERT INTO idempotency (key, body) VALUES (?1, ?2)",
            params![key, answer],
        )?;
        tx.execute(
            "INSERT INTO outbox (id, payload) VALUES (?1, ?2)",
            params![format!("event-{n}"), answer],
        )?;
        tx.commit()?;
        Ok(answer)
    })
    .await;
    match placed {
        Ok(Ok(answer)) => (
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, "application/json")],
            answer,
        ),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "application/json")],
            "{}".to_string(),
        ),
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(catalog_file), Some(data)) = (args.next(), args.next(), args.next())
    else {
        eprintln!("usage: kontor-floor ADDR CATALOG_FILE DATA_DIR");
        std::process::exit(2);
    };
    let catalog = std::fs::read(&catalog_file).expect("the catalog file");
    let connection = open(&data).expect("the floor's database");
    let floor = Floor {
        catalog: Bytes::from(catalog),
        connection: Arc::new(Mutex::new(connection)),
        orders: Arc::new(AtomicU64::new(0)),
    };
    let app = Router::new()
        .route("/catalog/products", get(serve_catalog))
        .route("/checkout", post(place_order))
        .with_state(floor);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .expect("the address");
    axum::serve(listener, app).await.expect("the server");
}
