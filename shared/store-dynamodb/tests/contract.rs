//! The store contract suite on DynamoDB, served by moto one request at a
//! time (so conditional writes hold under concurrency, as in AWS). Each check
//! gets a table of its own on the test process's moto server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use kontor_platform::Store;
use kontor_store_dynamodb::{table, DynamoStore};
use kontor_testkit::contract;
use kontor_testkit::moto::Moto;

static TABLES: AtomicUsize = AtomicUsize::new(0);

fn client() -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(Moto::shared().endpoint())
        .region(Region::new("eu-central-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

async fn fresh() -> Arc<dyn Store> {
    let name = format!("kontor-contract-{}", TABLES.fetch_add(1, Ordering::SeqCst));
    let client = client();
    table::create_table(&client, &name)
        .await
        .expect("create table");
    Arc::new(DynamoStore::new(client, name))
}

macro_rules! contract_tests {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $check() {
            contract::$check(fresh().await).await;
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
