//! Staff add items to placed orders, on both stores (SQLite, and DynamoDB
//! on moto): a free belt from leftover stock for a good customer is a new
//! line at 0 that takes its unit from stock in the same write, the total
//! stays, the history says who and why; an item at its price raises what
//! is due. Every bad input is a problem naming its field, and writes
//! nothing.

use std::sync::Arc;

use kontor_platform::Store;
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::fixtures::{checkout_body, product, state_over};
use kontor_testkit::http::TestApp;
use serde_json::json;
use support::{dynamodb_store, order_version, stock_of};

mod support;

async fn added_lines(store: Arc<dyn Store>) {
    for (sku, price, stock, backorder) in [
        ("SHIRT", "49.90", 5, false),
        ("BELT", "34.90", 1, false),
        ("JACKET", "119.00", 0, true),
    ] {
        store
            .put_product(&product(sku, price, stock, backorder), None)
            .await
            .unwrap();
    }
    let app = TestApp::new(
        kontor_checkout::router()
            .merge(kontor_orders::router())
            .merge(kontor_order_lifecycle::router())
            .merge(kontor_order_adjustment::router()),
        state_over(store.clone()),
    );
    let staff = app.as_staff();
    let placed = app
        .post(
            "/checkout",
            &checkout_body(&[("SHIRT", 2)]),
            &[("Idempotency-Key", "lines-1")],
        )
        .await
        .json();
    let id = placed["id"].as_str().unwrap().to_string();
    assert_eq!(placed["total"], "99.80");
    let lines = format!("/admin/orders/{id}/lines");

    // The free belt, from the one left in stock.
    let gift = staff
        .post(
            &lines,
            &json!({"sku": "BELT", "quantity": 1, "unit_price": "0", "reason": "good customer", "version": 1}),
            &[],
        )
        .await;
    assert_eq!(gift.status, 201, "{}", gift.text);
    assert_eq!(gift.json()["line_id"], "L2");
    assert_eq!(gift.json()["total"], "99.80", "a gift costs nothing");
    assert_eq!(
        stock_of(store.as_ref(), "BELT").await,
        0,
        "taken in the same write"
    );
    let whole = staff.get(&format!("/admin/orders/{id}")).await.json();
    assert_eq!(whole["lines"][1]["unit_price"], "0.00");
    assert_eq!(whole["lines"][1]["sku"], "BELT");
    let last = whole["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "line_added");
    assert_eq!(last["by"], "staff staff@kontor.example");
    assert!(last["detail"].as_str().unwrap().contains("good customer"));
    assert_eq!(
        whole["left_to_pack"]["L2"], 1,
        "the belt ships like any line"
    );

    // No belt is left now; the jacket takes backorders, so it waits for stock.
    let v = order_version(store.as_ref(), &id).await;
    staff
        .post(
            &lines,
            &json!({"sku": "BELT", "quantity": 1, "version": v}),
            &[],
        )
        .await
        .assert_problem(409, Some("quantity"));
    let jacket = staff
        .post(
            &lines,
            &json!({"sku": "JACKET", "quantity": 1, "version": v}),
            &[],
        )
        .await;
    assert_eq!(jacket.status, 201, "{}", jacket.text);
    assert_eq!(jacket.json()["total"], "218.80", "at the product's price");
    assert_eq!(jacket.json()["amount_due"], "218.80");

    // Bad input: each names its field, nothing is written.
    let v = order_version(store.as_ref(), &id).await;
    for (body, field) in [
        (json!({"sku": "NOPE", "quantity": 1, "version": v}), "sku"),
        (
            json!({"sku": "SHIRT", "quantity": 0, "version": v}),
            "quantity",
        ),
        (
            json!({"sku": "SHIRT", "quantity": 1000, "version": v}),
            "quantity",
        ),
        (
            json!({"sku": "SHIRT", "quantity": 1, "unit_price": "-1", "version": v}),
            "unit_price",
        ),
        (
            json!({"sku": "SHIRT", "quantity": 1, "unit_price": "0.001", "version": v}),
            "unit_price",
        ),
        (
            json!({"sku": "SHIRT", "quantity": 1, "unit_price": "1e30", "version": v}),
            "unit_price",
        ),
        (
            json!({"sku": "SHIRT", "quantity": 1, "reason": "x".repeat(201), "version": v}),
            "reason",
        ),
        (json!({"sku": "SHIRT", "quantity": 1}), "version"),
    ] {
        staff
            .post(&lines, &body, &[])
            .await
            .assert_problem(422, Some(field));
    }
    staff
        .post(
            &lines,
            &json!({"sku": "SHIRT", "quantity": 1, "version": v - 1}),
            &[],
        )
        .await
        .assert_problem(409, Some("version"));
    app.as_customer("eva", "eva@example.de")
        .post(
            &lines,
            &json!({"sku": "SHIRT", "quantity": 1, "version": v}),
            &[],
        )
        .await
        .assert_problem(403, None);
    assert_eq!(
        order_version(store.as_ref(), &id).await,
        v,
        "nothing written"
    );
    assert_eq!(stock_of(store.as_ref(), "SHIRT").await, 3);

    // A cancelled order takes no more lines (and gives all its stock back).
    let cancelled = staff
        .post(&format!("/admin/orders/{id}/cancel"), &json!({}), &[])
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(
        stock_of(store.as_ref(), "BELT").await,
        1,
        "the gift's belt is back"
    );
    let v = order_version(store.as_ref(), &id).await;
    let closed = staff
        .post(
            &lines,
            &json!({"sku": "SHIRT", "quantity": 1, "version": v}),
            &[],
        )
        .await;
    assert_eq!(
        closed.assert_problem(409, None)["type"],
        "urn:kontor:problem:order-closed"
    );
}

#[tokio::test]
async fn added_lines_on_sqlite() {
    added_lines(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn added_lines_on_dynamodb() {
    added_lines(dynamodb_store("kontor-added-lines").await).await;
}
