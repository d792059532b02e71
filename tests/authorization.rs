//! Who may see and change what, through the functions' real routers, on
//! both stores (SQLite, and DynamoDB on moto). Callers arrive as claims, the
//! way the JWT authorizer or the local sign-in hands them to the handlers.

use std::sync::Arc;

use kontor_domain::CustomerId;
use kontor_platform::Store;
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::fixtures::{checkout_body, product, state_over};
use kontor_testkit::http::TestApp;
use serde_json::json;
use support::dynamodb_store;

mod support;

fn app(store: Arc<dyn Store>) -> TestApp {
    let router = kontor_checkout::router()
        .merge(kontor_orders::router())
        .merge(kontor_catalog::router());
    TestApp::new(router, state_over(store))
}

async fn who_sees_what(store: Arc<dyn Store>) {
    store
        .put_product(&product("BELT", "19.90", 5, false), None)
        .await
        .unwrap();
    store
        .put_product(&product("SHIRT", "29.90", 5, false), None)
        .await
        .unwrap();
    let anyone = app(store.clone());
    let eva = anyone.as_customer("eva", "eva@example.de");
    let tom = anyone.as_customer("tom", "tom@example.de");
    let staff = anyone.as_staff();

    // A guest orders with Eva's address before Eva has an account.
    let mut guest_body = checkout_body(&[("BELT", 1)]);
    guest_body["email"] = json!("eva@example.de");
    let guest = anyone
        .post("/checkout", &guest_body, &[("Idempotency-Key", "g-1")])
        .await;
    assert_eq!(guest.status, 201, "{}", guest.text);
    let guest = guest.json();
    let guest_id = guest["id"].as_str().unwrap().to_string();

    // Eva signs in and orders twice; customers get no link token.
    let mut own = Vec::new();
    for (n, sku) in ["BELT", "SHIRT"].iter().enumerate() {
        let key = format!("eva-{n}");
        let mut body = checkout_body(&[(sku, 1)]);
        body["email"] = json!("eva@example.de");
        let placed = eva
            .post("/me/checkout", &body, &[("Idempotency-Key", key.as_str())])
            .await;
        assert_eq!(placed.status, 201, "{}", placed.text);
        assert!(placed.json()["access_token"].is_null());
        own.push(placed.json()["id"].as_str().unwrap().to_string());
    }
    let record = store
        .get_customer(&CustomerId::parse("eva").unwrap())
        .await
        .unwrap()
        .expect("the checkout kept Eva's record");
    assert_eq!(record.order_count, 2);
    assert!(!record.is_new());

    // Her account lists her two orders, not the guest order with her e-mail.
    let mine = eva.get("/me/orders").await;
    assert_eq!(mine.status, 200);
    let mut listed: Vec<String> = mine
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    let mut expected = own.clone();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(eva.get(&format!("/me/orders/{}", own[0])).await.status, 200);
    eva.get(&format!("/me/orders/{guest_id}"))
        .await
        .assert_problem(404, None);
    // The guest order still opens with its link, for anyone holding it.
    let link = format!(
        "/orders/{guest_id}?token={}",
        guest["access_token"].as_str().unwrap()
    );
    assert_eq!(eva.get(&link).await.status, 200);

    // Tom sees none of it.
    assert_eq!(tom.get("/me/orders").await.json(), json!([]));
    tom.get(&format!("/me/orders/{}", own[0]))
        .await
        .assert_problem(404, None);

    // Anonymous callers are asked to sign in; shoppers are kept off staff routes.
    for uri in [
        "/me/orders",
        "/admin/orders",
        "/admin/products",
        &format!("/me/orders/{}", own[0]),
        &format!("/admin/orders/{}", own[0]),
    ] {
        anyone.get(uri).await.assert_problem(401, None);
    }
    anyone
        .post(
            "/me/checkout",
            &checkout_body(&[("BELT", 1)]),
            &[("Idempotency-Key", "anon")],
        )
        .await
        .assert_problem(401, None);
    for uri in [
        "/admin/orders",
        "/admin/products",
        &format!("/admin/orders/{}", own[0]),
    ] {
        eva.get(uri).await.assert_problem(403, None);
    }
    eva.patch("/admin/products/BELT", &json!({"version": 1, "stock": 99}))
        .await
        .assert_problem(403, None);

    // Staff find Eva's orders by e-mail (all three), by number, and read one whole.
    let by_email = staff.get("/admin/orders?q=EVA%40example.de").await;
    assert_eq!(by_email.status, 200, "{}", by_email.text);
    assert_eq!(by_email.json().as_array().unwrap().len(), 3);
    // Page by page, each answer linking the next, the same three.
    let paged = follow_pages(&staff, "/admin/orders", "?q=EVA%40example.de&limit=2").await;
    assert_eq!(paged, [2, 1], "two pages: two orders, then the last");
    assert_eq!(follow_pages(&eva, "/me/orders", "?limit=1").await, [1, 1]);
    for limit in ["0", "201", "-1", "x"] {
        staff
            .get(&format!("/admin/orders?limit={limit}"))
            .await
            .assert_problem(400, None);
    }
    staff
        .get("/admin/orders?cursor=yesterday")
        .await
        .assert_problem(400, None);
    let number = guest["number"].as_str().unwrap();
    let by_number = staff.get(&format!("/admin/orders?q={number}")).await.json();
    assert_eq!(by_number[0]["id"], guest_id.as_str());
    let whole = staff.get(&format!("/admin/orders/{}", own[0])).await.json();
    assert_eq!(whole["customer_id"], "eva");
    assert_eq!(whole["history"][0]["action"], "placed");
    assert_eq!(whole["history"][0]["by"], "customer eva");
    assert_eq!(
        whole["history"][0]["actor"],
        json!({"kind": "customer", "id": "eva"})
    );
    let open_guest = staff
        .get("/admin/orders?status=open&payment_status=pending")
        .await
        .json();
    assert_eq!(open_guest.as_array().unwrap().len(), 3);
    staff
        .get("/admin/orders?status=lost")
        .await
        .assert_problem(400, None);
}

