//! Faults from AWS, end to end: the real SDK clients talk HTTP to an
//! endpoint that throttles or fails every call (after the SDK's own
//! retries), and the code above them must answer in a way that loses
//! nothing — 503 `problem+json` with `Retry-After` from every HTTP route on
//! DynamoDB, a batch item failure from the outbox relay on EventBridge, a
//! redelivery request from the notifier on SES — and never panic.

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use kontor_domain::events::Event;
use kontor_eventbridge::EventBridgePublisher;
use kontor_notifications::ShopDetails;
use kontor_notifier::Notifier;
use kontor_outbox_relay::{relay, StreamEvent};
use kontor_platform::{ConsumeError, EventConsumer, IdSource, Mailer, SequentialIds, Store};
use kontor_ses::SesMailer;
use kontor_store_dynamodb::DynamoStore;
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::faults::{Fault, FaultServer};
use kontor_testkit::fixtures::{checkout_body, state_over};
use kontor_testkit::http::{TestApp, TestResponse};
use kontor_testkit::moto::workspace_root;
use support::sdk_config_at;

mod support;

/// The SDK's standard retries (three attempts), with short pauses so the
/// test does not wait out real back-off.
fn config(server: &FaultServer) -> aws_config::SdkConfig {
    sdk_config_at(server.endpoint())
        .into_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .build()
}

fn assert_try_later(response: &TestResponse, route: &str) {
    assert_eq!(response.status, 503, "{route}: {}", response.text);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json"),
        "{route}"
    );
    let retry_after: u64 = response
        .header("retry-after")
        .unwrap_or_else(|| panic!("{route}: no Retry-After"))
        .parse()
        .expect("Retry-After in seconds");
    assert!(retry_after >= 1, "{route}");
}

async fn every_route_says_try_later(fault: Fault) {
    let server = FaultServer::start(fault).await;
    let client = aws_sdk_dynamodb::Client::new(&config(&server));
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(client, "kontor"));
    let state = state_over(store);
    let catalog = TestApp::new(kontor_catalog::router(), state.clone());
    let checkout = TestApp::new(kontor_checkout::router(), state.clone());
    let orders = TestApp::new(kontor_orders::router(), state.clone());

    assert_try_later(&catalog.get("/catalog/products").await, "catalog");
    assert_try_later(&catalog.get("/catalog/products/BELT").await, "product");
    let cart =
        serde_json::json!({"lines": [{"sku": "BELT", "quantity": 1}], "shipping_country": "DE"});
    assert_try_later(&checkout.post("/cart/evaluate", &cart, &[]).await, "cart");
    let body = checkout_body(&[("BELT", 1)]);
    assert_try_later(
        &checkout
            .post("/checkout", &body, &[("Idempotency-Key", "fault-1")])
            .await,
        "checkout",
    );
    let id = SequentialIds::default().order_id();
    assert_try_later(
        &orders.get(&format!("/orders/{id}?token=abc")).await,
        "order",
    );
    assert_eq!(
        server.requests(),
        5 * 3,
        "each call tried three times by the SDK"
    );
}

#[tokio::test]
async fn a_throttled_table_makes_every_route_answer_503_with_retry_after() {
    every_route_says_try_later(Fault::json_throttling()).await;
}

#[tokio::test]
async fn a_failing_table_makes_every_route_answer_503_with_retry_after() {
    every_route_says_try_later(Fault::json_internal_error()).await;
}

