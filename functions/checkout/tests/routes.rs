//! The checkout router driven in-process: pricing, placing, idempotency,
//! stock, and every kind of bad input.

use std::sync::Arc;

use kontor_domain::Sku;
use kontor_platform::Store;
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::fixtures::{checkout_body, product, skus, state_over, state_with};
use kontor_testkit::http::TestApp;
use serde_json::json;

async fn shop() -> TestApp {
    let mut chino = product("TR-CHINO", "59.90", 10, false);
    chino.checkout_sell = skus(&["SO-SOCKS", "BE-BELT", "SO-GONE"]);
    let mut belt = product("BE-BELT", "34.90", 1, false);
    belt.checkout_sell = skus(&["SO-SOCKS"]);
    let socks = product("SO-SOCKS", "14.90", 100, false);
    let gone = product("SO-GONE", "9.90", 0, false);
    let jeans = product("TR-JEANS", "89.00", 1, true);
    let mut book = product("BOOK", "16.00", 5, false);
    book.tax_class = kontor_domain::tax::TaxClass::Reduced;
    // The cart page's prices come from rule-evaluation, whose code the
    // checkout decides with: both routers, as the shop serves them.
    TestApp::new(
        kontor_checkout::router().merge(kontor_rule_evaluation::router()),
        state_with(&[chino, belt, socks, gone, jeans, book]).await,
    )
}

async fn stock(app: &TestApp, sku: &str) -> u32 {
    app.state
        .store
        .get_product(&Sku::parse(sku).unwrap())
        .await
        .unwrap()
        .unwrap()
        .stock
}

async fn outbox_len(app: &TestApp) -> usize {
    app.state.store.pending_events(1000).await.unwrap().len()
}

#[tokio::test]
async fn evaluates_a_cart_with_taxes_and_suggestions() {
    let app = shop().await;
    let response = app
        .post("/cart/evaluate", &json!({"lines": [{"sku": "TR-CHINO", "quantity": 1}, {"sku": "BE-BELT", "quantity": 1}, {"sku": "BOOK", "quantity": 1}], "shipping_country": "DE"}), &[])
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let cart = response.json();
    assert_eq!(cart["subtotal"], "110.80");
    assert_eq!(cart["shipping"], "0.00");
    assert_eq!(cart["total"], "110.80");
    assert_eq!(cart["taxes"][0]["rate"], "19");
    assert_eq!(cart["taxes"][0]["tax"], "15.13");
    assert_eq!(cart["taxes"][1]["rate"], "7");
    assert_eq!(cart["taxes"][1]["tax"], "1.05");
    assert_eq!(cart["tax"], "16.18");
    // Socks are suggested once, the belt is already in the cart, and the
    // sold-out product is left out.
    let suggested: Vec<&str> = cart["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(suggested, ["SO-SOCKS"]);
    assert_eq!(outbox_len(&app).await, 0, "evaluating writes nothing");
}

#[tokio::test]
async fn small_carts_pay_shipping_and_empty_carts_nothing() {
    let app = shop().await;
    let small = app
        .post(
            "/cart/evaluate",
            &json!({"lines": [{"sku": "SO-SOCKS", "quantity": 1}], "shipping_country": "AT"}),
            &[],
        )
        .await
        .json();
    assert_eq!(small["shipping"], "4.95");
    assert_eq!(small["total"], "19.85");
    assert_eq!(small["free_shipping_from"], "50.00");
    let empty = app
        .post(
            "/cart/evaluate",
            &json!({"lines": [], "shipping_country": "DE"}),
            &[],
        )
        .await
        .json();
    assert_eq!(empty["total"], "0.00");
}

#[tokio::test]
async fn evaluating_refuses_bad_carts_by_field() {
    let app = shop().await;
    let cases = [
        (
            json!({"lines": [{"sku": "NOPE", "quantity": 1}], "shipping_country": "DE"}),
            422,
            "lines[0].sku",
        ),
        (
            json!({"lines": [{"sku": "SO-SOCKS", "quantity": 0}], "shipping_country": "DE"}),
            422,
            "lines[0].quantity",
        ),
        (
            json!({"lines": [{"sku": "SO-SOCKS", "quantity": 10000}], "shipping_country": "DE"}),
            422,
            "lines[0].quantity",
        ),
        (
            json!({"lines": [{"sku": "SO-SOCKS", "quantity": 1}], "shipping_country": "XX"}),
            422,
            "shipping_country",
        ),
        (
            json!({"lines": [{"sku": "SO-SOCKS", "quantity": 1}]}),
            422,
            "shipping_country",
        ),
        (
            json!({"lines": [{"sku": "SO-SOCKS", "quantity": 1}], "shipping_country": "DE", "coupon": "WELCOME"}),
            422,
            "coupon",
        ),
    ];
    for (body, status, field) in cases {
        app.post("/cart/evaluate", &body, &[])
            .await
            .assert_problem(status, Some(field));
    }
}

#[tokio::test]
async fn places_an_order_and_reserves_its_stock() {
    let app = shop().await;
    let response = app
        .post(
            "/checkout",
            &checkout_body(&[("TR-CHINO", 2), ("TR-JEANS", 3)]),
            &[("Idempotency-Key", "order-1")],
        )
        .await;
    assert_eq!(response.status, 201, "{}", response.text);
    let order = response.json();
    assert_eq!(order["total"], "386.80");
    assert_eq!(
        order["backordered"],
        json!([{"sku": "TR-JEANS", "quantity": 2}])
    );
    assert_eq!(
        order["access_token"].as_str().unwrap().len(),
        32,
        "a 128-bit token in hex"
    );
    assert!(order["number"].as_str().unwrap().starts_with("K-"));
    assert_eq!(
        response.header("location").unwrap(),
        format!("/orders/{}", order["id"].as_str().unwrap())
    );

    assert_eq!(stock(&app, "TR-CHINO").await, 8);
    assert_eq!(stock(&app, "TR-JEANS").await, 0);
    let events = app.state.store.pending_events(100).await.unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["OrderPlaced", "StockChanged", "StockChanged"]);

    let stored = app
        .state
        .store
        .get_order(&kontor_domain::OrderId::parse(order["id"].as_str().unwrap()).unwrap())
        .await
        .unwrap()
        .unwrap();
    let token = order["access_token"].as_str().unwrap();
    assert!(stored.opens_with(token));
    let stored_json = serde_json::to_string(&stored).unwrap();
    assert!(
        !stored_json.contains(token),
        "only the token's hash is stored"
    );
}

