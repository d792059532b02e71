//! The publisher against EventBridge on moto: events reach the rules that
//! subscribe to them (here an SQS queue, as LOCAL-AWS.md advises), with the
//! event's name as detail-type and its JSON as detail.

use std::sync::Arc;

use aws_sdk_eventbridge::config::{BehaviorVersion, Credentials, Region};
use kontor_eventbridge::{EventBridgePublisher, SOURCE};
use kontor_platform::{EventPublisher, PublishError, Store};
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::contract::placement;
use kontor_testkit::fixtures::product;
use kontor_testkit::moto::Moto;

fn credentials() -> Credentials {
    Credentials::new("test", "test", None, None, "moto")
}

fn eventbridge() -> aws_sdk_eventbridge::Client {
    aws_sdk_eventbridge::Client::from_conf(
        aws_sdk_eventbridge::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(Moto::shared().endpoint())
            .region(Region::new("eu-central-1"))
            .credentials_provider(credentials())
            .build(),
    )
}

fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .endpoint_url(Moto::shared().endpoint())
            .region(aws_sdk_sqs::config::Region::new("eu-central-1"))
            .credentials_provider(credentials())
            .build(),
    )
}

async fn real_events() -> Vec<kontor_domain::events::Event> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    store
        .put_product(&product("A", "10.00", 5, false), None)
        .await
        .unwrap();
    store
        .put_product(&product("B", "10.00", 5, false), None)
        .await
        .unwrap();
    store
        .commit_order(&placement(store.as_ref(), &[("A", 1), ("B", 1)], 1).await)
        .await
        .unwrap();
    store.pending_events(10).await.unwrap()
}

#[tokio::test]
async fn events_reach_the_rules_that_subscribe_to_them() {
    let events_client = eventbridge();
    let queues = sqs();
    events_client
        .create_event_bus()
        .name("kontor-publisher-test")
        .send()
        .await
        .unwrap();
    let queue_url = queues
        .create_queue()
        .queue_name("notifier-test")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = queues
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    events_client
        .put_rule()
        .name("order-placed")
        .event_bus_name("kontor-publisher-test")
        .event_pattern(format!(
            r#"{{"source":["{SOURCE}"],"detail-type":["OrderPlaced"]}}"#
        ))
        .send()
        .await
        .unwrap();
    events_client
        .put_targets()
        .rule("order-placed")
        .event_bus_name("kontor-publisher-test")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(queue_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let publisher = EventBridgePublisher::new(events_client, "kontor-publisher-test");
    let events = real_events().await;
    assert_eq!(events.len(), 3);
    let failed = publisher.publish(&events).await.unwrap();
    assert!(failed.is_empty());

    let messages = queues
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(messages.len(), 1, "only OrderPlaced matches the rule");
    let envelope: serde_json::Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    assert_eq!(envelope["source"], SOURCE);
    assert_eq!(envelope["detail-type"], "OrderPlaced");
    assert_eq!(envelope["detail"]["event_id"], events[0].event_id.as_str());
    assert_eq!(envelope["detail"]["order_version"], 1);
}

#[tokio::test]
async fn more_than_ten_events_are_refused_before_sending() {
    let publisher = EventBridgePublisher::new(eventbridge(), "kontor");
    let events: Vec<_> = std::iter::repeat_n(real_events().await[0].clone(), 11).collect();
    assert!(matches!(
        publisher.publish(&events).await,
        Err(PublishError::Rejected(_))
    ));
}
