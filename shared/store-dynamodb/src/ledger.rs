//! Which consumer handled which event, and which delivery is handling one
//! now: one item per consumer and event, with `claimed_until` while a
//! delivery holds it; each change is one conditional write.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use kontor_aws_errors::HttpResponse;
use kontor_domain::EventId;
use kontor_platform::store::{Claim, ConsumerLedger, StoreError};

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
        // New, or a claim turned into a record.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Item::for_processed(consumer, event_id).into_map()))
            .condition_expression("attribute_not_exists(PK) OR attribute_exists(claimed_until)")
            .send()
            .await;
        went_through(result)
    }

    async fn has_processed(&self, consumer: &str, event_id: &EventId) -> Result<bool, StoreError> {
        Ok(self
            .get(Keys::processed(consumer, event_id))
            .await?
            .is_some_and(|item| !item.is_claim()))
    }

    async fn claim(
        &self,
        consumer: &str,
        event_id: &EventId,
        now_unix: i64,
        lease_seconds: i64,
    ) -> Result<Claim, StoreError> {
        let until = now_unix.saturating_add(lease_seconds);
        // New, or a lapsed claim taken over; a refusal hands back the item
        // that refused it, so a repeat costs this one call.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Item::for_claim(consumer, event_id, until).into_map()))
            .condition_expression(
                "attribute_not_exists(PK) OR (attribute_exists(claimed_until) AND claimed_until <= :now)",
            )
            .expression_attribute_values(":now", AttributeValue::N(now_unix.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Claimed),
            Err(error) if is_conditional_failure(&error) => {
                let held = match error.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(refusal)) => {
                        refusal.item().cloned().map(Item::from)
                    }
                    _ => None,
                };
                Ok(match held {
                    Some(item) if !item.is_claim() => Claim::Done,
                    // Held by another delivery (or given up just now: the
                    // next try claims it).
                    _ => Claim::Busy,
                })
            }
            Err(error) => Err(service_error(error)),
        }
    }

    async fn advance(&self, consumer: &str, key: &str, version: u64) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Item::for_mark(consumer, key, version).into_map()))
            .condition_expression("attribute_not_exists(PK) OR version <= :version")
            .expression_attribute_values(":version", AttributeValue::N(version.to_string()))
            .send()
            .await;
        went_through(result)
    }

    async fn release(&self, consumer: &str, event_id: &EventId) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Keys::processed(consumer, event_id).into_map()))
            .condition_expression("attribute_exists(claimed_until)")
            .send()
            .await;
        // Handled meanwhile, or not held: nothing to give up.
        went_through(result).map(|_| ())
    }
}

/// Whether a conditional write went through: its condition failing is an
/// answer (false), not an error.
fn went_through<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if is_conditional_failure(&error) => Ok(false),
        Err(error) => Err(service_error(error)),
    }
}
