//! The `outbox-sweeper` Lambda function, run by a schedule: publishes the
//! outbox rows the stream relay left pending (see `kontor_outbox_relay::sweep`).
//! Rows it still cannot publish fail the invocation, so they are visible in
//! the function's errors and tried again at the next run.

use std::sync::Arc;

use kontor_eventbridge::EventBridgePublisher;
use kontor_outbox_relay::sweep;
use kontor_store_dynamodb::DynamoStore;
use lambda_runtime::{service_fn, LambdaEvent};

/// How long the stream relay has before a pending row counts as left behind.
const GRACE: time::Duration = time::Duration::minutes(5);
/// The most rows one run publishes; the next run takes the rest.
const PER_RUN: usize = 1_000;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kontor_lambda::init_logs();
    kontor_lambda::check_secrets(&[])?;
    let publisher = Arc::new(EventBridgePublisher::from_env().await);
    let store = Arc::new(DynamoStore::from_env().await);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let publisher = Arc::clone(&publisher);
        let store = Arc::clone(&store);
        async move {
            let now = time::OffsetDateTime::now_utc();
            let swept = sweep(publisher.as_ref(), store.as_ref(), now, GRACE, PER_RUN).await?;
            if swept.left > 0 {
                return Err(lambda_runtime::Error::from(format!(
                    "{} outbox rows could not be published",
                    swept.left
                )));
            }
            Ok::<serde_json::Value, lambda_runtime::Error>(serde_json::json!({
                "published": swept.published
            }))
        }
    }))
    .await
}
