//! A split delivery end to end, through the real routers, on both stores
//! (SQLite, and DynamoDB on moto): an order of three products, one
//! backordered, ships in two parcels with two tracking numbers; the
//! customer gets a "shipped" e-mail for each with its items and link, then
//! "delivered" e-mails from signed carrier webhooks; a replayed webhook
//! sends nothing; the order page shows both parcels. The bad inputs of the
//! workflow each get their problem and change nothing.

use std::sync::Arc;

use kontor::bus::LocalBus;
use kontor_domain::carrier::TrackingService;
use kontor_domain::shipment::Carrier;
use kontor_domain::{OrderId, Sku};
use kontor_platform::webhooks::{body_signature, signature_header, Sender};
use kontor_platform::{Store, WebhookSecrets};
use kontor_store_sqlite::{MailOutbox, SqliteStore, StoredMail};
use kontor_testkit::fixtures::{checkout_body, product, state_over};
use kontor_testkit::http::{TestApp, TestResponse};
use serde_json::{json, Value};
use support::{dynamodb_store, order_version};

mod support;

const DHL_SECRET: &str = "dhl-secret-for-tests";
const AFTERSHIP_SECRET: &str = "aftership-secret-for-tests";
const SENDCLOUD_SECRET: &str = "sendcloud-secret-for-tests";

struct Shop {
    store: Arc<dyn Store>,
    staff: TestApp,
    anyone: TestApp,
    bus: LocalBus,
    outbox: MailOutbox,
}

impl Shop {
    async fn open(store: Arc<dyn Store>) -> Shop {
        store
            .put_product(&product("SHIRT", "49.90", 5, false), None)
            .await
            .unwrap();
        store
            .put_product(&product("BELT", "34.90", 5, false), None)
            .await
            .unwrap();
        store
            .put_product(&product("JACKET", "119.00", 0, true), None)
            .await
            .unwrap();
        let mut state = state_over(store.clone());
        let mut settings = (*state.settings).clone();
        settings.webhook_secrets = WebhookSecrets::default()
            .with(Sender::Carrier(Carrier::Dhl), DHL_SECRET)
            .with(
                Sender::Service(TrackingService::AfterShip),
                AFTERSHIP_SECRET,
            )
            .with(
                Sender::Service(TrackingService::Sendcloud),
                SENDCLOUD_SECRET,
            );
        state.settings = Arc::new(settings);
        let router = kontor_checkout::router()
            .merge(kontor_orders::router())
            .merge(kontor_catalog::router())
            .merge(kontor_shipment::router())
            .merge(kontor_tracking_update::router())
            .merge(kontor_order_lifecycle::router());
        let anyone = TestApp::new(router, state);
        // The mail outbox is the local runtime's mailer; it keeps every
        // e-mail for counting whichever store the order lives in.
        let (outbox, bus) = support::mail_bus(&store);
        Shop {
            bus,
            staff: anyone.as_staff(),
            anyone,
            store,
            outbox,
        }
    }

    /// Hands the outbox's events to the notifier, as the bus (or
    /// EventBridge) would, and answers the e-mails sent since last asked.
    async fn deliver(&self, seen: &mut usize) -> Vec<StoredMail> {
        self.bus.relay_pending().await.unwrap();
        let mut all = self.outbox.list(None, 1000).await.unwrap();
        all.reverse();
        let new = all[*seen..].to_vec();
        *seen = all.len();
        new
    }

    async fn webhook(&self, carrier: &str, secret: &str, body: &Value, at: i64) -> TestResponse {
        let raw = body.to_string();
        let signature = signature_header(secret.as_bytes(), at, raw.as_bytes());
        self.anyone
            .post_raw(
                &format!("/webhooks/carriers/{carrier}"),
                &raw,
                &[("Kontor-Signature", signature.as_str())],
            )
            .await
    }

    /// A tracking service's delivery of `body`, signed its way (or with
    /// the header left out when `secret` is `None`).
    async fn service_webhook(
        &self,
        service: TrackingService,
        secret: Option<&str>,
        body: &str,
    ) -> TestResponse {
        let header = kontor_platform::webhooks::service_signature_header(service);
        let signature =
            secret.map(|secret| body_signature(service, secret.as_bytes(), body.as_bytes()));
        let headers: Vec<(&str, &str)> = signature.iter().map(|s| (header, s.as_str())).collect();
        self.anyone
            .post_raw(&format!("/webhooks/{}", service.code()), body, &headers)
            .await
    }

