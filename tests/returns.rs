//! Partial returns of a split delivery, on both stores (SQLite, and
//! DynamoDB on moto): an order shipped in two parcels; the customer sends
//! back one item from each and half of a third line; staff approve,
//! receive with restocking (one item is not sellable) and refund. Stock,
//! payment status, the credit notes' gap-free numbers, the e-mails and the
//! order page are right; bad steps are refused by field with nothing
//! written; and two requests for the last returnable unit at once leave
//! exactly one return.

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
            .merge(kontor_return::router()),
        state_over(store.clone()),
    )
}

async fn stock(store: &Arc<dyn Store>) {
    for (sku, price, stock) in [
        ("TROUSERS", "59.90", 5),
        ("SHIRT", "49.90", 5),
        ("SOCKS", "9.90", 10),
    ] {
        store
            .put_product(&product(sku, price, stock, false), None)
            .await
            .unwrap();
    }
}

/// A guest order of trousers, a shirt and two pairs of socks, paid and
/// delivered in two parcels (S1: trousers and socks, S2: shirt and socks).
async fn delivered_in_two_parcels(staff: &TestApp, anyone: &TestApp, key: &str) -> Value {
    let placed = anyone
        .post(
            "/checkout",
            &checkout_body(&[("TROUSERS", 1), ("SHIRT", 1), ("SOCKS", 2)]),
            &[("Idempotency-Key", key)],
        )
        .await
        .json();
    let id = placed["id"].as_str().unwrap();
    let order = format!("/admin/orders/{id}");
    let paid = staff
        .post(
            &format!("{order}/payments"),
            &json!({"amount": placed["total"], "date": "2026-11-28", "reference": "bank"}),
            &[],
        )
        .await;
    assert_eq!(paid.status, 201, "{}", paid.text);
    for items in [
        json!([{"line_id": "L1", "quantity": 1}, {"line_id": "L3", "quantity": 1}]),
        json!([{"line_id": "L2", "quantity": 1}, {"line_id": "L3", "quantity": 1}]),
    ] {
        let packed = staff
            .post(
                &format!("{order}/shipments"),
                &json!({"items": items, "carrier": "other"}),
                &[],
            )
            .await;
        assert_eq!(packed.status, 201, "{}", packed.text);
    }
    for parcel in ["S1", "S2"] {
        let moved = staff
            .post(
                &format!("{order}/shipments/{parcel}/status"),
                &json!({"status": "delivered", "notify": false}),
                &[],
            )
            .await;
        assert_eq!(moved.status, 200, "{}", moved.text);
    }
    placed
}

