//! The API as the local runtime mounts it: every route of DESIGN's table
//! that exists so far is mounted and described in `/openapi.json`, and
//! nothing is described that is not mounted.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use std::sync::Arc;

use kontor::local_auth::LocalTokens;
use kontor_platform::ShopSettings;
use kontor_testkit::fixtures::state_with;
use tower::ServiceExt;

/// The functions' routes built so far, as (method, OpenAPI path): mounted
/// locally, described, and deployed by infra/template.yaml.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/catalog/products"),
    ("get", "/catalog/products/{sku}"),
    ("post", "/cart/evaluate"),
    ("post", "/checkout"),
    ("post", "/me/checkout"),
    ("get", "/orders/{id}"),
    ("get", "/me/orders"),
    ("get", "/me/orders/{id}"),
    ("get", "/admin/orders"),
    ("get", "/admin/orders/{id}"),
    ("get", "/admin/products"),
    ("patch", "/admin/products/{sku}"),
    ("post", "/admin/orders/{id}/shipments"),
    ("post", "/admin/orders/{id}/shipments/{sid}/status"),
    ("post", "/admin/orders/{id}/shipments/{sid}/send-tracking"),
    ("post", "/webhooks/carriers/{carrier}"),
    ("post", "/webhooks/aftership"),
    ("post", "/webhooks/sendcloud"),
    ("get", "/admin/carriers"),
    ("put", "/admin/carriers"),
    ("post", "/orders/{id}/cancel"),
    ("post", "/me/orders/{id}/cancel"),
    ("post", "/admin/orders/{id}/cancel"),
    ("post", "/admin/orders/{id}/payments"),
    ("post", "/admin/orders/{id}/complete"),
    ("post", "/admin/orders/{id}/notes"),
    ("post", "/admin/orders/{id}/lines"),
    ("patch", "/admin/orders/{id}/lines/{line_id}"),
    ("delete", "/admin/orders/{id}/lines/{line_id}"),
    ("post", "/admin/orders/{id}/adjustments"),
    ("put", "/admin/orders/{id}/addresses"),
    ("post", "/admin/orders"),
    ("post", "/orders/{id}/returns"),
    ("post", "/me/orders/{id}/returns"),
    ("post", "/admin/orders/{id}/returns"),
    ("post", "/admin/orders/{id}/returns/{rid}/approve"),
    ("post", "/admin/orders/{id}/returns/{rid}/reject"),
    ("post", "/admin/orders/{id}/returns/{rid}/receive"),
    ("post", "/admin/orders/{id}/returns/{rid}/refund"),
    ("post", "/admin/orders/{id}/returns/{rid}/close"),
    ("post", "/admin/orders/{id}/shipments/{sid}/receive-back"),
    ("get", "/admin/credit-notes"),
    ("post", "/me/cart/evaluate"),
    ("get", "/admin/rule-sets"),
    ("post", "/admin/rule-sets"),
    ("get", "/admin/rule-sets/{id}"),
    ("put", "/admin/rule-sets/{id}"),
    ("delete", "/admin/rule-sets/{id}"),
    ("post", "/admin/rule-sets/{id}/simulate"),
    ("get", "/admin/discounts"),
    ("post", "/admin/discounts"),
    ("get", "/admin/discounts/{id}"),
    ("put", "/admin/discounts/{id}"),
    ("delete", "/admin/discounts/{id}"),
    ("get", "/admin/offers"),
    ("post", "/admin/offers"),
    ("put", "/admin/offers/{id}"),
    ("delete", "/admin/offers/{id}"),
    ("get", "/admin/customers"),
    ("put", "/admin/customers/{id}/groups"),
];

/// Routes only the local runtime has: described, never deployed.
const LOCAL_ROUTES: &[(&str, &str)] = &[("post", "/local/token"), ("get", "/admin/outbox")];

fn all_routes() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    ROUTES.iter().chain(LOCAL_ROUTES)
}

