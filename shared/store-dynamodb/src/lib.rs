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

mod errors;
mod items;
pub mod table;

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use kontor_domain::command::Effect;
use kontor_domain::customer::Customer;
use kontor_domain::events::Event;
use kontor_domain::order::{Order, OrderLookup, OrderStatus, PaymentMethod, StockTake};
use kontor_domain::product::Product;
use kontor_domain::shipment::TrackingNumber;
use kontor_domain::{CustomerId, EventId, OrderId, Sku};
use kontor_platform::store::{
    CheckoutRead, IdempotencyRecord, OrderCommit, OrderPlacement, OrderSearch, ProductQuery, Store,
    StoreError, TrackingClaim,
};
use time::OffsetDateTime;

use crate::errors::{build_error, cancellation_reasons, is_conditional_failure, service_error};
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
        let config = aws_config::load_from_env().await;
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
        limit: usize,
        wanted: impl Fn(&Order) -> bool,
    ) -> Result<Vec<Order>, StoreError> {
        let mut items = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :partition")
            .expression_attribute_names("#pk", format!("{index}PK"))
            .expression_attribute_values(":partition", AttributeValue::S(partition))
            .scan_index_forward(false)
            .into_paginator()
            .items()
            .send();
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

#[async_trait]
impl Store for DynamoStore {
    async fn list_products(&self, query: &ProductQuery) -> Result<Vec<Product>, StoreError> {
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI1")
            .expression_attribute_values(":pk", AttributeValue::S(items::CATALOG.into()));
        request = match &query.category {
            Some(category) => request
                .key_condition_expression("GSI1PK = :pk AND begins_with(GSI1SK, :category)")
                .expression_attribute_values(
                    ":category",
                    AttributeValue::S(format!("{category}#")),
                ),
            None => request.key_condition_expression("GSI1PK = :pk"),
        };
        let mut pages = request.into_paginator().items().send();
        let mut products = Vec::new();
        while let Some(item) = pages.next().await {
            let product = Item::from(item.map_err(service_error)?).product()?;
            if query
                .text
                .as_ref()
                .is_none_or(|text| product.matches_text(text))
            {
                products.push(product);
            }
        }
        products.sort_by(|a, b| a.sku.cmp(&b.sku));
        Ok(products)
    }

    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        self.get(Keys::product(sku))
            .await?
            .map(|item| item.product())
            .transpose()
    }

    async fn get_products(&self, skus: &[Sku]) -> Result<Vec<Product>, StoreError> {
        let keys = unique_skus(skus)
            .into_iter()
            .map(|sku| Keys::product(sku).into_map())
            .collect();
        let items = self.batch_get(keys).await?;
        Ok(products_in_order(
            skus,
            items.iter().map(Item::product).collect::<Result<_, _>>()?,
        ))
    }

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

    async fn put_product(
        &self,
        product: &Product,
        expected_version: Option<u64>,
    ) -> Result<Product, StoreError> {
        let mut stored = product.clone();
        stored.version = expected_version.map_or(1, |v| v + 1);
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Item::for_product(&stored)?.into_map()));
        request = match expected_version {
            None => request.condition_expression("attribute_not_exists(PK)"),
            Some(expected) => request
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(expected.to_string())),
        };
        match request.send().await {
            Ok(_) => Ok(stored),
            Err(error) if is_conditional_failure(&error) => Err(match expected_version {
                None => StoreError::AlreadyExists { entity: "product" },
                Some(expected) => StoreError::StaleVersion {
                    entity: "product",
                    expected,
                },
            }),
            Err(error) => Err(service_error(error)),
        }
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

    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.get(Keys::order(id))
            .await?
            .map(|item| item.order())
            .transpose()
    }

    async fn commit_order(&self, commit: &OrderCommit) -> Result<(), StoreError> {
        // Each item's meaning, by position, to read cancellation reasons back.
        enum Part<'a> {
            Order,
            Stock(&'a Sku),
            Tracking(&'a TrackingNumber),
            Other,
        }
        let order = &commit.order;
        let expected = commit.expected_version;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Item::for_order(order)?.into_map()))
            .condition_expression("version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .build()
            .map_err(build_error)?;
        let mut writes = vec![TransactWriteItem::builder().put(put).build()];
        let mut parts = vec![Part::Order];
        for effect in &commit.effects {
            match effect {
                Effect::TakeStock(take) => {
                    writes.push(self.take_stock(take)?);
                    parts.push(Part::Stock(&take.sku));
                }
                Effect::ReturnStock(units) => {
                    writes.push(self.return_stock(units)?);
                    parts.push(Part::Other);
                }
                Effect::ClaimTracking {
                    number,
                    shipment_id,
                } => {
                    let claim = TrackingClaim {
                        number: number.clone(),
                        order_id: order.id.clone(),
                        shipment_id: shipment_id.clone(),
                    };
                    writes.push(self.put_new(Item::for_tracking(&claim))?);
                    parts.push(Part::Tracking(number));
                }
                Effect::ReleaseTracking { number } => {
                    writes.push(self.release_tracking(number, &order.id)?);
                    parts.push(Part::Other);
                }
            }
        }
        // A prepayment order that was paid or closed leaves the expiry
        // sweeper's index (a delete of an absent item is harmless).
        if order.payment_method == PaymentMethod::Prepayment && !awaits_payment(order) {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(Item::unpaid_keys(order)))
                .build()
                .map_err(build_error)?;
            writes.push(TransactWriteItem::builder().delete(delete).build());
            parts.push(Part::Other);
        }
        for (index, event) in commit.events.iter().enumerate() {
            writes.push(self.put_new(Item::for_outbox(event, index)?)?);
            parts.push(Part::Other);
        }
        let reasons = match self.transact(writes).await {
            Ok(()) => return Ok(()),
            Err(TransactFailure::Store(error)) => return Err(error),
            Err(TransactFailure::Cancelled(reasons)) => reasons,
        };
        for (part, reason) in parts.iter().zip(&reasons) {
            if !reason.is_conditional_failure() {
                continue;
            }
            return Err(match part {
                Part::Order => StoreError::StaleVersion {
                    entity: "order",
                    expected,
                },
                Part::Stock(sku) => StoreError::StockShort {
                    sku: (*sku).clone(),
                    available: reason.old_number("stock").unwrap_or(0),
                },
                Part::Tracking(number) => StoreError::TrackingNumberTaken((*number).clone()),
                Part::Other => StoreError::AlreadyExists { entity: "event" },
            });
        }
        Err(errors::unexplained(&reasons))
    }

    async fn unpaid_orders(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<OrderId>, StoreError> {
        let mut found: Vec<(String, OrderId)> = Vec::new();
        for shard in 0..items::ORDER_SHARDS {
            let mut pages = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :partition AND SK < :before")
                .expression_attribute_values(
                    ":partition",
                    AttributeValue::S(items::unpaid_partition(shard)),
                )
                .expression_attribute_values(
                    ":before",
                    AttributeValue::S(items::unpaid_before(before)),
                )
                .into_paginator()
                .items()
                .send();
            let mut taken = 0;
            while taken < limit {
                let Some(item) = pages.next().await else {
                    break;
                };
                let item = Item::from(item.map_err(service_error)?);
                found.push((item.sort_key()?.to_string(), item.order_id()?));
                taken += 1;
            }
        }
        found.sort();
        Ok(found.into_iter().take(limit).map(|(_, id)| id).collect())
    }

    async fn get_setting(&self, name: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.get(Keys::setting(name))
            .await?
            .map(|item| item.setting())
            .transpose()
    }

    async fn put_setting(&self, name: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Item::for_setting(name, value)?.into_map()))
            .send()
            .await
            .map_err(service_error)?;
        Ok(())
    }

    async fn find_tracking(
        &self,
        number: &TrackingNumber,
    ) -> Result<Option<TrackingClaim>, StoreError> {
        self.get(Keys::tracking(number))
            .await?
            .map(|item| item.tracking(number))
            .transpose()
    }

    async fn get_customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        self.get(Keys::customer(id))
            .await?
            .map(|item| item.customer())
            .transpose()
    }

    async fn customer_orders(
        &self,
        id: &CustomerId,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.query_orders("GSI2", format!("CUSTOMER#{id}"), limit, |_| true)
            .await
    }

    async fn search_orders(&self, search: &OrderSearch) -> Result<Vec<Order>, StoreError> {
        let lookup = OrderLookup::parse(search.text.as_deref());
        let wanted = |order: &Order| lookup.matches(order) && search.filter.matches(order);
        match &lookup {
            OrderLookup::Number(number) => {
                let Some(claim) = self.get(Keys::order_number(number.as_str())).await? else {
                    return Ok(Vec::new());
                };
                let order = self.get_order(&claim.order_id()?).await?;
                Ok(order.into_iter().filter(|o| wanted(o)).collect())
            }
            OrderLookup::Tracking(number) => {
                let Some(claim) = self.find_tracking(number).await? else {
                    return Ok(Vec::new());
                };
                let order = self.get_order(&claim.order_id).await?;
                Ok(order.into_iter().filter(|o| wanted(o)).collect())
            }
            OrderLookup::Email(email) => {
                self.query_orders(
                    "GSI1",
                    format!("EMAIL#{}", email.normalized()),
                    search.limit,
                    wanted,
                )
                .await
            }
            OrderLookup::Name(words) => {
                // The first word's index items, newest first, then the orders
                // they point at, checked against every word.
                let mut found = Vec::new();
                let mut pages = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("PK = :word")
                    .expression_attribute_values(
                        ":word",
                        AttributeValue::S(format!("ORDERNAME#{}", words[0])),
                    )
                    .scan_index_forward(false)
                    .into_paginator()
                    .send();
                while found.len() < search.limit {
                    let Some(page) = pages.next().await else {
                        break;
                    };
                    let page = page.map_err(service_error)?;
                    let ids: Vec<OrderId> = page
                        .items
                        .unwrap_or_default()
                        .into_iter()
                        .map(|item| Item::from(item).order_id())
                        .collect::<Result<_, _>>()?;
                    let keys = ids.iter().map(|id| Keys::order(id).into_map()).collect();
                    let mut orders: Vec<Order> = self
                        .batch_get(keys)
                        .await?
                        .iter()
                        .map(Item::order)
                        .collect::<Result<_, _>>()?;
                    orders.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
                    found.extend(orders.into_iter().filter(|o| wanted(o)));
                }
                found.truncate(search.limit);
                Ok(found)
            }
            OrderLookup::All => {
                // Every shard of the all-orders index, newest first, merged.
                let mut found = Vec::new();
                for shard in 0..items::ORDER_SHARDS {
                    found.extend(
                        self.query_orders("GSI3", format!("ORDERS#{shard}"), search.limit, &wanted)
                            .await?,
                    );
                }
                found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
                found.truncate(search.limit);
                Ok(found)
            }
        }
    }

    async fn get_idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.get(Keys::idempotency(key))
            .await?
            .map(|item| item.idempotency())
            .transpose()
    }

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
