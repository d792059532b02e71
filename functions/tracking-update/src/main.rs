//! The `tracking-update` Lambda function: its router behind API Gateway.

#[tokio::main]
async fn main() -> Result<(), kontor_http::lambda::StartupError> {
    kontor_http::lambda::run(kontor_tracking_update::router).await
}
