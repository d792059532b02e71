//! Notes on orders, on both stores (SQLite, and DynamoDB on moto): staff
//! write an internal note and one for the customer; the customer sees and
//! is e-mailed only theirs. An internal note's words — a unique marker
//! here — appear nowhere a shopper can look: not in the guest's order
//! page, the customer's order and list, a checkout replay, the catalog,
//! any e-mail, or any event on the bus. Bad notes change nothing.

use std::sync::Arc;

use kontor_platform::Store;
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::fixtures::{checkout_body, product, state_over};
use kontor_testkit::http::TestApp;
use serde_json::json;
use support::{dynamodb_store, order_version};

mod support;

const MARKER: &str = "INTERNAL-7f3a9c-never-for-shoppers";

async fn notes(store: Arc<dyn Store>) {
    store
        .put_product(&product("BELT", "34.90", 10, false), None)
        .await
        .unwrap();
    let state = state_over(store.clone());
    let router = kontor_checkout::router()
        .merge(kontor_orders::router())
        .merge(kontor_catalog::router())
        .merge(kontor_order_lifecycle::router())
        .merge(kontor_order_adjustment::router());
    let anyone = TestApp::new(router, state);
    let staff = anyone.as_staff();
    let eva = anyone.as_customer("eva", "eva@example.de");
    let (outbox, bus) = support::mail_bus(&store);

    let guest_body = checkout_body(&[("BELT", 1)]);
    let guest = anyone
        .post(
            "/checkout",
            &guest_body,
            &[("Idempotency-Key", "notes-guest")],
        )
        .await
        .json();
    let guest_id = guest["id"].as_str().unwrap();
    let token = guest["access_token"].as_str().unwrap();
    let mut eva_body = checkout_body(&[("BELT", 1)]);
    eva_body["email"] = json!("eva@example.de");
    let own = eva
        .post(
            "/me/checkout",
            &eva_body,
            &[("Idempotency-Key", "notes-eva")],
        )
        .await
        .json();
    let own_id = own["id"].as_str().unwrap();
    // Everything sent so far is out of the way: the e-mails below are the
    // notes' only.
    bus.relay_pending().await.unwrap();
    let confirmations = outbox.list(None, 100).await.unwrap().len();

    for id in [guest_id, own_id] {
        let internal = staff
            .post(
                &format!("/admin/orders/{id}/notes"),
                &json!({"text": format!("Customer called. {MARKER}")}),
                &[],
            )
            .await;
        assert_eq!(internal.status, 201, "{}", internal.text);
        assert_eq!(internal.json()["note"]["visible_to_customer"], false);
        let visible = staff
            .post(
                &format!("/admin/orders/{id}/notes"),
                &json!({"text": "Your parcel leaves on Monday.", "visible_to_customer": true}),
                &[],
            )
            .await;
        assert_eq!(visible.status, 201, "{}", visible.text);
    }

    // Staff see both notes, with their author.
    let whole = staff.get(&format!("/admin/orders/{guest_id}")).await.json();
    let all: Vec<&str> = whole["all_notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(all.len(), 2);
    assert!(all[0].contains(MARKER));
    assert_eq!(whole["all_notes"][0]["by"], "staff staff@kontor.example");

    // The shopper sees theirs, from "staff", and the marker nowhere.
    let page = anyone
        .get(&format!("/orders/{guest_id}?token={token}"))
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.json()["notes"][0]["text"],
        "Your parcel leaves on Monday."
    );
    assert_eq!(page.json()["notes"][0]["by"], "staff");
    let account_order = eva.get(&format!("/me/orders/{own_id}")).await;
    assert_eq!(account_order.json()["notes"].as_array().unwrap().len(), 1);
    let replay = anyone
        .post(
            "/checkout",
            &guest_body,
            &[("Idempotency-Key", "notes-guest")],
        )
        .await;
    assert_eq!(replay.status, 201);
    for (what, text) in [
        ("guest order page", page.text.clone()),
        ("account order", account_order.text.clone()),
        ("account list", eva.get("/me/orders").await.text),
        ("checkout replay", replay.text.clone()),
        ("catalog", anyone.get("/catalog/products").await.text),
        ("product", anyone.get("/catalog/products/BELT").await.text),
    ] {
        assert!(
            !text.contains(MARKER),
            "{what} shows the internal note: {text}"
        );
    }

    // The events on the bus carry no internal words; the customer gets one
    // e-mail per note to them, and none for the internal ones.
    for event in store.pending_events(1000).await.unwrap() {
        let json = serde_json::to_string(&event).unwrap();
        assert!(
            !json.contains(MARKER),
            "an event carries the internal note: {json}"
        );
    }
    bus.relay_pending().await.unwrap();
    let mails = outbox.list(None, 100).await.unwrap();
    let new = &mails[..mails.len() - confirmations];
    assert_eq!(new.len(), 2, "one e-mail per visible note");
    for mail in &mails {
        assert!(!mail.text.contains(MARKER) && !mail.html.contains(MARKER));
    }
    assert!(new
        .iter()
        .all(|m| m.subject.starts_with("Eine Nachricht zu deiner Bestellung")));
    assert!(new
        .iter()
        .all(|m| m.text.contains("Your parcel leaves on Monday.")));

    // Bad notes: refused by field, nothing written.
    let before = order_version(store.as_ref(), guest_id).await;
    let path = format!("/admin/orders/{guest_id}/notes");
    for body in [
        json!({"text": "   "}),
        json!({"text": "x".repeat(5_001)}),
        json!({"text": "bell \u{7}"}),
        json!({}),
    ] {
        staff
            .post(&path, &body, &[])
            .await
            .assert_problem(422, Some("text"));
    }
    staff
        .post(&path, &json!({"text": "late", "version": before - 1}), &[])
        .await
        .assert_problem(409, Some("version"));
    anyone
        .post(&path, &json!({"text": "not staff"}), &[])
        .await
        .assert_problem(401, None);
    eva.post(&path, &json!({"text": "not staff"}), &[])
        .await
        .assert_problem(403, None);
    assert_eq!(
        order_version(store.as_ref(), guest_id).await,
        before,
        "nothing written"
    );
    // A cancelled order takes no more notes.
    let cancelled = staff
        .post(&format!("/admin/orders/{guest_id}/cancel"), &json!({}), &[])
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    let closed = staff.post(&path, &json!({"text": "too late"}), &[]).await;
    assert_eq!(
        closed.assert_problem(409, None)["type"],
        "urn:kontor:problem:order-closed"
    );
}

#[tokio::test]
async fn notes_on_sqlite() {
    notes(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn notes_on_dynamodb() {
    notes(dynamodb_store("kontor-notes").await).await;
}
