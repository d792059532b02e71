//! The `outbox-relay` Lambda function, fed by the table's stream.

use std::sync::Arc;

use kontor_eventbridge::EventBridgePublisher;
use kontor_outbox_relay::{relay, BatchResponse, StreamEvent};
use kontor_store_dynamodb::DynamoStore;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    kontor_lambda::init_logs();
    kontor_lambda::check_secrets(&[])?;
    let publisher = Arc::new(EventBridgePublisher::from_env().await);
    let store = Arc::new(DynamoStore::from_env().await);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<StreamEvent>| {
        let publisher = Arc::clone(&publisher);
        let store = Arc::clone(&store);
        async move {
            Ok::<BatchResponse, lambda_runtime::Error>(
                relay(&event.payload, publisher.as_ref(), store.as_ref()).await,
            )
        }
    }))
    .await
}
