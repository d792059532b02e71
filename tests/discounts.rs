//! Discounts from the rule builder, on both stores (SQLite, and DynamoDB on
//! moto): staff write rule sets and discounts through the API (every bad
//! one refused by field, nothing written); a new customer gets 10 % and
//! their second order — also as a guest with the same e-mail — does not;
//! Austria ships free while Germany pays under 50 €; a VIP gets free socks;
//! the cart explains every decision; a coupon limited to 10 uses gives
//! exactly 10 discounted orders under 100 concurrent checkouts; a cart
//! whose total changed is refused, not charged otherwise.

use std::sync::Arc;

use kontor_platform::Store;
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::fixtures::{checkout_body, product, state_over};
use kontor_testkit::http::{claims, TestApp};
use serde_json::{json, Value};
use support::{dynamodb_store, stock_of};

mod support;

fn app(store: &Arc<dyn Store>) -> TestApp {
    TestApp::new(
        kontor_checkout::router()
            .merge(kontor_orders::router())
            .merge(kontor_rule_evaluation::router()),
        state_over(store.clone()),
    )
}

async fn stock(store: &Arc<dyn Store>) {
    for (sku, price, stock, category) in [
        ("CHINO", "59.90", 50, "trousers"),
        ("SOCKS", "4.99", 20, "socks"),
        ("BOX", "9.90", 5, "gifts"),
    ] {
        let mut p = product(sku, price, stock, false);
        p.category = category.into();
        store.put_product(&p, None).await.unwrap();
    }
}

fn cart(lines: &[(&str, u32)], country: &str) -> Value {
    json!({
        "lines": lines.iter().map(|(s, q)| json!({"sku": s, "quantity": q})).collect::<Vec<_>>(),
        "shipping_country": country,
    })
}

fn order_body(lines: &[(&str, u32)], email: &str, country: &str) -> Value {
    let mut body = checkout_body(lines);
    body["email"] = json!(email);
    body["shipping_address"]["country"] = json!(country);
    body
}

