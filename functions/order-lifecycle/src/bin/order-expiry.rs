//! The `order-expiry` Lambda function: a schedule rule runs it every hour
//! to cancel prepayment orders whose money never came.

#[tokio::main]
async fn main() -> Result<(), kontor_lambda::StartupError> {
    kontor_lambda::run_scheduled(|state| async move {
        kontor_order_lifecycle::expire_unpaid(&state)
            .await
            .map(|_| ())
    })
    .await
}
