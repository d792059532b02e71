//! The AWS calls each workflow makes, counted by an SDK interceptor on the
//! real DynamoDB, EventBridge and SES clients (against moto). Each workflow
//! runs through the same handler, relay or consumer code its Lambda runs,
//! and its calls are asserted exactly: a change that adds a round trip fails
//! here, and `docs/figures.md` shows the same list.
//!
//! With `KONTOR_COST_CAPTURE=FILE` set, the test also writes every step's
//! calls with their request and response bodies, and a scan of the table
//! at the end, to FILE: `bench/cost.py` prices a stated traffic mix from
//! them (docs/COST.md).

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use kontor_eventbridge::EventBridgePublisher;
use kontor_notifications::ShopDetails;
use kontor_notifier::Notifier;
use kontor_outbox_relay::{outbox_events, relay, StreamEvent};
use kontor_platform::{EventConsumer, Mailer, Store};
use kontor_ses::SesMailer;
use kontor_store_dynamodb::{table, DynamoStore};
use kontor_testkit::fixtures::{checkout_body, product, state_over};
use kontor_testkit::http::TestApp;
use support::{sdk_config, stream_event};

mod support;

const TABLE: &str = "kontor-aws-calls";
const BUS: &str = "kontor-aws-calls";
const SENDER: &str = "shop@kontor.example";

/// Notes the service and operation of every SDK call, in order. It hooks in
/// before serialisation, which happens once per call (the operation's name
/// is not in the configuration yet when execution starts), so it counts
/// calls, not retry attempts. It keeps each call's request and response
/// body for the cost model (the last attempt's, should one be retried).
#[derive(Debug, Clone, Default)]
struct CallLog {
    calls: Arc<Mutex<Vec<Call>>>,
    steps: Arc<Mutex<Vec<serde_json::Value>>>,
}

#[derive(Debug, Clone)]
struct Call {
    name: String,
    request: Option<String>,
    response: Option<String>,
}

fn operation(cfg: &ConfigBag) -> String {
    let metadata = cfg
        .load::<Metadata>()
        .expect("every operation names itself");
    format!("{}.{}", metadata.service(), metadata.name())
}

fn text(bytes: Option<&[u8]>) -> String {
    String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "kontor-call-log"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.calls.lock().unwrap().push(Call {
            name: operation(cfg),
            request: None,
            response: None,
        });
        Ok(())
    }

    // Calls of one operation may run at once (the relay marks its events
    // together); a body goes to the first of them still without one, which
    // is all the cost model needs, since they are of one kind.
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let body = text(context.request().body().bytes());
        self.first_without(&operation(cfg), |call| &mut call.request, body);
        Ok(())
    }

    // After deserialisation: only then is the whole body in memory.
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let body = text(context.response().body().bytes());
        self.first_without(&operation(cfg), |call| &mut call.response, body);
        Ok(())
    }
}

impl CallLog {
    /// Gives `body` to the first call of operation `name` whose `slot` is
    /// still empty.
    fn first_without(&self, name: &str, slot: fn(&mut Call) -> &mut Option<String>, body: String) {
        let mut calls = self.calls.lock().unwrap();
        if let Some(empty) = calls
            .iter_mut()
            .filter(|call| call.name == name)
            .map(slot)
            .find(|slot| slot.is_none())
        {
            *empty = Some(body);
        }
    }

