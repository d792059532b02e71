//! Faults from AWS, end to end: the real SDK clients talk HTTP to an
//! endpoint that throttles or fails every call (after the SDK's own
//! retries), and the code above them must answer in a way that loses
//! nothing — 503 `problem+json` with `Retry-After` from every HTTP route on
//! DynamoDB, a batch item failure from the outbox relay on EventBridge, a
//! redelivery request from the notifier on SES — and never panic.

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use kontor_domain::carrier::TrackingService;
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

/// One request: the method, the documented path, the URI sent, the JSON
/// body (`null` for none) and extra headers.
type RouteCall = (
    &'static str,
    &'static str,
    String,
    serde_json::Value,
    Vec<(&'static str, String)>,
);

/// A request for every route of the API, as a caller allowed to make it
/// would send it (valid body, token, signature), so that what it meets is
/// the store and not a refusal of its input.
fn every_route(state: &kontor_http::AppState) -> Vec<RouteCall> {
    use serde_json::json;
    let id = SequentialIds::default().order_id().to_string();
    let signed = |body: &serde_json::Value| {
        kontor_platform::webhooks::signature_header(
            b"local-webhook-secret",
            state.clock.now().unix_timestamp(),
            body.to_string().as_bytes(),
        )
    };
    let message =
        json!({"event_id": "e1", "tracking_number": "00340434161094042557", "status": "delivered"});
    let service_signed = |service: TrackingService, body: &serde_json::Value| {
        kontor_platform::webhooks::body_signature(
            service,
            b"local-webhook-secret",
            body.to_string().as_bytes(),
        )
    };
    let aftership = json!({"event": "tracking_update", "event_id": "a1", "ts": 1795860000,
        "msg": {"tracking_number": "00340434161094042557", "tag": "Delivered"}});
    let sendcloud = json!({"action": "parcel_status_changed", "timestamp": 1795860000000i64,
        "parcel": {"id": 1, "tracking_number": "00340434161094042557", "status": {"id": 11, "message": "Delivered"}}});
    let none = serde_json::Value::Null;
    let key = |k: &str| vec![("Idempotency-Key", k.to_string())];
    vec![
        (
            "get",
            "/catalog/products",
            "/catalog/products".into(),
            none.clone(),
            vec![],
        ),
        (
            "get",
            "/catalog/products/{sku}",
            "/catalog/products/BELT".into(),
            none.clone(),
            vec![],
        ),
        (
            "post",
            "/cart/evaluate",
            "/cart/evaluate".into(),
            json!({"lines": [{"sku": "BELT", "quantity": 1}], "shipping_country": "DE"}),
            vec![],
        ),
        (
            "post",
            "/checkout",
            "/checkout".into(),
            checkout_body(&[("BELT", 1)]),
            key("fault-1"),
        ),
        (
            "post",
            "/me/checkout",
            "/me/checkout".into(),
            checkout_body(&[("BELT", 1)]),
            key("fault-2"),
        ),
        (
            "get",
            "/orders/{id}",
            format!("/orders/{id}?token=abc"),
            none.clone(),
            vec![],
        ),
        (
            "post",
            "/orders/{id}/cancel",
            format!("/orders/{id}/cancel?token=abc"),
            none.clone(),
            vec![],
        ),
        (
            "get",
            "/me/orders",
            "/me/orders".into(),
            none.clone(),
            vec![],
        ),
        (
            "get",
            "/me/orders/{id}",
            format!("/me/orders/{id}"),
            none.clone(),
            vec![],
        ),
        (
            "post",
            "/me/orders/{id}/cancel",
            format!("/me/orders/{id}/cancel"),
            none.clone(),
            vec![],
        ),
        (
            "get",
            "/admin/orders",
            "/admin/orders".into(),
            none.clone(),
            vec![],
        ),
        (
            "get",
            "/admin/orders/{id}",
            format!("/admin/orders/{id}"),
            none.clone(),
            vec![],
        ),
        (
            "get",
            "/admin/products",
            "/admin/products".into(),
            none.clone(),
            vec![],
        ),
        (
            "patch",
            "/admin/products/{sku}",
            "/admin/products/BELT".into(),
            json!({"version": 1, "stock": 5}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/shipments",
            format!("/admin/orders/{id}/shipments"),
            json!({"items": [{"line_id": "L1", "quantity": 1}]}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/shipments/{sid}/status",
            format!("/admin/orders/{id}/shipments/S1/status"),
            json!({"status": "shipped"}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/shipments/{sid}/send-tracking",
            format!("/admin/orders/{id}/shipments/S1/send-tracking"),
            none.clone(),
            vec![],
        ),
        (
            "get",
            "/admin/carriers",
            "/admin/carriers".into(),
            none.clone(),
            vec![],
        ),
        (
            "put",
            "/admin/carriers",
            "/admin/carriers".into(),
            json!({"templates": {}, "version": 0}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/cancel",
            format!("/admin/orders/{id}/cancel"),
            json!({}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/payments",
            format!("/admin/orders/{id}/payments"),
            json!({"amount": "1.00", "date": "2026-11-28", "reference": "bank"}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/lines",
            format!("/admin/orders/{id}/lines"),
            json!({"sku": "BELT", "quantity": 1, "unit_price": "0", "version": 1}),
            vec![],
        ),
        (
            "post",
            "/admin/orders",
            "/admin/orders".into(),
            json!({"email": "eva@example.de", "shipping_address": {"name": "Eva Muster", "street": "Ring 1", "postal_code": "50667", "city": "Köln", "country": "DE"}, "lines": [{"sku": "BELT", "quantity": 1}], "payment_method": "invoice"}),
            vec![("Idempotency-Key", "phone-1".to_string())],
        ),
        (
            "post",
            "/orders/{id}/returns",
            format!("/orders/{id}/returns?token=anything"),
            json!({"lines": [{"line_id": "L1", "quantity": 1, "reason": "too small"}], "requested_action": "refund"}),
            vec![],
        ),
        (
            "post",
            "/me/orders/{id}/returns",
            format!("/me/orders/{id}/returns"),
            json!({"lines": [{"line_id": "L1", "quantity": 1, "reason": "too small"}], "requested_action": "refund"}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/returns",
            format!("/admin/orders/{id}/returns"),
            json!({"lines": [{"line_id": "L1", "quantity": 1, "reason": "too small"}], "requested_action": "refund"}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/returns/{rid}/approve",
            format!("/admin/orders/{id}/returns/R1/approve"),
            json!({"version": 1}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/returns/{rid}/reject",
            format!("/admin/orders/{id}/returns/R1/reject"),
            json!({"reason": "worn", "version": 1}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/returns/{rid}/receive",
            format!("/admin/orders/{id}/returns/R1/receive"),
            json!({"lines": [{"line_id": "L1", "quantity": 1, "restock": true}], "version": 1}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/returns/{rid}/refund",
            format!("/admin/orders/{id}/returns/R1/refund"),
            json!({"version": 1}),
            vec![],
        ),
        (
            "get",
            "/admin/credit-notes",
            "/admin/credit-notes".into(),
            none.clone(),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/shipments/{sid}/receive-back",
            format!("/admin/orders/{id}/shipments/S1/receive-back"),
            json!({"restock": true, "version": 1}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/returns/{rid}/close",
            format!("/admin/orders/{id}/returns/R1/close"),
            json!({"version": 1}),
            vec![],
        ),
        (
            "patch",
            "/admin/orders/{id}/lines/{line_id}",
            format!("/admin/orders/{id}/lines/L1"),
            json!({"quantity": 2, "version": 1}),
            vec![],
        ),
        (
            "delete",
            "/admin/orders/{id}/lines/{line_id}",
            format!("/admin/orders/{id}/lines/L1?version=1"),
            none.clone(),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/adjustments",
            format!("/admin/orders/{id}/adjustments"),
            json!({"amount": "-1.00", "reason": "sorry", "version": 1}),
            vec![],
        ),
        (
            "put",
            "/admin/orders/{id}/addresses",
            format!("/admin/orders/{id}/addresses"),
            json!({"billing_address": {"name": "Eva Muster", "street": "Ring 1", "postal_code": "50667", "city": "Köln", "country": "DE"}, "version": 1}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/notes",
            format!("/admin/orders/{id}/notes"),
            json!({"text": "customer called"}),
            vec![],
        ),
        (
            "post",
            "/admin/orders/{id}/complete",
            format!("/admin/orders/{id}/complete"),
            json!({}),
            vec![],
        ),
        (
            "post",
            "/webhooks/carriers/{carrier}",
            "/webhooks/carriers/dhl".into(),
            message.clone(),
            vec![("Kontor-Signature", signed(&message))],
        ),
        (
            "post",
            "/webhooks/aftership",
            "/webhooks/aftership".into(),
            aftership.clone(),
            vec![(
                "aftership-hmac-sha256",
                service_signed(TrackingService::AfterShip, &aftership),
            )],
        ),
        (
            "post",
            "/webhooks/sendcloud",
            "/webhooks/sendcloud".into(),
            sendcloud.clone(),
            vec![(
                "Sendcloud-Signature",
                service_signed(TrackingService::Sendcloud, &sendcloud),
            )],
        ),
        (
            "post",
            "/me/cart/evaluate",
            "/me/cart/evaluate".into(),
            json!({"lines": [{"sku": "BELT", "quantity": 1}], "shipping_country": "DE"}),
            vec![],
        ),
        (
            "get",
            "/admin/rule-sets",
            "/admin/rule-sets".into(),
            none.clone(),
            vec![],
        ),
        (
            "post",
            "/admin/rule-sets",
            "/admin/rule-sets".into(),
            json!({"id": "new", "name": "New", "rule": {"field": "customer.is_new", "op": "eq", "value": true}}),
            vec![],
        ),
        (
            "get",
            "/admin/rule-sets/{id}",
            "/admin/rule-sets/new".into(),
            none.clone(),
            vec![],
        ),
        (
            "put",
            "/admin/rule-sets/{id}",
            "/admin/rule-sets/new".into(),
            json!({"name": "New", "rule": {"field": "customer.is_new", "op": "eq", "value": true}, "version": 1}),
            vec![],
        ),
        (
            "delete",
            "/admin/rule-sets/{id}",
            "/admin/rule-sets/new?version=1".into(),
            none.clone(),
            vec![],
        ),
        (
            "post",
            "/admin/rule-sets/{id}/simulate",
            "/admin/rule-sets/new/simulate".into(),
            json!({}),
            vec![],
        ),
        (
            "get",
            "/admin/discounts",
            "/admin/discounts".into(),
            none.clone(),
            vec![],
        ),
        (
            "post",
            "/admin/discounts",
            "/admin/discounts".into(),
            json!({"id": "ten", "name": "Ten", "kind": "percent", "percent": "10"}),
            vec![],
        ),
        (
            "get",
            "/admin/discounts/{id}",
            "/admin/discounts/ten".into(),
            none.clone(),
            vec![],
        ),
        (
            "put",
            "/admin/discounts/{id}",
            "/admin/discounts/ten".into(),
            json!({"id": "ten", "name": "Ten", "kind": "percent", "percent": "10", "version": 1}),
            vec![],
        ),
        (
            "delete",
            "/admin/discounts/{id}",
            "/admin/discounts/ten?version=1".into(),
            none.clone(),
            vec![],
        ),
        (
            "get",
            "/admin/offers",
            "/admin/offers".into(),
            none.clone(),
            vec![],
        ),
        (
            "post",
            "/admin/offers",
            "/admin/offers".into(),
            json!({"id": "box", "sku": "BELT"}),
            vec![],
        ),
        (
            "put",
            "/admin/offers/{id}",
            "/admin/offers/box".into(),
            json!({"id": "box", "sku": "BELT", "version": 1}),
            vec![],
        ),
        (
            "delete",
            "/admin/offers/{id}",
            "/admin/offers/box?version=1".into(),
            none.clone(),
            vec![],
        ),
        (
            "get",
            "/admin/customers",
            "/admin/customers?email=anna@example.de".into(),
            none.clone(),
            vec![],
        ),
        (
            "put",
            "/admin/customers/{id}/groups",
            "/admin/customers/cust-1/groups".into(),
            json!({"groups": ["vip"], "version": 1}),
            vec![],
        ),
    ]
}

async fn every_route_says_try_later(fault: Fault) {
    let server = FaultServer::start(fault).await;
    let client = aws_sdk_dynamodb::Client::new(&config(&server));
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(client, "kontor"));
    let state = state_over(store);
    let (router, openapi) = kontor::app::api();
    let documented: std::collections::BTreeSet<(String, String)> = openapi
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            let methods = [
                ("get", item.get.is_some()),
                ("post", item.post.is_some()),
                ("put", item.put.is_some()),
                ("patch", item.patch.is_some()),
                ("delete", item.delete.is_some()),
            ];
            methods
                .into_iter()
                .filter(|(_, present)| *present)
                .map(move |(method, _)| (method.to_string(), path.clone()))
        })
        .collect();
    let routes = every_route(&state);
    let covered: std::collections::BTreeSet<(String, String)> = routes
        .iter()
        .map(|(method, path, ..)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(covered, documented, "every route of the API is tried");

    let anyone = TestApp::from_router(router.with_state(state.clone()), state.clone());
    let staff = anyone.as_staff();
    let customer = anyone.as_customer("eva", "eva@example.de");
    let before = server.requests();
    for (method, path, uri, body, headers) in &routes {
        let caller = if path.starts_with("/admin/") {
            &staff
        } else if path.starts_with("/me/") {
            &customer
        } else {
            &anyone
        };
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = caller.request(method, uri, body, &headers).await;
        assert_try_later(&response, &format!("{method} {path}"));
    }
    // Each route reached the store (the SDK's retries come on top, until
    // its retry budget for a failing endpoint runs out).
    assert!(
        server.requests() - before >= routes.len(),
        "every route met the store"
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
    assert_eq!(
        proxy.injected(),
        2 + 5,
        "a checkout tries its transaction at most five times"
    );
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
