//! The checkout: one `BatchGetItem`, one `TransactWriteItems`.

use async_trait::async_trait;
use kontor_domain::{CustomerId, Sku};
use kontor_platform::store::{
    CheckoutRead, CheckoutStore, IdempotencyRecord, OrderPlacement, StoreError,
};

use crate::errors;
use crate::items::{Item, Keys};
use crate::{awaits_payment, products_in_order, unique_skus, DynamoStore, TransactFailure};

#[async_trait]
impl CheckoutStore for DynamoStore {
    async fn read_for_checkout(
        &self,
        key: &str,
        skus: &[Sku],
        customer: Option<&CustomerId>,
    ) -> Result<CheckoutRead, StoreError> {
        let mut keys: Vec<_> = unique_skus(skus)
            .into_iter()
            .map(|sku| Keys::product(sku).into_map())
            .collect();
        keys.push(Keys::idempotency(key).into_map());
        if let Some(customer) = customer {
            keys.push(Keys::customer(customer).into_map());
        }
        let mut read = CheckoutRead::default();
        let mut products = Vec::with_capacity(skus.len());
        for item in self.batch_get(keys).await? {
            if item.is_idempotency() {
                read.replay = Some(item.idempotency()?);
            } else if item.is_customer() {
                read.customer = Some(item.customer()?);
            } else {
                products.push(item.product()?);
            }
        }
        read.products = products_in_order(skus, products);
        Ok(read)
    }

    async fn place_order(&self, placement: &OrderPlacement) -> Result<(), StoreError> {
        // Each item's meaning, by position, to read cancellation reasons back.
        enum Part<'a> {
            Idempotency,
            Order,
            Number,
            Stock(&'a Sku),
            Event,
            Customer,
            Name,
        }
        let mut parts = Vec::new();
        let mut writes = Vec::new();
        if let Some(record) = &placement.idempotency {
            writes.push(self.put_new(Item::for_idempotency(record))?);
            parts.push(Part::Idempotency);
        }
        writes.push(self.put_new(Item::for_order(&placement.order)?)?);
        parts.push(Part::Order);
        for (index, entry) in placement.order.history.iter().enumerate() {
            writes.push(self.put_new(Item::for_history(&placement.order.id, index, entry)?)?);
            parts.push(Part::Order);
        }
        writes.push(self.put_new(Item::for_order_number(&placement.order))?);
        parts.push(Part::Number);
        for take in &placement.stock_takes {
            writes.push(self.take_stock(take)?);
            parts.push(Part::Stock(&take.sku));
        }
        for (index, event) in placement.events.iter().enumerate() {
            writes.push(self.put_new(Item::for_outbox(event, index)?)?);
            parts.push(Part::Event);
        }
        if let Some(customer) = &placement.customer {
            writes.push(self.put_versioned(Item::for_customer(customer)?, customer.version)?);
            parts.push(Part::Customer);
        }
        for word in placement.order.name_tokens() {
            writes.push(self.put_new(Item::for_order_name(&placement.order, &word))?);
            parts.push(Part::Name);
        }
        if awaits_payment(&placement.order) {
            writes.push(self.put_new(Item::for_unpaid(&placement.order))?);
            parts.push(Part::Name);
        }

        let reasons = match self.transact(writes).await {
            Ok(()) => return Ok(()),
            Err(TransactFailure::Store(error)) => return Err(error),
            Err(TransactFailure::Cancelled(reasons)) => reasons,
        };
        // The first failed condition explains the cancellation.
        for (part, reason) in parts.iter().zip(&reasons) {
            if !reason.is_conditional_failure() {
                continue;
            }
            return Err(match part {
                Part::Idempotency => StoreError::IdempotencyKeyTaken,
                Part::Order => StoreError::AlreadyExists { entity: "order" },
                Part::Number => StoreError::OrderNumberTaken,
                Part::Stock(sku) => StoreError::StockShort {
                    sku: (*sku).clone(),
                    available: reason.old_number("stock").unwrap_or(0),
                },
                Part::Event => StoreError::AlreadyExists { entity: "event" },
                Part::Customer => StoreError::StaleVersion {
                    entity: "customer",
                    expected: placement.customer.as_ref().map_or(0, |c| c.version - 1),
                },
                Part::Name => StoreError::AlreadyExists { entity: "order" },
            });
        }
        Err(errors::unexplained(&reasons))
    }

    async fn get_idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.get(Keys::idempotency(key))
            .await?
            .map(|item| item.idempotency())
            .transpose()
    }
}
