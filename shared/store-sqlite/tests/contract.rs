//! The store contract suite on SQLite files (WAL, as the local runtime uses).

use std::sync::Arc;

use kontor_platform::Store;
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::contract;

/// A fresh store in its own file; the folder lives as long as the test.
fn fresh(dir: &tempfile::TempDir, name: &str) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(&dir.path().join(format!("{name}.db"))).expect("open store"))
}

macro_rules! contract_tests {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $check() {
            let dir = tempfile::tempdir().expect("temp dir");
            contract::$check(fresh(&dir, stringify!($check))).await;
        }
    )*};
}

contract_tests!(
    products_are_version_checked,
    products_are_listed_and_found,
    placing_an_order_commits_everything,
    placing_an_order_is_all_or_nothing,
    idempotency_keys_and_numbers_are_taken_once,
    stale_order_versions_are_refused,
    the_outbox_hands_out_events_until_published,
    consumers_record_each_event_once,
    concurrent_orders_never_oversell,
);

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kontor.db");
    {
        let store = SqliteStore::open(&path).expect("open");
        store
            .put_product(
                &kontor_testkit::fixtures::product("A", "1.00", 3, false),
                None,
            )
            .await
            .expect("create");
    }
    let reopened = SqliteStore::open(&path).expect("reopen");
    let product = reopened
        .get_product(&kontor_domain::Sku::parse("A").unwrap())
        .await
        .expect("read")
        .expect("still there");
    assert_eq!(product.stock, 3);
}
