//! What every Lambda function's `main` shares, so that each `main` is a
//! few lines and only this crate (and the adapters) knows Lambda and AWS:
//!
//! - [`init_logs`]: JSON log lines for CloudWatch.
//! - [`aws_state`]: the handlers' state over the AWS adapters, built once
//!   per container without network calls.
//! - [`run`]: an HTTP function — its router behind API Gateway, with the
//!   JWT authorizer's claims as the caller's [`kontor_http::Claims`].
//! - [`run_scheduled`]: a function a schedule rule invokes.
//!
//! Event functions (`notifier`, `outbox-relay`) call [`init_logs`] and
//! `lambda_runtime` themselves.

use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use kontor_http::{AppState, Claims};
pub use kontor_platform::secrets::Secret;
use kontor_platform::secrets::{self, SecretError};
use kontor_store_dynamodb::DynamoStore;
use utoipa_axum::router::OpenApiRouter;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Runtime(#[from] lambda_http::Error),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// Logs for Lambda functions: JSON lines without ANSI colours or
/// timestamps (CloudWatch adds its own), at the level `RUST_LOG` sets,
/// `info` by default.
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .without_time()
        .with_ansi(false)
        .try_init();
}

/// The AWS adapters, configured from the environment: the DynamoDB table
/// `KONTOR_TABLE`, and the SDK's usual variables (region, credentials,
/// `AWS_ENDPOINT_URL` for a stand-in such as moto).
pub async fn aws_state() -> AppState {
    AppState::with_store(Arc::new(DynamoStore::from_env().await))
}

/// Stops a function at start when a secret it `needs` is missing or any
/// secret set is too short (fail closed), logging why.
pub fn check_secrets(needs: &[Secret]) -> Result<(), SecretError> {
    secrets::check_env(needs).inspect_err(|error| {
        tracing::error!(%error, "the function cannot start");
    })
}

/// Serves `router` as a Lambda function behind API Gateway, once the
/// secrets it `needs` are there.
pub async fn run(
    router: fn() -> OpenApiRouter<AppState>,
    needs: &[Secret],
) -> Result<(), StartupError> {
    let started = std::time::Instant::now();
    init_logs();
    check_secrets(needs)?;
    let state = aws_state().await;
    let clients = started.elapsed();
    let (router, _api): (Router<AppState>, _) = router().split_for_parts();
    // What a cold start spends before it can take a request, by part
    // (docs/figures.md, "Cold starts of the functions").
    tracing::debug!(
        clients_us = clients.as_micros() as u64,
        router_us = (started.elapsed() - clients).as_micros() as u64,
        "ready for requests"
    );
    let router = router
        .with_state(state)
        .layer(axum::middleware::from_fn(
            kontor_http::validators::conditional_get,
        ))
        .layer(axum::middleware::from_fn(claims_from_lambda_context));
    lambda_http::run(router).await?;
    Ok(())
}

/// Runs `job` each time the function is invoked, as a schedule rule does
/// (the scheduled event's content does not matter). A failed job fails the
/// invocation, so the scheduler's retry runs it again.
pub async fn run_scheduled<F, Fut, E>(job: F) -> Result<(), StartupError>
where
    F: Fn(AppState) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), E>> + Send,
    E: std::fmt::Display,
{
    init_logs();
    check_secrets(&[])?;
    let state = aws_state().await;
    let job = Arc::new(job);
    let handler =
        lambda_http::service_fn(move |_event: lambda_http::LambdaEvent<serde_json::Value>| {
            let state = state.clone();
            let job = Arc::clone(&job);
            async move {
                job(state)
                    .await
                    .map_err(|error| lambda_http::Error::from(error.to_string()))
            }
        });
    lambda_http::lambda_runtime::run(handler).await?;
    Ok(())
}

/// Middleware for the Lambda functions: the JWT authorizer's claims from
/// API Gateway's request context become [`Claims`].
pub async fn claims_from_lambda_context(mut request: Request, next: Next) -> Response {
    use lambda_http::request::RequestContext;

    let claims = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .authorizer
            .as_ref()
            .and_then(|authorizer| authorizer.jwt.as_ref())
            .and_then(|jwt| Claims::from_authorizer(&jwt.claims)),
        _ => None,
    };
    if let Some(claims) = claims {
        request.extensions_mut().insert(claims);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::get;
    use http_body_util::BodyExt;
    use kontor_http::{SignedIn, Staff};
    use tower::ServiceExt;

    /// An API Gateway (HTTP API) event as Lambda hands it over, with the
    /// JWT authorizer's claims when `claims` is given.
    fn event(path: &str, claims: Option<serde_json::Value>) -> lambda_http::Request {
        let mut context = serde_json::json!({
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example",
            "domainPrefix": "api", "requestId": "r1", "routeKey": "$default", "stage": "$default",
            "time": "29/Nov/2026:10:00:00 +0000", "timeEpoch": 1795946400000i64,
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7", "userAgent": "test"}
        });
        if let Some(claims) = claims {
            context["authorizer"] = serde_json::json!({"jwt": {"claims": claims, "scopes": null}});
        }
        let raw = serde_json::json!({
            "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
            "headers": {"host": "api.example"}, "requestContext": context, "isBase64Encoded": false
        });
        let request: lambda_http::request::LambdaRequest =
            serde_json::from_value(raw).expect("an API Gateway v2 event");
        lambda_http::Request::from(request)
    }

    async fn call(request: lambda_http::Request) -> (StatusCode, String) {
        let router: Router = Router::new()
            .route(
                "/admin/whoami",
                get(|Staff(staff): Staff| async move { staff.staff_actor().to_string() }),
            )
            .route(
                "/me/whoami",
                get(|SignedIn(me): SignedIn| async move { me.subject.to_string() }),
            )
            .layer(axum::middleware::from_fn(claims_from_lambda_context));
        let (parts, body) = request.into_parts();
        let body = match body {
            lambda_http::Body::Empty => Body::empty(),
            lambda_http::Body::Text(text) => Body::from(text),
            lambda_http::Body::Binary(bytes) => Body::from(bytes),
            _ => Body::empty(),
        };
        let response = router
            .oneshot(axum::http::Request::from_parts(parts, body))
            .await
            .expect("the router answers");
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn the_authorizers_claims_become_the_caller() {
        let staff = serde_json::json!({"sub": "s-1", "email": "lena@kontor.example", "cognito:groups": "[staff]"});
        let shopper = serde_json::json!({"sub": "c-1", "email": "eva@example.de"});
        assert_eq!(
            call(event("/admin/whoami", Some(staff))).await,
            (StatusCode::OK, "staff lena@kontor.example".into())
        );
        assert_eq!(
            call(event("/me/whoami", Some(shopper.clone()))).await,
            (StatusCode::OK, "c-1".into())
        );
        assert_eq!(
            call(event("/admin/whoami", Some(shopper))).await.0,
            StatusCode::FORBIDDEN,
            "a shopper on a staff route"
        );
        assert_eq!(
            call(event("/me/whoami", None)).await.0,
            StatusCode::UNAUTHORIZED,
            "no authorizer claims, no caller"
        );
        let no_subject = serde_json::json!({"email": "x@example.de", "cognito:groups": "[staff]"});
        assert_eq!(
            call(event("/admin/whoami", Some(no_subject))).await.0,
            StatusCode::UNAUTHORIZED,
            "claims without a subject name nobody"
        );
    }
}
