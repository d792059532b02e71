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
    ("get", "/admin/carriers"),
    ("put", "/admin/carriers"),
    ("post", "/orders/{id}/cancel"),
    ("post", "/me/orders/{id}/cancel"),
    ("post", "/admin/orders/{id}/cancel"),
    ("post", "/admin/orders/{id}/payments"),
    ("post", "/admin/orders/{id}/complete"),
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
