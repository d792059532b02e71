//! The entry point of every HTTP function's Lambda binary.
//!
//! A function's `main` hands its router to [`run`]; this sets up JSON logs
//! for CloudWatch, builds the AWS adapters once per container, and serves
//! API Gateway requests through the same router the local runtime mounts.

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Runtime(#[from] lambda_http::Error),
}

/// Logs as JSON lines without ANSI colours or timestamps (CloudWatch adds
/// its own), at the level `RUST_LOG` sets, `info` by default.
pub fn init_tracing() {
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

/// Serves `router` as a Lambda function behind API Gateway.
pub async fn run(router: fn() -> OpenApiRouter<AppState>) -> Result<(), StartupError> {
    init_tracing();
    let state = AppState::aws().await;
    let (router, _api): (Router<AppState>, _) = router().split_for_parts();
    lambda_http::run(router.with_state(state)).await?;
    Ok(())
}
