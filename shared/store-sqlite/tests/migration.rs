//! A data folder written by the first release (schema 0: no `user_version`,
//! order documents of schema 1) opens with today's build and loses nothing:
//! every order (upgraded to typed actors), every product with its stock,
//! and the event that was still waiting for the bus.
//!
//! The fixture `kontor-schema-0.db` was written by the release before
//! migrations: two guest orders (one prepayment, one invoice), a parcel
//! packed and shipped by staff and moved on by DHL's webhook, and the last
//! event left pending.

use kontor_platform::store::roles::*;
use std::path::PathBuf;

use kontor_domain::actor::{Actor, HistoryAction};
use kontor_domain::order::{OrderLookup, PaymentMethod};
use kontor_domain::shipment::Carrier;
use kontor_domain::{OrderNumber, Sku};
use kontor_platform::store::{OrderSearch, ProductQuery};
use kontor_store_sqlite::{SqliteStore, SCHEMA_VERSION};
use time::macros::datetime;

fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kontor.db");
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kontor-schema-0.db"),
        &path,
    )
    .unwrap();
    (dir, path)
}

fn user_version(path: &std::path::Path) -> u32 {
    rusqlite::Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_first_release_data_folder_upgrades_without_losing_anything() {
    let (_dir, path) = fixture_copy();
    assert_eq!(user_version(&path), 0, "the fixture predates migrations");
    let store = SqliteStore::open(&path).expect("opens and migrates");
    assert_eq!(user_version(&path), SCHEMA_VERSION);

    let orders = store
        .search_orders(&OrderSearch {
            text: None,
            filter: Default::default(),
            after: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(orders.len(), 2, "both orders");
    let shipped = orders
        .iter()
        .find(|o| OrderLookup::Number(OrderNumber::parse("K-XB6Z-8HE1").unwrap()).matches(o))
        .expect("the order with a parcel");
    assert_eq!(shipped.payment_method, PaymentMethod::Prepayment);
    let history: Vec<(HistoryAction, Actor)> = shipped
        .history
        .iter()
        .map(|h| (h.action, h.actor.clone()))
        .collect();
    let lena = Actor::Staff {
        email: "lena@kontor.example".into(),
    };
    assert_eq!(
        history,
        [
            (HistoryAction::Placed, Actor::Guest),
            (HistoryAction::ShipmentPacked, lena.clone()),
            (HistoryAction::ShipmentMoved, lena),
            (
                HistoryAction::ShipmentMoved,
                Actor::Carrier {
                    carrier: Carrier::Dhl
                }
            ),
        ]
    );
    assert_eq!(shipped.shipments[0].history.len(), 3);
    // The upgraded document was written back whole: it reads the same by id.
    assert_eq!(
        store.get_order(&shipped.id).await.unwrap().as_ref(),
        Some(shipped)
    );

    let products = store.list_products(&ProductQuery::default()).await.unwrap();
    assert_eq!(products.len(), 18, "the whole demo catalog");
    let chinos = store
        .get_product(&Sku::parse("TR-CHINO-BEIGE").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(chinos.stock, 24, "25 less the one sold");

    let pending = store.pending_events(100).await.unwrap();
    assert_eq!(pending.len(), 1, "the event still waiting for the bus");
    assert_eq!(pending[0].name(), "ShipmentStatusChanged");
    assert_eq!(pending[0].order_id, shipped.id);

    // The prepayment order waits for its money, so it may expire.
    let later = datetime!(2027-01-31 00:00 UTC);
    let unpaid = store.unpaid_orders(later, 10).await.unwrap();
    assert_eq!(unpaid, std::slice::from_ref(&shipped.id));
}

#[tokio::test]
async fn opening_twice_migrates_once() {
    let (_dir, path) = fixture_copy();
    drop(SqliteStore::open(&path).unwrap());
    let again = SqliteStore::open(&path).expect("a migrated file opens as it is");
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    assert_eq!(again.pending_events(100).await.unwrap().len(), 1);
}

#[test]
fn a_data_folder_from_a_newer_build_is_refused() {
    let (_dir, path) = fixture_copy();
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let refused = SqliteStore::open(&path);
    assert!(
        refused.is_err(),
        "never read a newer schema as if it were ours"
    );
}
