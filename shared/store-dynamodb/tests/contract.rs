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

/// An order item of the first shape — its history inside the document, no
/// `history_len` — reads whole, and its first change moves the whole
/// history into items of their own without losing an entry.
#[tokio::test]
async fn an_order_of_the_first_shape_keeps_its_history_through_a_change() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use kontor_domain::command::OrderCommand;
    use kontor_platform::store::OrderStore;

    let name = format!("kontor-contract-{}", TABLES.fetch_add(1, Ordering::SeqCst));
    let client = client();
    table::create_table(&client, &name).await.unwrap();
    let legacy = include_str!("../../domain/tests/fixtures/order-schema-1.json");
    let document: serde_json::Value = serde_json::from_str(legacy).unwrap();
    let id = document["id"].as_str().unwrap().to_string();
    client
        .put_item()
        .table_name(&name)
        .item("PK", AttributeValue::S(format!("ORDER#{id}")))
        .item("SK", AttributeValue::S("ORDER".into()))
        .item(
            "version",
            AttributeValue::N(document["version"].to_string()),
        )
        .item(
            "number",
            AttributeValue::S(document["number"].as_str().unwrap().into()),
        )
        .item("doc", AttributeValue::S(legacy.into()))
        .send()
        .await
        .unwrap();
    let store = DynamoStore::new(client.clone(), name.clone());
    let order_id = kontor_domain::OrderId::parse(&id).unwrap();
    let old = store.get_order(&order_id).await.unwrap().expect("reads");
    assert_eq!(old.history.len(), 4, "the entries inside the document");

    let payment = OrderCommand::RecordPayment {
        amount: kontor_domain::Money::new(rust_decimal::Decimal::ONE, old.currency),
        date: time::macros::date!(2026 - 11 - 29),
        reference: "bank".into(),
    };
    let commit = kontor_testkit::contract::commit_of(&old, &payment, 0);
    store.commit_order(&commit).await.expect("commits");
    let new = store.get_order(&order_id).await.unwrap().unwrap();
    assert_eq!(new, commit.order, "all five entries, nothing lost");
    assert_eq!(new.history.len(), 5);
    let header = client
        .get_item()
        .table_name(&name)
        .key("PK", AttributeValue::S(format!("ORDER#{id}")))
        .key("SK", AttributeValue::S("ORDER".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(header["history_len"], AttributeValue::N("5".into()));
    assert!(!header.contains_key("doc"), "the text document is gone");
    let deflated = header["docz"].as_b().unwrap().as_ref();
    let doc: serde_json::Value =
        serde_json::from_reader(flate2::read::DeflateDecoder::new(deflated)).unwrap();
    assert_eq!(
        doc["history"],
        serde_json::json!([]),
        "the header no longer carries the history"
    );
}
