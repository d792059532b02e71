//! Every event the code emits matches its JSON Schema in `events/`, and
//! every event type has one.

use std::path::PathBuf;

use kontor_domain::events::EVENT_NAMES;
use kontor_testkit::fixtures::{checkout_body, product, state_with};
use kontor_testkit::http::TestApp;

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events")
}

fn read_json(name: &str) -> serde_json::Value {
    let path = events_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Resolves `urn:kontor:event:<name>` to `events/<name>.schema.json`; nothing
/// is fetched from elsewhere.
struct EventsFolder;

impl jsonschema::Retrieve for EventsFolder {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri
            .as_str()
            .strip_prefix("urn:kontor:event:")
            .ok_or_else(|| format!("{} is not one of Kontor's schemas", uri.as_str()))?;
        Ok(read_json(&format!("{name}.schema.json")))
    }
}

fn validator(event_type: &str) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .with_retriever(EventsFolder)
        .build(&read_json(&format!("{event_type}.schema.json")))
        .unwrap_or_else(|e| panic!("the schema of {event_type} does not compile: {e}"))
}

/// The events are of these types, in this order, and each matches its
/// schema.
fn assert_types_and_schemas(events: &[serde_json::Value], expected: &[&str]) {
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, expected);
    for event in events {
        assert_valid(event);
    }
}

fn assert_valid(event: &serde_json::Value) {
    let event_type = event["type"].as_str().expect("every event names its type");
    let errors: Vec<String> = validator(event_type)
        .iter_errors(event)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{event_type} does not match its schema: {errors:?}\n{event:#}"
    );
}

/// The events a checkout with a backordered line really emits.
async fn emitted_events() -> Vec<serde_json::Value> {
    let state = state_with(&[
        product("TR-CHINO", "59.90", 5, false),
        product("JEANS", "89.00", 1, true),
    ])
    .await;
    let app = TestApp::new(kontor_checkout::router(), state.clone());
    let placed = app
        .post(
            "/checkout",
            &checkout_body(&[("TR-CHINO", 2), ("JEANS", 3)]),
            &[("Idempotency-Key", "schema")],
        )
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    state
        .store
        .pending_events(100)
        .await
        .unwrap()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

#[tokio::test]
async fn emitted_events_match_their_schemas() {
    assert_types_and_schemas(
        &emitted_events().await,
        &["OrderPlaced", "StockChanged", "StockChanged"],
    );
}

/// The events of a parcel's life: packed with a backordered unit (which
/// takes stock), moved on by staff and by a carrier, tracking sent again.
async fn parcel_events() -> Vec<serde_json::Value> {
    let state = state_with(&[product("JEANS", "89.00", 0, true)]).await;
    let router = kontor_checkout::router()
        .merge(kontor_shipment::router())
        .merge(kontor_tracking_update::router())
        .merge(kontor_catalog::router());
    let app = TestApp::new(router, state.clone());
    let staff = app.as_staff();
    let placed = app
        .post(
            "/checkout",
            &checkout_body(&[("JEANS", 1)]),
            &[("Idempotency-Key", "parcel")],
        )
        .await
        .json();
    let id = placed["id"].as_str().unwrap();
    let restock = staff
        .patch(
            "/admin/products/JEANS",
            &serde_json::json!({"version": 1, "stock": 3}),
        )
        .await;
    assert_eq!(restock.status, 200, "{}", restock.text);
    let shipments = format!("/admin/orders/{id}/shipments");
    let body = serde_json::json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "dhl", "tracking_number": "00340434161094042557"});
    assert_eq!(staff.post(&shipments, &body, &[]).await.status, 201);
    let shipped = serde_json::json!({"status": "shipped", "location": "Lager Hamburg"});
    assert_eq!(
        staff
            .post(&format!("{shipments}/S1/status"), &shipped, &[])
            .await
            .status,
        200
    );
    assert_eq!(
        staff
            .post(
                &format!("{shipments}/S1/send-tracking"),
                &serde_json::json!({}),
                &[]
            )
            .await
            .status,
        202
    );
    let message = serde_json::json!({"event_id": "dhl-1", "tracking_number": "00340434161094042557", "status": "delivered"}).to_string();
    let now = state.clock.now().unix_timestamp();
    let signature = kontor_platform::webhooks::signature_header(
        b"local-webhook-secret",
        now,
        message.as_bytes(),
    );
    let delivered = app
        .post_raw(
            "/webhooks/carriers/dhl",
            &message,
            &[("Kontor-Signature", signature.as_str())],
        )
        .await;
    assert_eq!(delivered.status, 200, "{}", delivered.text);
    state
        .store
        .pending_events(100)
        .await
        .unwrap()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .filter(|e| e["type"] != "OrderPlaced")
        .collect()
}