    /// The calls since the last `take` or `step`, forgotten.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().unwrap())
            .into_iter()
            .map(|call| call.name)
            .collect()
    }

    /// The calls since the last `take` or `step`, kept for the cost model
    /// as the calls of one `step` of a workflow.
    fn step(&self, step: &str) -> Vec<String> {
        let calls = std::mem::take(&mut *self.calls.lock().unwrap());
        let names = calls.iter().map(|call| call.name.clone()).collect();
        self.steps.lock().unwrap().push(serde_json::json!({
            "step": step,
            "calls": calls.into_iter().map(|call| serde_json::json!({
                "call": call.name, "request": call.request, "response": call.response,
            })).collect::<Vec<_>>(),
        }));
        names
    }

    /// Writes the steps to the file `KONTOR_COST_CAPTURE` names, if set.
    fn write_capture(&self) {
        if let Some(path) = std::env::var_os("KONTOR_COST_CAPTURE") {
            let steps = self.steps.lock().unwrap().clone();
            let capture = serde_json::json!({"table": TABLE, "steps": steps});
            std::fs::write(path, serde_json::to_vec_pretty(&capture).unwrap())
                .expect("the capture file is writable");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_workflow_makes_the_calls_documented_in_figures() {
    let config = sdk_config();
    let calls = CallLog::default();
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config)
            .interceptor(calls.clone())
            .build(),
    );
    let eventbridge = aws_sdk_eventbridge::Client::from_conf(
        aws_sdk_eventbridge::config::Builder::from(&config)
            .interceptor(calls.clone())
            .build(),
    );
    let ses = aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(&config)
            .interceptor(calls.clone())
            .build(),
    );

    table::create_table(&dynamodb, TABLE).await.unwrap();
    eventbridge
        .create_event_bus()
        .name(BUS)
        .send()
        .await
        .unwrap();
    ses.create_email_identity()
        .email_identity(SENDER)
        .send()
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(dynamodb.clone(), TABLE));
    store
        .put_product(&product("SHIRT", "29.90", 10, false), None)
        .await
        .unwrap();
    let mut belt = product("BELT", "19.90", 10, false);
    belt.cross_sell = vec![kontor_domain::Sku::parse("SHIRT").unwrap()];
    belt.checkout_sell = vec![kontor_domain::Sku::parse("SHIRT").unwrap()];
    store.put_product(&belt, None).await.unwrap();
    let state = state_over(store.clone());
    calls.take();

    let catalog = TestApp::new(kontor_catalog::router(), state.clone());
    let checkout = TestApp::new(
        kontor_checkout::router().merge(kontor_rule_evaluation::router()),
        state.clone(),
    );
    let orders = TestApp::new(kontor_orders::router(), state.clone());

    assert_eq!(catalog.get("/catalog/products").await.status, 200);
    assert_eq!(
        calls.step("catalog_listing"),
        ["DynamoDB.Query"],
        "the catalog is one page of one index"
    );

    assert_eq!(catalog.get("/catalog/products/BELT").await.status, 200);
    assert_eq!(
        calls.step("product_page"),
        ["DynamoDB.GetItem", "DynamoDB.BatchGetItem"],
        "a product, then its cross-sells in one batch"
    );

    let cart =
        serde_json::json!({"lines": [{"sku": "BELT", "quantity": 1}], "shipping_country": "DE"});
    assert_eq!(
        checkout.post("/cart/evaluate", &cart, &[]).await.status,
        200
    );
    assert_eq!(
        calls.step("cart_evaluation"),
        ["DynamoDB.BatchGetItem", "DynamoDB.BatchGetItem"],
        "the cart's products, then the checkout-sell suggestions not in the cart"
    );
    // A cart whose products suggest nothing (or only what is in it) reads
    // its products alone.
    let plain = serde_json::json!({"lines": [{"sku": "SHIRT", "quantity": 1}, {"sku": "BELT", "quantity": 1}], "shipping_country": "DE"});
    assert_eq!(
        checkout.post("/cart/evaluate", &plain, &[]).await.status,
        200
    );
    assert_eq!(
        calls.step("cart_evaluation_plain"),
        ["DynamoDB.BatchGetItem"],
        "no suggestions to read"
    );

    let body = checkout_body(&[("BELT", 1), ("SHIRT", 2)]);
    let placed = checkout
        .post("/checkout", &body, &[("Idempotency-Key", "calls-1")])
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_eq!(
        calls.step("checkout"),
        ["DynamoDB.BatchGetItem", "DynamoDB.TransactWriteItems"],
        "a checkout is one read round trip and one transaction"
    );

    let retried = checkout
        .post("/checkout", &body, &[("Idempotency-Key", "calls-1")])
        .await;
    assert_eq!(retried.status, 201);
    assert_eq!(
        calls.step("checkout_retry"),
        ["DynamoDB.BatchGetItem"],
        "a retry only reads its first answer"
    );

    let order = placed.json();
    let uri = format!(
        "/orders/{}?token={}",
        order["id"].as_str().unwrap(),
        order["access_token"].as_str().unwrap()
    );
    assert_eq!(orders.get(&uri).await.status, 200);
    assert_eq!(
        calls.step("order_view"),
        ["DynamoDB.Query"],
        "an order and its history are one item collection"
    );

    // The relay gets the table's stream, as the event source mapping hands it over.
    let stream: StreamEvent = serde_json::from_value(stream_event(&config, TABLE).await).unwrap();
    calls.take();
    let events = outbox_events(&stream).len();
    assert_eq!(events, 3, "OrderPlaced and one StockChanged per product");
    let publisher = EventBridgePublisher::new(eventbridge.clone(), BUS);
    let answer = relay(&stream, &publisher, store.as_ref()).await;
    assert!(answer.batch_item_failures.is_empty());
    let mut expected = vec!["EventBridge.PutEvents".to_string()];
    expected.extend(std::iter::repeat_n(
        "DynamoDB.UpdateItem".to_string(),
        events,
    ));
    assert_eq!(
        calls.step("relay"),
        expected,
        "one PutEvents per ten events, one mark per event"
    );

    let order_placed = outbox_events(&stream)
        .into_iter()
        .filter_map(|(_, event)| event.ok())
        .find(|event| event.payload.name() == "OrderPlaced")
        .expect("OrderPlaced in the stream");
    let mailer: Arc<dyn Mailer> = Arc::new(SesMailer::new(ses.clone(), SENDER));
    let notifier = Notifier::new(store.clone(), mailer, ShopDetails::default());
    notifier.handle(&order_placed).await.unwrap();
    assert_eq!(
        calls.step("email"),
        ["DynamoDB.PutItem", "SESv2.SendEmail", "DynamoDB.PutItem"],
        "claim the e-mail, send, note it sent"
    );
    notifier.handle(&order_placed).await.unwrap();
    assert_eq!(
        calls.step("email_repeat"),
        ["DynamoDB.PutItem"],
        "a repeated event's claim is refused, with the record that refused it"
    );

    // Staff pack a parcel of the order and ship it; a carrier delivers it.
    let staff = TestApp::new(kontor_shipment::router(), state.clone()).as_staff();
    let id = order["id"].as_str().unwrap();
    let body = serde_json::json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "dhl", "tracking_number": "00340434161094042557"});
    let packed = staff
        .post(&format!("/admin/orders/{id}/shipments"), &body, &[])
        .await;
    assert_eq!(packed.status, 201, "{}", packed.text);
    assert_eq!(
        calls.step("parcel_packed"),
        [
            "DynamoDB.Query",
            "DynamoDB.GetItem",
            "DynamoDB.TransactWriteItems"
        ],
        "the order, the link templates, one transaction (with a BatchGetItem more only for backordered lines)"
    );
    // Backordered units take stock when packed: their products are read
    // first, in one batch.
    let mut jacket = product("JACKET", "99.00", 0, true);
    jacket.allow_backorder = true;
    store.put_product(&jacket, None).await.unwrap();
    let backordered = checkout
        .post(
            "/checkout",
            &checkout_body(&[("JACKET", 1)]),
            &[("Idempotency-Key", "calls-backorder")],
        )
        .await
        .json();
    let restocked = store
        .get_product(&kontor_domain::Sku::parse("JACKET").unwrap())
        .await
        .unwrap()
        .unwrap();
    store
        .put_product(
            &kontor_domain::product::Product {
                stock: 3,
                ..restocked.clone()
            },
            Some(restocked.version),
        )
        .await
        .unwrap();
    calls.take();
    let late = staff
        .post(
            &format!(
                "/admin/orders/{}/shipments",
                backordered["id"].as_str().unwrap()
            ),
            &serde_json::json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "dhl", "tracking_number": "00340434161094042564"}),
            &[],
        )
        .await;
    assert_eq!(late.status, 201, "{}", late.text);
    assert_eq!(
        calls.step("parcel_packed_backordered"),
        [
            "DynamoDB.Query",
            "DynamoDB.BatchGetItem",
            "DynamoDB.GetItem",
            "DynamoDB.TransactWriteItems"
        ],
        "the order, the backordered products, the link templates, one transaction"
    );

    let shipped = serde_json::json!({"status": "shipped"});
    assert_eq!(
        staff
            .post(
                &format!("/admin/orders/{id}/shipments/S1/status"),
                &shipped,
                &[]
            )
            .await
            .status,
        200
    );
    assert_eq!(
        calls.step("parcel_status"),
        [
            "DynamoDB.Query",
            "DynamoDB.GetItem",
            "DynamoDB.TransactWriteItems"
        ]
    );
    let webhooks = TestApp::new(kontor_tracking_update::router(), state.clone());
    let message = serde_json::json!({"event_id": "dhl-1", "tracking_number": "00340434161094042557", "status": "delivered"}).to_string();
    let signature = kontor_platform::webhooks::signature_header(
        b"local-webhook-secret",
        state.clock.now().unix_timestamp(),
        message.as_bytes(),
    );
    let delivered = webhooks
        .post_raw(
            "/webhooks/carriers/dhl",
            &message,
            &[("Kontor-Signature", signature.as_str())],
        )
        .await;
    assert_eq!(delivered.status, 200, "{}", delivered.text);
    assert_eq!(
        calls.step("carrier_event"),
        [
            "DynamoDB.GetItem",
            "DynamoDB.Query",
            "DynamoDB.GetItem",
            "DynamoDB.TransactWriteItems"
        ],
        "the tracking claim, the order, the link templates, one transaction"
    );
    let repeat = webhooks
        .post_raw(
            "/webhooks/carriers/dhl",
            &message,
            &[("Kontor-Signature", signature.as_str())],
        )
        .await;
    assert_eq!(repeat.status, 202);
    assert_eq!(
        calls.step("carrier_event_repeat"),
        ["DynamoDB.GetItem", "DynamoDB.Query"],
        "a repeat is two reads and no write"
    );

    // Every item as it is at the end, for the sizes of the items that
    // updates changed in place.
    let mut start = None;
    loop {
        let page = dynamodb
            .scan()
            .table_name(TABLE)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    calls.step("table_scan");
    calls.write_capture();
}
