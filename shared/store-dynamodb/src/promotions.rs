//! What promotions count: each mailbox's orders (`MAILBOX#<mailbox>`) and
//! each discount's uses (`DISCOUNTUSES#<id>`, and `…#<mailbox>` per
//! customer), all moved on by the checkout's transaction
//! ([`DynamoStore::count_order`]).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use kontor_domain::discount::Uses;
use kontor_domain::order::DiscountUse;
use kontor_domain::rules::Handle;
use kontor_platform::store::{MailboxOrder, PromotionStore, StoreError};

use crate::errors::build_error;
use crate::items::Keys;
use crate::DynamoStore;

/// What a counter write in the checkout's transaction stands for, to read
/// its cancellation reason back.
pub(crate) enum CountPart {
    Mailbox(u32),
    Discount { id: String, per_customer: bool },
}

#[async_trait]
impl PromotionStore for DynamoStore {
    async fn discount_uses(
        &self,
        discounts: &[Handle],
        customer_key: Option<&str>,
    ) -> Result<Vec<(Handle, Uses)>, StoreError> {
        let mut found = Vec::new();
        // A batch reads at most 100 keys; two per discount.
        for chunk in discounts.chunks(50) {
            let mut keys = Vec::with_capacity(chunk.len() * 2);
            for id in chunk {
                keys.push(Keys::discount_uses(id.as_str(), None));
                if let Some(key) = customer_key {
                    keys.push(Keys::discount_uses(id.as_str(), Some(key)));
                }
            }
            let wanted: Vec<String> = keys.iter().map(|k| k.pk.clone()).collect();
            let items = self
                .batch_get(keys.into_iter().map(Keys::into_map).collect())
                .await?;
            let count = |pk: &str| -> Result<u32, StoreError> {
                for item in &items {
                    if item.partition_key()? == pk {
                        return Ok(u32::try_from(item.counter_value()?).unwrap_or(u32::MAX));
                    }
                }
                Ok(0)
            };
            for (i, id) in chunk.iter().enumerate() {
                let stride = if customer_key.is_some() { 2 } else { 1 };
                let total = count(&wanted[i * stride])?;
                let by_customer = match customer_key {
                    Some(_) => Some(count(&wanted[i * stride + 1])?),
                    None => None,
                };
                if total > 0 || by_customer.is_some_and(|n| n > 0) {
                    found.push((id.clone(), Uses { total, by_customer }));
                }
            }
        }
        Ok(found)
    }

    async fn mailbox_orders(&self, mailbox: &str) -> Result<u32, StoreError> {
        Ok(match self.get(Keys::mailbox(mailbox)).await? {
            Some(item) => u32::try_from(item.counter_value()?).unwrap_or(u32::MAX),
            None => 0,
        })
    }
}

impl DynamoStore {
    /// The writes that count a placed order: its mailbox's orders (held at
    /// the count read when a discount relied on it) and each discount's
    /// uses (within their limits).
    pub(crate) fn count_order(
        &self,
        mailbox: Option<&MailboxOrder>,
        discount_uses: &[DiscountUse],
    ) -> Result<Vec<(TransactWriteItem, CountPart)>, StoreError> {
        let mut writes = Vec::new();
        if let Some(mailbox) = mailbox {
            let condition = match (mailbox.hold, mailbox.seen) {
                (false, _) => None,
                (true, 0) => Some("attribute_not_exists(#value)"),
                (true, _) => Some("#value = :seen"),
            };
            writes.push((
                self.count_up(
                    Keys::mailbox(&mailbox.mailbox),
                    condition,
                    &[(":seen", mailbox.seen)],
                )?,
                CountPart::Mailbox(mailbox.seen),
            ));
        }
        for used in discount_uses {
            let id = used.discount.as_str();
            let counters = [
                (None, used.usage_limit, false),
                (
                    Some(used.customer_key.as_str()),
                    used.per_customer_limit,
                    true,
                ),
            ];
            for (customer, limit, per_customer) in counters {
                // Uses per customer are counted only where a limit needs them.
                if per_customer && limit.is_none() {
                    continue;
                }
                let condition = limit.map(|_| "attribute_not_exists(#value) OR #value < :limit");
                writes.push((
                    self.count_up(
                        Keys::discount_uses(id, customer),
                        condition,
                        &[(":limit", limit.unwrap_or(0))],
                    )?,
                    CountPart::Discount {
                        id: id.to_string(),
                        per_customer,
                    },
                ));
            }
        }
        Ok(writes)
    }

    /// A counter up by one, under `condition` (which may use the values).
    fn count_up(
        &self,
        keys: Keys,
        condition: Option<&str>,
        values: &[(&str, u32)],
    ) -> Result<TransactWriteItem, StoreError> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keys.into_map()))
            .update_expression("ADD #value :one")
            .expression_attribute_names("#value", "value")
            .expression_attribute_values(":one", AttributeValue::N("1".into()));
        if let Some(condition) = condition {
            update = update.condition_expression(condition);
            for (name, value) in values {
                if condition.contains(name) {
                    update = update
                        .expression_attribute_values(*name, AttributeValue::N(value.to_string()));
                }
            }
        }
        Ok(TransactWriteItem::builder()
            .update(update.build().map_err(build_error)?)
            .build())
    }
}

impl CountPart {
    /// Why the transaction was cancelled, when this counter's condition failed.
    pub(crate) fn error(&self) -> StoreError {
        match self {
            CountPart::Mailbox(seen) => StoreError::StaleVersion {
                entity: "mailbox's order count",
                expected: (*seen).into(),
            },
            CountPart::Discount { id, per_customer } => StoreError::DiscountUsedUp {
                discount: id.clone(),
                per_customer: *per_customer,
            },
        }
    }
}
