//! Staff edit placed orders, on both stores (SQLite, and DynamoDB on moto):
//! the order desk's day in one order — a free belt from leftover stock, a
//! goodwill reduction of 10 € previewed and then made, an internal and a
//! visible note, a line changed and one removed before it ships, a new
//! address that staff search follows — with the customer's e-mails; every
//! bad input refused by field with nothing written; two staff editing the
//! same order at once, of whom exactly one wins; and orders taken on the
//! phone.

use std::sync::Arc;

use kontor_platform::Store;
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::fixtures::{checkout_body, product, state_over};
use kontor_testkit::http::TestApp;
use serde_json::{json, Value};
use support::{dynamodb_store, order_version, stock_of};

mod support;

fn app(store: &Arc<dyn Store>) -> TestApp {
    TestApp::new(
        kontor_checkout::router()
            .merge(kontor_orders::router())
            .merge(kontor_shipment::router())
            .merge(kontor_order_lifecycle::router())
            .merge(kontor_order_adjustment::router()),
        state_over(store.clone()),
    )
}

async fn stock(store: &Arc<dyn Store>) {
    for (sku, price, stock) in [("SHIRT", "49.90", 5), ("BELT", "34.90", 1)] {
        store
            .put_product(&product(sku, price, stock, false), None)
            .await
            .unwrap();
    }
}

fn address(name: &str, country: &str) -> Value {
    json!({"name": name, "street": "Ring 2", "postal_code": "80331", "city": "München", "country": country})
}

