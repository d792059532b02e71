//! An order's lifecycle end to end, through the real routers, on both
//! stores (SQLite, and DynamoDB on moto): staff cancel an order and its
//! stock comes back with an e-mail to the customer; a guest and a customer
//! cancel their own orders before packing; staff record payments up to the
//! total and a delivered, paid order completes; an unpaid prepayment order
//! expires once its deadline passes (an injected clock). Every refusal is a
//! problem naming its reason, and writes nothing.

use std::sync::Arc;

use kontor::bus::LocalBus;
use kontor_domain::OrderId;
use kontor_http::AppState;
use kontor_platform::{FixedClock, SequentialIds, ShopSettings, Store};
use kontor_store_sqlite::{MailOutbox, SqliteStore};
use kontor_testkit::fixtures::{checkout_body, product};
use kontor_testkit::http::{TestApp, TestResponse};
use serde_json::{json, Value};
use support::{dynamodb_store, order_version, stock_of};
use time::macros::datetime;

mod support;

struct Shop {
    store: Arc<dyn Store>,
    clock: Arc<FixedClock>,
    state: AppState,
    anyone: TestApp,
    staff: TestApp,
    bus: LocalBus,
    outbox: MailOutbox,
}

impl Shop {
    async fn open(store: Arc<dyn Store>) -> Shop {
        for (sku, price, stock) in [("SHIRT", "49.90", 5), ("BELT", "34.90", 5)] {
            store
                .put_product(&product(sku, price, stock, false), None)
                .await
                .unwrap();
        }
        let clock = Arc::new(FixedClock::new(datetime!(2026-11-28 10:00 UTC)));
        let state = AppState {
            store: store.clone(),
            clock: clock.clone(),
            ids: Arc::new(SequentialIds::default()),
            settings: Arc::new(ShopSettings::default()),
            payments: Arc::new(kontor_platform::OfflinePayments),
            promotions: Default::default(),
        };
        let router = kontor_checkout::router()
            .merge(kontor_orders::router())
            .merge(kontor_shipment::router())
            .merge(kontor_order_lifecycle::router());
        let anyone = TestApp::new(router, state.clone());
        let (outbox, bus) = support::mail_bus(&store);
        Shop {
            bus,
            staff: anyone.as_staff(),
            anyone,
            state,
            store,
            clock,
            outbox,
        }
    }

    async fn buy(&self, key: &str, lines: &[(&str, u32)], payment_method: &str) -> Value {
        let mut body = checkout_body(lines);
        body["payment_method"] = json!(payment_method);
        let placed = self
            .anyone
            .post("/checkout", &body, &[("Idempotency-Key", key)])
            .await;
        assert_eq!(placed.status, 201, "{}", placed.text);
        placed.json()
    }

    async fn stock(&self, sku: &str) -> u32 {
        stock_of(self.store.as_ref(), sku).await
    }

    async fn version(&self, id: &str) -> u64 {
        order_version(self.store.as_ref(), id).await
    }

    async fn admin_order(&self, id: &str) -> Value {
        let order = self.staff.get(&format!("/admin/orders/{id}")).await;
        assert_eq!(order.status, 200, "{}", order.text);
        order.json()
    }

    /// The subjects of the e-mails sent since the last call.
    async fn mails(&self, seen: &mut usize) -> Vec<String> {
        self.bus.relay_pending().await.unwrap();
        let mut all = self.outbox.list(None, 1000).await.unwrap();
        all.reverse();
        let new = all[*seen..].iter().map(|m| m.subject.clone()).collect();
        *seen = all.len();
        new
    }

    async fn staff_post(&self, path: &str, body: Value) -> TestResponse {
        self.staff.post(path, &body, &[]).await
    }
}

fn payment(amount: &str) -> Value {
    json!({"amount": amount, "date": "2026-11-28", "reference": "Überweisung"})
}