#[tokio::test]
async fn a_retry_gets_the_first_answer() {
    let app = shop().await;
    let body = checkout_body(&[("TR-CHINO", 1)]);
    let first = app
        .post("/checkout", &body, &[("Idempotency-Key", "same")])
        .await;
    assert_eq!(first.status, 201);
    // The same body with its keys in another order is the same request.
    let reordered = serde_json::to_string(&json!({
        "payment_method": body["payment_method"], "shipping_address": body["shipping_address"],
        "email": body["email"], "lines": body["lines"],
    }))
    .unwrap();
    let retry = app
        .post_raw("/checkout", &reordered, &[("Idempotency-Key", "same")])
        .await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.json(), first.json(), "same id, number and token");
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(stock(&app, "TR-CHINO").await, 9, "stock was taken once");
    assert_eq!(outbox_len(&app).await, 2, "one order's events");
}

#[tokio::test]
async fn the_idempotency_record_does_not_hold_the_token_or_the_key() {
    use sha2::Digest;
    let app = shop().await;
    let first = app
        .post(
            "/checkout",
            &checkout_body(&[("TR-CHINO", 1)]),
            &[("Idempotency-Key", "client-key-1")],
        )
        .await
        .json();
    let token = first["access_token"].as_str().unwrap();
    let record_key = hex::encode(sha2::Sha256::digest(
        "kontor-checkout-key:guest:client-key-1",
    ));
    let record = app
        .state
        .store
        .get_idempotency(&record_key)
        .await
        .unwrap()
        .expect("record under the key's hash");
    assert!(!record.body.contains(token));
    assert!(app
        .state
        .store
        .get_idempotency("client-key-1")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let app = shop().await;
    app.post(
        "/checkout",
        &checkout_body(&[("TR-CHINO", 1)]),
        &[("Idempotency-Key", "k")],
    )
    .await;
    let other = app
        .post(
            "/checkout",
            &checkout_body(&[("TR-CHINO", 2)]),
            &[("Idempotency-Key", "k")],
        )
        .await;
    other.assert_problem(422, Some("Idempotency-Key"));
    assert_eq!(stock(&app, "TR-CHINO").await, 9);
}

#[tokio::test]
async fn out_of_stock_is_a_conflict_naming_sku_and_availability() {
    let app = shop().await;
    let response = app
        .post(
            "/checkout",
            &checkout_body(&[("SO-SOCKS", 1), ("BE-BELT", 2)]),
            &[("Idempotency-Key", "k")],
        )
        .await;
    let problem = response.assert_problem(409, Some("lines[1].quantity"));
    assert_eq!(problem["sku"], "BE-BELT");
    assert_eq!(problem["available"], 1);
    assert_eq!(problem["requested"], 2);
    assert_eq!(stock(&app, "SO-SOCKS").await, 100, "nothing written");
    assert_eq!(outbox_len(&app).await, 0);
    // Nothing was stored under the key either: the shopper can fix the cart
    // and retry with it.
    let fixed = app
        .post(
            "/checkout",
            &checkout_body(&[("SO-SOCKS", 1), ("BE-BELT", 1)]),
            &[("Idempotency-Key", "k")],
        )
        .await;
    assert_eq!(fixed.status, 201);
}

#[tokio::test]
async fn bad_checkouts_are_refused_by_field_and_write_nothing() {
    let app = shop().await;
    let with = |path: &str, value: serde_json::Value| {
        let mut body = checkout_body(&[("TR-CHINO", 1)]);
        let mut target = &mut body;
        let parts: Vec<&str> = path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            target = &mut target[*part];
        }
        if value.is_null() {
            target
                .as_object_mut()
                .unwrap()
                .remove(parts[parts.len() - 1]);
        } else {
            target[parts[parts.len() - 1]] = value;
        }
        body
    };
    let cases = [
        (with("email", serde_json::Value::Null), "email"),
        (with("email", json!("not-an-address")), "email"),
        (
            with("shipping_address.country", json!("XX")),
            "shipping_address.country",
        ),
        (
            with("shipping_address.city", json!("  ")),
            "shipping_address.city",
        ),
        (
            with("shipping_address.name", serde_json::Value::Null),
            "shipping_address.name",
        ),
        (with("payment_method", json!("bitcoin")), "payment_method"),
        (
            with("lines", json!([{"sku": "TR-CHINO", "quantity": 0}])),
            "lines[0].quantity",
        ),
        (
            with("lines", json!([{"sku": "TR-CHINO", "quantity": 10000}])),
            "lines[0].quantity",
        ),
        (
            with(
                "lines",
                json!([{"sku": "TR-CHINO", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]),
            ),
            "lines[1].sku",
        ),
        (with("lines", json!([])), "lines"),
        (with("language", json!("fr")), "language"),
        (with("coupon", json!("WELCOME")), "coupon"),
    ];
    for (n, (body, field)) in cases.into_iter().enumerate() {
        let key = format!("bad-{n}");
        app.post("/checkout", &body, &[("Idempotency-Key", key.as_str())])
            .await
            .assert_problem(422, Some(field));
    }
    assert_eq!(stock(&app, "TR-CHINO").await, 10);
    assert_eq!(outbox_len(&app).await, 0);
}

#[tokio::test]
async fn unreadable_requests_are_bad_requests() {
    let app = shop().await;
    let body = checkout_body(&[("TR-CHINO", 1)]);
    app.post("/checkout", &body, &[])
        .await
        .assert_problem(400, Some("Idempotency-Key"));
    app.post("/checkout", &body, &[("Idempotency-Key", "")])
        .await
        .assert_problem(400, Some("Idempotency-Key"));
    app.post_raw("/checkout", "{\"lines\": [", &[("Idempotency-Key", "k")])
        .await
        .assert_problem(400, None);
    app.post_raw("/cart/evaluate", "not json", &[])
        .await
        .assert_problem(400, None);
    let response = app
        .send(
            axum::http::Request::post("/checkout")
                .header("Idempotency-Key", "k")
                .header("content-type", "text/plain")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    response.assert_problem(415, None);
    assert_eq!(stock(&app, "TR-CHINO").await, 10);
}

/// 200 shoppers buy the last 50 units at once: exactly 50 orders, stock 0,
/// and everybody else a 409. Runs on a SQLite file, as the local runtime does.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_checkouts_never_oversell() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("k.db")).unwrap());
    store
        .put_product(&product("HOT", "19.99", 50, false), None)
        .await
        .unwrap();
    let app = Arc::new(TestApp::new(kontor_checkout::router(), state_over(store)));

    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let app = Arc::clone(&app);
            tokio::spawn(async move {
                let key = format!("shopper-{n}");
                app.post(
                    "/checkout",
                    &checkout_body(&[("HOT", 1)]),
                    &[("Idempotency-Key", key.as_str())],
                )
                .await
            })
        })
        .collect();
    let mut created = 0;
    let mut conflicts = 0;
    for task in tasks {
        let response = task.await.unwrap();
        match response.status.as_u16() {
            201 => created += 1,
            409 => {
                assert_eq!(response.json()["available"], 0);
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {}", response.text),
        }
    }
    assert_eq!((created, conflicts), (50, 150));
    assert_eq!(stock(&app, "HOT").await, 0);
    let placed = app.state.store.pending_events(10_000).await.unwrap();
    assert_eq!(
        placed.iter().filter(|e| e.name() == "OrderPlaced").count(),
        50
    );
}

