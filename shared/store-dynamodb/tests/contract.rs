//! The store contract suite on DynamoDB, served by moto one request at a
//! time (so conditional writes hold under concurrency, as in AWS). Each check
//! gets a table of its own on the test process's moto server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use kontor_platform::Store;
use kontor_store_dynamodb::{table, DynamoStore};
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

kontor_testkit::store_contract_tests!(fresh().await);