async fn partial_return(store: Arc<dyn Store>) {
    stock(&store).await;
    let anyone = app(&store);
    let staff = anyone.as_staff();
    let (outbox, bus) = support::mail_bus(&store);
    let placed = delivered_in_two_parcels(&staff, &anyone, "returns-1").await;
    assert_eq!(placed["total"], "129.60");
    let id = placed["id"].as_str().unwrap().to_string();
    let token = placed["access_token"].as_str().unwrap().to_string();
    let page = format!("/orders/{id}?token={token}");
    let shown = anyone.get(&page).await.json();
    assert_eq!(shown["status"], "completed", "delivered and paid");
    assert_eq!(shown["returnable"], json!({"L1": 1, "L2": 1, "L3": 2}));
    bus.relay_pending().await.unwrap();
    let mails_before = outbox.list(None, 100).await.unwrap().len();

    // One item from each parcel and one of the two pairs of socks.
    let wanted = json!({
        "lines": [
            {"line_id": "L1", "quantity": 1, "reason": "too small"},
            {"line_id": "L2", "quantity": 1, "reason": "not as described"},
            {"line_id": "L3", "quantity": 1, "reason": "changed my mind"}
        ],
        "requested_action": "refund",
        "comment": "The trousers are too tight."
    });
    let returns = format!("/orders/{id}/returns?token={token}");
    let requested = anyone.post(&returns, &wanted, &[]).await;
    assert_eq!(requested.status, 201, "{}", requested.text);
    assert_eq!(requested.json()["return"]["id"], "R1");
    assert_eq!(requested.json()["return"]["status"], "requested");

    // The same units twice, a line never in the order, a reason the shop
    // does not know, the wrong token: refused, nothing written.
    let v = order_version(store.as_ref(), &id).await;
    for (body, field) in [
        (
            json!({"lines": [{"line_id": "L1", "quantity": 1, "reason": "too small"}], "requested_action": "refund"}),
            "lines[0].quantity",
        ),
        (
            json!({"lines": [{"line_id": "L9", "quantity": 1, "reason": "too small"}], "requested_action": "refund"}),
            "lines[0].line_id",
        ),
        (
            json!({"lines": [{"line_id": "L3", "quantity": 1, "reason": "bored"}], "requested_action": "refund"}),
            "lines[0].reason",
        ),
        (
            json!({"lines": [{"line_id": "L3", "quantity": 1, "reason": "too small"}], "requested_action": "swap"}),
            "requested_action",
        ),
        (json!({"lines": [], "requested_action": "refund"}), "lines"),
    ] {
        anyone
            .post(&returns, &body, &[])
            .await
            .assert_problem(422, Some(field));
    }
    anyone
        .post(&format!("/orders/{id}/returns?token=0000"), &wanted, &[])
        .await
        .assert_problem(404, None);
    assert_eq!(
        order_version(store.as_ref(), &id).await,
        v,
        "nothing written"
    );

    // Staff: no refund before the goods are back.
    let r1 = format!("/admin/orders/{id}/returns/R1");
    let early = staff
        .post(&format!("{r1}/refund"), &json!({"version": v}), &[])
        .await;
    assert_eq!(
        early.assert_problem(409, None)["return_status"],
        "requested"
    );
    let approved = staff
        .post(&format!("{r1}/approve"), &json!({"version": v}), &[])
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let v = approved.json()["version"].as_u64().unwrap();
    staff
        .post(
            &format!("{r1}/receive"),
            &json!({"lines": [{"line_id": "L1", "quantity": 2, "restock": true}], "version": v}),
            &[],
        )
        .await
        .assert_problem(422, Some("lines[0].quantity"));
    // The socks came back worn: not back on the shelf.
    let received = staff
        .post(
            &format!("{r1}/receive"),
            &json!({"lines": [
                {"line_id": "L1", "quantity": 1, "restock": true},
                {"line_id": "L2", "quantity": 1, "restock": true},
                {"line_id": "L3", "quantity": 1, "restock": false}
            ], "version": v}),
            &[],
        )
        .await;
    assert_eq!(received.status, 200, "{}", received.text);
    assert_eq!(stock_of(store.as_ref(), "TROUSERS").await, 5);
    assert_eq!(stock_of(store.as_ref(), "SHIRT").await, 5);
    assert_eq!(stock_of(store.as_ref(), "SOCKS").await, 8);

    // The refund: previewed, never above what is refundable, then made.
    let v = received.json()["version"].as_u64().unwrap();
    let preview = staff
        .post(
            &format!("{r1}/refund?dry_run=true"),
            &json!({"version": v}),
            &[],
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert_eq!(preview.json()["return"]["refund"]["amount"], "119.70");
    assert_eq!(
        order_version(store.as_ref(), &id).await,
        v,
        "a preview writes nothing"
    );
    let above = staff
        .post(
            &format!("{r1}/refund"),
            &json!({"amount": "119.71", "version": v}),
            &[],
        )
        .await
        .assert_problem(422, Some("amount"));
    assert_eq!(above["refundable"], "119.70");
    let refunded = staff
        .post(&format!("{r1}/refund"), &json!({"version": v}), &[])
        .await;
    assert_eq!(refunded.status, 200, "{}", refunded.text);
    let refunded = refunded.json();
    assert_eq!(refunded["return"]["status"], "refunded");
    assert_eq!(
        refunded["return"]["refund"]["credit_note"],
        "CN-2026-000001"
    );
    assert_eq!(refunded["return"]["refund"]["money_out"], "119.70");
    assert_eq!(refunded["payment_status"], "partially_refunded");
    assert_eq!(refunded["refunded"], "119.70");
    assert_eq!(
        refunded["pay_back"], "by_staff",
        "payment is offline: staff transfer it"
    );
    let v = refunded["version"].as_u64().unwrap();
    let again = staff
        .post(&format!("{r1}/refund"), &json!({"version": v}), &[])
        .await;
    assert_eq!(again.assert_problem(409, None)["return_status"], "refunded");

    // The shopper's page shows the return and what is left to send back.
    let shown = anyone.get(&page).await.json();
    assert_eq!(shown["returns"][0]["status"], "refunded");
    assert_eq!(
        shown["returns"][0]["refund"]["credit_note"],
        "CN-2026-000001"
    );
    assert_eq!(shown["returnable"], json!({"L3": 1}));
    assert_eq!(shown["payment_status"], "partially_refunded");

    // The customer heard of each step, in their language.
    bus.relay_pending().await.unwrap();
    let mails = outbox.list(None, 100).await.unwrap();
    let subjects: Vec<&str> = mails[..mails.len() - mails_before]
        .iter()
        .map(|m| m.subject.as_str())
        .collect();
    assert_eq!(subjects.len(), 4, "{subjects:?}");
    for expected in [
        "Deine Rücksendung R1",
        "Rücksendung R1 genehmigt",
        "Rücksendung R1 ist angekommen",
        "Erstattung zu Bestellung",
    ] {
        assert!(
            subjects.iter().any(|s| s.starts_with(expected)),
            "{expected}: {subjects:?}"
        );
    }

    // The next refund, on another order, takes the next number.
    let other = delivered_in_two_parcels(&staff, &anyone, "returns-2").await;
    let other_id = other["id"].as_str().unwrap();
    let staff_return = staff
        .post(
            &format!("/admin/orders/{other_id}/returns"),
            &json!({"lines": [{"line_id": "L2", "quantity": 1, "reason": "damaged"}], "requested_action": "refund"}),
            &[],
        )
        .await;
    assert_eq!(staff_return.status, 201, "{}", staff_return.text);
    let base = format!("/admin/orders/{other_id}/returns/R1");
    let mut v = staff_return.json()["version"].as_u64().unwrap();
    for (step, body) in [
        ("approve", json!({})),
        (
            "receive",
            json!({"lines": [{"line_id": "L2", "quantity": 1, "restock": false}]}),
        ),
        ("refund", json!({"amount": "40.00", "reason": "a stain"})),
    ] {
        let mut body = body;
        body["version"] = json!(v);
        let answer = staff.post(&format!("{base}/{step}"), &body, &[]).await;
        assert_eq!(answer.status, 200, "{step}: {}", answer.text);
        v = answer.json()["version"].as_u64().unwrap();
        if step == "refund" {
            assert_eq!(
                answer.json()["return"]["refund"]["credit_note"],
                "CN-2026-000002"
            );
            assert_eq!(answer.json()["return"]["refund"]["amount"], "40.00");
        }
    }
}

#[tokio::test]
async fn partial_return_on_sqlite() {
    partial_return(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn partial_return_on_dynamodb() {
    partial_return(dynamodb_store("kontor-returns").await).await;
}

/// Two requests for the last returnable unit at the same moment: one
/// return is made, the other request is told nothing is left.
async fn last_unit_race(store: Arc<dyn Store>) {
    stock(&store).await;
    let anyone = app(&store);
    let staff = anyone.as_staff();
    let placed = delivered_in_two_parcels(&staff, &anyone, "returns-race").await;
    let id = placed["id"].as_str().unwrap();
    let token = placed["access_token"].as_str().unwrap();
    let guest = format!("/orders/{id}/returns?token={token}");
    let by_staff = format!("/admin/orders/{id}/returns");
    let body = json!({"lines": [{"line_id": "L1", "quantity": 1, "reason": "too small"}], "requested_action": "refund"});
    let (a, b) = tokio::join!(
        anyone.post(&guest, &body, &[]),
        staff.post(&by_staff, &body, &[]),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 422], "{} {}", a.text, b.text);
    let order = store
        .get_order(&kontor_domain::OrderId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.returns.len(), 1);
}

#[tokio::test]
async fn last_unit_race_on_sqlite() {
    last_unit_race(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn last_unit_race_on_dynamodb() {
    last_unit_race(dynamodb_store("kontor-returns-race").await).await;
}

/// A parcel the carrier brought back is taken in again (its units back on
/// the shelf, to be packed again), and a replacement's unit is a new line
/// at 0 that goes out like any line.
async fn parcels_back_and_replacements(store: Arc<dyn Store>) {
    stock(&store).await;
    let anyone = app(&store);
    let staff = anyone.as_staff();
    let placed = delivered_in_two_parcels(&staff, &anyone, "returns-back").await;
    let id = placed["id"].as_str().unwrap();
    let order = format!("/admin/orders/{id}");
    let v = order_version(store.as_ref(), id).await;
    staff
        .post(
            &format!("{order}/shipments/S1/receive-back"),
            &json!({"restock": true, "version": v}),
            &[],
        )
        .await
        .assert_problem(409, None);

    // A replacement for the shirt: approved, it is a line at 0 to pack.
    let shirts = stock_of(store.as_ref(), "SHIRT").await;
    let asked = staff
        .post(
            &format!("{order}/returns"),
            &json!({"lines": [{"line_id": "L2", "quantity": 1, "reason": "damaged"}], "requested_action": "replacement"}),
            &[],
        )
        .await;
    assert_eq!(asked.status, 201, "{}", asked.text);
    let v = asked.json()["version"].as_u64().unwrap();
    let approved = staff
        .post(
            &format!("{order}/returns/R1/approve"),
            &json!({"version": v}),
            &[],
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(
        stock_of(store.as_ref(), "SHIRT").await,
        shirts - 1,
        "the new shirt is taken"
    );
    let whole = staff.get(&order).await;
    assert_eq!(whole.status, 200, "{}", whole.text);

    // The new shirt goes out and the carrier brings it back: taken in, it
    // is on the shelf again and left to pack.
    let v = approved.json()["version"].as_u64().unwrap();
    let packed = staff
        .post(
            &format!("{order}/shipments"),
            &json!({"items": [{"line_id": "L4", "quantity": 1}], "carrier": "other"}),
            &[],
        )
        .await;
    assert_eq!(packed.status, 201, "{}: {v}", packed.text);
    for status in ["shipped", "returned_to_sender"] {
        let moved = staff
            .post(
                &format!("{order}/shipments/S3/status"),
                &json!({"status": status, "notify": false}),
                &[],
            )
            .await;
        assert_eq!(moved.status, 200, "{}", moved.text);
    }
    let v = order_version(store.as_ref(), id).await;
    let back = staff
        .post(
            &format!("{order}/shipments/S3/receive-back"),
            &json!({"restock": true, "version": v}),
            &[],
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(back.json()["left_to_pack"]["L4"], 1);
    assert_eq!(stock_of(store.as_ref(), "SHIRT").await, shirts);
}

#[tokio::test]
async fn parcels_back_and_replacements_on_sqlite() {
    parcels_back_and_replacements(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn parcels_back_and_replacements_on_dynamodb() {
    parcels_back_and_replacements(dynamodb_store("kontor-returns-back").await).await;
}