    async fn version(&self, id: &str) -> u64 {
        order_version(self.store.as_ref(), id).await
    }
}

/// The clock of `state_over`: signatures are checked against it.
const NOW: i64 = 1_795_860_000; // 2026-11-28 10:00 UTC

async fn split_delivery(store: Arc<dyn Store>) {
    assert_eq!(
        time::macros::datetime!(2026-11-28 10:00 UTC).unix_timestamp(),
        NOW
    );
    let shop = Shop::open(store).await;
    let mut seen = 0;

    let placed = shop
        .anyone
        .post(
            "/checkout",
            &checkout_body(&[("SHIRT", 1), ("BELT", 1), ("JACKET", 1)]),
            &[("Idempotency-Key", "split-1")],
        )
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let placed = placed.json();
    let id = placed["id"].as_str().unwrap().to_string();
    assert_eq!(placed["backordered"][0]["sku"], "JACKET");
    assert_eq!(shop.deliver(&mut seen).await.len(), 1, "the confirmation");
    let shipments = format!("/admin/orders/{id}/shipments");

    // Bad input first: each refused, nothing written.
    let version = shop.version(&id).await;
    for (body, status, field) in [
        (
            json!({"items": [{"line_id": "L1", "quantity": 2}], "carrier": "dhl"}),
            422,
            Some("items[0].quantity"),
        ),
        (
            json!({"items": [{"line_id": "L9", "quantity": 1}], "carrier": "dhl"}),
            422,
            Some("items[0].line_id"),
        ),
        (
            json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "dhl", "tracking_number": "0034/0434"}),
            422,
            Some("tracking_number"),
        ),
        (
            json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "dhl", "tracking_number": "0034\u{7}0434"}),
            422,
            Some("tracking_number"),
        ),
        // Mistyped: the last digit of the label's 00340434161094042557.
        (
            json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "dhl", "tracking_number": "0034 0434 1610 9404 2558"}),
            422,
            Some("tracking_number"),
        ),
        // A UPS number given for DHL.
        (
            json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "dhl", "tracking_number": "1Z999AA10123456784"}),
            422,
            Some("tracking_number"),
        ),
        (json!({"items": [], "carrier": "dhl"}), 422, Some("items")),
        (
            json!({"items": [{"line_id": "L3", "quantity": 1}], "carrier": "dpd"}),
            409,
            Some("items[0].quantity"),
        ),
    ] {
        let answer = shop.staff.post(&shipments, &body, &[]).await;
        let problem = answer.assert_problem(status, field);
        if status == 409 {
            assert_eq!(
                (problem["sku"].as_str(), problem["available"].as_u64()),
                (Some("JACKET"), Some(0))
            );
        }
    }
    shop.anyone
        .post(
            &shipments,
            &json!({"items": [{"line_id": "L1", "quantity": 1}]}),
            &[],
        )
        .await
        .assert_problem(401, None);
    assert_eq!(shop.version(&id).await, version, "refusals change nothing");

    // Parcel 1: shirt and belt, from the stock reserved at checkout.
    let first = shop
        .staff
        .post(&shipments, &json!({"items": [{"line_id": "L1", "quantity": 1}, {"line_id": "L2", "quantity": 1}], "carrier": "dhl", "tracking_number": "00340434161094042557"}), &[])
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.json()["shipment"]["id"], "S1");
    let shipped = shop
        .staff
        .post(
            &format!("{shipments}/S1/status"),
            &json!({"status": "shipped", "notify": true}),
            &[],
        )
        .await;
    assert_eq!(shipped.status, 200, "{}", shipped.text);
    assert_eq!(shipped.json()["shipping_status"], "partially_shipped");
    let mails = shop.deliver(&mut seen).await;
    assert_eq!(mails.len(), 1, "one 'shipped' e-mail");
    assert!(
        mails[0].subject.contains("unterwegs"),
        "{}",
        mails[0].subject
    );
    assert!(
        mails[0].text.contains("1 × Product SHIRT") && mails[0].text.contains("1 × Product BELT"),
        "{}",
        mails[0].text
    );
    assert!(!mails[0].text.contains("JACKET"));
    assert!(
        mails[0].text.contains("piececode=00340434161094042557"),
        "the DHL link"
    );

    // The jacket arrives; staff restock it and ship it in parcel 2.
    let jacket = shop
        .store
        .get_product(&Sku::parse("JACKET").unwrap())
        .await
        .unwrap()
        .unwrap();
    let restocked = shop
        .staff
        .patch(
            "/admin/products/JACKET",
            &json!({"version": jacket.version, "stock": 2}),
        )
        .await;
    assert_eq!(restocked.status, 200, "{}", restocked.text);
    let second = shop
        .staff
        .post(&shipments, &json!({"items": [{"line_id": "L3", "quantity": 1}], "carrier": "dpd", "tracking_number": "01234567890123"}), &[])
        .await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(
        shop.store
            .get_product(&Sku::parse("JACKET").unwrap())
            .await
            .unwrap()
            .unwrap()
            .stock,
        1,
        "the backorder took its unit"
    );
    shop.staff
        .post(
            &shipments,
            &json!({"items": [{"line_id": "L3", "quantity": 1}]}),
            &[],
        )
        .await
        .assert_problem(422, Some("items[0].quantity"));
    shop.staff
        .post(&shipments, &json!({"items": [{"line_id": "L2", "quantity": 1}], "carrier": "ups", "tracking_number": "00340434161094042557"}), &[])
        .await
        .assert_problem(422, Some("items[0].quantity"));
    let shipped = shop
        .staff
        .post(
            &format!("{shipments}/S2/status"),
            &json!({"status": "shipped"}),
            &[],
        )
        .await;
    assert_eq!(shipped.json()["shipping_status"], "shipped");
    let mails = shop.deliver(&mut seen).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].text.contains("1 × Product JACKET") && !mails[0].text.contains("SHIRT"));
    assert!(mails[0]
        .text
        .contains("tracking.dpd.de/status/de_DE/parcel/01234567890123"));

    // Carriers report by signed webhook.
    let delivered = json!({"event_id": "dhl-1", "tracking_number": "00340434161094042557", "status": "delivered", "location": "Berlin"});
    let answer = shop.webhook("dhl", DHL_SECRET, &delivered, NOW).await;
    assert_eq!(
        (answer.status.as_u16(), answer.json()["outcome"].clone()),
        (200, json!("applied")),
        "{}",
        answer.text
    );
    let mails = shop.deliver(&mut seen).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.contains("zugestellt"));
    // The same message again changes nothing and sends nothing.
    let replay = shop.webhook("dhl", DHL_SECRET, &delivered, NOW + 60).await;
    assert_eq!(replay.json()["outcome"], "duplicate");
    // A late "in transit" does not take a delivered parcel back.
    let late = json!({"event_id": "dhl-0", "tracking_number": "00340434161094042557", "status": "transit"});
    assert_eq!(
        shop.webhook("dhl", DHL_SECRET, &late, NOW).await.json()["outcome"],
        "stale"
    );
    assert!(shop.deliver(&mut seen).await.is_empty());
    // DPD uses its own code and the shared local secret.
    let dpd =
        json!({"event_id": "dpd-9", "tracking_number": "01234567890123", "status": "delivered"});
    assert_eq!(
        shop.webhook("dpd", "local-webhook-secret", &dpd, NOW)
            .await
            .json()["outcome"],
        "applied"
    );
    assert_eq!(shop.deliver(&mut seen).await.len(), 1);
    let unknown =
        json!({"event_id": "dhl-2", "tracking_number": "99999999999", "status": "delivered"});
    let answer = shop.webhook("dhl", DHL_SECRET, &unknown, NOW).await;
    assert_eq!(
        (answer.status.as_u16(), answer.json()["outcome"].clone()),
        (202, json!("unknown_tracking_number"))
    );

    // Bad deliveries: refused, nothing written.
    let version = shop.version(&id).await;
    let body = json!({"event_id": "dhl-3", "tracking_number": "00340434161094042557", "status": "returned"}).to_string();
    let uri = "/webhooks/carriers/dhl";
    shop.anyone
        .post_raw(uri, &body, &[])
        .await
        .assert_problem(401, None);
    let forged = signature_header(b"not the secret", NOW, body.as_bytes());
    shop.anyone
        .post_raw(uri, &body, &[("Kontor-Signature", forged.as_str())])
        .await
        .assert_problem(401, None);
    let stale = signature_header(DHL_SECRET.as_bytes(), NOW - 301, body.as_bytes());
    shop.anyone
        .post_raw(uri, &body, &[("Kontor-Signature", stale.as_str())])
        .await
        .assert_problem(401, None);
    let not_json = "status=delivered";
    let signed = signature_header(DHL_SECRET.as_bytes(), NOW, not_json.as_bytes());
    shop.anyone
        .post_raw(uri, not_json, &[("Kontor-Signature", signed.as_str())])
        .await
        .assert_problem(400, None);
    let odd = json!({"event_id": "dhl-4", "tracking_number": "00340434161094042557", "status": "teleported"});
    shop.webhook("fedex", DHL_SECRET, &odd, NOW)
        .await
        .assert_problem(404, None);
    // Staff cannot move a delivered parcel back either.
    shop.staff
        .post(
            &format!("{shipments}/S1/status"),
            &json!({"status": "pending"}),
            &[],
        )
        .await
        .assert_problem(422, Some("status"));
    assert_eq!(shop.version(&id).await, version);
    assert!(shop.deliver(&mut seen).await.is_empty());

    // A status the carrier's table does not know (DHL's own `unknown`,
    // or anything else) is kept in the parcel's history for staff, moves
    // nothing and e-mails nobody; once per event id.
    for (event_id, status) in [("dhl-4", "teleported"), ("dhl-5", "unknown")] {
        let news = json!({"event_id": event_id, "tracking_number": "00340434161094042557", "status": status});
        let answer = shop.webhook("dhl", DHL_SECRET, &news, NOW).await;
        assert_eq!(
            (answer.status.as_u16(), answer.json()["outcome"].clone()),
            (202, json!("recorded")),
            "{}",
            answer.text
        );
        assert_eq!(
            shop.webhook("dhl", DHL_SECRET, &news, NOW).await.json()["outcome"],
            "duplicate"
        );
    }
    assert!(shop.deliver(&mut seen).await.is_empty());
    let empty =
        json!({"event_id": "dhl-6", "tracking_number": "00340434161094042557", "status": " "});
    shop.webhook("dhl", DHL_SECRET, &empty, NOW)
        .await
        .assert_problem(422, Some("status"));
    let admin = shop.staff.get(&format!("/admin/orders/{id}")).await.json();
    let steps = admin["shipments"][0]["history"].as_array().unwrap();
    let reported: Vec<&str> = steps
        .iter()
        .filter_map(|s| s["reported"].as_str())
        .collect();
    assert_eq!(reported, ["DHL teleported", "DHL unknown"]);
    assert_eq!(steps.last().unwrap()["status"], "delivered");

    // The order page shows both parcels, delivered, with their links.
    let page = shop
        .anyone
        .get(&format!(
            "/orders/{id}?token={}",
            placed["access_token"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(page["shipping_status"], "delivered");
    let parcels = page["shipments"].as_array().unwrap();
    assert_eq!(parcels.len(), 2);
    assert_eq!(parcels[0]["status"], "delivered");
    let delivery = parcels[0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|step| step["reported"].is_null())
        .unwrap();
    assert_eq!(delivery["location"], "Berlin");
    assert_eq!(parcels[1]["carrier_name"], "DPD");
    assert!(parcels[1]["tracking_url"]
        .as_str()
        .unwrap()
        .contains("01234567890123"));

    // Staff find the order by either tracking number, and resend tracking.
    let found = shop
        .staff
        .get("/admin/orders?q=01234567890123")
        .await
        .json();
    assert_eq!(found[0]["id"], id.as_str());
    let resent = shop
        .staff
        .post(&format!("{shipments}/S2/send-tracking"), &json!({}), &[])
        .await;
    assert_eq!(resent.status, 202, "{}", resent.text);
    let mails = shop.deliver(&mut seen).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.contains("Sendungsverfolgung"));

    // Staff change a carrier's tracking page; parcels show the new link.
    let carriers = shop
        .staff
        .send(
            axum::http::Request::put("/admin/carriers")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    json!({"templates": {"dpd": "https://parcels.dpd.example/{tracking}"}, "version": 0})
                        .to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(carriers.status, 200, "{}", carriers.text);
    let page = shop
        .anyone
        .get(&format!(
            "/orders/{id}?token={}",
            placed["access_token"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(
        page["shipments"][1]["tracking_url"],
        "https://parcels.dpd.example/01234567890123"
    );
    assert!(
        page["shipments"][0]["tracking_url"]
            .as_str()
            .unwrap()
            .contains("dhl.de"),
        "the others keep theirs"
    );
    for template in [
        "http://plain.example/{tracking}",
        "https://no-placeholder.example/",
        "https://a b/{tracking}",
    ] {
        let refused = shop
            .staff
            .send(
                axum::http::Request::put("/admin/carriers")
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(
                        json!({"templates": {"ups": template}, "version": 1}).to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        refused.assert_problem(422, Some("templates.ups"));
    }
    shop.anyone
        .as_customer("eva", "eva@example.de")
        .get("/admin/carriers")
        .await
        .assert_problem(403, None);

    // An order that has parcels on their way is not cancelled (that is a
    // return), and the refusal writes nothing.
    let before = shop.version(&id).await;
    let refused = shop
        .staff
        .post(&format!("/admin/orders/{id}/cancel"), &json!({}), &[])
        .await;
    refused.assert_problem(409, None);
    assert_eq!(refused.json()["type"], "urn:kontor:problem:already-shipped");
    assert_eq!(shop.version(&id).await, before);

    // A tracking number is one parcel's: another order's parcel cannot
    // have it, neither when packed nor when moved on; nothing is written.
    let other = shop
        .anyone
        .post(
            "/checkout",
            &checkout_body(&[("BELT", 1)]),
            &[("Idempotency-Key", "shipping-other")],
        )
        .await
        .json();
    let other_id = other["id"].as_str().unwrap();
    let other_shipments = format!("/admin/orders/{other_id}/shipments");
    let taken = json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "dhl", "tracking_number": "00340434161094042557"});
    let refused = shop.staff.post(&other_shipments, &taken, &[]).await;
    let problem = refused.assert_problem(409, Some("tracking_number"));
    assert_eq!(problem["type"], "urn:kontor:problem:tracking-number-taken");
    assert_eq!(shop.version(other_id).await, 1, "nothing written");
    let packed = shop
        .staff
        .post(
            &other_shipments,
            &json!({"items": [{"line_id": "L1", "quantity": 1}], "carrier": "dhl"}),
            &[],
        )
        .await;
    assert_eq!(packed.status, 201, "{}", packed.text);
    let moved = shop
        .staff
        .post(
            &format!("{other_shipments}/S1/status"),
            &json!({"status": "shipped", "tracking_number": "00340434161094042557"}),
            &[],
        )
        .await;
    moved.assert_problem(409, Some("tracking_number"));
    assert_eq!(shop.version(other_id).await, 2, "only the packing");
}

#[tokio::test]
async fn a_split_delivery_on_sqlite() {
    split_delivery(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn a_split_delivery_on_dynamodb() {
    split_delivery(dynamodb_store("kontor-shipping").await).await;
}

/// A fixture of `tests/fixtures/webhooks`, as the service sent it.
fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/webhooks/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn outcome(answer: &TestResponse) -> (u16, Value) {
    (answer.status.as_u16(), answer.json()["outcome"].clone())
}

/// AfterShip and Sendcloud move parcels of any carrier through their own
/// routes, payloads and signatures: documented-shape fixtures apply once,
/// statuses without a Kontor word are kept in the history, events that are
/// not a parcel's status are acknowledged, and a wrong or missing
/// signature is 401 and writes nothing.
async fn tracking_services(store: Arc<dyn Store>) {
    use TrackingService::{AfterShip, Sendcloud};
    let shop = Shop::open(store).await;
    let mut seen = 0;
    let placed = shop
        .anyone
        .post(
            "/checkout",
            &checkout_body(&[("SHIRT", 1), ("BELT", 1)]),
            &[("Idempotency-Key", "services-1")],
        )
        .await
        .json();
    let id = placed["id"].as_str().unwrap().to_string();
    let shipments = format!("/admin/orders/{id}/shipments");
    for (line, carrier, number, parcel) in [
        ("L1", "dhl", "00340434161094042557", "S1"),
        ("L2", "ups", "1Z999AA10123456784", "S2"),
    ] {
        let packed = shop
            .staff
            .post(&shipments, &json!({"items": [{"line_id": line, "quantity": 1}], "carrier": carrier, "tracking_number": number}), &[])
            .await;
        assert_eq!(packed.status, 201, "{}", packed.text);
        let shipped = shop
            .staff
            .post(
                &format!("{shipments}/{parcel}/status"),
                &json!({"status": "shipped", "notify": false}),
                &[],
            )
            .await;
        assert_eq!(shipped.status, 200, "{}", shipped.text);
    }
    shop.deliver(&mut seen).await;
    let parcel = |n: usize| {
        let shop = &shop;
        let id = id.clone();
        async move {
            let order = shop.staff.get(&format!("/admin/orders/{id}")).await.json();
            order["shipments"][n].clone()
        }
    };

    // AfterShip, for the DHL parcel.
    let in_transit = fixture("aftership-in-transit");
    let answer = shop
        .service_webhook(AfterShip, Some(AFTERSHIP_SECRET), &in_transit)
        .await;
    assert_eq!(outcome(&answer), (200, json!("applied")), "{}", answer.text);
    let dhl = parcel(0).await;
    assert_eq!(dhl["status"], "in_transit");
    let step = dhl["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(step["location"], "Leipzig, Germany");
    assert_eq!(step["at"], "2026-11-28T10:00:00Z", "AfterShip's ts");
    assert_eq!(step["by"], "the carrier");
    let replay = shop
        .service_webhook(AfterShip, Some(AFTERSHIP_SECRET), &in_transit)
        .await;
    assert_eq!(outcome(&replay), (202, json!("duplicate")));
    let held = shop
        .service_webhook(
            AfterShip,
            Some(AFTERSHIP_SECRET),
            &fixture("aftership-customs-hold"),
        )
        .await;
    assert_eq!(outcome(&held), (202, json!("recorded")), "{}", held.text);
    let dhl = parcel(0).await;
    assert_eq!(dhl["status"], "in_transit", "nothing moved");
    assert_eq!(
        dhl["history"].as_array().unwrap().last().unwrap()["reported"],
        "AfterShip Exception · Exception_004 · Delayed (Customs clearance)"
    );
    let edd = shop
        .service_webhook(
            AfterShip,
            Some(AFTERSHIP_SECRET),
            &fixture("aftership-edd-revise"),
        )
        .await;
    assert_eq!(outcome(&edd), (202, json!("ignored")));
    let unknown = in_transit
        .replace("00340434161094042557", "00340434161094042564")
        .replace("2b2c7a0e", "3c3d8b1f");
    let answer = shop
        .service_webhook(AfterShip, Some(AFTERSHIP_SECRET), &unknown)
        .await;
    assert_eq!(outcome(&answer), (202, json!("unknown_tracking_number")));
    assert!(
        shop.deliver(&mut seen).await.is_empty(),
        "in transit and news e-mail nobody"
    );

    // Bad signatures, per service: refused, nothing written.
    let version = shop.version(&id).await;
    let delivered = fixture("aftership-delivered");
    for (service, secret) in [
        (AfterShip, None),
        (AfterShip, Some(SENDCLOUD_SECRET)),
        (AfterShip, Some("local-webhook-secret")),
    ] {
        shop.service_webhook(service, secret, &delivered)
            .await
            .assert_problem(401, None);
    }
    let unsigned = shop.service_webhook(AfterShip, None, &delivered).await;
    let problem = unsigned.assert_problem(401, None);
    assert_eq!(
        problem["detail"],
        "the request has no aftership-hmac-sha256 header"
    );
    // Signed right but in the other service's header and encoding.
    let sendcloud_style =
        body_signature(Sendcloud, AFTERSHIP_SECRET.as_bytes(), delivered.as_bytes());
    shop.anyone
        .post_raw(
            "/webhooks/aftership",
            &delivered,
            &[("aftership-hmac-sha256", sendcloud_style.as_str())],
        )
        .await
        .assert_problem(401, None);
    assert_eq!(shop.version(&id).await, version);

    let answer = shop
        .service_webhook(AfterShip, Some(AFTERSHIP_SECRET), &delivered)
        .await;
    assert_eq!(outcome(&answer), (200, json!("applied")));
    let mails = shop.deliver(&mut seen).await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].subject.contains("zugestellt"),
        "{}",
        mails[0].subject
    );

    // Sendcloud, for the UPS parcel.
    let en_route = fixture("sendcloud-en-route");
    let answer = shop
        .service_webhook(Sendcloud, Some(SENDCLOUD_SECRET), &en_route)
        .await;
    assert_eq!(outcome(&answer), (200, json!("applied")), "{}", answer.text);
    let ups = parcel(1).await;
    assert_eq!(ups["status"], "in_transit");
    assert_eq!(
        ups["history"].as_array().unwrap().last().unwrap()["at"],
        "2026-11-28T09:59:00Z",
        "when the carrier's status changed"
    );
    let replay = shop
        .service_webhook(Sendcloud, Some(SENDCLOUD_SECRET), &en_route)
        .await;
    assert_eq!(outcome(&replay), (202, json!("duplicate")));
    let delayed = shop
        .service_webhook(
            Sendcloud,
            Some(SENDCLOUD_SECRET),
            &fixture("sendcloud-delayed"),
        )
        .await;
    assert_eq!(outcome(&delayed), (202, json!("recorded")));
    assert_eq!(
        parcel(1).await["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["reported"],
        "Sendcloud 4 · Delivery delayed"
    );
    let other_action = shop
        .service_webhook(
            Sendcloud,
            Some(SENDCLOUD_SECRET),
            &fixture("sendcloud-integration-updated"),
        )
        .await;
    assert_eq!(outcome(&other_action), (202, json!("ignored")));
    let version = shop.version(&id).await;
    let delivered = fixture("sendcloud-delivered");
    for secret in [None, Some(AFTERSHIP_SECRET)] {
        shop.service_webhook(Sendcloud, secret, &delivered)
            .await
            .assert_problem(401, None);
    }
    assert_eq!(shop.version(&id).await, version);
    let answer = shop
        .service_webhook(Sendcloud, Some(SENDCLOUD_SECRET), &delivered)
        .await;
    assert_eq!(outcome(&answer), (200, json!("applied")));
    assert_eq!(parcel(1).await["status"], "delivered");
    let mails = shop.deliver(&mut seen).await;
    assert_eq!(mails.len(), 1, "one delivery e-mail");
    // A late "en route" after the delivery, with a new identity, is stale.
    let late = en_route.replace("1795859940000", "1795859950000");
    let answer = shop
        .service_webhook(Sendcloud, Some(SENDCLOUD_SECRET), &late)
        .await;
    assert_eq!(outcome(&answer), (202, json!("stale")));
    assert!(shop.deliver(&mut seen).await.is_empty());
}

#[tokio::test]
async fn tracking_services_on_sqlite() {
    tracking_services(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test]
async fn tracking_services_on_dynamodb() {
    tracking_services(dynamodb_store("kontor-services").await).await;
}

/// One webhook delivery of the storm, and what it should come to.
#[derive(Clone)]
struct Delivery {
    carrier: &'static str,
    body: String,
    signature: String,
    expect: u16,
}

/// 1,000 deliveries for five parcels: the 25 real carrier messages (five
/// steps each, in order per parcel), sent alongside duplicates, replays of
/// the very same signed bytes, forged and stale signatures, late messages
/// and unknown tracking numbers, many at once. Exactly the 25 real ones
/// change anything, and exactly the ten that customers hear about (a
/// failed attempt and a delivery per parcel) send an e-mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_webhook_deliveries_change_exactly_what_they_should() {
    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};

    let shop = Arc::new(Shop::open(Arc::new(SqliteStore::in_memory().unwrap())).await);
    for sku in ["A", "B", "C", "D", "E"] {
        shop.store
            .put_product(&product(sku, "10.00", 5, false), None)
            .await
            .unwrap();
    }
    let placed = shop
        .anyone
        .post(
            "/checkout",
            &checkout_body(&[("A", 1), ("B", 1), ("C", 1), ("D", 1), ("E", 1)]),
            &[("Idempotency-Key", "storm")],
        )
        .await
        .json();
    let id = placed["id"].as_str().unwrap().to_string();
    let numbers: Vec<String> = (1..=5).map(kontor_testkit::fixtures::dhl_number).collect();
    for (n, number) in numbers.iter().enumerate() {
        let shipments = format!("/admin/orders/{id}/shipments");
        let packed = shop
            .staff
            .post(&shipments, &json!({"items": [{"line_id": format!("L{}", n + 1), "quantity": 1}], "carrier": "dhl", "tracking_number": number}), &[])
            .await;
        assert_eq!(packed.status, 201, "{}", packed.text);
        let shipped = shop
            .staff
            .post(
                &format!("{shipments}/S{}/status", n + 1),
                &json!({"status": "shipped", "notify": false}),
                &[],
            )
            .await;
        assert_eq!(shipped.status, 200);
    }
    let mut seen = 0;
    shop.deliver(&mut seen).await;

    let sign = |secret: &str, at: i64, body: &str| {
        signature_header(secret.as_bytes(), at, body.as_bytes())
    };
    let message = |event_id: &str, number: &str, status: &str| {
        json!({"event_id": event_id, "tracking_number": number, "status": status}).to_string()
    };
    // DHL's own codes, and ours where DHL has none.
    let steps = [
        "transit",
        "out_for_delivery",
        "failure",
        "out_for_delivery",
        "delivered",
    ];
    let mut rng = StdRng::seed_from_u64(20261128);
    // Waves: wave k holds each parcel's k-th real message, its duplicates
    // and replays, and noise; a wave runs all at once, waves one after
    // another, so each parcel's real messages keep their order.
    let mut waves: Vec<Vec<Delivery>> = vec![Vec::new(); steps.len()];
    let mut total = 0;
    for (k, step) in steps.iter().enumerate() {
        for (p, number) in numbers.iter().enumerate() {
            let body = message(&format!("dhl-{p}-{k}"), number, step);
            let real = Delivery {
                carrier: "dhl",
                signature: sign(DHL_SECRET, NOW, &body),
                body,
                expect: 200,
            };
            waves[k].push(real.clone());
            total += 1;
        }
    }
    while total < 1000 {
        let k = rng.random_range(0..steps.len());
        let p = rng.random_range(0..numbers.len());
        let real_body = message(&format!("dhl-{p}-{k}"), &numbers[p], steps[k]);
        let delivery = match rng.random_range(0..6) {
            // The same message signed anew, a little later.
            0 => Delivery {
                carrier: "dhl",
                signature: sign(DHL_SECRET, NOW + rng.random_range(0..200), &real_body),
                body: real_body,
                expect: 202,
            },
            // The very same signed bytes again.
            1 => Delivery {
                carrier: "dhl",
                signature: sign(DHL_SECRET, NOW, &real_body),
                body: real_body,
                expect: 202,
            },
            // Signed with the wrong secret, or by another carrier's.
            2 => Delivery {
                carrier: "dhl",
                signature: sign("local-webhook-secret", NOW, &real_body),
                body: real_body,
                expect: 401,
            },
            // Signed six minutes ago.
            3 => Delivery {
                carrier: "dhl",
                signature: sign(DHL_SECRET, NOW - 360, &real_body),
                body: real_body,
                expect: 401,
            },
            // A tracking number nobody has.
            4 => {
                let body = message(&format!("dhl-x-{total}"), "77777777777", "delivered");
                Delivery {
                    carrier: "dhl",
                    signature: sign(DHL_SECRET, NOW, &body),
                    body,
                    expect: 202,
                }
            }
            // A changed body under a real signature.
            _ => {
                let signature = sign(DHL_SECRET, NOW, &real_body);
                let body = real_body.replace(steps[k], "returned");
                Delivery {
                    carrier: "dhl",
                    signature,
                    body,
                    expect: 401,
                }
            }
        };
        // Duplicates of a real message can only come after it: they join
        // its wave or a later one.
        let wave = if delivery.expect == 202 {
            rng.random_range(k..steps.len())
        } else {
            rng.random_range(0..steps.len())
        };
        waves[wave].push(delivery);
        total += 1;
    }

    let mut tally = std::collections::BTreeMap::<String, usize>::new();
    for mut wave in waves {
        wave.shuffle(&mut rng);
        // The wave's real messages first-come within it would be a race
        // with their own duplicates; both orders must come out the same.
        let mut tasks = tokio::task::JoinSet::new();
        for delivery in wave {
            let shop = Arc::clone(&shop);
            tasks.spawn(async move {
                let answer = shop
                    .anyone
                    .post_raw(
                        &format!("/webhooks/carriers/{}", delivery.carrier),
                        &delivery.body,
                        &[("Kontor-Signature", delivery.signature.as_str())],
                    )
                    .await;
                let outcome = answer.json()["outcome"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| answer.status.to_string());
                (outcome, answer.status.as_u16(), delivery.expect)
            });
        }
        while let Some(result) = tasks.join_next().await {
            let (outcome, status, expect) = result.unwrap();
            // A real message racing its own duplicate: either may win.
            let fine =
                status == expect || (matches!(status, 200 | 202) && matches!(expect, 200 | 202));
            assert!(fine, "got {status} ({outcome}), expected {expect}");
            *tally.entry(outcome).or_default() += 1;
        }
    }

    eprintln!("tally: {tally:?}");
    assert_eq!(tally.values().sum::<usize>(), 1000);
    assert_eq!(tally.get("applied"), Some(&25), "{tally:?}");
    assert_eq!(
        tally.get("stale"),
        None,
        "real messages arrive in order: {tally:?}"
    );
    let order = shop
        .store
        .get_order(&OrderId::parse(&id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        order.shipping_status,
        kontor_domain::order::ShippingStatus::Delivered
    );
    for parcel in &order.shipments {
        assert_eq!(
            parcel.history.len(),
            2 + 5,
            "pending, shipped, and the five carrier steps"
        );
    }
    let mails = shop.deliver(&mut seen).await;
    let failed = mails
        .iter()
        .filter(|m| m.subject.contains("Zustellversuch"))
        .count();
    let delivered = mails
        .iter()
        .filter(|m| m.subject.contains("zugestellt"))
        .count();
    assert_eq!((failed, delivered, mails.len()), (5, 5, 10));
}