/// The shop's promotions, written as staff would.
async fn promotions(staff: &TestApp) {
    let created = staff
        .post(
            "/admin/rule-sets",
            &json!({"id": "new-customers", "name": "New customers",
                    "rule": {"field": "customer.is_new", "op": "eq", "value": true}}),
            &[],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    for discount in [
        json!({"id": "welcome", "name": "10 % for new customers", "kind": "percent", "percent": "10",
               "requirement": {"rule_set": "new-customers"}}),
        json!({"id": "austria", "name": "Free shipping to Austria", "kind": "free_shipping",
               "requirement": {"field": "shipping.country", "op": "eq", "value": "AT"}}),
        json!({"id": "vip-socks", "name": "Free socks for VIPs with two trousers", "kind": "free_item",
               "sku": "SOCKS", "quantity": 1,
               "requirement": {"all": [{"field": "customer.groups", "op": "contains", "value": "vip"},
                                        {"field": "cart.quantity", "op": "gte", "value": 2}]}}),
    ] {
        let saved = staff.post("/admin/discounts", &discount, &[]).await;
        assert_eq!(saved.status, 201, "{}", saved.text);
    }
    let offer = staff
        .post(
            "/admin/offers",
            &json!({"id": "gift-box", "sku": "BOX",
                    "requirement": {"field": "cart.subtotal", "op": "gt", "value": "100.00"}}),
            &[],
        )
        .await;
    assert_eq!(offer.status, 201, "{}", offer.text);
}

async fn new_customers_austria_and_vips(store: Arc<dyn Store>) {
    stock(&store).await;
    let anyone = app(&store);
    let staff = anyone.as_staff();
    promotions(&staff).await;

    // A first order: 10 % off, spread over the lines, with the trace.
    let priced = anyone
        .post(
            "/cart/evaluate?explain=true",
            &cart(&[("CHINO", 1)], "DE"),
            &[],
        )
        .await;
    assert_eq!(priced.status, 200, "{}", priced.text);
    let priced = priced.json();
    assert_eq!(priced["discounts"][0]["id"], "welcome");
    assert_eq!(priced["discounts"][0]["amount"], "5.99");
    // Shipping is free from 50 € of goods before discounts: 59.90 − 5.99.
    assert_eq!(priced["total"], "53.91");
    let trace = &priced["discounts"][0]["trace"];
    assert_eq!(trace[0]["node"], "rule_set");
    assert_eq!(trace[1]["field"], "customer.is_new");
    assert_eq!(trace[1]["seen"], true);
    // Why Austria's free shipping does not apply in Germany, said.
    let austria = priced["not_applied"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "austria")
        .unwrap()
        .clone();
    assert_eq!(austria["reason"], "requirement_not_met");
    assert_eq!(austria["trace"][0]["seen"], "DE");

    let mut body = order_body(&[("CHINO", 1)], "Eva.Neu+shop@Example.de", "DE");
    body["expected_total"] = json!("53.91");
    let placed = anyone
        .post("/checkout", &body, &[("Idempotency-Key", "new-1")])
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_eq!(placed.json()["total"], "53.91");

    // The second order of the same mailbox, as a guest with the address
    // spelt otherwise: not new any more, the cart says so and the checkout
    // charges the full price.
    let mut again = cart(&[("CHINO", 1)], "DE");
    again["email"] = json!("eva.neu@example.de");
    let priced = anyone.post("/cart/evaluate", &again, &[]).await.json();
    assert!(
        priced["discounts"].as_array().unwrap().is_empty(),
        "{priced}"
    );
    assert_eq!(priced["total"], "59.90");
    // A shopper whose cart still showed the discount is refused, not charged more.
    let mut stale = order_body(&[("CHINO", 1)], "eva.neu@example.de", "DE");
    stale["expected_total"] = json!("53.91");
    anyone
        .post("/checkout", &stale, &[("Idempotency-Key", "new-2")])
        .await
        .assert_problem(409, Some("expected_total"));
    stale["expected_total"] = json!("59.90");
    let second = anyone
        .post("/checkout", &stale, &[("Idempotency-Key", "new-3")])
        .await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(second.json()["total"], "59.90");

    // Austria ships free; Germany pays shipping under 50 €.
    let at = anyone
        .post("/cart/evaluate", &cart(&[("SOCKS", 2)], "AT"), &[])
        .await
        .json();
    assert_eq!(at["shipping_discount"], "4.95", "{at}");
    let de = anyone
        .post("/cart/evaluate", &cart(&[("SOCKS", 2)], "DE"), &[])
        .await
        .json();
    assert_eq!(de["shipping_discount"], "0.00");
    assert_eq!(de["shipping"], "4.95");
    // 9.98 of goods: 40.02 more for free shipping.
    assert!(de["nearly"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["id"] == "shipping" && n["missing"] == "40.02"));
    let mut returning = order_body(&[("SOCKS", 2)], "eva.neu@example.de", "AT");
    returning["shipping_address"]["country"] = json!("AT");
    let placed = anyone
        .post("/checkout", &returning, &[("Idempotency-Key", "at-1")])
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    // 9.98 of socks, shipping free.
    assert_eq!(placed.json()["total"], "9.98");

    // A VIP with two trousers gets socks for free, as a line of its own at
    // 0; a cart over 100 € is offered the gift box.
    let vip = anyone.signed_in(claims("cust-vip", "vera@example.de", &["vip"]));
    let priced = vip
        .post("/cart/evaluate", &cart(&[("CHINO", 2)], "DE"), &[])
        .await
        .json();
    let gift = priced["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["gift_of"] == "vip-socks")
        .cloned()
        .unwrap_or_else(|| panic!("no free socks: {priced}"));
    assert_eq!(gift["total"], "0.00");
    assert!(priced["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["sku"] == "BOX"));
    let socks_before = stock_of(store.as_ref(), "SOCKS").await;
    let mut body = order_body(&[("CHINO", 2)], "vera@example.de", "DE");
    body["expected_total"] = priced["total"].clone();
    let placed = vip
        .post("/me/checkout", &body, &[("Idempotency-Key", "vip-1")])
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let order = vip
        .get(&format!(
            "/me/orders/{}",
            placed.json()["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(order.status, 200, "{}", order.text);
    assert_eq!(stock_of(store.as_ref(), "SOCKS").await, socks_before - 1);
}

async fn bad_promotions_are_refused(store: Arc<dyn Store>) {
    stock(&store).await;
    let anyone = app(&store);
    let staff = anyone.as_staff();
    promotions(&staff).await;
    let before = staff.get("/admin/discounts").await.json();
    let bad_rules: Vec<(Value, &str)> = vec![
        (
            json!({"field": "customer.shoe_size", "op": "eq", "value": 42}),
            "rule.field",
        ),
        (
            json!({"field": "shipping.country", "op": "gt", "value": "AT"}),
            "rule.op",
        ),
        (
            json!({"field": "cart.subtotal", "op": "gte", "value": true}),
            "rule.value",
        ),
        (json!({"any": []}), "rule.any"),
        (
            json!({"all": [{"rule_set": "nope"}]}),
            "rule.all[0].rule_set",
        ),
    ];
    for (rule, field) in bad_rules {
        staff
            .post(
                "/admin/rule-sets",
                &json!({"id": "bad", "name": "Bad", "rule": rule}),
                &[],
            )
            .await
            .assert_problem(422, Some(field));
    }
    // A cycle: a set that refers to a set that refers back.
    let looped = staff
        .post(
            "/admin/rule-sets",
            &json!({"id": "loop", "name": "Loop", "rule": {"rule_set": "new-customers"}}),
            &[],
        )
        .await;
    assert_eq!(looped.status, 201, "{}", looped.text);
    let current = staff.get("/admin/rule-sets/new-customers").await.json();
    staff
        .put(
            "/admin/rule-sets/new-customers",
            &json!({"name": "New", "rule": {"rule_set": "loop"}, "version": current["version"]}),
        )
        .await
        .assert_problem(422, Some("rule"));
    let base = json!({"id": "x", "name": "X", "kind": "percent", "percent": "10"});
    let bad_discounts: Vec<(Value, &str)> = vec![
        (json!({"percent": "101"}), "percent"),
        (json!({"percent": "-1"}), "percent"),
        (
            json!({"kind": "fixed", "amount": "5.00", "currency": "CHF"}),
            "currency",
        ),
        (
            json!({"starts_at": "2027-02-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z"}),
            "ends_at",
        ),
        (json!({"coupon": "WIN TER"}), "coupon"),
        (json!({"coupon": "W".repeat(65)}), "coupon"),
        (
            json!({"requirement": {"rule_set": "unknown"}}),
            "requirement.rule_set",
        ),
    ];
    for (change, field) in bad_discounts {
        let mut body = base.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        staff
            .post("/admin/discounts", &body, &[])
            .await
            .assert_problem(422, Some(field));
    }
    // Deleting a rule set a discount uses is refused.
    let set = staff.get("/admin/rule-sets/new-customers").await.json();
    assert!(set["used_by"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u == "discount welcome"));
    staff
        .delete(&format!(
            "/admin/rule-sets/new-customers?version={}",
            set["version"]
        ))
        .await
        .assert_problem(409, None);
    // A stale version is a 409; nothing of the above was written.
    let mut welcome = staff.get("/admin/discounts/welcome").await.json();
    welcome["version"] = json!(99);
    staff
        .put("/admin/discounts/welcome", &welcome)
        .await
        .assert_problem(409, Some("version"));
    assert_eq!(staff.get("/admin/discounts").await.json(), before);
    // Shoppers and anonymous callers cannot write promotions.
    anyone
        .post("/admin/discounts", &base, &[])
        .await
        .assert_problem(401, None);
    anyone
        .signed_in(claims("cust-1", "c@example.de", &[]))
        .post("/admin/discounts", &base, &[])
        .await
        .assert_problem(403, None);

    // The simulator answers a sample's result and trace, for the saved
    // rule and for an edit not yet saved.
    let simulated = staff
        .post(
            "/admin/rule-sets/new-customers/simulate",
            &json!({"lines": [{"sku": "CHINO", "quantity": 1}], "shipping_country": "DE",
                    "customer": {"order_count": 2}}),
            &[],
        )
        .await;
    assert_eq!(simulated.status, 200, "{}", simulated.text);
    let simulated = simulated.json();
    assert_eq!(simulated["result"], false);
    assert_eq!(simulated["trace"][0]["seen"], false);
    let edited = staff
        .post(
            "/admin/rule-sets/new-customers/simulate",
            &json!({"rule": {"field": "customer.order_count", "op": "lt", "value": 3},
                    "customer": {"order_count": 2}}),
            &[],
        )
        .await
        .json();
    assert_eq!(edited["result"], true);
}

async fn a_limited_coupon_under_concurrency(store: Arc<dyn Store>, checkouts: usize) {
    stock(&store).await;
    let anyone = app(&store);
    let staff = anyone.as_staff();
    let saved = staff
        .post(
            "/admin/discounts",
            &json!({"id": "winter", "name": "Winter", "kind": "fixed", "amount": "5.00",
                    "coupon": "winter", "usage_limit": 10, "per_customer_limit": 1,
                    "ends_at": "2027-01-31T23:59:59+01:00"}),
            &[],
        )
        .await;
    assert_eq!(saved.status, 201, "{}", saved.text);
    let anyone = Arc::new(anyone);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..checkouts {
        let anyone = Arc::clone(&anyone);
        tasks.spawn(async move {
            let mut body = order_body(&[("SOCKS", 1)], &format!("shopper{n}@example.de"), "DE");
            body["coupon"] = json!("WINTER");
            let answer = anyone
                .post(
                    "/checkout",
                    &body,
                    &[("Idempotency-Key", &format!("winter-{n}"))],
                )
                .await;
            (answer.status.as_u16(), answer.json())
        });
    }
    let mut discounted = 0;
    while let Some(result) = tasks.join_next().await {
        let (status, answer) = result.unwrap();
        match status {
            201 => {
                // 5 € off 4.99 of goods takes them to 0, never below.
                assert_eq!(answer["total"], "4.95", "{answer}");
                discounted += 1;
            }
            409 | 422 => assert_eq!(answer["field"], "coupon", "{answer}"),
            other => panic!("unexpected {other}: {answer}"),
        }
    }
    assert_eq!(discounted, 10, "exactly the limit");
    let list = staff.get("/admin/discounts").await.json();
    assert_eq!(list[0]["uses"], 10);
    // The cart now says the coupon is used up, before any checkout.
    let mut used_up = cart(&[("SOCKS", 1)], "DE");
    used_up["coupon"] = json!("winter");
    anyone
        .post("/cart/evaluate", &used_up, &[])
        .await
        .assert_problem(422, Some("coupon"));
    // One per customer: a second use by the same mailbox is refused.
    let saved = staff
        .post(
            "/admin/discounts",
            &json!({"id": "once", "name": "Once", "kind": "percent", "percent": "5",
                    "coupon": "ONCE", "per_customer_limit": 1}),
            &[],
        )
        .await;
    assert_eq!(saved.status, 201, "{}", saved.text);
    let mut once = order_body(&[("SOCKS", 1)], "solo@example.de", "DE");
    once["coupon"] = json!("ONCE");
    let first = anyone
        .post("/checkout", &once, &[("Idempotency-Key", "once-1")])
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    once["email"] = json!("Solo+again@Example.de");
    anyone
        .post("/checkout", &once, &[("Idempotency-Key", "once-2")])
        .await
        .assert_problem(409, Some("coupon"));
}

#[tokio::test]
async fn discounts_on_sqlite() {
    new_customers_austria_and_vips(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn discounts_on_dynamodb() {
    new_customers_austria_and_vips(dynamodb_store("kontor-discounts").await).await;
}

#[tokio::test]
async fn bad_promotions_on_sqlite() {
    bad_promotions_are_refused(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn bad_promotions_on_dynamodb() {
    bad_promotions_are_refused(dynamodb_store("kontor-bad-promotions").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn coupon_limit_on_sqlite() {
    a_limited_coupon_under_concurrency(Arc::new(SqliteStore::in_memory().unwrap()), 100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn coupon_limit_on_dynamodb() {
    a_limited_coupon_under_concurrency(dynamodb_store("kontor-coupon-limit").await, 100).await;
}
