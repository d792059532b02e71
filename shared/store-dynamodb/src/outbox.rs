//! The outbox rows in the sparse pending index until published.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use kontor_domain::events::Event;
use kontor_domain::EventId;
use kontor_platform::store::{Outbox, StoreError};

use crate::errors::service_error;
use crate::items::{self, Item, Keys};
use crate::DynamoStore;

#[async_trait]
impl Outbox for DynamoStore {
    async fn pending_events(&self, limit: usize) -> Result<Vec<Event>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI2")
            .key_condition_expression("GSI2PK = :pending")
            .expression_attribute_values(
                ":pending",
                AttributeValue::S(items::OUTBOX_PENDING.into()),
            )
            .into_paginator()
            .items()
            .send();
        let mut events = Vec::new();
        while events.len() < limit {
            match pages.next().await {
                Some(item) => events.push(Item::from(item.map_err(service_error)?).event()?),
                None => break,
            }
        }
        Ok(events)
    }

    async fn mark_published(&self, ids: &[EventId]) -> Result<(), StoreError> {
        for id in ids {
            // Leaving the sparse index is what marks the row published.
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Keys::outbox(id).into_map()))
                .update_expression("REMOVE GSI2PK, GSI2SK")
                .condition_expression("attribute_exists(PK)")
                .send()
                .await
                .map_err(service_error)?;
        }
        Ok(())
    }
}