fn documented(openapi: &serde_json::Value) -> BTreeSet<(String, String)> {
    openapi["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect()
}

async fn app() -> axum::Router {
    let state = state_with(&kontor::seed::demo_catalog(&ShopSettings::default())).await;
    let storefront = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("storefront");
    let local = kontor::app::Local {
        tokens: LocalTokens::new(b"api-surface-test-key".to_vec(), Arc::clone(&state.clock)),
        outbox: None,
    };
    kontor::app::app(state, local, &storefront)
}

async fn openapi_json(app: &axum::Router) -> serde_json::Value {
    let response = app
        .clone()
        .oneshot(Request::get("/openapi.json").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).expect("openapi.json is JSON")
}

#[tokio::test]
async fn every_route_is_described_and_every_description_is_a_route() {
    let app = app().await;
    let openapi = openapi_json(&app).await;
    assert_eq!(openapi["openapi"], "3.1.0");
    let expected: BTreeSet<(String, String)> = all_routes()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented(&openapi), expected);

    for (method, path) in all_routes() {
        let uri = path
            .replace("{sku}", "TR-CHINO-BEIGE")
            .replace("{id}", "unknown")
            .replace("{sid}", "S1")
            .replace("{line_id}", "L1")
            .replace("{rid}", "R1")
            .replace("{carrier}", "dhl");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let request = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        // A mounted route answers in problem+json or JSON; the storefront's
        // fallback would answer 404/405 with HTML or nothing.
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        assert!(
            content_type.starts_with("application/json")
                || content_type == "application/problem+json",
            "{method} {uri} is not mounted (status {}, content type {content_type:?})",
            response.status()
        );
        assert_ne!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{method} {uri}"
        );
    }
}

/// A path parameter is one the path names; every other parameter is a
/// query parameter or a header (a query struct without `parameter_in`
/// would be described as a required path parameter).
#[tokio::test]
async fn parameters_are_where_the_path_says() {
    let openapi = openapi_json(&app().await).await;
    for (path, item) in openapi["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    parameter["in"] == "path",
                    in_path,
                    "{method} {path}: parameter {name} is described in {}",
                    parameter["in"]
                );
            }
        }
    }
}

#[tokio::test]
async fn every_schema_reference_resolves() {
    let openapi = openapi_json(&app().await).await;
    let schemas = openapi["components"]["schemas"]
        .as_object()
        .expect("schemas");
    let text = openapi.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            schemas.contains_key(name),
            "dangling schema reference {name}"
        );
    }
    for schema in [
        "ProductView",
        "PricedCartView",
        "CheckoutRequest",
        "CheckoutResponse",
        "OrderView",
        "Problem",
    ] {
        assert!(schemas.contains_key(schema), "{schema} is described");
    }
}

