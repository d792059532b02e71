//! The `orders` Lambda function: its router behind API Gateway.

#[tokio::main]
async fn main() -> Result<(), kontor_lambda::StartupError> {
    kontor_lambda::run(kontor_orders::router, &[]).await
}
