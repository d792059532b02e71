//! Helpers the integration tests share: an SDK configuration for the test
//! process's moto server, a fresh DynamoDB store on it, the store's view of
//! an order's version and a product's stock, and the table's stream read
//! back as the event that Lambda's event source mapping would hand to the
//! outbox relay.

use std::collections::HashMap;
use std::sync::Arc;

use kontor_platform::Store;

use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
use kontor_testkit::moto::Moto;
use serde_json::{json, Value};

/// The SDK configuration for the test process's moto server.
#[allow(dead_code)] // Not every test file that shares this module uses moto.
pub fn sdk_config() -> aws_config::SdkConfig {
    sdk_config_at(&Moto::shared().endpoint())
}

/// A store on a fresh table `name` of the test process's moto server.
#[allow(dead_code)] // Not every test file that shares this module uses it.
pub async fn dynamodb_store(name: &str) -> Arc<dyn Store> {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config());
    kontor_store_dynamodb::table::create_table(&client, name)
        .await
        .unwrap();
    Arc::new(kontor_store_dynamodb::DynamoStore::new(client, name))
}

/// The notifier on the local bus over `store`, mailing into a mail outbox
/// (the local runtime's mailer) that keeps every e-mail for the test to
/// read, whichever store the orders live in.
#[allow(dead_code)]
pub fn mail_bus(
    store: &Arc<dyn Store>,
) -> (kontor_store_sqlite::MailOutbox, kontor::bus::LocalBus) {
    let outbox = kontor_store_sqlite::SqliteStore::in_memory()
        .unwrap()
        .mail_outbox(None);
    let notifier: Arc<dyn kontor_platform::EventConsumer> =
        Arc::new(kontor_notifier::Notifier::new(
            store.clone(),
            Arc::new(outbox.clone()),
            kontor_notifications::ShopDetails::default(),
        ));
    let bus = kontor::bus::LocalBus::new(store.clone(), vec![notifier]);
    (outbox, bus)
}

/// The stored version of order `id`.
#[allow(dead_code)]
pub async fn order_version(store: &dyn Store, id: &str) -> u64 {
    store
        .get_order(&kontor_domain::OrderId::parse(id).unwrap())
        .await
        .unwrap()
        .expect("the order")
        .version
}

/// The stored stock of `sku`.
#[allow(dead_code)]
pub async fn stock_of(store: &dyn Store, sku: &str) -> u32 {
    store
        .get_product(&kontor_domain::Sku::parse(sku).unwrap())
        .await
        .unwrap()
        .expect("the product")
        .stock
}

/// The SDK configuration for an AWS stand-in at `endpoint`.
pub fn sdk_config_at(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("eu-central-1"))
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "moto"),
        ))
        .build()
}

/// A stream attribute in the DynamoDB JSON that Lambda hands to functions.
fn lambda_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        _ => json!({"NULL": true}),
    }
}

fn image(map: Option<&HashMap<String, AttributeValue>>) -> Value {
    Value::Object(
        map.into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), lambda_json(v)))
            .collect(),
    )
}

/// Every record of the table's stream, as the event source mapping would
/// deliver them to the relay.
#[allow(dead_code)]
pub async fn stream_event(config: &aws_config::SdkConfig, table: &str) -> Value {
    let tables = aws_sdk_dynamodb::Client::new(config);
    let streams = aws_sdk_dynamodbstreams::Client::new(config);
    let arn = tables
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
        .latest_stream_arn
        .unwrap();
    let shards = streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .unwrap()
        .stream_description
        .unwrap()
        .shards
        .unwrap_or_default();
    let mut records = Vec::new();
    for shard in shards {
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(shard.shard_id.unwrap())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator;
        let output = streams
            .get_records()
            .set_shard_iterator(iterator)
            .send()
            .await
            .unwrap();
        for record in output.records.unwrap_or_default() {
            let change = record.dynamodb.unwrap();
            records.push(json!({
                "eventName": record.event_name.map(|n| n.as_str().to_string()),
                "dynamodb": {
                    "SequenceNumber": change.sequence_number,
                    "Keys": image(change.keys.as_ref()),
                    "NewImage": image(change.new_image.as_ref()),
                }
            }));
        }
    }
    json!({ "Records": records })
}