/// Pages and JSON go out gzip'ed to a browser that takes it; the pages'
/// files are revalidated on every use and answer 304 when unchanged.
#[tokio::test]
async fn answers_are_compressed_and_pages_revalidated() {
    let app = app().await;
    for path in ["/js/app.js", "/catalog/products", "/openapi.json"] {
        let response = app
            .clone()
            .oneshot(
                Request::get(path)
                    .header("accept-encoding", "gzip")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-encoding"], "gzip", "{path}");
    }
    let page = app
        .clone()
        .oneshot(Request::get("/js/app.js").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert!(
        page.headers().get("content-encoding").is_none(),
        "plain when not asked"
    );
    let modified = page.headers()["last-modified"].clone();
    let again = app
        .oneshot(
            Request::get("/js/app.js")
                .header("if-modified-since", modified)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn storefront_pages_are_served() {
    let app = app().await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/js/app.js", "javascript"),
        ("/css/shop.css", "text/css"),
        ("/images/tr-chino-beige.svg", "image/svg+xml"),
        ("/admin/", "text/html"),
        ("/admin/js/admin.js", "javascript"),
        ("/js/session.js", "javascript"),
        ("/signin.html", "text/html"),
    ] {
        let response = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(content_type.contains(kind), "{path}: {content_type}");
    }
    let missing = app
        .oneshot(Request::get("/no-such-page").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// The functions that make guests' order links (the checkout, and order
/// adjustment for phone orders) and the one that e-mails them share the
/// shop's link key: with another key, a guest's e-mailed link would not
/// open their order.
#[test]
fn every_function_making_or_mailing_order_links_has_the_link_key() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let template = std::fs::read_to_string(root.join("infra/template.yaml")).unwrap();
    for binary in ["checkout", "order-adjustment", "notifier"] {
        let function = template
            .split(&format!("Binary: {binary}\n"))
            .nth(1)
            .and_then(|rest| rest.split("Type: AWS::Serverless::Function").next())
            .unwrap_or_else(|| panic!("infra/template.yaml does not deploy {binary}"));
        assert!(
            function.contains("KONTOR_LINK_KEY: !Ref OrderLinkKey"),
            "{binary} needs KONTOR_LINK_KEY"
        );
    }
}

/// The SAM template routes every API route to a function, and deploys every
/// function binary of `functions/`.
#[test]
fn the_template_deploys_every_route_and_function() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let template = std::fs::read_to_string(root.join("infra/template.yaml")).unwrap();
    let normalized = template.replace('"', "");
    for (method, path) in ROUTES {
        let route = format!("Method: {}, Path: {path} }}", method.to_uppercase());
        let line = normalized
            .lines()
            .find(|line| line.contains(&route))
            .unwrap_or_else(|| {
                panic!("infra/template.yaml has no HttpApi event for {method} {path}")
            });
        // Signed-in routes are behind the JWT authorizer, so their handlers
        // get verified claims; the others are open to anyone.
        let signed_in = path.starts_with("/me/") || path.starts_with("/admin/");
        assert_eq!(
            line.contains("Auth: { Authorizer: Cognito }"),
            signed_in,
            "{method} {path}: authorizer"
        );
    }
    for entry in std::fs::read_dir(root.join("functions")).unwrap() {
        let main = entry.unwrap().path().join("src/main.rs");
        if !main.exists() {
            continue;
        }
        let manifest =
            std::fs::read_to_string(main.parent().unwrap().parent().unwrap().join("Cargo.toml"))
                .unwrap();
        let binary = manifest
            .split("[[bin]]")
            .nth(1)
            .and_then(|bin| bin.lines().find(|l| l.trim_start().starts_with("name")))
            .and_then(|line| line.split('"').nth(1))
            .expect("each function names its binary");
        assert!(
            template.contains(&format!("Binary: {binary}\n")),
            "infra/template.yaml does not deploy {binary}"
        );
    }
    for (method, path) in LOCAL_ROUTES {
        assert!(
            !normalized.contains(&format!("Path: {path} ")),
            "{method} {path} is the local runtime's own and never reaches AWS"
        );
    }
    assert!(
        !template.contains("/local/"),
        "the local token endpoint never reaches AWS"
    );
}

/// CloudFront sends every API route to the API, not to the storefront's
/// bucket: a route without its cache behaviour would answer the bucket's
/// 403 in AWS while working locally.
#[test]
fn cloudfront_sends_every_api_route_to_the_api() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let template = std::fs::read_to_string(root.join("infra/template.yaml")).unwrap();
    let api_patterns: Vec<&str> = template
        .split("- PathPattern: ")
        .skip(1)
        .filter(|behaviour| behaviour.contains("TargetOriginId: api"))
        .map(|behaviour| behaviour.lines().next().unwrap().trim())
        .collect();
    // CloudFront's patterns: `*` matches any characters, `/` included.
    fn matches(pattern: &str, path: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == path,
            Some((prefix, rest)) => {
                path.starts_with(prefix)
                    && (0..=path.len() - prefix.len())
                        .any(|skip| matches(rest, &path[prefix.len() + skip..]))
            }
        }
    }
    for (method, path) in ROUTES {
        assert!(
            api_patterns.iter().any(|pattern| matches(pattern, path)),
            "{method} {path}: no CloudFront behaviour sends it to the API ({api_patterns:?})"
        );
    }
}

/// The pages get the same security headers from CloudFront as from the
/// local runtime.
#[test]
fn cloudfront_sends_the_local_runtimes_security_headers() {
    use kontor::headers::{CONTENT_SECURITY_POLICY, STRICT_TRANSPORT_SECURITY};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let template = std::fs::read_to_string(root.join("infra/template.yaml")).unwrap();
    assert!(
        template.contains(&format!(
            "ContentSecurityPolicy: \"{CONTENT_SECURITY_POLICY}\""
        )),
        "the template's CSP differs from src/headers.rs"
    );
    let max_age = STRICT_TRANSPORT_SECURITY
        .strip_prefix("max-age=")
        .and_then(|rest| rest.split(';').next())
        .unwrap();
    assert!(template.contains(&format!("AccessControlMaxAgeSec: {max_age}")));
    assert!(
        STRICT_TRANSPORT_SECURITY.contains("includeSubDomains")
            && template.contains("IncludeSubdomains: true")
    );
    assert!(
        template.contains("FrameOption: DENY") && template.contains("ReferrerPolicy: same-origin")
    );
    let behaviours = template.matches("TargetOriginId:").count();
    assert_eq!(
        template
            .matches("ResponseHeadersPolicyId: !Ref SecurityHeaders")
            .count(),
        behaviours,
        "every cache behaviour carries the headers"
    );
}

/// The Lambda functions cannot issue tokens: the local sign-in lives in the
/// runtime crate alone.
#[test]
fn no_function_mounts_the_local_sign_in() {
    fn sources(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("functions"),
        &mut files,
    );
    assert!(files.len() > 10);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("/local/"),
            "{} mentions a local route",
            file.display()
        );
        assert!(
            !text.contains("LocalTokens"),
            "{} issues tokens",
            file.display()
        );
    }
}