fn sample(name: &str) -> serde_json::Value {
    let path = workspace_root().join("events/samples").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn a_throttled_bus_leaves_the_batch_to_be_delivered_again() {
    let server = FaultServer::start(Fault::json_throttling()).await;
    let publisher =
        EventBridgePublisher::new(aws_sdk_eventbridge::Client::new(&config(&server)), "kontor");
    let stream: StreamEvent = serde_json::from_value(sample("outbox-relay.stream.json")).unwrap();
    let first = stream.records[0].dynamodb.sequence_number.clone();
    let store = SqliteStore::in_memory().unwrap();

    let answer = relay(&stream, &publisher, &store).await;

    let failures: Vec<&str> = answer
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(
        failures,
        [first.as_str()],
        "the stream resumes at the first record"
    );
    assert!(
        server.requests() >= 3,
        "the SDK and the relay both tried again"
    );
}

#[tokio::test]
async fn a_throttled_mail_service_asks_for_the_event_again_and_records_nothing() {
    let server = FaultServer::start(Fault::rest_too_many_requests()).await;
    let mailer: Arc<dyn Mailer> = Arc::new(SesMailer::new(
        aws_sdk_sesv2::Client::new(&config(&server)),
        "shop@kontor.example",
    ));
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    let notifier = Notifier::new(store.clone(), mailer, ShopDetails::default());
    let event: Event =
        serde_json::from_value(sample("OrderPlaced.eventbridge.json")["detail"].clone()).unwrap();

    let outcome = notifier.handle(&event).await;

    assert!(
        matches!(outcome, Err(ConsumeError::Retryable(_))),
        "{outcome:?}"
    );
    assert!(
        !store
            .has_processed(notifier.name(), &event.event_id)
            .await
            .unwrap(),
        "not noted as sent, so the redelivery sends it"
    );
    assert_eq!(server.requests(), 3, "the SDK tried three times");
}

/// DynamoDB cancels a transaction with `TransactionConflict` when another
/// one touches the same items at the same moment (moto, serving one
/// request at a time, never does): the checkout and the order writer
/// decide again on a fresh read, so the shopper's order and the staff's
/// change land once; a conflict that never ends is a 503 with
/// `Retry-After`, and nothing is written.
#[tokio::test]
async fn a_transaction_conflict_is_decided_again() {
    use kontor_platform::store::roles::*;
    use kontor_testkit::faults::FlakyProxy;

    let proxy = FlakyProxy::start(
        &kontor_testkit::moto::Moto::shared().endpoint(),
        "DynamoDB_20120810.TransactWriteItems",
        Fault::transaction_conflict(),
    )
    .await;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config_at(proxy.endpoint()));
    kontor_store_dynamodb::table::create_table(&client, "kontor-conflicts")
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(client, "kontor-conflicts"));
    store
        .put_product(
            &kontor_testkit::fixtures::product("BELT", "34.90", 5, false),
            None,
        )
        .await
        .unwrap();
    let state = state_over(store.clone());
    let router = kontor_checkout::router().merge(kontor_order_lifecycle::router());
    let app = TestApp::new(router, state);
    let staff = app.as_staff();
    let stock = || async {
        store
            .get_product(&kontor_domain::Sku::parse("BELT").unwrap())
            .await
            .unwrap()
            .unwrap()
            .stock
    };
    // A checkout whose transaction is cancelled by a conflict tries again
    // and places its order once.
    let mut ids = Vec::new();
    for key in ["conflict-1", "conflict-2"] {
        proxy.fail_next(1);
        let placed = app
            .post(
                "/checkout",
                &checkout_body(&[("BELT", 2)]),
                &[("Idempotency-Key", key)],
            )
            .await;
        assert_eq!(placed.status, 201, "{}", placed.text);
        ids.push(placed.json()["id"].as_str().unwrap().to_string());
    }
    assert_eq!(proxy.injected(), 2);
    assert_eq!(stock().await, 1, "two orders of two belts, each taken once");
    // Under conflicts that never end, the shopper is asked to retry, and
    // nothing is written.
    proxy.fail_next(usize::MAX);
    let busy = app
        .post(
            "/checkout",
            &checkout_body(&[("BELT", 1)]),
            &[("Idempotency-Key", "conflict-3")],
        )
        .await;
    assert_try_later(&busy, "checkout under endless conflicts");
    proxy.fail_next(0);
    assert_eq!(stock().await, 1);
    let injected_by_checkout = proxy.injected();

    proxy.fail_next(2);
    let cancelled = staff
        .post(
            &format!("/admin/orders/{}/cancel", ids[0]),
            &serde_json::json!({}),
            &[],
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(
        proxy.injected() - injected_by_checkout,
        2,
        "two conflicts, then the third try went through"
    );
    assert_eq!(stock().await, 3, "returned once");

    proxy.fail_next(usize::MAX);
    let busy = staff
        .post(
            &format!("/admin/orders/{}/cancel", ids[1]),
            &serde_json::json!({}),
            &[],
        )
        .await;
    assert_try_later(&busy, "cancel under endless conflicts");
    assert_eq!(
        proxy.injected() - injected_by_checkout,
        2 + kontor_http::order_writer::MAX_ATTEMPTS as usize,
        "bounded"
    );
    proxy.fail_next(0);
    assert_eq!(stock().await, 3, "nothing written");
    let order = store
        .get_order(&kontor_domain::OrderId::parse(&ids[1]).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, kontor_domain::order::OrderStatus::Open);
}
