//! Fuzzing on stable Rust: proptest drives arbitrary input through the
//! parsers that face the network (carriers' signature headers, order
//! search text, money) and through every operation `/openapi.json`
//! describes — bodies built from the field names the document knows, with
//! extreme and malformed values, and query strings — in process, as staff,
//! as a shopper and as nobody. No input may panic or be answered with a
//! 5xx.
//!
//! `KONTOR_FUZZ_CASES` sets the cases per target (48 by default, a short
//! run for CI); `docs/RELIABILITY.md` has the longer runs and their counts.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use kontor::local_auth::LocalTokens;
use kontor_domain::money::{round_to_minor_unit, Currency, Money};
use kontor_domain::search::{name_tokens, OrderLookup};
use kontor_domain::shipment::Carrier;
use kontor_domain::Email;
use kontor_platform::webhooks;
use kontor_platform::ShopSettings;
use kontor_testkit::fixtures::state_with;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tower::ServiceExt;

fn cases() -> u32 {
    std::env::var("KONTOR_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Strings that have broken parsers elsewhere: the largest decimals,
/// signs, exponents, empty and blank text, control characters, long text,
/// right-to-left and combining marks, injection attempts, dates at the
/// ends of the calendar.
const NASTY: &[&str] = &[
    "",
    " ",
    "0",
    "-0",
    "-1",
    "0.001",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "79228162514264337593543950335",
    "-79228162514264337593543950335",
    "7922816251426433759354395033.5",
    "1000000.00",
    "1000000.01",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "\u{0}",
    "\u{202e}evil",
    "e\u{301}\u{301}\u{301}",
    "'; DROP TABLE orders; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00",
    "0000-01-01",
    "9999-12-31T23:59:59Z",
    "-999999-01-01T00:00:00Z",
    "2026-02-30",
    "TR-CHINO-BEIGE",
    "BE-LEATHER-BROWN",
    "DE",
    "AT",
    "XX",
    "dhl",
    "invoice",
    "prepayment",
    "delivered",
    "in_transit",
    "percent",
    "free_item",
    "L1",
    "S1",
    "R1",
    "K-000000001",
    "00340434161094042557",
    "anna@example.de",
    "ANNA@EXAMPLE.DE ",
    "a@b",
    "2026-11-29",
    "2026-11-29T10:00:00Z",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(NASTY).prop_map(str::to_string),
        2 => "\\PC{0,24}",
        1 => ".{0,8}",
        1 => (1usize..5000).prop_map(|n| "x".repeat(n)),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![
            0i64,
            1,
            2,
            3,
            999,
            1000,
            1001,
            100_000,
            -1,
            i64::from(u32::MAX)
        ])
        .prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        text().prop_map(Value::from),
    ]
}

/// JSON of any shape, whose object keys are field names the API knows, so
/// that bodies get past the first field and into the handlers.
fn json_value(keys: Vec<String>) -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 8, move |inner| {
        let keys = keys.clone();
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(keys), inner, 0..10)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn body_value(keys: Vec<String>) -> impl Strategy<Value = Value> {
    let object_keys = keys.clone();
    prop_oneof![
        6 => prop::collection::btree_map(prop::sample::select(object_keys), json_value(keys.clone()), 0..12)
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        1 => json_value(keys),
    ]
}

/// Values as a request body's schema in the document describes them —
/// required fields present, enums and formats honoured, numbers at their
/// bounds — with one node in ten replaced by anything, so that the
/// fuzzing reaches the handlers' decisions and not only their parsers.
fn from_schema(schema: &Value, doc: &Value, depth: u32) -> BoxedStrategy<Value> {
    if depth > 6 {
        return leaf().boxed();
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/components/schemas/");
        return from_schema(&doc["components"]["schemas"][name], doc, depth + 1);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(options)) = schema.get(key) {
            let options: Vec<BoxedStrategy<Value>> = options
                .iter()
                .map(|o| from_schema(o, doc, depth + 1))
                .collect();
            if !options.is_empty() {
                return proptest::strategy::Union::new(options).boxed();
            }
        }
    }
    let shaped = shaped_by(schema, doc, depth);
    prop_oneof![9 => shaped, 1 => leaf()].boxed()
}

