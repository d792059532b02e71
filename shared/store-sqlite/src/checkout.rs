//! The checkout's reads: its replay, products and customer in one go (its
//! write is the order commit, in `orders`).

use crate::{internal, read_customer, read_idempotency, read_products_by_sku, SqliteStore};
use async_trait::async_trait;
use kontor_domain::{CustomerId, Sku};
use kontor_platform::store::{CheckoutRead, CheckoutStore, IdempotencyRecord, StoreError};

#[async_trait]
impl CheckoutStore for SqliteStore {
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
        let key = key.to_string();
        self.run(move |connection| read_idempotency(connection, &key))
            .await
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

impl SqliteStore {
    /// One read transaction of what a checkout or a cart decides on.
    async fn read_together(
        &self,
        key: Option<&str>,
        skus: &[Sku],
        customer: Option<&CustomerId>,
        mailbox: Option<&str>,
    ) -> Result<CheckoutRead, StoreError> {
        let key = key.map(str::to_string);
        let mailbox = mailbox.map(str::to_string);
        let skus: Vec<String> = skus.iter().map(|s| s.as_str().to_string()).collect();
        let customer = customer.cloned();
        self.run(move |connection| {
            // One read transaction, so the answers come from the same state.
            let tx = connection.unchecked_transaction().map_err(internal)?;
            let read = CheckoutRead {
                replay: match &key {
                    Some(key) => read_idempotency(&tx, key)?,
                    None => None,
                },
                products: read_products_by_sku(&tx, &skus)?,
                customer: match &customer {
                    Some(id) => read_customer(&tx, id)?,
                    None => None,
                },
                mailbox_orders: match &mailbox {
                    Some(mailbox) => crate::promotions::read_mailbox_orders(&tx, mailbox)?,
                    None => 0,
                },
                promotions: crate::settings::read_setting(&tx, crate::settings::PROMOTIONS)?,
            };
            tx.finish().map_err(internal)?;
            Ok(read)
        })
        .await
    }
}
