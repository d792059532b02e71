//! The `order-lifecycle` Lambda function: its router behind API Gateway.

#[tokio::main]
async fn main() -> Result<(), kontor_http::lambda::StartupError> {
    kontor_http::lambda::run(kontor_order_lifecycle::router).await
}
