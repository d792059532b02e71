//! The `rule-evaluation` Lambda function: its router behind API Gateway.

#[tokio::main]
async fn main() -> Result<(), kontor_lambda::StartupError> {
    kontor_lambda::run(kontor_rule_evaluation::router, &[]).await
}
