//! Logging for Lambda functions: JSON lines without ANSI colours or
//! timestamps (CloudWatch adds its own), at the level `RUST_LOG` sets,
//! `info` by default. Every function's `main` calls [`init_lambda_logs`].

pub fn init_lambda_logs() {
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