/// Sends `method uri` with `body` as the holder of `token` (none:
/// anonymous) through the whole app, and answers the status.
async fn status_of(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> StatusCode {
    let mut request = Request::builder()
        .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
        .uri(uri)
        .header("content-type", "application/json")
        .header(
            "idempotency-key",
            format!("matrix-{uri}-{}", token.unwrap_or("none").len()),
        );
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    response.status()
}

async fn json_of(app: &axum::Router, request: Request<Body>) -> serde_json::Value {
    let response = app.clone().oneshot(request).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

async fn token_for(app: &axum::Router, email: &str, staff: bool) -> String {
    let request = Request::post("/local/token")
        .header("content-type", "application/json")
        .body(Body::from(
            serde_json::json!({"email": email, "staff": staff}).to_string(),
        ))
        .unwrap();
    json_of(app, request).await["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Who may call what, for every operation the served `/openapi.json`
/// describes, so that a new route without its guard fails here: anonymous
/// callers, shopper A (who owns the order in the path), shopper B, the
/// guest link's token and staff. Staff routes answer anonymous callers 401
/// and shoppers 403; a shopper's own routes answer anonymous callers 401
/// and hide A's order from B (404); a guest's order opens only with its
/// token; carriers' webhooks need their signature; the rest is open. The
/// document's `security` says the same as the guards do.
#[tokio::test]
async fn the_authorization_matrix_holds_for_every_operation() {
    let app = app().await;
    let openapi = openapi_json(&app).await;
    let staff = token_for(&app, "lena@kontor.example", true).await;
    let shopper_a = token_for(&app, "anna@example.de", false).await;
    let shopper_b = token_for(&app, "ben@example.de", false).await;
    let checkout = serde_json::json!({
        "lines": [{"sku": "SO-COTTON-3PK", "quantity": 1}],
        "email": "anna@example.de",
        "shipping_address": {"name": "Anna Muster", "street": "Hauptstraße 1",
                             "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "payment_method": "invoice"
    });
    let place = |path: &str, token: Option<&str>, key: &str| {
        let mut request = Request::post(path)
            .header("content-type", "application/json")
            .header("idempotency-key", key);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.body(Body::from(checkout.to_string())).unwrap()
    };
    let a_order = json_of(&app, place("/me/checkout", Some(&shopper_a), "a")).await;
    let guest = json_of(&app, place("/checkout", None, "g")).await;
    let a_id = a_order["id"].as_str().unwrap();
    let guest_id = guest["id"].as_str().unwrap();
    let guest_token = guest["access_token"].as_str().unwrap();

    let mut checked = 0;
    for (path, item) in openapi["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let secured = operation["security"].is_array();
            let id = if path.starts_with("/orders/") {
                guest_id
            } else {
                a_id
            };
            let uri = path
                .replace("{sku}", "SO-COTTON-3PK")
                .replace("{id}", id)
                .replace("{sid}", "S1")
                .replace("{line_id}", "L1")
                .replace("{rid}", "R1")
                .replace("{carrier}", "dhl");
            // A body the route accepts, so that what answers is the guard
            // and the order's owner, not the body's parser.
            let body = if path.ends_with("/returns") {
                serde_json::json!({"lines": [{"line_id": "L1", "quantity": 1, "reason": "too small"}], "requested_action": "refund"})
            } else {
                serde_json::json!({})
            };
            let status = |token: Option<&str>, uri: String| {
                let app = app.clone();
                let method = method.clone();
                let token = token.map(str::to_string);
                let body = body.clone();
                async move { status_of(&app, &method, &uri, token.as_deref(), &body).await }
            };
            let what = format!("{method} {path}");
            let guard = |s: StatusCode| s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN;
            if path.starts_with("/admin/") {
                assert!(secured, "{what} is documented as open");
                assert_eq!(
                    status(None, uri.clone()).await,
                    StatusCode::UNAUTHORIZED,
                    "{what}"
                );
                assert_eq!(
                    status(Some(&shopper_a), uri.clone()).await,
                    StatusCode::FORBIDDEN,
                    "{what}: shopper A"
                );
                assert_eq!(
                    status(Some(&shopper_b), uri.clone()).await,
                    StatusCode::FORBIDDEN,
                    "{what}: shopper B"
                );
                assert!(
                    !guard(status(Some(&staff), uri.clone()).await),
                    "{what}: staff"
                );
            } else if path.starts_with("/me/") {
                assert!(secured, "{what} is documented as open");
                assert_eq!(
                    status(None, uri.clone()).await,
                    StatusCode::UNAUTHORIZED,
                    "{what}"
                );
                if path.contains("{id}") {
                    assert_eq!(
                        status(Some(&shopper_b), uri.clone()).await,
                        StatusCode::NOT_FOUND,
                        "{what}: B sees no A's order"
                    );
                }
                assert!(
                    !guard(status(Some(&shopper_a), uri.clone()).await),
                    "{what}: shopper A"
                );
            } else if path.starts_with("/orders/") {
                assert!(!secured, "{what}");
                for token in [None, Some(&shopper_a), Some(&staff)] {
                    assert_eq!(
                        status(token.map(String::as_str), uri.clone()).await,
                        StatusCode::NOT_FOUND,
                        "{what}: without the link's token"
                    );
                }
                let wrong = format!("{uri}?token=0123456789abcdef0123456789abcdef");
                assert_eq!(
                    status(None, wrong).await,
                    StatusCode::NOT_FOUND,
                    "{what}: a wrong token"
                );
                let with_token = format!("{uri}?token={guest_token}");
                // The token opens the order: what answers then is the
                // order itself (a cancelled order refuses a return with a
                // 409), never the guard.
                let opened = status(None, with_token).await;
                assert!(
                    !guard(opened) && opened != StatusCode::NOT_FOUND,
                    "{what}: with the guest's token: {opened}"
                );
            } else if path.starts_with("/webhooks/") {
                assert!(!secured, "{what}");
                for token in [None, Some(&shopper_a), Some(&staff)] {
                    assert_eq!(
                        status(token.map(String::as_str), uri.clone()).await,
                        StatusCode::UNAUTHORIZED,
                        "{what}: unsigned"
                    );
                }
            } else {
                assert!(!secured, "{what} is documented as needing a token");
                assert!(
                    !guard(status(None, uri.clone()).await),
                    "{what}: open to anyone"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        all_routes().count(),
        "every documented operation was checked"
    );
}