fn shaped_by(schema: &Value, doc: &Value, depth: u32) -> BoxedStrategy<Value> {
    if let Some(Value::Array(values)) = schema.get("enum") {
        return prop::sample::select(values.clone()).boxed();
    }
    let kind = match schema.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("null")
            .to_string(),
        _ if schema.get("properties").is_some() => "object".into(),
        _ => return leaf().boxed(),
    };
    match kind.as_str() {
        "object" => {
            let required: BTreeSet<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = schema["properties"]
                .as_object()
                .map(|properties| {
                    properties
                        .iter()
                        .map(|(name, property)| {
                            let name = name.clone();
                            let value = from_schema(property, doc, depth + 1);
                            if required.contains(name.as_str()) {
                                value.prop_map(move |v| Some((name.clone(), v))).boxed()
                            } else {
                                prop::option::of(value.prop_map(move |v| (name.clone(), v))).boxed()
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            fields
                .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
                .boxed()
        }
        "array" => prop::collection::vec(from_schema(&schema["items"], doc, depth + 1), 0..4)
            .prop_map(Value::Array)
            .boxed(),
        "integer" | "number" => {
            let mut edges = vec![0i64, 1, 2, 999, 1000, -1, i64::from(u32::MAX)];
            for bound in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
                if let Some(n) = schema.get(bound).and_then(Value::as_i64) {
                    edges.extend([n - 1, n, n + 1]);
                }
            }
            prop_oneof![
                prop::sample::select(edges).prop_map(Value::from),
                (0i64..50).prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
            ]
            .boxed()
        }
        "boolean" => any::<bool>().prop_map(Value::from).boxed(),
        "string" => {
            let samples: Vec<Value> = NASTY.iter().map(|s| Value::from(*s)).collect();
            let example = schema.get("example").cloned();
            let example_weight = if example.is_some() { 4 } else { 0 };
            prop_oneof![
                example_weight => Just(example.unwrap_or(Value::Null)),
                3 => prop::sample::select(samples),
                1 => text().prop_map(Value::from),
            ]
            .boxed()
        }
        _ => leaf().boxed(),
    }
}

/// Every property name of every schema in the document.
fn field_names(openapi: &Value) -> Vec<String> {
    fn walk(node: &Value, found: &mut BTreeSet<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get("properties") {
                    found.extend(properties.keys().cloned());
                }
                map.values().for_each(|v| walk(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    walk(openapi, &mut found);
    found.into_iter().collect()
}

/// The shop under test: the demo catalog, one guest order with a parcel
/// on its way (so order routes reach real state), tokens for staff and a
/// shopper, and the webhook secret and clock to sign carriers' messages.
struct Shop {
    app: axum::Router,
    openapi: Value,
    staff: String,
    shopper: String,
    order_id: String,
    order_token: String,
    webhook_secret: Vec<u8>,
    now_unix: i64,
}

async fn call(app: &axum::Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn json_request(method: &str, uri: &str, token: Option<&str>, body: &Value) -> Request<Body> {
    let mut request = Request::builder()
        .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
        .uri(uri)
        .header("content-type", "application/json")
        .header("idempotency-key", format!("fuzz-{}", rand_key(body)));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.body(Body::from(body.to_string())).unwrap()
}

/// A key per body, so repeats replay and the rest are new checkouts.
fn rand_key(body: &Value) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.to_string().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

async fn shop() -> Shop {
    let state = state_with(&kontor::seed::demo_catalog(&ShopSettings::default())).await;
    let tokens = LocalTokens::new(
        b"fuzz-test-key-fuzz-test-key-0123".to_vec(),
        Arc::clone(&state.clock),
    );
    let staff = tokens
        .issue(&Email::parse("lena@kontor.example").unwrap(), true)
        .token;
    let shopper = tokens
        .issue(&Email::parse("anna@example.de").unwrap(), false)
        .token;
    let webhook_secret = state
        .settings
        .webhook_secrets
        .for_carrier(Carrier::Dhl)
        .to_vec();
    let now_unix = state.clock.now().unix_timestamp();
    let storefront = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("storefront");
    let app = kontor::app::app(
        state,
        kontor::app::Local {
            tokens,
            outbox: None,
        },
        &storefront,
    );
    let (status, openapi) = call(
        &app,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, order) = call(
        &app,
        json_request(
            "post",
            "/checkout",
            None,
            &json!({
                "lines": [{"sku": "TR-CHINO-BEIGE", "quantity": 2}, {"sku": "BE-LEATHER-BROWN", "quantity": 1}],
                "email": "anna@example.de",
                "shipping_address": {"name": "Anna Muster", "street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
                "payment_method": "invoice"
            }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let order_id = order["id"].as_str().unwrap().to_string();
    let (status, parcel) = call(
        &app,
        json_request(
            "post",
            &format!("/admin/orders/{order_id}/shipments"),
            Some(&staff),
            &json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "dhl", "tracking_number": "00340434161094042557"}),
        ),
    )
    .await;
    assert!(status.is_success(), "{status} {parcel}");
    Shop {
        app,
        openapi,
        staff,
        shopper,
        order_token: order["access_token"].as_str().unwrap().to_string(),
        order_id,
        webhook_secret,
        now_unix,
    }
}

impl Shop {
    /// `path` with its parameters filled with ids that exist.
    fn uri(&self, path: &str) -> String {
        let uri = path
            .replace("{sku}", "TR-CHINO-BEIGE")
            .replace("{id}", &self.order_id)
            .replace("{sid}", "S1")
            .replace("{line_id}", "L1")
            .replace("{rid}", "R1")
            .replace("{carrier}", "dhl");
        if uri.starts_with("/orders/") {
            format!("{uri}?token={}", self.order_token)
        } else {
            uri
        }
    }

    fn token_for(&self, path: &str, who: usize) -> Option<&str> {
        match who % 3 {
            0 if path.starts_with("/me/") => Some(&self.shopper),
            0 => Some(&self.staff),
            1 => Some(&self.shopper),
            _ => None,
        }
    }

    /// (method, path, has a body) of every operation described.
    fn operations(&self) -> Vec<(String, String, bool)> {
        let mut found = Vec::new();
        for (path, item) in self.openapi["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    found.push((
                        method.clone(),
                        path.clone(),
                        operation.get("requestBody").is_some(),
                    ));
                }
            }
        }
        found
    }
}

fn no_server_error(status: StatusCode, what: &str, body: &Value) -> Result<(), TestCaseError> {
    prop_assert!(
        !status.is_server_error(),
        "{what} answered {status}: {body}"
    );
    Ok(())
}

/// Every operation with a body, with bodies of any shape built from the
/// document's field names, as staff, shopper and nobody.
#[test]
fn every_request_body() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let shop = rt.block_on(shop());
    let keys = field_names(&shop.openapi);
    assert!(keys.len() > 50, "the document names its fields");
    let tried = std::cell::Cell::new(0u64);
    let statuses = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u64>::new());
    for (method, path, has_body) in shop.operations() {
        if !has_body {
            continue;
        }
        let uri = shop.uri(&path);
        let schema = &shop.openapi["paths"][&path][&method]["requestBody"]["content"]
            ["application/json"]["schema"];
        let bodies = prop_oneof![
            3 => from_schema(schema, &shop.openapi, 0),
            1 => body_value(keys.clone()),
        ];
        runner()
            .run(&(bodies, who()), |(body, who)| {
                let request = json_request(&method, &uri, shop.token_for(&path, who), &body);
                let (status, answer) = rt.block_on(call(&shop.app, request));
                tried.set(tried.get() + 1);
                *statuses.borrow_mut().entry(status.as_u16()).or_default() += 1;
                no_server_error(status, &format!("{method} {path} with {body}"), &answer)
            })
            .unwrap_or_else(|failure| panic!("{failure}"));
    }
    eprintln!(
        "every_request_body: {} requests, by status {:?}",
        tried.get(),
        statuses.borrow()
    );
}

/// Staff most of the time (most operations are theirs), else a shopper or
/// nobody: see [`Shop::token_for`].
fn who() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(0usize), 1 => Just(1), 1 => Just(2)]
}

/// Every operation with query strings and raw bodies that are not JSON.
#[test]
fn every_query_string_and_raw_body() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let shop = rt.block_on(shop());
    let names: Vec<String> = vec![
        "q", "status", "limit", "cursor", "token", "dry_run", "payment", "shipping", "returns",
        "email", "country", "category", "from", "to", "page",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let tried = std::cell::Cell::new(0u64);
    for (method, path, _) in shop.operations() {
        let uri = shop.uri(&path);
        let query = prop::collection::vec((prop::sample::select(names.clone()), text()), 0..5);
        let raw = prop::collection::vec(any::<u8>(), 0..256);
        runner()
            .run(&(query, raw, who()), |(pairs, bytes, who)| {
                tried.set(tried.get() + 1);
                let mut target = url_with_query(&uri, &pairs);
                if target.len() > 8000 {
                    target.truncate(8000);
                }
                let mut request = Request::builder()
                    .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
                    .uri(&target)
                    .header("content-type", "application/json")
                    .header("idempotency-key", "fuzz-raw");
                if let Some(token) = shop.token_for(&path, who) {
                    request = request.header("authorization", format!("Bearer {token}"));
                }
                let Ok(request) = request.body(Body::from(bytes)) else {
                    return Ok(());
                };
                let (status, answer) = rt.block_on(call(&shop.app, request));
                no_server_error(status, &format!("{method} {target}"), &answer)
            })
            .unwrap_or_else(|failure| panic!("{failure}"));
    }
    eprintln!("every_query_string_and_raw_body: {} requests", tried.get());
}

fn url_with_query(uri: &str, pairs: &[(String, String)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    if encoded.is_empty() {
        return uri.to_string();
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{}", encoded.join("&"))
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends each value `strategy` makes, as the request `to_request` builds
/// from it, to a fresh shop, and fails on any 5xx; says how many it sent.
fn post_each<S>(
    name: &str,
    strategy: S,
    to_request: impl Fn(&Shop, &S::Value) -> (Request<Body>, String),
) where
    S: Strategy,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let shop = rt.block_on(shop());
    let tried = std::cell::Cell::new(0u64);
    runner()
        .run(&strategy, |value| {
            let (request, what) = to_request(&shop, &value);
            let (status, answer) = rt.block_on(call(&shop.app, request));
            tried.set(tried.get() + 1);
            no_server_error(status, &what, &answer)
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
    eprintln!("{name}: {} requests", tried.get());
}

/// Carrier messages in Kontor's envelope, signed right, of any shape and
/// with any status, location and time.
#[test]
fn carrier_messages() {
    let keys: Vec<String> = [
        "event_id",
        "tracking_number",
        "status",
        "occurred_at",
        "location",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let shaped = prop::collection::btree_map(prop::sample::select(keys.clone()), leaf(), 0..6)
        .prop_map(|map| Value::Object(map.into_iter().collect()));
    let statuses = prop::sample::select(vec![
        "in_transit",
        "out_for_delivery",
        "failed_attempt",
        "delivered",
        "returned_to_sender",
        "shipped",
        "pending",
        "transit",
        "unknown",
        "",
    ]);
    let well_formed = (text(), statuses, text(), text()).prop_map(|(event_id, status, location, at)| {
        json!({"event_id": event_id, "tracking_number": "00340434161094042557", "status": status, "location": location, "occurred_at": at})
    });
    post_each(
        "carrier_messages",
        prop_oneof![shaped, well_formed, json_value(keys)],
        |shop, message| {
            let body = message.to_string();
            let signature =
                webhooks::signature_header(&shop.webhook_secret, shop.now_unix, body.as_bytes());
            let request = Request::post("/webhooks/carriers/dhl")
                .header("content-type", "application/json")
                .header(webhooks::SIGNATURE_HEADER, signature)
                .body(Body::from(body))
                .unwrap();
            (request, format!("carrier message {message}"))
        },
    );
}

/// AfterShip's and Sendcloud's payloads, signed right, with any value in
/// any field (times at the ends of i64, numbers that are no tracking
/// numbers, statuses no table knows): an answer, never a 5xx.
#[test]
fn tracking_service_payloads() {
    use kontor_domain::carrier::TrackingService;
    let keys: Vec<String> = [
        "event",
        "event_id",
        "ts",
        "msg",
        "tracking_number",
        "tag",
        "subtag",
        "subtag_message",
        "checkpoints",
        "location",
        "city",
        "action",
        "timestamp",
        "carrier_status_change_timestamp",
        "parcel",
        "id",
        "status",
        "message",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let tags = prop::sample::select(vec![
        "InfoReceived",
        "InTransit",
        "OutForDelivery",
        "AvailableForPickup",
        "AttemptFail",
        "Delivered",
        "Exception",
        "Expired",
        "Pending",
        "",
    ]);
    let aftership = (text(), tags, text(), any::<i64>(), text()).prop_map(
        |(event_id, tag, subtag, ts, city)| {
            (
                TrackingService::AfterShip,
                json!({"event": "tracking_update", "event_id": event_id, "ts": ts,
                "msg": {"tracking_number": "00340434161094042557", "tag": tag, "subtag": subtag,
                        "checkpoints": [{"city": city}]}}),
            )
        },
    );
    let sendcloud = (any::<i64>(), any::<i64>(), any::<i64>(), text()).prop_map(
        |(parcel, status, at, message)| {
            (
                TrackingService::Sendcloud,
                json!({"action": "parcel_status_changed", "timestamp": at,
                "parcel": {"id": parcel, "tracking_number": "00340434161094042557",
                           "status": {"id": status, "message": message}}}),
            )
        },
    );
    let anything = (
        prop::sample::select(TrackingService::ALL.to_vec()),
        json_value(keys),
    );
    post_each(
        "tracking_service_payloads",
        prop_oneof![aftership, sendcloud, anything],
        |shop, (service, payload)| {
            let body = payload.to_string();
            let signature =
                webhooks::body_signature(*service, &shop.webhook_secret, body.as_bytes());
            let request = Request::post(format!("/webhooks/{}", service.code()))
                .header("content-type", "application/json")
                .header(webhooks::service_signature_header(*service), signature)
                .body(Body::from(body))
                .unwrap();
            (request, format!("{service} payload {payload}"))
        },
    );
}

proptest! {
    #![proptest_config(Config { cases: cases() * 20, failure_persistence: None, ..Config::default() })]

    /// Any signature header, with a timestamp anywhere in i64: an answer,
    /// never a panic; only the right signature passes.
    #[test]
    fn webhook_signature_headers(
        header in prop_oneof![
            ".{0,80}",
            (any::<i64>(), "[0-9a-fA-F]{0,70}").prop_map(|(t, v)| format!("t={t},v1={v}")),
            (any::<i64>(), any::<i64>()).prop_map(|(t, u)| format!("t={t},t={u},v1=00")),
        ],
        body in prop::collection::vec(any::<u8>(), 0..64),
        now in any::<i64>(),
    ) {
        let secret = b"carrier-secret-0123456789";
        prop_assert!(webhooks::verify(Some(&header), secret, &body, now).is_err());
        let good = webhooks::signature_header(secret, now, &body);
        prop_assert!(webhooks::verify(Some(&good), secret, &body, now).is_ok());
    }

    /// Staff's search box takes any text.
    #[test]
    fn order_search_text(text in prop_oneof![".{0,200}".boxed(), "\\PC{0,40}".boxed(), text().boxed()]) {
        let _ = OrderLookup::parse(Some(&text));
        let tokens = name_tokens(&text);
        prop_assert!(tokens.iter().all(|t| !t.is_empty()));
    }

    /// Money splits and rounds any amount it may hold without a panic, and
    /// a split adds up.
    #[test]
    fn money(
        mantissa in any::<i64>(),
        scale in 0u32..=12,
        weights in prop::collection::vec((0u32..1_000_000, 0u32..6), 0..40),
    ) {
        let amount = Decimal::new(mantissa, scale);
        let _ = round_to_minor_unit(amount, Currency::Eur);
        let money = Money::new(amount, Currency::Eur).rounded();
        let weights: Vec<Decimal> = weights.into_iter().map(|(m, s)| Decimal::new(i64::from(m), s)).collect();
        if let Some(shares) = money.split(&weights) {
            prop_assert_eq!(shares.len(), weights.len());
            let total = shares.iter().try_fold(Decimal::ZERO, |sum, share| sum.checked_add(share.amount()));
            prop_assert_eq!(total.map(|t| t.abs()), Some(money.amount().abs()));
        }
    }
}
