//! The store contract suite on SQLite files (WAL, as the local runtime uses).

use kontor_platform::store::roles::*;
use std::sync::Arc;

use kontor_platform::Store;
use kontor_store_sqlite::SqliteStore;

/// A fresh store in its own file. The folder must outlive the store, so it
/// is kept, under the build folder's `tmp/` (cargo's place for test files,
/// emptied by `cargo clean`).
fn fresh() -> Arc<dyn Store> {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir")
        .keep();
    Arc::new(SqliteStore::open(&dir.join("kontor.db")).expect("open store"))
}

kontor_testkit::store_contract_tests!(fresh());

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