#[tokio::test]
async fn parcel_events_match_their_schemas() {
    assert_types_and_schemas(
        &parcel_events().await,
        &[
            "ShipmentCreated",
            "StockChanged",
            "ShipmentStatusChanged",
            "TrackingSent",
            "ShipmentStatusChanged",
        ],
    );
}

/// The events of an order's lifecycle: a part payment, cancelling another
/// order (stock back), and an order paid and delivered, which completes.
async fn lifecycle_events() -> Vec<serde_json::Value> {
    let state = state_with(&[product("JEANS", "89.00", 5, false)]).await;
    let router = kontor_checkout::router()
        .merge(kontor_shipment::router())
        .merge(kontor_order_lifecycle::router())
        .merge(kontor_order_adjustment::router());
    let app = TestApp::new(router, state.clone());
    let staff = app.as_staff();
    let mut ids = Vec::new();
    for key in ["life-1", "life-2"] {
        let placed = app
            .post(
                "/checkout",
                &checkout_body(&[("JEANS", 1)]),
                &[("Idempotency-Key", key)],
            )
            .await
            .json();
        ids.push(placed["id"].as_str().unwrap().to_string());
    }
    let before = state.store.pending_events(100).await.unwrap().len();
    let pay = |amount: &str| serde_json::json!({"amount": amount, "date": "2026-11-28", "reference": "bank"});
    let paid = staff
        .post(
            &format!("/admin/orders/{}/payments", ids[0]),
            &pay("50.00"),
            &[],
        )
        .await;
    assert_eq!(paid.status, 201, "{}", paid.text);
    let cancelled = staff
        .post(
            &format!("/admin/orders/{}/cancel", ids[1]),
            &serde_json::json!({"reason": "out of stock at the supplier"}),
            &[],
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    let shipments = format!("/admin/orders/{}/shipments", ids[0]);
    let body = serde_json::json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "other"});
    assert_eq!(staff.post(&shipments, &body, &[]).await.status, 201);
    let delivered = serde_json::json!({"status": "delivered", "notify": false});
    assert_eq!(
        staff
            .post(&format!("{shipments}/S1/status"), &delivered, &[])
            .await
            .status,
        200
    );
    let rest = staff
        .post(
            &format!("/admin/orders/{}/payments", ids[0]),
            &pay("39.00"),
            &[],
        )
        .await;
    assert_eq!(rest.status, 201, "{}", rest.text);
    assert_eq!(rest.json()["status"], "completed");
    for (text, visible) in [
        ("customer called", false),
        ("your parcel is on its way", true),
    ] {
        let note = staff
            .post(
                &format!("/admin/orders/{}/notes", ids[1]),
                &serde_json::json!({"text": text, "visible_to_customer": visible}),
                &[],
            )
            .await;
        assert_eq!(
            note.status, 409,
            "{}: the cancelled order takes no notes",
            note.text
        );
    }
    for (text, visible) in [
        ("customer called", false),
        ("your parcel is on its way", true),
    ] {
        let placed = app
            .post(
                "/checkout",
                &checkout_body(&[("JEANS", 1)]),
                &[(
                    "Idempotency-Key",
                    if visible {
                        "note-visible"
                    } else {
                        "note-internal"
                    },
                )],
            )
            .await
            .json();
        let note = staff
            .post(
                &format!("/admin/orders/{}/notes", placed["id"].as_str().unwrap()),
                &serde_json::json!({"text": text, "visible_to_customer": visible}),
                &[],
            )
            .await;
        assert_eq!(note.status, 201, "{}", note.text);
        if visible {
            let gift = staff
                .post(
                    &format!("/admin/orders/{}/lines", placed["id"].as_str().unwrap()),
                    &serde_json::json!({"sku": "JEANS", "quantity": 1, "unit_price": "0", "reason": "a gift", "version": 2}),
                    &[],
                )
                .await;
            assert_eq!(gift.status, 201, "{}", gift.text);
            let order = format!("/admin/orders/{}", placed["id"].as_str().unwrap());
            let edits = [
                (
                    "POST",
                    format!("{order}/adjustments"),
                    serde_json::json!({"amount": "-5.00", "reason": "late", "notify_customer": true, "version": 3}),
                ),
                (
                    "PUT",
                    format!("{order}/addresses"),
                    serde_json::json!({"billing_address": {"name": "Eva Muster", "street": "Ring 1", "postal_code": "50667", "city": "Köln", "country": "DE"}, "version": 4}),
                ),
                (
                    "DELETE",
                    format!("{order}/lines/L2?version=5"),
                    serde_json::Value::Null,
                ),
            ];
            for (method, path, body) in edits {
                let answer = match method {
                    "POST" => staff.post(&path, &body, &[]).await,
                    "PUT" => staff.put(&path, &body).await,
                    _ => staff.delete(&path).await,
                };
                assert!(
                    answer.status.is_success(),
                    "{method} {path}: {}",
                    answer.text
                );
            }
        }
    }
    state
        .store
        .pending_events(100)
        .await
        .unwrap()
        .iter()
        .skip(before)
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

