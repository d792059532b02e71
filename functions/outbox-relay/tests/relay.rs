//! The relay against a publisher that refuses what it is told to, and a real
//! store: batches of at most 10, refused entries retried, nothing lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use kontor_domain::events::Event;
use kontor_domain::EventId;
use kontor_outbox_relay::{relay, BatchItemFailure, StreamEvent};
use kontor_platform::{EventPublisher, PublishError, Store, MAX_PUBLISH_BATCH};
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::contract::placement;
use kontor_testkit::fixtures::product;
use serde_json::json;

/// Takes events unless told to refuse an id (a number of times, or forever).
#[derive(Default)]
struct FakeBus {
    refusals: Mutex<HashMap<String, usize>>,
    calls: Mutex<Vec<usize>>,
    published: Mutex<Vec<String>>,
}

#[async_trait]
impl EventPublisher for FakeBus {
    async fn publish(&self, events: &[Event]) -> Result<Vec<EventId>, PublishError> {
        assert!(events.len() <= MAX_PUBLISH_BATCH, "batches of at most 10");
        self.calls.lock().unwrap().push(events.len());
        let mut refusals = self.refusals.lock().unwrap();
        let mut failed = Vec::new();
        for event in events {
            match refusals.get_mut(event.event_id.as_str()) {
                Some(left) if *left > 0 => {
                    *left -= 1;
                    failed.push(event.event_id.clone());
                }
                _ => self
                    .published
                    .lock()
                    .unwrap()
                    .push(event.event_id.to_string()),
            }
        }
        Ok(failed)
    }
}

/// A store with `orders` placed orders (3 events each: one order, two stock
/// changes) and the stream event that inserting their outbox rows produced.
async fn outbox(orders: u64) -> (Arc<dyn Store>, StreamEvent, Vec<Event>) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    store
        .put_product(&product("A", "10.00", 1000, false), None)
        .await
        .unwrap();
    store
        .put_product(&product("B", "10.00", 1000, false), None)
        .await
        .unwrap();
    for n in 1..=orders {
        store
            .commit_order(&placement(store.as_ref(), &[("A", 1), ("B", 1)], n).await)
            .await
            .unwrap();
    }
    let events = store.pending_events(1000).await.unwrap();
    let mut records: Vec<serde_json::Value> = events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            json!({
                "eventName": "INSERT",
                "dynamodb": {
                    "SequenceNumber": format!("{:05}", i * 2 + 1),
                    "NewImage": {
                        "PK": {"S": format!("OUTBOX#{}", event.event_id)},
                        "SK": {"S": "EVENT"},
                        "event": {"S": serde_json::to_string(event).unwrap()}
                    }
                }
            })
        })
        .collect();
    // Changes the relay must ignore: an order row, and an outbox row's removal.
    records.insert(1, json!({"eventName": "INSERT", "dynamodb": {"SequenceNumber": "00000", "NewImage": {"PK": {"S": "ORDER#x"}, "SK": {"S": "ORDER"}}}}));
    records.push(json!({"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "99999"}}));
    let stream: StreamEvent = serde_json::from_value(json!({"Records": records})).unwrap();
    (store, stream, events)
}

#[tokio::test]
async fn publishes_everything_in_batches_of_ten_and_marks_it() {
    let (store, stream, events) = outbox(8).await;
    let bus = FakeBus::default();
    let response = relay(&stream, &bus, store.as_ref()).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(*bus.calls.lock().unwrap(), [10, 10, 4]);
    let published = bus.published.lock().unwrap().clone();
    let expected: Vec<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    assert_eq!(published, expected, "every event once, in order");
    assert!(store.pending_events(100).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refused_entry_is_retried() {
    let (store, stream, events) = outbox(2).await;
    let bus = FakeBus::default();
    bus.refusals
        .lock()
        .unwrap()
        .insert(events[4].event_id.to_string(), 2);
    let response = relay(&stream, &bus, store.as_ref()).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(*bus.calls.lock().unwrap(), [6, 1, 1]);
    assert_eq!(bus.published.lock().unwrap().len(), 6);
    assert!(store.pending_events(100).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_entry_that_keeps_failing_is_reported_not_dropped() {
    let (store, stream, events) = outbox(8).await;
    let bus = FakeBus::default();
    // The 14th event (second batch) is refused for good.
    bus.refusals
        .lock()
        .unwrap()
        .insert(events[13].event_id.to_string(), usize::MAX);
    let response = relay(&stream, &bus, store.as_ref()).await;
    assert_eq!(
        response.batch_item_failures,
        [BatchItemFailure {
            item_identifier: "00027".into()
        }]
    );
    let pending = store.pending_events(100).await.unwrap();
    assert_eq!(
        pending[0].event_id, events[13].event_id,
        "the refused event is still pending"
    );
    assert_eq!(
        pending.len(),
        24 - 19,
        "the third batch waits for the redelivery"
    );
    assert!(!bus
        .published
        .lock()
        .unwrap()
        .contains(&events[13].event_id.to_string()));
}

#[tokio::test]
async fn a_bus_that_is_down_loses_nothing() {
    struct Down;
    #[async_trait]
    impl EventPublisher for Down {
        async fn publish(&self, _: &[Event]) -> Result<Vec<EventId>, PublishError> {
            Err(PublishError::Unavailable("throttled".into()))
        }
    }
    let (store, stream, _) = outbox(1).await;
    let response = relay(&stream, &Down, store.as_ref()).await;
    assert_eq!(
        response.batch_item_failures,
        [BatchItemFailure {
            item_identifier: "00001".into()
        }]
    );
    assert_eq!(store.pending_events(100).await.unwrap().len(), 3);
}

#[test]
fn the_response_is_what_lambda_reads() {
    let response = kontor_outbox_relay::BatchResponse {
        batch_item_failures: vec![BatchItemFailure {
            item_identifier: "42".into(),
        }],
    };
    assert_eq!(
        serde_json::to_value(response).unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "42"}]})
    );
}

/// The sample in `events/samples/` (for `cargo lambda invoke`) is a stream
/// event the relay reads.
#[test]
fn the_sample_stream_event_holds_one_outbox_event() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/samples/outbox-relay.stream.json"
    );
    let stream: StreamEvent =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let events = kontor_outbox_relay::outbox_events(&stream);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1.as_ref().unwrap().name(), "OrderPlaced");
}

