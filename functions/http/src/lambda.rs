//! The entry point of every HTTP function's Lambda binary.
//!
//! A function's `main` hands its router to [`run`]; this sets up JSON logs
//! for CloudWatch, builds the AWS adapters once per container, and serves
//! API Gateway requests through the same router the local runtime mounts,
//! with the JWT authorizer's claims as the caller's [`identity::Claims`].

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::identity;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Runtime(#[from] lambda_http::Error),
}

/// Serves `router` as a Lambda function behind API Gateway.
pub async fn run(router: fn() -> OpenApiRouter<AppState>) -> Result<(), StartupError> {
    kontor_platform::telemetry::init_lambda_logs();
    let state = AppState::aws().await;
    let (router, _api): (Router<AppState>, _) = router().split_for_parts();
    let router = router.with_state(state).layer(axum::middleware::from_fn(
        identity::claims_from_lambda_context,
    ));
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
    kontor_platform::telemetry::init_lambda_logs();
    let state = AppState::aws().await;
    let job = std::sync::Arc::new(job);
    let handler =
        lambda_http::service_fn(move |_event: lambda_http::LambdaEvent<serde_json::Value>| {
            let state = state.clone();
            let job = std::sync::Arc::clone(&job);
            async move {
                job(state)
                    .await
                    .map_err(|error| lambda_http::Error::from(error.to_string()))
            }
        });
    lambda_http::lambda_runtime::run(handler).await?;
    Ok(())
}
