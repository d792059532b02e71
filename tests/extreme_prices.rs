//! The largest prices never crash the shop, on both stores: a product's
//! price above 1,000,000.00 is refused when staff set it; a product stored
//! with one from before the bound (the largest decimal there is) cannot be
//! priced, added or ordered — every route that prices answers 422 naming
//! the line — and staff prices on orders are bounded the same way.

use std::sync::Arc;

use kontor_platform::Store;
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::fixtures::{checkout_body, product, state_over};
use kontor_testkit::http::TestApp;
use serde_json::json;
use support::dynamodb_store;

mod support;

const LARGEST: &str = "79228162514264337593543950335";

async fn extreme_prices(store: Arc<dyn Store>) {
    store
        .put_product(&product("BELT", "34.90", 5, false), None)
        .await
        .unwrap();
    // As a store written before the bound may hold it.
    store
        .put_product(&product("GOLD", LARGEST, 5, false), None)
        .await
        .unwrap();
    let anyone = TestApp::new(
        kontor_catalog::router()
            .merge(kontor_checkout::router())
            .merge(kontor_rule_evaluation::router())
            .merge(kontor_order_adjustment::router()),
        state_over(store.clone()),
    );
    let staff = anyone.as_staff();

    staff
        .patch(
            "/admin/products/BELT",
            &json!({"version": 1, "price": LARGEST}),
        )
        .await
        .assert_problem(422, Some("price"));
    staff
        .patch(
            "/admin/products/BELT",
            &json!({"version": 1, "price": "1000000.01"}),
        )
        .await
        .assert_problem(422, Some("price"));
    let at_the_bound = staff
        .patch(
            "/admin/products/BELT",
            &json!({"version": 1, "price": "1000000.00"}),
        )
        .await;
    assert_eq!(at_the_bound.status, 200, "{}", at_the_bound.text);

    anyone
        .post(
            "/cart/evaluate",
            &json!({"lines": [{"sku": "GOLD", "quantity": 2}], "shipping_country": "DE"}),
            &[],
        )
        .await
        .assert_problem(422, Some("lines[0].sku"));
    anyone
        .post(
            "/checkout",
            &checkout_body(&[("BELT", 1), ("GOLD", 999)]),
            &[("Idempotency-Key", "gold")],
        )
        .await
        .assert_problem(422, Some("lines[1].sku"));

    // The bound price, at the most units, still prices.
    let most = anyone
        .post(
            "/cart/evaluate",
            &json!({"lines": [{"sku": "BELT", "quantity": 999}], "shipping_country": "DE"}),
            &[],
        )
        .await;
    assert_eq!(most.status, 200, "{}", most.text);
    assert_eq!(most.json()["total"], "999000000.00");

    // Staff prices on orders have the same bound.
    let placed = anyone
        .post(
            "/checkout",
            &checkout_body(&[("BELT", 1)]),
            &[("Idempotency-Key", "belt")],
        )
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let id = placed.json()["id"].as_str().unwrap().to_string();
    for price in ["1000000.01", LARGEST] {
        staff
            .post(
                &format!("/admin/orders/{id}/lines"),
                &json!({"sku": "BELT", "quantity": 999, "unit_price": price, "version": 1}),
                &[],
            )
            .await
            .assert_problem(422, Some("unit_price"));
    }
    staff
        .post(
            &format!("/admin/orders/{id}/lines"),
            &json!({"sku": "GOLD", "quantity": 1, "version": 1}),
            &[],
        )
        .await
        .assert_problem(422, Some("unit_price"));
    let phone = json!({
        "email": "paul@example.de",
        "shipping_address": {"name": "Paul", "street": "Ring 2", "postal_code": "80331", "city": "München", "country": "DE"},
        "lines": [{"sku": "BELT", "quantity": 1, "unit_price": "1000000.01"}],
        "payment_method": "invoice"
    });
    staff
        .post(
            "/admin/orders",
            &phone,
            &[("Idempotency-Key", "phone-gold")],
        )
        .await
        .assert_problem(422, Some("lines[0].unit_price"));
}

#[tokio::test]
async fn extreme_prices_on_sqlite() {
    extreme_prices(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn extreme_prices_on_dynamodb() {
    extreme_prices(dynamodb_store("kontor-extreme-prices").await).await;
}