/// The stream gave a batch up: its rows are still pending. The sweep
/// publishes those old enough (oldest first), leaves the young ones to the
/// stream, and what still cannot go out stays pending for the next sweep.
#[tokio::test]
async fn a_sweep_publishes_what_the_stream_left_behind() {
    use kontor_outbox_relay::{sweep, Swept};
    let (store, _stream, events) = outbox(4).await;
    // Order n's events happened at 10:0n (the fixture's clock).
    let now = time::macros::datetime!(2026-11-28 10:07 UTC);
    let grace = time::Duration::minutes(5);
    let bus = FakeBus::default();
    bus.refusals
        .lock()
        .unwrap()
        .insert(events[0].event_id.to_string(), usize::MAX);
    let swept = sweep(&bus, store.as_ref(), now, grace, 100).await.unwrap();
    // Orders 1 and 2 (10:01, 10:02) are due; 3 and 4 are the stream's still.
    assert_eq!(
        swept,
        Swept {
            published: 5,
            left: 1
        }
    );
    let pending: Vec<_> = store
        .pending_events(100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(pending[0], events[0].event_id, "the refused one waits");
    assert_eq!(pending.len(), 1 + 6);
    // Later, with the bus well again, everything due goes out.
    bus.refusals.lock().unwrap().clear();
    let later = now + time::Duration::minutes(10);
    let swept = sweep(&bus, store.as_ref(), later, grace, 100)
        .await
        .unwrap();
    assert_eq!(
        swept,
        Swept {
            published: 7,
            left: 0
        }
    );
    assert!(store.pending_events(100).await.unwrap().is_empty());
    assert_eq!(bus.published.lock().unwrap().len(), 12, "each event once");
}
