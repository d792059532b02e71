//! The `checkout` Lambda function: its router behind API Gateway.

use kontor_lambda::Secret;

#[tokio::main]
async fn main() -> Result<(), kontor_lambda::StartupError> {
    kontor_lambda::run(kontor_checkout::router, &[Secret::OrderLinkKey]).await
}