async fn lifecycle(store: Arc<dyn Store>) {
    let shop = Shop::open(store).await;
    let mut seen = 0;

    // Staff cancel an order: its stock comes back and the customer hears.
    let order = shop.buy("a", &[("SHIRT", 2), ("BELT", 1)], "invoice").await;
    let id = order["id"].as_str().unwrap().to_string();
    assert_eq!(
        (shop.stock("SHIRT").await, shop.stock("BELT").await),
        (3, 4)
    );
    shop.mails(&mut seen).await;
    let version = shop.version(&id).await;
    let stale = shop
        .staff_post(
            &format!("/admin/orders/{id}/cancel"),
            json!({"version": version + 1}),
        )
        .await;
    assert_eq!(
        stale.assert_problem(409, Some("version"))["current_version"],
        version
    );
    let cancelled = shop
        .staff_post(
            &format!("/admin/orders/{id}/cancel"),
            json!({"reason": "Lieferant liefert nicht", "version": version}),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.json()["status"], "cancelled");
    assert_eq!(
        (shop.stock("SHIRT").await, shop.stock("BELT").await),
        (5, 5)
    );
    assert_eq!(
        shop.mails(&mut seen).await,
        [format!(
            "Deine Bestellung {} wurde storniert",
            order["number"].as_str().unwrap()
        )]
    );
    let whole = shop.admin_order(&id).await;
    let last = whole["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "cancelled");
    assert_eq!(last["by"], "staff staff@kontor.example");

    // Nothing changes a cancelled order any more, and nothing is written.
    let closed = shop.version(&id).await;
    for (path, body) in [
        (format!("/admin/orders/{id}/cancel"), json!({})),
        (format!("/admin/orders/{id}/payments"), payment("1.00")),
        (
            format!("/admin/orders/{id}/complete"),
            json!({"even_if_open": true}),
        ),
        (
            format!("/admin/orders/{id}/shipments"),
            json!({"items": [{"line_id": "L1", "quantity": 1}]}),
        ),
    ] {
        let refused = shop.staff_post(&path, body).await;
        let problem = refused.assert_problem(409, None);
        assert_eq!(problem["type"], "urn:kontor:problem:order-closed", "{path}");
        assert_eq!(problem["order_status"], "cancelled");
    }
    assert_eq!(shop.version(&id).await, closed);
    assert_eq!(
        (shop.stock("SHIRT").await, shop.stock("BELT").await),
        (5, 5),
        "returned once"
    );

    // A guest cancels from the order's link before packing; a wrong token
    // finds no order.
    let guest = shop.buy("b", &[("BELT", 2)], "invoice").await;
    let gid = guest["id"].as_str().unwrap();
    let token = guest["access_token"].as_str().unwrap();
    shop.anyone
        .post(
            &format!("/orders/{gid}/cancel?token=wrong"),
            &json!({}),
            &[],
        )
        .await
        .assert_problem(404, None);
    shop.anyone
        .post(&format!("/orders/{gid}/cancel"), &json!({}), &[])
        .await
        .assert_problem(404, None);
    let by_guest = shop
        .anyone
        .post(
            &format!("/orders/{gid}/cancel?token={token}"),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(by_guest.status, 200, "{}", by_guest.text);
    assert_eq!(shop.stock("BELT").await, 5);
    let subjects = shop.mails(&mut seen).await;
    assert_eq!(
        subjects.len(),
        2,
        "confirmation and cancellation: {subjects:?}"
    );
    assert!(subjects[1].ends_with("wurde storniert"));
    let page = shop
        .anyone
        .get(&format!("/orders/{gid}?token={token}"))
        .await
        .json();
    assert_eq!(page["status"], "cancelled");

    // A customer's packed order is the shop's to cancel, not theirs; and
    // another customer's order does not exist for them.
    let eva = shop.anyone.as_customer("eva", "eva@example.de");
    let mut body = checkout_body(&[("SHIRT", 1)]);
    body["email"] = json!("eva@example.de");
    let placed = eva
        .post("/me/checkout", &body, &[("Idempotency-Key", "c")])
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let cid = placed.json()["id"].as_str().unwrap().to_string();
    let packed = shop
        .staff_post(
            &format!("/admin/orders/{cid}/shipments"),
            json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "other"}),
        )
        .await;
    assert_eq!(packed.status, 201, "{}", packed.text);
    shop.anyone
        .as_customer("otto", "otto@example.de")
        .post(&format!("/me/orders/{cid}/cancel"), &json!({}), &[])
        .await
        .assert_problem(404, None);
    let too_late = eva
        .post(&format!("/me/orders/{cid}/cancel"), &json!({}), &[])
        .await;
    assert_eq!(
        too_late.assert_problem(409, None)["type"],
        "urn:kontor:problem:already-packed"
    );
    // Staff may: the packed parcel is unpacked and its unit goes back.
    assert_eq!(shop.stock("SHIRT").await, 4);
    let unpacked = shop
        .staff_post(&format!("/admin/orders/{cid}/cancel"), json!({}))
        .await;
    assert_eq!(unpacked.status, 200, "{}", unpacked.text);
    assert_eq!(shop.stock("SHIRT").await, 5);
    assert!(shop.admin_order(&cid).await["shipments"]
        .as_array()
        .unwrap()
        .is_empty());

    // Payments: never zero, negative, in fractions of a cent, in the future
    // or above what is due; the status follows; a delivered, paid order
    // completes by itself.
    let paying = shop.buy("d", &[("SHIRT", 1)], "invoice").await;
    let pid = paying["id"].as_str().unwrap().to_string();
    assert_eq!(paying["total"], "54.85", "49.90 and 4.95 shipping");
    let payments = format!("/admin/orders/{pid}/payments");
    let before = shop.version(&pid).await;
    for (body, field) in [
        (payment("0"), "amount"),
        (payment("-5.00"), "amount"),
        (payment("0.001"), "amount"),
        (payment("54.86"), "amount"),
        (payment("99999999999999999999"), "amount"),
        (
            json!({"amount": "5.00", "date": "2026-11-29", "reference": "x"}),
            "date",
        ),
        (
            json!({"amount": "5.00", "date": "28.11.2026", "reference": "x"}),
            "date",
        ),
        (
            json!({"amount": "5.00", "date": "2026-11-28", "reference": " "}),
            "reference",
        ),
        (
            json!({"amount": 5, "date": "2026-11-28", "reference": "x"}),
            "amount",
        ),
    ] {
        shop.staff_post(&payments, body.clone())
            .await
            .assert_problem(422, Some(field));
    }
    let over = shop.staff_post(&payments, payment("60.00")).await;
    assert_eq!(over.assert_problem(422, Some("amount"))["due"], "54.85");
    assert_eq!(shop.version(&pid).await, before, "nothing written");
    let part = shop.staff_post(&payments, payment("20.00")).await;
    assert_eq!(part.status, 201, "{}", part.text);
    assert_eq!(part.json()["payment_status"], "partially_paid");
    assert_eq!(part.json()["due"], "34.85");
    // A double click: the second, sent with the version the first saw, is
    // refused rather than recorded twice.
    let mut twice = payment("20.00");
    twice["version"] = json!(before);
    shop.staff_post(&payments, twice)
        .await
        .assert_problem(409, Some("version"));
    let complete = format!("/admin/orders/{pid}/complete");
    let early = shop.staff_post(&complete, json!({})).await;
    let problem = early.assert_problem(409, Some("even_if_open"));
    assert_eq!(problem["shipping_status"], "not_shipped");
    assert_eq!(problem["payment_status"], "partially_paid");
    let rest = shop.staff_post(&payments, payment("34.85")).await;
    assert_eq!(rest.json()["payment_status"], "paid");
    assert_eq!(rest.json()["status"], "open", "paid, not yet delivered");
    shop.staff_post(&payments, payment("1.00"))
        .await
        .assert_problem(409, None);
    let shipments = format!("/admin/orders/{pid}/shipments");
    shop.staff_post(
        &shipments,
        json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "other"}),
    )
    .await;
    let delivered = shop
        .staff_post(
            &format!("{shipments}/S1/status"),
            json!({"status": "delivered", "notify": false}),
        )
        .await;
    assert_eq!(delivered.status, 200, "{}", delivered.text);
    let whole = shop.admin_order(&pid).await;
    assert_eq!(whole["status"], "completed");
    assert_eq!(whole["payment_status"], "paid");
    let actions: Vec<&str> = whole["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "placed",
            "payment_recorded",
            "payment_recorded",
            "shipment_packed",
            "shipment_moved",
            "completed"
        ]
    );
    // A shipped order is a return's business, not a cancellation's.
    shop.staff_post(&format!("/admin/orders/{pid}/cancel"), json!({}))
        .await
        .assert_problem(409, None);

    // Staff complete an undelivered order only on purpose.
    let open = shop.buy("e", &[("BELT", 1)], "invoice").await;
    let oid = open["id"].as_str().unwrap();
    let done = shop
        .staff_post(
            &format!("/admin/orders/{oid}/complete"),
            json!({"even_if_open": true}),
        )
        .await;
    assert_eq!(done.json()["status"], "completed");

    // An unpaid prepayment order expires after the shop's 14 days; a paid
    // one and an invoice order do not.
    let unpaid = shop.buy("f", &[("SHIRT", 2)], "prepayment").await;
    let paid = shop.buy("g", &[("SHIRT", 1)], "prepayment").await;
    let invoice = shop.buy("h", &[("SHIRT", 1)], "invoice").await;
    let paid_id = paid["id"].as_str().unwrap();
    let paid_total = paid["total"].as_str().unwrap();
    shop.staff_post(
        &format!("/admin/orders/{paid_id}/payments"),
        payment(paid_total),
    )
    .await;
    assert_eq!(
        shop.stock("SHIRT").await,
        0,
        "5 less d's 1, f's 2, g's 1 and h's 1"
    );
    shop.mails(&mut seen).await;
    shop.clock.advance(time::Duration::days(13));
    assert_eq!(
        kontor_order_lifecycle::expire_unpaid(&shop.state)
            .await
            .unwrap(),
        0
    );
    shop.clock
        .advance(time::Duration::days(1) + time::Duration::minutes(1));
    assert_eq!(
        kontor_order_lifecycle::expire_unpaid(&shop.state)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        kontor_order_lifecycle::expire_unpaid(&shop.state)
            .await
            .unwrap(),
        0,
        "once"
    );
    assert_eq!(
        shop.stock("SHIRT").await,
        2,
        "the unpaid order's two shirts are back"
    );
    let expired = shop.admin_order(unpaid["id"].as_str().unwrap()).await;
    assert_eq!(expired["status"], "cancelled");
    let last = expired["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["by"], "system (no payment within 14 days)");
    for other in [&paid, &invoice] {
        let other = shop.admin_order(other["id"].as_str().unwrap()).await;
        assert_eq!(other["status"], "open");
    }
    let subjects = shop.mails(&mut seen).await;
    assert_eq!(subjects.len(), 1, "{subjects:?}");
    let mail = shop.outbox.list(None, 1).await.unwrap().remove(0);
    assert!(mail.text.contains("keine Zahlung"), "{}", mail.text);
}