/// The same request sent twice at the same moment (a double click, a
/// client retrying too early): one order, and both answers the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_key_at_the_same_moment_places_one_order() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("k.db")).unwrap());
    store
        .put_product(&product("HOT", "19.99", 50, false), None)
        .await
        .unwrap();
    let app = Arc::new(TestApp::new(kontor_checkout::router(), state_over(store)));
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let app = Arc::clone(&app);
            tokio::spawn(async move {
                app.post(
                    "/checkout",
                    &checkout_body(&[("HOT", 2)]),
                    &[("Idempotency-Key", "double-click")],
                )
                .await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        assert_eq!(response.status, 201, "{}", response.text);
        answers.push(response.json());
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "every answer is the first one, token included: {answers:?}"
    );
    assert!(answers[0]["access_token"].is_string());
    assert_eq!(stock(&app, "HOT").await, 48, "stock taken once");
    let placed = app.state.store.pending_events(100).await.unwrap();
    assert_eq!(
        placed.iter().filter(|e| e.name() == "OrderPlaced").count(),
        1
    );
}

/// One customer checking out twice at once (two tabs): both orders are
/// placed and both are counted in the customer's record, which is written
/// conditionally in each checkout's transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_customers_two_checkouts_at_once_are_both_counted() {
    let app = Arc::new(shop().await.as_customer("eva", "eva@example.de"));
    let tasks: Vec<_> = ["tab-1", "tab-2", "tab-3"]
        .into_iter()
        .map(|key| {
            let app = Arc::clone(&app);
            tokio::spawn(async move {
                app.post(
                    "/me/checkout",
                    &checkout_body(&[("SO-SOCKS", 1)]),
                    &[("Idempotency-Key", key)],
                )
                .await
            })
        })
        .collect();
    for task in tasks {
        let response = task.await.unwrap();
        assert_eq!(response.status, 201, "{}", response.text);
    }
    let customer = app
        .state
        .store
        .get_customer(&kontor_domain::CustomerId::parse("eva").unwrap())
        .await
        .unwrap()
        .expect("the customer's record");
    assert_eq!(customer.order_count, 3);
    assert_eq!(stock(&app, "SO-SOCKS").await, 97);
}

