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
    let events = emitted_events().await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["OrderPlaced", "StockChanged", "StockChanged"]);
    for event in &events {
        assert_valid(event);
    }
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
    let bridge = read_json("samples/OrderPlaced.eventbridge.json");
    assert_eq!(bridge["detail-type"], bridge["detail"]["type"]);
    assert_valid(&bridge["detail"]);
}