async fn order_edits(store: Arc<dyn Store>) {
    stock(&store).await;
    let anyone = app(&store);
    let staff = anyone.as_staff();
    let (outbox, bus) = support::mail_bus(&store);
    let placed = anyone
        .post(
            "/checkout",
            &checkout_body(&[("SHIRT", 2)]),
            &[("Idempotency-Key", "edits-1")],
        )
        .await
        .json();
    let id = placed["id"].as_str().unwrap().to_string();
    let token = placed["access_token"].as_str().unwrap().to_string();
    let order = format!("/admin/orders/{id}");
    assert_eq!(placed["total"], "99.80");

    // The free belt from the one left, the customer told.
    let gift = staff
        .post(
            &format!("{order}/lines"),
            &json!({"sku": "BELT", "quantity": 1, "unit_price": "0", "reason": "good customer", "notify_customer": true, "version": 1}),
            &[],
        )
        .await;
    assert_eq!(gift.status, 201, "{}", gift.text);
    assert_eq!(gift.json()["total"], "99.80");
    assert_eq!(stock_of(store.as_ref(), "BELT").await, 0);

    // The goodwill reduction, previewed first: the same totals, nothing
    // written.
    let goodwill = json!({"amount": "-10.00", "reason": "parcel was late", "notify_customer": true, "version": 2});
    let preview = staff
        .post(&format!("{order}/adjustments?dry_run=true"), &goodwill, &[])
        .await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    let preview = preview.json();
    assert_eq!(preview["dry_run"], true);
    assert_eq!(preview["total"], "89.80");
    assert_eq!(preview["adjustments"], "-10.00");
    assert_eq!(
        order_version(store.as_ref(), &id).await,
        2,
        "a preview writes nothing"
    );
    let made = staff
        .post(&format!("{order}/adjustments"), &goodwill, &[])
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let made = made.json();
    assert_eq!(made["dry_run"], false);
    for field in [
        "subtotal",
        "shipping",
        "adjustments",
        "tax",
        "total",
        "amount_due",
    ] {
        assert_eq!(
            made[field], preview[field],
            "{field}: the preview was right"
        );
    }
    assert_eq!(made["taxes"], preview["taxes"]);
    // 89.80 at 19 % holds 14.34 of VAT.
    assert_eq!(made["tax"], "14.34");

    // Two notes: one for colleagues, one for the customer.
    for (text, visible) in [
        ("Customer called: wants it before Friday.", false),
        ("Your belt is a gift from us.", true),
    ] {
        let note = staff
            .post(
                &format!("{order}/notes"),
                &json!({"text": text, "visible_to_customer": visible}),
                &[],
            )
            .await;
        assert_eq!(note.status, 201, "{}", note.text);
    }

    // Staff see the adjustment with its reason and author; the shopper
    // sees the money, never the reason or the internal note.
    let whole = staff.get(&order).await.json();
    assert_eq!(whole["adjustment_entries"][0]["id"], "A1");
    assert_eq!(whole["adjustment_entries"][0]["reason"], "parcel was late");
    assert_eq!(
        whole["adjustment_entries"][0]["by"],
        "staff staff@kontor.example"
    );
    assert_eq!(
        whole["adjustments"], "-10.00",
        "their sum, among the totals"
    );
    assert_eq!(whole["lines"][0]["charged"], "89.80");
    assert_eq!(whole["lines"][1]["charged"], "0.00");
    let history: Vec<&str> = whole["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        [
            "placed",
            "line_added",
            "adjusted",
            "note_added",
            "note_added"
        ]
    );
    let shopper = anyone.get(&format!("/orders/{id}?token={token}")).await;
    assert_eq!(shopper.status, 200);
    assert_eq!(shopper.json()["total"], "89.80");
    assert_eq!(shopper.json()["adjustments"], "-10.00");
    assert!(!shopper.text.contains("parcel was late"));
    assert!(!shopper.text.contains("before Friday"));

    // The customer's e-mails: the change with the gift, the goodwill with
    // the new total, the visible note; none for the internal one.
    bus.relay_pending().await.unwrap();
    let mails = outbox.list(None, 100).await.unwrap();
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    let changed: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.ends_with("wurde geändert"))
        .collect();
    assert_eq!(changed.len(), 2, "{subjects:?}");
    assert!(changed
        .iter()
        .any(|m| m.text.contains("1 × Product BELT dazu, kostenlos")));
    let credit = changed
        .iter()
        .find(|m| m.text.contains("Gutschrift: 10,00 €"))
        .expect("the goodwill e-mail");
    assert!(credit.text.contains("Neuer Gesamtbetrag: 89,80 €"));
    for mail in &mails {
        assert!(!mail.text.contains("parcel was late") && !mail.text.contains("before Friday"));
    }
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s.starts_with("Eine Nachricht"))
            .count(),
        1
    );

    // One shirt less before it ships: back on the shelf, the goodwill
    // stays whole.
    let v = order_version(store.as_ref(), &id).await;
    let fewer = staff
        .patch(
            &format!("{order}/lines/L1"),
            &json!({"quantity": 1, "version": v}),
        )
        .await;
    assert_eq!(fewer.status, 200, "{}", fewer.text);
    assert_eq!(fewer.json()["total"], "39.90");
    assert_eq!(stock_of(store.as_ref(), "SHIRT").await, 4);

    // The shirt is packed: its price and quantity stay.
    let packed = staff
        .post(
            &format!("{order}/shipments"),
            &json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "other"}),
            &[],
        )
        .await;
    assert_eq!(packed.status, 201, "{}", packed.text);
    let v = order_version(store.as_ref(), &id).await;
    let refused = staff
        .patch(
            &format!("{order}/lines/L1"),
            &json!({"unit_price": "1.00", "version": v}),
        )
        .await;
    assert_eq!(
        refused.assert_problem(409, Some("quantity"))["type"],
        "urn:kontor:problem:line-packed"
    );
    staff
        .delete(&format!("{order}/lines/L1?version={v}"))
        .await
        .assert_problem(409, Some("quantity"));

    // The belt is removed after all: back in stock, kept for staff to see.
    let removed = staff
        .delete(&format!(
            "{order}/lines/L2?version={v}&notify_customer=true"
        ))
        .await;
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert_eq!(stock_of(store.as_ref(), "BELT").await, 1);
    let whole = staff.get(&order).await.json();
    assert_eq!(whole["removed_lines"][0]["id"], "L2");
    assert_eq!(whole["lines"].as_array().unwrap().len(), 1);
    assert_eq!(whole["packed"]["L1"], 1);

    // New addresses: search by name follows them.
    let v = order_version(store.as_ref(), &id).await;
    let moved = staff
        .put(
            &format!("{order}/addresses"),
            &json!({"shipping_address": address("Anna Beispiel", "DE"), "billing_address": address("Anna Beispiel", "DE"), "version": v}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    for (q, hits) in [("beispiel", 1), ("muster", 0)] {
        let found = staff.get(&format!("/admin/orders?q={q}")).await.json();
        assert_eq!(found.as_array().unwrap().len(), hits, "search {q}: {found}");
    }
    let whole = staff.get(&order).await.json();
    let last = whole["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "addresses_changed");
    let detail = last["detail"].as_str().unwrap();
    assert!(
        detail.contains("Anna Muster") && detail.contains("Anna Beispiel"),
        "{detail}"
    );

    bad_input(&staff, &store, &id).await;
}

/// Every bad edit is a problem naming its field, and writes nothing.
async fn bad_input(staff: &TestApp, store: &Arc<dyn Store>, id: &str) {
    let order = format!("/admin/orders/{id}");
    let v = order_version(store.as_ref(), id).await;
    let adjustments = format!("{order}/adjustments");
    for (body, field) in [
        (
            json!({"amount": "-39.91", "reason": "too much", "version": v}),
            "amount",
        ),
        (
            json!({"amount": "0", "reason": "nothing", "version": v}),
            "amount",
        ),
        (
            json!({"amount": "-0.001", "reason": "fraction", "version": v}),
            "amount",
        ),
        (
            json!({"amount": "-1e30", "reason": "huge", "version": v}),
            "amount",
        ),
        (
            json!({"amount": "ten", "reason": "words", "version": v}),
            "amount",
        ),
        (
            json!({"amount": "-1.00", "reason": " ", "version": v}),
            "reason",
        ),
        (
            json!({"amount": "-1.00", "reason": "x".repeat(201), "version": v}),
            "reason",
        ),
        (
            json!({"amount": "-1.00", "reason": "no version"}),
            "version",
        ),
    ] {
        staff
            .post(&adjustments, &body, &[])
            .await
            .assert_problem(422, Some(field));
    }
    let below = staff
        .post(
            &adjustments,
            &json!({"amount": "-39.91", "reason": "too much", "version": v}),
            &[],
        )
        .await
        .json();
    assert_eq!(below["total"], "-0.01");
    staff
        .post(
            &adjustments,
            &json!({"amount": "-1.00", "reason": "stale", "version": v - 1}),
            &[],
        )
        .await
        .assert_problem(409, Some("version"));

    let line = format!("{order}/lines/L1");
    for (body, field) in [
        (json!({"quantity": 0, "version": v}), "quantity"),
        (json!({"quantity": 1000, "version": v}), "quantity"),
        (json!({"unit_price": "-1", "version": v}), "unit_price"),
        (json!({"unit_price": "0.001", "version": v}), "unit_price"),
    ] {
        staff
            .patch(&line, &body)
            .await
            .assert_problem(422, Some(field));
    }
    staff
        .patch(
            &format!("{order}/lines/L9"),
            &json!({"quantity": 1, "version": v}),
        )
        .await
        .assert_problem(404, None);
    staff
        .delete(&format!("{order}/lines/L1"))
        .await
        .assert_problem(400, Some("version"));

    let addresses = format!("{order}/addresses");
    staff
        .put(
            &addresses,
            &json!({"shipping_address": address("Anna", "XX"), "version": v}),
        )
        .await
        .assert_problem(422, Some("shipping_address.country"));
    staff
        .put(
            &addresses,
            &json!({"billing_address": address("", "DE"), "version": v}),
        )
        .await
        .assert_problem(422, Some("billing_address.name"));
    assert_eq!(
        order_version(store.as_ref(), id).await,
        v,
        "nothing written"
    );

    // A closed order takes no edits.
    let cancelled = staff
        .post(&format!("{order}/cancel"), &json!({}), &[])
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    let v = order_version(store.as_ref(), id).await;
    let closed = staff
        .post(
            &adjustments,
            &json!({"amount": "-1.00", "reason": "late", "version": v}),
            &[],
        )
        .await;
    assert_eq!(
        closed.assert_problem(409, None)["type"],
        "urn:kontor:problem:order-closed"
    );
}

#[tokio::test]
async fn order_edits_on_sqlite() {
    order_edits(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn order_edits_on_dynamodb() {
    order_edits(dynamodb_store("kontor-order-edits").await).await;
}

/// Two staff edit one order at the same version at the same moment: one
/// edit is written, the other is told the order changed (409), and the
/// order holds exactly one of them.
async fn concurrent_edits(store: Arc<dyn Store>) {
    stock(&store).await;
    let anyone = app(&store);
    let placed = anyone
        .post(
            "/checkout",
            &checkout_body(&[("SHIRT", 2)]),
            &[("Idempotency-Key", "edits-race")],
        )
        .await
        .json();
    let id = placed["id"].as_str().unwrap().to_string();
    for round in 0..5 {
        let current = store
            .get_order(&kontor_domain::OrderId::parse(&id).unwrap())
            .await
            .unwrap()
            .unwrap();
        let v = current.version;
        let other_quantity = 3 - current.lines[0].quantity.get();
        let lena = anyone.signed_in(kontor_testkit::http::claims(
            "staff-lena",
            "lena@kontor.example",
            &["staff"],
        ));
        let omar = anyone.signed_in(kontor_testkit::http::claims(
            "staff-omar",
            "omar@kontor.example",
            &["staff"],
        ));
        let adjustments = format!("/admin/orders/{id}/adjustments");
        let lines = format!("/admin/orders/{id}/lines/L1");
        let goodwill = json!({"amount": "-1.00", "reason": format!("round {round}"), "version": v});
        let change = json!({"quantity": other_quantity, "version": v});
        let (a, b) = tokio::join!(
            lena.post(&adjustments, &goodwill, &[]),
            omar.patch(&lines, &change),
        );
        let statuses = [a.status.as_u16(), b.status.as_u16()];
        let wins = statuses.iter().filter(|s| **s < 300).count();
        assert_eq!(wins, 1, "round {round}: {statuses:?} {} {}", a.text, b.text);
        assert!(statuses.contains(&409), "round {round}: {statuses:?}");
        assert_eq!(order_version(store.as_ref(), &id).await, v + 1);
    }
    // The stock matches the line, whoever won each round.
    let order = store
        .get_order(&kontor_domain::OrderId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stock_of(store.as_ref(), "SHIRT").await,
        5 - order.lines[0].quantity.get()
    );
    assert_eq!(order.history.len(), 6, "placed, and one edit per round");
}

#[tokio::test]
async fn concurrent_edits_on_sqlite() {
    concurrent_edits(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn concurrent_edits_on_dynamodb() {
    concurrent_edits(dynamodb_store("kontor-edit-race").await).await;
}

/// Staff take orders on the phone: for a registered customer (found by
/// e-mail however it is typed, counted in their record, listed in their
/// account, no confirmation when staff say so) and for a new caller (a
/// guest order whose confirmation carries its link), at staff's prices, by
/// the checkout's stock rules, once per `Idempotency-Key`.
async fn phone_orders(store: Arc<dyn Store>) {
    stock(&store).await;
    let anyone = app(&store);
    let staff = anyone.as_staff();
    let eva = anyone.as_customer("eva", "eva@example.de");
    let (outbox, bus) = support::mail_bus(&store);
    let mut own = checkout_body(&[("BELT", 1)]);
    own["email"] = json!("eva@example.de");
    let first = eva
        .post("/me/checkout", &own, &[("Idempotency-Key", "eva-1")])
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    bus.relay_pending().await.unwrap();
    let confirmations = outbox.list(None, 100).await.unwrap().len();

    // Eva calls: two shirts, one of them at a staff price, no e-mail.
    let call = json!({
        "email": "Eva@Example.DE",
        "shipping_address": address("Eva Muster", "DE"),
        "lines": [{"sku": "SHIRT", "quantity": 1}, {"sku": "SHIRT", "quantity": 1, "unit_price": "39.90"}],
        "payment_method": "invoice",
        "language": "en",
        "send_confirmation": false
    });
    let preview = staff
        .post(
            "/admin/orders?dry_run=true",
            &call,
            &[("Idempotency-Key", "call-1")],
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert_eq!(preview.json()["total"], "89.80");
    assert_eq!(
        stock_of(store.as_ref(), "SHIRT").await,
        5,
        "a preview takes nothing"
    );
    let taken = staff
        .post("/admin/orders", &call, &[("Idempotency-Key", "call-1")])
        .await;
    assert_eq!(taken.status, 201, "{}", taken.text);
    let taken = taken.json();
    assert_eq!(taken["total"], "89.80");
    assert_eq!(
        taken["access_token"],
        Value::Null,
        "hers: she opens it from her account"
    );
    let id = taken["id"].as_str().unwrap().to_string();
    let retry = staff
        .post("/admin/orders", &call, &[("Idempotency-Key", "call-1")])
        .await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json()["id"], taken["id"]);
    let mine = eva.get("/me/orders").await.json();
    assert_eq!(mine.as_array().unwrap().len(), 2, "{mine}");
    let record = store
        .get_customer(&kontor_domain::CustomerId::parse("eva").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.order_count, 2);
    assert_eq!(stock_of(store.as_ref(), "SHIRT").await, 3);
    let whole = staff.get(&format!("/admin/orders/{id}")).await.json();
    assert_eq!(whole["customer_id"], "eva");
    assert_eq!(
        whole["lines"].as_array().unwrap().len(),
        2,
        "two prices, two lines"
    );
    assert_eq!(whole["history"][0]["by"], "staff staff@kontor.example");
    assert!(whole["history"][0]["detail"]
        .as_str()
        .unwrap()
        .starts_with("Order taken on the phone"));

    // A new caller: a guest order, confirmed with its link.
    let mut guest = call.clone();
    guest["email"] = json!("tom@example.de");
    guest["send_confirmation"] = json!(true);
    guest["lines"] = json!([{"sku": "SHIRT", "quantity": 1, "unit_price": "0"}]);
    let gift = staff
        .post("/admin/orders", &guest, &[("Idempotency-Key", "call-2")])
        .await;
    assert_eq!(gift.status, 201, "{}", gift.text);
    let gift = gift.json();
    let token = gift["access_token"].as_str().expect("a guest's link");
    let guest_id = gift["id"].as_str().unwrap();
    assert_eq!(
        anyone
            .get(&format!("/orders/{guest_id}?token={token}"))
            .await
            .status,
        200
    );
    bus.relay_pending().await.unwrap();
    let mails = outbox.list(None, 100).await.unwrap();
    assert_eq!(mails.len(), confirmations + 1, "only Tom's confirmation");
    assert!(mails[0].to.as_str() == "tom@example.de" && mails[0].text.contains(token));

    // The checkout's rules, by field.
    let mut short = call.clone();
    short["lines"] = json!([{"sku": "SHIRT", "quantity": 3}]);
    let refused = staff
        .post("/admin/orders", &short, &[("Idempotency-Key", "call-3")])
        .await
        .assert_problem(409, Some("lines[0].quantity"));
    assert_eq!(refused["available"], 2);
    for (line, field) in [
        (
            json!({"sku": "SHIRT", "quantity": 1, "unit_price": "-1"}),
            "lines[0].unit_price",
        ),
        (
            json!({"sku": "SHIRT", "quantity": 1, "unit_price": "0.001"}),
            "lines[0].unit_price",
        ),
        (json!({"sku": "NOPE", "quantity": 1}), "lines[0].sku"),
        (json!({"sku": "SHIRT", "quantity": 0}), "lines[0].quantity"),
    ] {
        let mut bad = call.clone();
        bad["lines"] = json!([line]);
        staff
            .post("/admin/orders", &bad, &[("Idempotency-Key", "call-4")])
            .await
            .assert_problem(422, Some(field));
    }
    staff
        .post("/admin/orders", &call, &[])
        .await
        .assert_problem(400, Some("Idempotency-Key"));
    eva.post("/admin/orders", &call, &[("Idempotency-Key", "call-5")])
        .await
        .assert_problem(403, None);
    assert_eq!(
        stock_of(store.as_ref(), "SHIRT").await,
        2,
        "refusals took nothing"
    );
}

#[tokio::test]
async fn phone_orders_on_sqlite() {
    phone_orders(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn phone_orders_on_dynamodb() {
    phone_orders(dynamodb_store("kontor-phone-orders").await).await;
}
