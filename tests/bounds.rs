//! The largest orders a checkout accepts fit in one write on both stores:
//! 34 different products, a name of 130 words, the most discounts an order
//! gets (three, each a free item of its own with limits in total and per
//! customer) and the e-mail's order counter are placed on DynamoDB (whose
//! transactions hold at most 100 items) as on SQLite; a 35th
//! product is refused naming `lines`, and staff cannot add one either. The
//! same order packed into the most parcels (20, each with a tracking
//! number) is cancelled in one write too, and a 21st parcel is refused.

use std::sync::Arc;

use kontor_platform::Store;
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::fixtures::{checkout_body, product, state_over};
use kontor_testkit::http::TestApp;
use serde_json::json;
use support::dynamodb_store;

mod support;

async fn largest_orders(store: Arc<dyn Store>) {
    for n in 0..40 {
        store
            .put_product(&product(&format!("P{n:02}"), "1.00", 5, false), None)
            .await
            .unwrap();
    }
    let anyone = TestApp::new(
        kontor_checkout::router()
            .merge(kontor_orders::router())
            .merge(kontor_shipment::router())
            .merge(kontor_order_lifecycle::router())
            .merge(kontor_order_adjustment::router())
            .merge(kontor_rule_evaluation::router()),
        state_over(store.clone()),
    );
    let staff = anyone.as_staff();
    // Three free items, each counted in total and per customer.
    for (id, sku) in [("gift-a", "P35"), ("gift-b", "P36"), ("gift-c", "P37")] {
        let saved = staff
            .post(
                "/admin/discounts",
                &json!({"id": id, "name": id, "kind": "free_item", "sku": sku,
                        "usage_limit": 100, "per_customer_limit": 5}),
                &[],
            )
            .await;
        assert_eq!(saved.status, 201, "{}", saved.text);
    }
    // 132 different two-letter words over the two names (each name at its
    // 200-character limit).
    let letters: Vec<char> = ('a'..='z').collect();
    let words: Vec<String> = (0..132)
        .map(|n| format!("{}{}", letters[n / 26], letters[n % 26]))
        .collect();
    let lines: Vec<(String, u32)> = (0..34).map(|n| (format!("P{n:02}"), 1)).collect();
    let refs: Vec<(&str, u32)> = lines.iter().map(|(s, q)| (s.as_str(), *q)).collect();
    let mut body = checkout_body(&refs);
    body["shipping_address"]["name"] = json!(words[..66].join(" "));
    body["billing_address"] = body["shipping_address"].clone();
    body["billing_address"]["name"] = json!(words[66..].join(" "));
    let placed = anyone
        .post("/checkout", &body, &[("Idempotency-Key", "largest")])
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let id = placed.json()["id"].as_str().unwrap().to_string();
    let order = staff.get(&format!("/admin/orders/{id}")).await.json();
    assert_eq!(
        order["lines"].as_array().unwrap().len(),
        37,
        "with the three gifts"
    );
    // Found by the first words of its name.
    let found = staff.get("/admin/orders?q=aa%20ab").await.json();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");

    // One product more is refused, before anything is written.
    let mut more = lines.clone();
    more.push(("P34".into(), 1));
    let refs: Vec<(&str, u32)> = more.iter().map(|(s, q)| (s.as_str(), *q)).collect();
    anyone
        .post(
            "/checkout",
            &checkout_body(&refs),
            &[("Idempotency-Key", "too-large")],
        )
        .await
        .assert_problem(422, Some("lines"));
    let added = staff
        .post(
            &format!("/admin/orders/{id}/lines"),
            &json!({"sku": "P38", "quantity": 1, "version": 1}),
            &[],
        )
        .await;
    assert_eq!(
        added.assert_problem(409, None)["type"],
        "urn:kontor:problem:too-many-lines"
    );

    // The most parcels an order goes out in, each with its own tracking
    // number; one more is refused. Cancelling it then releases every
    // number and returns every line's stock in one write.
    for n in 0..=20 {
        let packed = staff
            .post(
                &format!("/admin/orders/{id}/shipments"),
                &json!({"items": [{"line_id": format!("L{}", n + 1), "quantity": 1}],
                        "carrier": "dhl", "tracking_number": kontor_testkit::fixtures::dhl_number(n as u64)}),
                &[],
            )
            .await;
        if n < 20 {
            assert_eq!(packed.status, 201, "parcel {n}: {}", packed.text);
        } else {
            assert_eq!(
                packed.assert_problem(409, Some("items"))["type"],
                "urn:kontor:problem:too-many-parcels"
            );
        }
    }
    let cancelled = staff
        .post(
            &format!("/admin/orders/{id}/cancel"),
            &json!({"reason": "Too large to send"}),
            &[],
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.json()["status"], "cancelled");
}

#[tokio::test]
async fn largest_orders_on_sqlite() {
    largest_orders(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn largest_orders_on_dynamodb() {
    largest_orders(dynamodb_store("kontor-largest-orders").await).await;
}
