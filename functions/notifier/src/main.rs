//! The `notifier` Lambda function, fed by the EventBridge rule for the
//! events it subscribes to. A retryable failure fails the invocation, so
//! Lambda retries it and finally hands it to the on-failure destination.

use std::sync::Arc;

use kontor_notifier::{shop_from_env, BridgeEvent, Notifier};
use kontor_platform::{ConsumeError, EventConsumer};
use kontor_ses::SesMailer;
use kontor_store_dynamodb::DynamoStore;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kontor_lambda::init_logs();
    kontor_lambda::check_secrets(&[kontor_lambda::Secret::OrderLinkKey])?;
    let notifier = Arc::new(Notifier::new(
        Arc::new(DynamoStore::from_env().await),
        Arc::new(SesMailer::from_env().await),
        shop_from_env(),
    ));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<BridgeEvent>| {
        let notifier = Arc::clone(&notifier);
        async move {
            match notifier.handle(&event.payload.detail).await {
                Ok(()) => Ok(()),
                Err(ConsumeError::Permanent(reason)) => {
                    tracing::error!(%reason, event_id = %event.payload.detail.event_id, "event cannot be handled; not retrying");
                    Ok(())
                }
                Err(error @ ConsumeError::Retryable(_)) => Err(lambda_runtime::Error::from(error.to_string())),
            }
        }
    }))
    .await
}
