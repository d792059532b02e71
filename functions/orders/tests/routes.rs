//! The orders router: a guest opens an order with its token, and nobody
//! opens it without.

use kontor_testkit::fixtures::{checkout_body, product, state_with};
use kontor_testkit::http::TestApp;

/// Places an order through the checkout router; returns (orders app, id, token).
async fn placed_order() -> (TestApp, String, String) {
    let state = state_with(&[
        product("TR", "59.90", 5, false),
        product("BE", "24.90", 0, true),
    ])
    .await;
    let checkout = TestApp::new(kontor_checkout::router(), state.clone());
    let placed = checkout
        .post(
            "/checkout",
            &checkout_body(&[("TR", 1), ("BE", 2)]),
            &[("Idempotency-Key", "k1")],
        )
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let body = placed.json();
    let orders = TestApp::new(kontor_orders::router(), state);
    (
        orders,
        body["id"].as_str().unwrap().into(),
        body["access_token"].as_str().unwrap().into(),
    )
}

#[tokio::test]
async fn the_token_opens_the_order() {
    let (app, id, token) = placed_order().await;
    let response = app.get(&format!("/orders/{id}?token={token}")).await;
    assert_eq!(response.status, 200, "{}", response.text);
    let order = response.json();
    assert_eq!(order["id"], id.as_str());
    assert_eq!(order["total"], "109.70");
    assert_eq!(order["shipping"], "0.00");
    assert_eq!(order["lines"][0]["id"], "L1");
    assert_eq!(order["lines"][1]["backordered"], 2);
    assert_eq!(order["status"], "open");
    assert_eq!(order["shipping_status"], "not_shipped");
    assert_eq!(order["payment_status"], "pending");
    assert_eq!(order["taxes"][0]["rate"], "19");
    assert_eq!(order["taxes"][0]["tax"], "17.51");
    assert_eq!(order["shipping_address"]["city"], "Berlin");
    assert!(
        order.get("access_token_hash").is_none(),
        "the hash never leaves the server"
    );
}

#[tokio::test]
async fn without_the_right_token_the_order_does_not_exist() {
    let (app, id, token) = placed_order().await;
    let wrong = format!("{}0", &token[..token.len() - 1]);
    for uri in [
        format!("/orders/{id}"),
        format!("/orders/{id}?token="),
        format!("/orders/{id}?token={wrong}"),
        format!("/orders/unknown?token={token}"),
        "/orders/bad%20id?token=x".to_string(),
    ] {
        app.get(&uri).await.assert_problem(404, None);
    }
}
