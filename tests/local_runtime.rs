//! End to end: the local runtime binary on a free port with a fresh data
//! folder, driven over HTTP as a shopper's browser would drive it.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

mod support;

struct Runtime {
    child: Child,
    base: String,
}

impl Runtime {
    async fn start(data: &Path) -> Runtime {
        Self::start_with(data, &[]).await
    }

    async fn start_with(data: &Path, env: &[(&str, String)]) -> Runtime {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_kontor"))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("KONTOR_ADDR", format!("127.0.0.1:{port}"))
            .env("KONTOR_DATA", data)
            .env("RUST_LOG", "warn")
            // Plain catalog prices: the demo discounts are the browser
            // test's and the domain's to check.
            .env("KONTOR_DEMO_DISCOUNTS", "off")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the local runtime");
        let runtime = Runtime {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(response) = reqwest::get(runtime.url("/openapi.json")).await {
                if response.status().is_success() {
                    return runtime;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the local runtime did not answer within 30 s");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and expects a clean exit.
    fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "the runtime exits cleanly: {status}");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the runtime did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// The JSON answer to `request`.
async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

fn address() -> serde_json::Value {
    json!({"name": "Anna Muster", "street": "Hauptstraße 1", "postal_code": "10115", "city": "Berlin", "country": "DE"})
}

#[tokio::test]
async fn a_guest_buys_trousers_and_a_belt() {
    let data = tempfile::tempdir().unwrap();
    let runtime = Runtime::start(data.path()).await;
    buy_trousers_and_a_belt(&runtime).await;
    let (id, token) = buy_trousers_and_a_belt_order(&runtime).await;

    // The outbox reached the notifier: both confirmations are in the local
    // mail outbox as .eml files, the first in English, the second in German.
    let outbox = data.path().join("outbox");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mails = loop {
        let mut files: Vec<_> = std::fs::read_dir(&outbox)
            .map(|dir| dir.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.sort();
        if files.len() >= 2 || std::time::Instant::now() > deadline {
            break files;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(mails.len(), 2, "one confirmation per order");
    let first = std::fs::read_to_string(&mails[0]).unwrap();
    assert!(first.contains("To: anna@example.de"));
    assert!(first.contains("Subject: Your order K-"), "{first}");
    assert!(first.contains("Total: €94.80"));
    let second = std::fs::read_to_string(&mails[1]).unwrap();
    assert!(second.contains("Subject: Deine Bestellung K-"));
    // The confirmation carries the order's link, token and all: the same
    // link the checkout answered with.
    assert!(
        second.contains(&format!("#/order/{id}?token={token}")),
        "{second}"
    );

    runtime.stop();

    // The data folder keeps the order and the reduced stock across a restart,
    // and the catalog is not seeded again.
    let runtime = Runtime::start(data.path()).await;
    assert_kept_across_a_restart(&runtime, &id, &token).await;
    runtime.stop();
}

/// The same shop on the AWS adapters: DynamoDB and SES served by moto.
/// The confirmations go out through SES with the order's link, and a
/// restart finds the orders and the stock where they were.
#[tokio::test]
async fn the_runtime_runs_on_dynamodb() {
    let moto = kontor_testkit::moto::Moto::shared();
    let sender = "runtime-e2e@kontor.example";
    let ses = aws_sdk_sesv2::Client::new(&support::sdk_config_at(&moto.endpoint()));
    ses.create_email_identity()
        .email_identity(sender)
        .send()
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("KONTOR_BACKEND", "aws".to_string()),
        ("KONTOR_CREATE_TABLE", "true".to_string()),
        ("KONTOR_TABLE", "kontor-runtime-e2e".to_string()),
        ("KONTOR_SENDER", sender.to_string()),
        ("AWS_ENDPOINT_URL", moto.endpoint()),
        ("AWS_REGION", "eu-central-1".to_string()),
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
    ];
    let runtime = Runtime::start_with(data.path(), &env).await;
    buy_trousers_and_a_belt(&runtime).await;
    let (id, token) = buy_trousers_and_a_belt_order(&runtime).await;

    // Both confirmations reached SES, the second with its order's link.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mine = loop {
        let mine: Vec<serde_json::Value> = moto
            .sent_mail()
            .into_iter()
            .filter(|m| m["source"] == sender)
            .collect();
        if mine.len() >= 2 || Instant::now() > deadline {
            break mine;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(mine.len(), 2, "one confirmation per order: {mine:?}");
    let link = format!("#/order/{id}?token={token}");
    assert!(
        mine.iter().any(|m| m["body"].to_string().contains(&link)),
        "the second order's link in its confirmation: {mine:?}"
    );
    runtime.stop();
    assert!(
        !data.path().join("kontor.db").exists(),
        "no SQLite file on the AWS backend"
    );

    // A restart finds the order and the stock in the table, and does not
    // seed the catalog again.
    let runtime = Runtime::start_with(data.path(), &env).await;
    assert_kept_across_a_restart(&runtime, &id, &token).await;
    runtime.stop();
}

/// After a restart the second order opens with its link, and the chinos'
/// stock is 25 less the two pairs sold: the catalog was not seeded again.
async fn assert_kept_across_a_restart(runtime: &Runtime, id: &str, token: &str) {
    let http = reqwest::Client::new();
    let again = http
        .get(runtime.url(&format!("/orders/{id}?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let chino = json_of(http.get(runtime.url("/catalog/products/TR-CHINO-BEIGE"))).await;
    assert_eq!(chino["stock"], 23, "two pairs sold, none seeded back");
}

/// Browses, prices a cart, buys, retries, and opens the order.
async fn buy_trousers_and_a_belt(runtime: &Runtime) {
    let http = reqwest::Client::new();

    // The storefront is served.
    let page = http.get(runtime.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/js/app.js"));
    for asset in [
        "/js/app.js",
        "/js/api.js",
        "/js/cart.js",
        "/css/shop.css",
        "/images/tr-chino-beige.svg",
    ] {
        assert_eq!(
            http.get(runtime.url(asset)).send().await.unwrap().status(),
            200,
            "{asset}"
        );
    }

    // The demo catalog is there at once.
    let catalog: serde_json::Value = http
        .get(runtime.url("/catalog/products"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(catalog["products"].as_array().unwrap().len() >= 12);
    assert!(catalog["categories"].as_array().unwrap().len() >= 4);
    let trousers: serde_json::Value = http
        .get(runtime.url("/catalog/products?category=trousers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(trousers["products"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["category"] == "trousers"));

    let lines = json!([{"sku": "TR-CHINO-BEIGE", "quantity": 1}, {"sku": "BE-LEATHER-BROWN", "quantity": 1}]);
    let cart: serde_json::Value = http
        .post(runtime.url("/cart/evaluate"))
        .json(&json!({"lines": lines, "shipping_country": "DE"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cart["total"], "94.80");
    assert!(
        !cart["suggestions"].as_array().unwrap().is_empty(),
        "checkout selling suggests socks"
    );

    let order_request = json!({"lines": lines, "email": "anna@example.de", "shipping_address": address(), "payment_method": "prepayment", "language": "en"});
    let placed = checkout(runtime, "e2e-order-1", &order_request).await;
    assert_eq!(placed.status(), 201);
    let placed: serde_json::Value = placed.json().await.unwrap();
    let id = placed["id"].as_str().unwrap().to_string();
    let token = placed["access_token"].as_str().unwrap().to_string();

    // A retry of the same request gets the same order.
    let retry: serde_json::Value = checkout(runtime, "e2e-order-1", &order_request)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(retry, placed);

    // The order's link opens it; without the token it does not exist.
    let order: serde_json::Value = http
        .get(runtime.url(&format!("/orders/{id}?token={token}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(order["number"], placed["number"]);
    assert_eq!(order["lines"].as_array().unwrap().len(), 2);
    assert_eq!(order["total"], "94.80");
    let hidden = http
        .get(runtime.url(&format!("/orders/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 404);
    assert_eq!(hidden.headers()["content-type"], "application/problem+json");
}

/// Places one more order of a pair of trousers and a belt; returns the
/// order's id and access token.
async fn buy_trousers_and_a_belt_order(runtime: &Runtime) -> (String, String) {
    let lines = json!([{"sku": "TR-CHINO-BEIGE", "quantity": 1}, {"sku": "BE-LEATHER-BROWN", "quantity": 1}]);
    let request = json!({"lines": lines, "email": "ben@example.de", "shipping_address": address(), "payment_method": "invoice"});
    let placed: serde_json::Value = checkout(runtime, "e2e-order-2", &request)
        .await
        .json()
        .await
        .unwrap();
    (
        placed["id"].as_str().unwrap().into(),
        placed["access_token"].as_str().unwrap().into(),
    )
}

async fn checkout(runtime: &Runtime, key: &str, body: &serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(runtime.url("/checkout"))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn bad_input_over_the_wire_is_a_problem_not_a_crash() {
    let data = tempfile::tempdir().unwrap();
    let runtime = Runtime::start(data.path()).await;
    let http = reqwest::Client::new();
    let response = http
        .post(runtime.url("/checkout"))
        .header("Idempotency-Key", "x")
        .header("content-type", "application/json")
        .body("{\"lines\":")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let response = http
        .get(runtime.url("/catalog/products/NOPE"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    runtime.stop();
}

/// Every answer — a page, the API, an error — carries the security
/// headers: scripts only from the shop, no framing, no sniffing.
#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let data = tempfile::tempdir().unwrap();
    let runtime = Runtime::start(data.path()).await;
    for path in [
        "/",
        "/admin/",
        "/catalog/products",
        "/catalog/products/NOPE",
        "/no-such-page",
    ] {
        let response = reqwest::get(runtime.url(path)).await.unwrap();
        let headers = response.headers();
        for (name, value) in kontor::headers::SECURITY_HEADERS {
            assert_eq!(
                headers.get(name).map(|v| v.to_str().unwrap()),
                Some(value),
                "{path}: {name}"
            );
        }
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"));
    }
    runtime.stop();
}

/// The catalog and the pages' files revalidate: a validator with each
/// answer, 304 without a body while nothing changed, the whole answer
/// again once a product changes; gzip when the browser takes it.
#[tokio::test]
async fn answers_revalidate_with_their_validator() {
    let data = tempfile::tempdir().unwrap();
    let runtime = Runtime::start(data.path()).await;
    let http = reqwest::Client::new();
    for path in ["/catalog/products", "/js/app.js", "/"] {
        let first = http.get(runtime.url(path)).send().await.unwrap();
        assert_eq!(first.status(), 200, "{path}");
        let tag = first.headers()["etag"].to_str().unwrap().to_string();
        assert_eq!(first.headers()["cache-control"], "no-cache", "{path}");
        let again = http
            .get(runtime.url(path))
            .header("if-none-match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert!(again.bytes().await.unwrap().is_empty());
    }
    let catalog = http
        .get(runtime.url("/catalog/products"))
        .send()
        .await
        .unwrap();
    let tag = catalog.headers()["etag"].to_str().unwrap().to_string();
    let token = json_of(
        http.post(runtime.url("/local/token"))
            .json(&json!({"email": "lena@kontor.example", "staff": true})),
    )
    .await;
    let token = token["token"].as_str().unwrap();
    let products = json_of(http.get(runtime.url("/admin/products")).bearer_auth(token)).await;
    let belt = products
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == "BE-LEATHER-BROWN")
        .unwrap();
    let saved = http
        .patch(runtime.url("/admin/products/BE-LEATHER-BROWN"))
        .bearer_auth(token)
        .json(&json!({"version": belt["version"], "stock": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    assert_eq!(
        saved.headers().get("etag"),
        None,
        "only GETs have validators"
    );
    let changed = http
        .get(runtime.url("/catalog/products"))
        .header("if-none-match", &tag)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200, "the stock changed");
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), tag);
    assert_eq!(changed.headers()["content-encoding"], "gzip");
    // A signed-in person's answers stay out of shared caches.
    let mine = http
        .get(runtime.url("/admin/products"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(mine.headers()["cache-control"], "private, no-cache");
    runtime.stop();
}

/// A page elsewhere that points its own host name at this machine (DNS
/// rebinding) is not answered, not even its sign-in; loopback names are.
#[tokio::test]
async fn a_request_for_another_host_name_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let runtime = Runtime::start(data.path()).await;
    let http = reqwest::Client::new();
    let port = runtime.base.rsplit(':').next().unwrap().to_string();
    for (host, status) in [
        (format!("evil.example:{port}"), 421),
        (format!("localhost:{port}"), 200),
        (format!("127.0.0.1:{port}"), 200),
    ] {
        let response = http
            .post(runtime.url("/local/token"))
            .header("Host", &host)
            .json(&json!({"email": "lena@kontor.example", "staff": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{host}");
    }
    runtime.stop();
}

/// A client over its checkout limit gets 429 with the wait, and no order.
#[tokio::test]
async fn a_client_placing_orders_in_bulk_is_slowed_down() {
    let data = tempfile::tempdir().unwrap();
    let runtime = Runtime::start_with(data.path(), &[("KONTOR_CHECKOUT_LIMIT", "3".into())]).await;
    let request = json!({"lines": [{"sku": "SO-COTTON-3PK", "quantity": 1}], "email": "bulk@example.de", "shipping_address": address(), "payment_method": "invoice"});
    for n in 0..3 {
        let response = checkout(&runtime, &format!("bulk-{n}"), &request).await;
        assert_eq!(response.status(), 201, "order {n}");
    }
    let refused = checkout(&runtime, "bulk-3", &request).await;
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=21).contains(&wait), "{wait}");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    // Reading goes on.
    assert!(reqwest::get(runtime.url("/catalog/products"))
        .await
        .unwrap()
        .status()
        .is_success());
    runtime.stop();
}

/// A secret set too short stops the runtime at start, naming it.
#[test]
fn a_short_secret_stops_the_runtime() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kontor"))
        .env("KONTOR_ADDR", "127.0.0.1:0")
        .env("KONTOR_DATA", data.path())
        .env("KONTOR_TOKEN_SECRET", "too-short")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("KONTOR_TOKEN_SECRET is 9 bytes long"), "{log}");
}
