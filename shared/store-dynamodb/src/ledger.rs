//! Which consumer handled which event: one conditional put each.

use async_trait::async_trait;
use kontor_domain::EventId;
use kontor_platform::store::{ConsumerLedger, StoreError};

use crate::errors::{is_conditional_failure, service_error};
use crate::items::{Item, Keys};
use crate::DynamoStore;

#[async_trait]
impl ConsumerLedger for DynamoStore {
    async fn record_processed(
        &self,
        consumer: &str,
        event_id: &EventId,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Item::for_processed(consumer, event_id).into_map()))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_conditional_failure(&error) => Ok(false),
            Err(error) => Err(service_error(error)),
        }
    }

    async fn has_processed(&self, consumer: &str, event_id: &EventId) -> Result<bool, StoreError> {
        Ok(self
            .get(Keys::processed(consumer, event_id))
            .await?
            .is_some())
    }
}
