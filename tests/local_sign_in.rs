//! The local runtime's sign-in, through the whole app as the browser uses
//! it: tokens from `POST /local/token` open the signed-in routes; a token
//! that fails verification is refused with 401 everywhere, never taken for
//! an anonymous caller.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use kontor::app::{app, Local};
use kontor::local_auth::LocalTokens;
use kontor_domain::Email;
use kontor_platform::{FixedClock, ShopSettings};
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::fixtures::state_over;
use time::macros::datetime;
use tower::ServiceExt;

const KEY: &[u8] = b"local-sign-in-test-key-0123456789";

async fn shop() -> axum::Router {
    let store = SqliteStore::in_memory().unwrap();
    let outbox = store.mail_outbox(None);
    let state = state_over(Arc::new(store));
    kontor::seed::seed_if_empty(state.store.as_ref(), &ShopSettings::default(), false)
        .await
        .unwrap();
    let tokens = LocalTokens::new(KEY.to_vec(), Arc::clone(&state.clock));
    let storefront = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("storefront");
    app(
        state,
        Local {
            tokens,
            outbox: Some(outbox),
        },
        &storefront,
    )
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, serde_json::Value, Option<String>) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let response = app
        .clone()
        .oneshot(
            request
                .body(Body::from(body.unwrap_or("").to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or_default(),
        challenge,
    )
}

async fn token(app: &axum::Router, email: &str, staff: bool) -> String {
    let body = serde_json::json!({"email": email, "staff": staff}).to_string();
    let (status, answer, _) = call(app, "POST", "/local/token", None, Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn issued_tokens_open_the_routes_their_holder_may_use() {
    let shop = shop().await;
    let shopper = token(&shop, "eva@example.de", false).await;
    let staff = token(&shop, "lena@kontor.example", true).await;

    assert_eq!(
        call(&shop, "GET", "/me/orders", Some(&shopper), None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&shop, "GET", "/me/orders", None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&shop, "GET", "/admin/orders", Some(&shopper), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&shop, "GET", "/admin/orders", Some(&staff), None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&shop, "GET", "/admin/outbox", Some(&shopper), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, outbox, _) = call(&shop, "GET", "/admin/outbox", Some(&staff), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outbox, serde_json::json!([]));
    // Open routes stay open with a valid token.
    assert_eq!(
        call(&shop, "GET", "/catalog/products", Some(&shopper), None)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_bad_token_is_refused_even_where_anyone_may_come() {
    let shop = shop().await;
    let good = token(&shop, "eva@example.de", false).await;
    let mut tampered = good.clone();
    tampered.pop();
    tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
    let foreign = LocalTokens::new(
        b"someone else's key, not ours".to_vec(),
        Arc::new(FixedClock::new(datetime!(2026-11-28 10:00 UTC))),
    )
    .issue(&Email::parse("eva@example.de").unwrap(), true)
    .token;
    let expired = LocalTokens::new(
        KEY.to_vec(),
        Arc::new(FixedClock::new(datetime!(2026-11-27 10:00 UTC))),
    )
    .issue(&Email::parse("eva@example.de").unwrap(), false)
    .token;
    for (name, token) in [
        ("tampered", tampered),
        ("foreign", foreign),
        ("expired", expired),
        ("garbage", "abc".into()),
    ] {
        for uri in ["/catalog/products", "/me/orders"] {
            let (status, problem, challenge) = call(&shop, "GET", uri, Some(&token), None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{name} token on {uri}");
            assert_eq!(
                problem["type"], "urn:kontor:problem:invalid-token",
                "{name}"
            );
            assert!(challenge.is_some_and(|c| c.starts_with("Bearer")), "{name}");
        }
    }
}

#[tokio::test]
async fn tokens_are_only_issued_for_an_e_mail_address() {
    let shop = shop().await;
    let (status, problem, _) = call(
        &shop,
        "POST",
        "/local/token",
        None,
        Some(r#"{"email":"not an address"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "email");
}