/// An id source whose first two order numbers are the same: the second
/// checkout draws a taken number.
#[derive(Default)]
struct RepeatingNumbers {
    inner: kontor_platform::SequentialIds,
    drawn: std::sync::atomic::AtomicUsize,
}

impl kontor_platform::IdSource for RepeatingNumbers {
    fn order_id(&self) -> kontor_domain::OrderId {
        self.inner.order_id()
    }
    fn order_number(&self) -> kontor_domain::OrderNumber {
        let n = self.drawn.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n < 2 {
            kontor_platform::ids::format_order_number(777)
        } else {
            self.inner.order_number()
        }
    }
    fn event_id(&self) -> kontor_domain::EventId {
        self.inner.event_id()
    }
}

/// Order numbers are random; when one is drawn twice, the checkout that
/// finds it taken draws another and still places its order.
#[tokio::test]
async fn a_drawn_order_number_that_is_taken_is_drawn_again() {
    let mut state = shop().await.state;
    state.ids = Arc::new(RepeatingNumbers::default());
    let app = TestApp::new(kontor_checkout::router(), state);
    let first = app
        .post(
            "/checkout",
            &checkout_body(&[("SO-SOCKS", 1)]),
            &[("Idempotency-Key", "n-1")],
        )
        .await;
    let second = app
        .post(
            "/checkout",
            &checkout_body(&[("SO-SOCKS", 1)]),
            &[("Idempotency-Key", "n-2")],
        )
        .await;
    assert_eq!(
        (first.status.as_u16(), second.status.as_u16()),
        (201, 201),
        "{}",
        second.text
    );
    assert_eq!(first.json()["number"], "K-0000-00R9");
    assert_ne!(second.json()["number"], first.json()["number"]);
    assert_eq!(
        stock(&app, "SO-SOCKS").await,
        98,
        "each order took its unit once"
    );
}