/// Reads a list from `path` + `query`, then every page its `Link`
/// headers name; answers how many entries each page held.
async fn follow_pages(caller: &TestApp, path: &str, query: &str) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut next = Some(query.to_string());
    let mut seen = std::collections::HashSet::new();
    while let Some(query) = next.take() {
        let page = caller.get(&format!("{path}{query}")).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let entries = page.json().as_array().unwrap().clone();
        for entry in &entries {
            assert!(seen.insert(entry["id"].to_string()), "{entry} twice");
        }
        sizes.push(entries.len());
        next = page.headers.get("link").map(|link| {
            let link = link.to_str().unwrap();
            let target = link
                .strip_prefix('<')
                .and_then(|rest| rest.split_once(">; rel=\"next\""))
                .unwrap_or_else(|| panic!("a next link: {link}"))
                .0;
            target.to_string()
        });
    }
    sizes
}

async fn staff_edit_products(store: Arc<dyn Store>) {
    store
        .put_product(&product("BELT", "19.90", 5, false), None)
        .await
        .unwrap();
    store
        .put_product(&product("SHIRT", "29.90", 5, false), None)
        .await
        .unwrap();
    let staff = app(store.clone()).as_staff();

    let edited = staff
        .patch(
            "/admin/products/BELT",
            &json!({"version": 1, "stock": 12, "price": "24.90", "cross_sell": ["SHIRT"]}),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_eq!(edited.json()["version"], 2);
    assert_eq!(edited.json()["stock"], 12);
    assert_eq!(edited.json()["price"], "24.90");
    let stored = store
        .get_product(&kontor_domain::Sku::parse("BELT").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.stock, stored.version), (12, 2));

    // Someone else's change came first: the stale edit changes nothing.
    let stale = staff
        .patch("/admin/products/BELT", &json!({"version": 1, "stock": 3}))
        .await;
    let problem = stale.assert_problem(409, Some("version"));
    assert_eq!(problem["current_version"], 2);
    for (body, field) in [
        (json!({"version": 2, "stock": -1}), "stock"),
        (json!({"version": 2, "price": "-5.00"}), "price"),
        (
            json!({"version": 2, "cross_sell": ["SHIRT", "NOPE"]}),
            "cross_sell[1]",
        ),
        (
            json!({"version": 2, "checkout_sell": ["BELT"]}),
            "checkout_sell[0]",
        ),
    ] {
        staff
            .patch("/admin/products/BELT", &body)
            .await
            .assert_problem(422, Some(field));
    }
    staff
        .patch("/admin/products/NOPE", &json!({"version": 1}))
        .await
        .assert_problem(404, None);
    let unchanged = store
        .get_product(&kontor_domain::Sku::parse("BELT").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (unchanged.stock, unchanged.version),
        (12, 2),
        "refused edits change nothing"
    );
}

fn sqlite() -> Arc<dyn Store> {
    Arc::new(SqliteStore::in_memory().unwrap())
}

#[tokio::test]
async fn who_sees_what_on_sqlite() {
    who_sees_what(sqlite()).await;
}

#[tokio::test]
async fn who_sees_what_on_dynamodb() {
    who_sees_what(dynamodb_store("kontor-auth-orders").await).await;
}

#[tokio::test]
async fn staff_edit_products_on_sqlite() {
    staff_edit_products(sqlite()).await;
}

#[tokio::test]
async fn staff_edit_products_on_dynamodb() {
    staff_edit_products(dynamodb_store("kontor-auth-products").await).await;
}