/// Eight staff record the whole amount of one order at the same moment:
/// the order writer decides each again after a lost race, so exactly one
/// payment is recorded and the others are told nothing is due — never an
/// overpayment.
async fn concurrent_payments(store: Arc<dyn Store>) {
    let shop = Shop::open(store).await;
    let order = shop.buy("race", &[("SHIRT", 1)], "invoice").await;
    let id = order["id"].as_str().unwrap().to_string();
    let total = order["total"].as_str().unwrap().to_string();
    let staff = Arc::new(shop.staff);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (staff, id, total) = (staff.clone(), id.clone(), total.clone());
            tokio::spawn(async move {
                staff
                    .post(
                        &format!("/admin/orders/{id}/payments"),
                        &payment(&total),
                        &[],
                    )
                    .await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().status.as_u16());
    }
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    let stored = shop
        .store
        .get_order(&OrderId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.payments.len(), 1);
    assert!(stored.amount_due().is_zero(), "paid once, in full");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_payments_on_sqlite() {
    concurrent_payments(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_payments_on_dynamodb() {
    concurrent_payments(dynamodb_store("kontor-payment-race").await).await;
}

#[tokio::test]
async fn the_order_lifecycle_on_sqlite() {
    lifecycle(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn the_order_lifecycle_on_dynamodb() {
    lifecycle(dynamodb_store("kontor-lifecycle").await).await;
}
