//! The AWS store: the store port on one DynamoDB table.
//!
//! The single-table design is written down in `docs/dynamodb.md`. In short:
//! every item has `PK` and `SK`; two overloaded global secondary indexes
//! (`GSI1`, `GSI2`) serve the catalog listing, orders by e-mail and by
//! customer, and the outbox's pending events; `expires_at` is the TTL
//! attribute; the table's stream feeds the outbox relay.
//!
//! A checkout is one `BatchGetItem` (the products) and one
//! `TransactWriteItems`: the order, the claim on its number, the conditional
//! stock decrements, the idempotency record and the outbox rows commit
//! together. A cancelled transaction is mapped back, reason by reason, to
//! the store port's errors.

// Each role of the store port has its module; what several roles share
// (batched reads, conditional puts, stock updates, transactions) is here.
mod catalog;
mod checkout;
mod customers;
mod errors;
mod items;
mod ledger;
mod orders;
mod outbox;
mod promotions;
mod settings;
pub mod table;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use kontor_domain::order::{Order, OrderStatus, PaymentMethod, StockTake};
use kontor_domain::product::Product;
use kontor_domain::shipment::TrackingNumber;
use kontor_domain::{OrderId, Sku};
use kontor_platform::store::{OrderCursor, StoreError};

use crate::errors::{build_error, cancellation_reasons, service_error};
use crate::items::{Item, Keys};

/// The most items one `TransactWriteItems` may hold.
const MAX_TRANSACTION_ITEMS: usize = 100;
/// The most keys one `BatchGetItem` may ask for.
const MAX_BATCH_GET: usize = 100;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// A store on the table named by `KONTOR_TABLE` (default `kontor`), with
    /// the SDK configured from the environment (region, credentials, and
    /// `AWS_ENDPOINT_URL` for a local stand-in such as moto).
    pub async fn from_env() -> Self {
        let config = kontor_aws_config::sdk_config().await;
        let table = std::env::var("KONTOR_TABLE").unwrap_or_else(|_| "kontor".into());
        Self::new(Client::new(&config), table)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The items under `keys` that exist, in any order: one `BatchGetItem`
    /// per hundred keys, asked again for any keys DynamoDB left unprocessed.
    async fn batch_get(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_BATCH_GET) {
            let mut pending = chunk.to_vec();
            // BatchGetItem may leave keys unprocessed under load; ask again
            // for those until none is left.
            while !pending.is_empty() {
                let keys = KeysAndAttributes::builder()
                    .set_keys(Some(pending))
                    .consistent_read(true)
                    .build()
                    .map_err(build_error)?;
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(service_error)?;
                found.extend(
                    output
                        .responses
                        .unwrap_or_default()
                        .remove(&self.table)
                        .unwrap_or_default()
                        .into_iter()
                        .map(Item::from),
                );
                pending = output
                    .unprocessed_keys
                    .unwrap_or_default()
                    .remove(&self.table)
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
        }
        Ok(found)
    }

    async fn get(&self, keys: Keys) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys.into_map()))
            .consistent_read(true)
            .send()
            .await
            .map_err(service_error)?;
        Ok(output.item.map(Item::from))
    }

    fn put(&self, item: Item, condition: &str) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item.into_map()))
            .condition_expression(condition)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_error)
    }

    /// A conditional decrement of a product's stock, returning the old item
    /// when there is not enough (so the answer can name what is left).
    fn take_stock(&self, take: &StockTake) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Keys::product(&take.sku).into_map()))
            .update_expression("SET stock = stock - :quantity, version = version + :one")
            .condition_expression("attribute_exists(PK) AND stock >= :quantity")
            .expression_attribute_values(":quantity", AttributeValue::N(take.quantity.to_string()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// A put of an aggregate at `version`, if the stored one is the version
    /// before (or, at version 1, if there is none).
    fn put_versioned(&self, item: Item, version: u64) -> Result<TransactWriteItem, StoreError> {
        if version <= 1 {
            return self.put_new(item);
        }
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item.into_map()))
            .condition_expression("version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N((version - 1).to_string()))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Units back to a product's stock.
    fn return_stock(&self, units: &StockTake) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Keys::product(&units.sku).into_map()))
            .update_expression("SET stock = stock + :quantity, version = version + :one")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":quantity", AttributeValue::N(units.quantity.to_string()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Deletes a tracking number's claim if it is still this order's.
    fn release_tracking(
        &self,
        number: &TrackingNumber,
        order: &OrderId,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(Keys::tracking(number).into_map()))
            .condition_expression("attribute_not_exists(PK) OR order_id = :order")
            .expression_attribute_values(":order", AttributeValue::S(order.as_str().into()))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        Ok(TransactWriteItem::builder()
            .put(self.put(item, "attribute_not_exists(PK)")?)
            .build())
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TransactFailure> {
        if items.len() > MAX_TRANSACTION_ITEMS {
            return Err(TransactFailure::Store(StoreError::Internal(format!(
                "a write of {} items exceeds DynamoDB's transaction limit",
                items.len()
            ))));
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| match cancellation_reasons(&error) {
                Some(reasons) => TransactFailure::Cancelled(reasons),
                None => TransactFailure::Store(service_error(error)),
            })
    }

    /// Orders in an index partition, newest first, that pass `wanted`, at
    /// most `limit` (reading page after page until that many pass).
    async fn query_orders(
        &self,
        index: &str,
        partition: String,
        after: Option<&OrderCursor>,
        limit: usize,
        wanted: impl Fn(&Order) -> bool,
    ) -> Result<Vec<Order>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .expression_attribute_names("#pk", format!("{index}PK"))
            .expression_attribute_values(":partition", AttributeValue::S(partition))
            .scan_index_forward(false);
        query = match after {
            None => query.key_condition_expression("#pk = :partition"),
            Some(cursor) => query
                .key_condition_expression("#pk = :partition AND #sk < :after")
                .expression_attribute_names("#sk", format!("{index}SK"))
                .expression_attribute_values(
                    ":after",
                    AttributeValue::S(items::order_sort_key(cursor.created_at, &cursor.id)),
                ),
        };
        let mut items = query.into_paginator().items().send();
        let mut orders = Vec::new();
        while orders.len() < limit {
            let Some(item) = items.next().await else {
                break;
            };
            let order = Item::from(item.map_err(service_error)?).order()?;
            if wanted(&order) {
                orders.push(order);
            }
        }
        Ok(orders)
    }
}

/// Whether a prepayment order still waits for its money (and so may expire).
fn awaits_payment(order: &Order) -> bool {
    order.status == OrderStatus::Open
        && order.payment_method == PaymentMethod::Prepayment
        && order.payments.is_empty()
}

/// Why a transaction did not commit.
enum TransactFailure {
    /// Cancelled: one reason per item, in the order the items were sent.
    Cancelled(Vec<errors::Reason>),
    Store(StoreError),
}

/// Each sku once, so a batch never asks for the same key twice (DynamoDB
/// refuses that).
fn unique_skus(skus: &[Sku]) -> Vec<&Sku> {
    let mut unique: Vec<&Sku> = skus.iter().collect();
    unique.sort();
    unique.dedup();
    unique
}

/// The products found, in the order asked, as the SQLite store answers.
fn products_in_order(skus: &[Sku], mut found: Vec<Product>) -> Vec<Product> {
    let mut ordered = Vec::with_capacity(found.len());
    for sku in skus {
        if let Some(position) = found.iter().position(|p| &p.sku == sku) {
            ordered.push(found.swap_remove(position));
        }
    }
    ordered
}
