//! The `tracking-update` Lambda function: its router behind API Gateway.

use kontor_lambda::Secret;

#[tokio::main]
async fn main() -> Result<(), kontor_lambda::StartupError> {
    kontor_lambda::run(kontor_tracking_update::router, &[Secret::WebhookSecrets]).await
}
