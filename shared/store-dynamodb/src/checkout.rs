//! The checkout's read: its replay, products, customer, the mailbox's
//! order count and the promotions document in one
//! `BatchGetItem` (its write is the order commit's one
//! `TransactWriteItems`, in `orders`).

use async_trait::async_trait;
use kontor_domain::{CustomerId, Sku};
use kontor_platform::store::{CheckoutRead, CheckoutStore, IdempotencyRecord, StoreError};

use crate::items::Keys;
use crate::{products_in_order, unique_skus, DynamoStore};

#[async_trait]
impl CheckoutStore for DynamoStore {
    async fn read_for_checkout(
        &self,
        key: &str,
        skus: &[Sku],
        customer: Option<&CustomerId>,
        mailbox: &str,
    ) -> Result<CheckoutRead, StoreError> {
        self.read_together(Some(key), skus, customer, Some(mailbox))
            .await
    }

    async fn get_idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.get(Keys::idempotency(key))
            .await?
            .map(|item| item.idempotency())
            .transpose()
    }

    async fn read_for_cart(
        &self,
        skus: &[Sku],
        customer: Option<&CustomerId>,
        mailbox: Option<&str>,
    ) -> Result<CheckoutRead, StoreError> {
        self.read_together(None, skus, customer, mailbox).await
    }
}

impl DynamoStore {
    /// One `BatchGetItem` of what a checkout or a cart decides on.
    async fn read_together(
        &self,
        key: Option<&str>,
        skus: &[Sku],
        customer: Option<&CustomerId>,
        mailbox: Option<&str>,
    ) -> Result<CheckoutRead, StoreError> {
        let mut keys: Vec<_> = unique_skus(skus)
            .into_iter()
            .map(|sku| Keys::product(sku).into_map())
            .collect();
        if let Some(key) = key {
            keys.push(Keys::idempotency(key).into_map());
        }
        if let Some(customer) = customer {
            keys.push(Keys::customer(customer).into_map());
        }
        if let Some(mailbox) = mailbox {
            keys.push(Keys::mailbox(mailbox).into_map());
        }
        keys.push(Keys::setting(crate::settings::PROMOTIONS).into_map());
        let mut read = CheckoutRead::default();
        let mut products = Vec::with_capacity(skus.len());
        for item in self.batch_get(keys).await? {
            if item.is_idempotency() {
                read.replay = Some(item.idempotency()?);
            } else if item.is_customer() {
                read.customer = Some(item.customer()?);
            } else if item.is_mailbox() {
                read.mailbox_orders = u32::try_from(item.counter_value()?).unwrap_or(u32::MAX);
            } else if item.is_setting() {
                read.promotions = Some(item.setting()?);
            } else {
                products.push(item.product()?);
            }
        }
        read.products = products_in_order(skus, products);
        Ok(read)
    }
}