#[tokio::test]
async fn lifecycle_events_match_their_schemas() {
    assert_types_and_schemas(
        &lifecycle_events().await,
        &[
            "PaymentRecorded",
            "OrderCancelled",
            "StockChanged",
            "ShipmentCreated",
            "ShipmentStatusChanged",
            "PaymentRecorded",
            "OrderCompleted",
            "OrderPlaced",
            "StockChanged",
            "NoteAdded",
            "OrderPlaced",
            "StockChanged",
            "NoteAdded",
            "OrderItemAdded",
            "StockChanged",
            "OrderAdjusted",
            "OrderChangeAnnounced",
            "OrderAddressesChanged",
            "OrderLineChanged",
            "StockChanged",
        ],
    );
}

/// The events of a return: requested, approved, received with a restocked
/// unit, refunded; and another return rejected.
async fn return_events() -> Vec<serde_json::Value> {
    let state = state_with(&[product("JEANS", "89.00", 5, false)]).await;
    let router = kontor_checkout::router()
        .merge(kontor_shipment::router())
        .merge(kontor_order_lifecycle::router())
        .merge(kontor_return::router());
    let app = TestApp::new(router, state.clone());
    let staff = app.as_staff();
    let placed = app
        .post(
            "/checkout",
            &checkout_body(&[("JEANS", 2)]),
            &[("Idempotency-Key", "returns")],
        )
        .await
        .json();
    let order = format!("/admin/orders/{}", placed["id"].as_str().unwrap());
    let steps = [
        (
            format!("{order}/payments"),
            serde_json::json!({"amount": "178.00", "date": "2026-11-28", "reference": "bank"}),
        ),
        (
            format!("{order}/shipments"),
            serde_json::json!({"items": [{"line_id": "L1", "quantity": 2}], "carrier": "other"}),
        ),
        (
            format!("{order}/shipments/S1/status"),
            serde_json::json!({"status": "shipped", "notify": false}),
        ),
    ];
    for (path, body) in &steps {
        let answer = staff.post(path, body, &[]).await;
        assert!(answer.status.is_success(), "{path}: {}", answer.text);
    }
    let before = state.store.pending_events(100).await.unwrap().len();
    let one = serde_json::json!({"lines": [{"line_id": "L1", "quantity": 1, "reason": "too small"}], "requested_action": "refund"});
    let version = |answer: &kontor_testkit::http::TestResponse| {
        assert!(answer.status.is_success(), "{}", answer.text);
        answer.json()["version"].as_u64().unwrap()
    };
    let mut v = 0;
    for _ in 0..2 {
        v = version(&staff.post(&format!("{order}/returns"), &one, &[]).await);
    }
    for (path, body) in [
        ("R1/approve", serde_json::json!({})),
        ("R2/reject", serde_json::json!({"reason": "worn"})),
        (
            "R1/receive",
            serde_json::json!({"lines": [{"line_id": "L1", "quantity": 1, "restock": true}]}),
        ),
        ("R1/refund", serde_json::json!({})),
    ] {
        let mut body = body;
        body["version"] = serde_json::json!(v);
        v = version(
            &staff
                .post(&format!("{order}/returns/{path}"), &body, &[])
                .await,
        );
    }
    state
        .store
        .pending_events(100)
        .await
        .unwrap()
        .iter()
        .skip(before)
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

#[tokio::test]
async fn return_events_match_their_schemas() {
    assert_types_and_schemas(
        &return_events().await,
        &[
            "ReturnRequested",
            "ReturnRequested",
            "ReturnApproved",
            "ReturnRejected",
            "ReturnReceived",
            "StockChanged",
            "RefundIssued",
        ],
    );
}

/// Every event type's schema refuses an event that lacks one of its own
/// required fields or carries a field it does not know (so that internal
/// data cannot slip onto the bus unnoticed).
#[tokio::test]
async fn every_schema_refuses_a_missing_or_unknown_field() {
    let mut events = emitted_events().await;
    events.extend(parcel_events().await);
    events.extend(lifecycle_events().await);
    events.extend(return_events().await);
    let mut covered = std::collections::BTreeSet::new();
    for event in &events {
        let event_type = event["type"].as_str().unwrap();
        covered.insert(event_type.to_string());
        let schema = read_json(&format!("{event_type}.schema.json"));
        let validator = validator(event_type);
        for required in schema["required"].as_array().unwrap() {
            let mut broken = event.clone();
            broken
                .as_object_mut()
                .unwrap()
                .remove(required.as_str().unwrap());
            assert!(
                !validator.is_valid(&broken),
                "{event_type} without {required} must not pass"
            );
        }
        let mut extra = event.clone();
        extra["internal_note"] = serde_json::json!("never on the bus");
        assert!(
            !validator.is_valid(&extra),
            "{event_type} with an unknown field must not pass"
        );
    }
    let all: std::collections::BTreeSet<String> =
        EVENT_NAMES.iter().map(|n| n.to_string()).collect();
    assert_eq!(covered, all, "every event type is emitted and checked");
}

#[test]
fn every_event_type_has_a_schema() {
    for name in EVENT_NAMES {
        validator(name);
    }
}

#[tokio::test]
async fn the_schemas_refuse_what_consumers_could_not_read() {
    let events = emitted_events().await;
    let placed = &events[0];
    let broken = [
        ("event_id", serde_json::Value::Null),
        ("order_version", serde_json::json!(0)),
        ("total", serde_json::json!(59.9)),
        ("language", serde_json::json!("fr")),
        ("internal_note", serde_json::json!("never on the bus")),
    ];
    let validator = validator("OrderPlaced");
    for (field, value) in broken {
        let mut event = placed.clone();
        if value.is_null() {
            event.as_object_mut().unwrap().remove(field);
        } else {
            event[field] = value;
        }
        assert!(
            !validator.is_valid(&event),
            "a broken {field} must not pass"
        );
    }
}

/// The sample events in `events/samples/` (for `cargo lambda invoke`) carry
/// valid events.
#[test]
fn the_samples_carry_valid_events() {
    for sample in ["OrderPlaced", "ShipmentStatusChanged"] {
        let bridge = read_json(&format!("samples/{sample}.eventbridge.json"));
        assert_eq!(bridge["detail-type"], bridge["detail"]["type"]);
        assert_valid(&bridge["detail"]);
    }
}
