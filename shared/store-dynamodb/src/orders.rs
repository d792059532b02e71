//! Placed orders: read whole, found for lists, changed by commits.
//!
//! An order is an item collection: its header (`ORDER#<id>`, `ORDER`: the
//! order without its history, what lists and indexes need) and one item
//! per history entry (`HISTORY#<index>`), so the header's size does not
//! grow with every change and the indexes copy only the header. An order
//! opens with one `Query` on its partition; a change writes the header
//! (conditional on its version) and only the entries it adds.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use kontor_domain::command::Effect;
use kontor_domain::order::{Order, OrderLookup, PaymentMethod};
use kontor_domain::shipment::TrackingNumber;
use kontor_domain::{CustomerId, OrderId, Sku};
use kontor_platform::store::{
    OrderCommit, OrderCursor, OrderSearch, OrderStore, StoreError, TrackingClaim,
};
use time::OffsetDateTime;

use crate::errors::{self, build_error, service_error};
use crate::items::{self, Item, Keys};
use crate::{awaits_payment, DynamoStore, TransactFailure};

#[async_trait]
impl OrderStore for DynamoStore {
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :order")
            .expression_attribute_values(":order", AttributeValue::S(format!("ORDER#{id}")))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut header = None;
        let mut history = Vec::new();
        while let Some(item) = pages.next().await {
            let item = Item::from(item.map_err(service_error)?);
            if item.is_history() {
                history.push(item.history_entry()?);
            } else {
                header = Some(item.order()?);
            }
        }
        // Items come sorted by their key, so the entries are in order; a
        // header of the first shape brings its own entries along.
        Ok(header.map(|mut order| {
            order.history.extend(history);
            order
        }))
    }

    async fn commit_order(&self, commit: &OrderCommit) -> Result<(), StoreError> {
        match self.commit_order_once(commit, false).await {
            // The header was stored in the first shape, with its history
            // inside: write the whole history as items this once.
            Err(StoreError::AlreadyExists {
                entity: "order history",
            }) => self.commit_order_once(commit, true).await,
            other => other,
        }
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

    async fn find_tracking(
        &self,
        number: &TrackingNumber,
    ) -> Result<Option<TrackingClaim>, StoreError> {
        self.get(Keys::tracking(number))
            .await?
            .map(|item| item.tracking(number))
            .transpose()
    }

    async fn customer_orders(
        &self,
        id: &CustomerId,
        after: Option<&OrderCursor>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.query_orders("GSI2", format!("CUSTOMER#{id}"), after, limit, |_| true)
            .await
    }

    async fn credit_notes_issued(&self) -> Result<u64, StoreError> {
        self.get(Keys::credit_notes())
            .await?
            .map_or(Ok(0), |item| item.counter_value())
    }

    async fn search_orders(&self, search: &OrderSearch) -> Result<Vec<Order>, StoreError> {
        let lookup = OrderLookup::parse(search.text.as_deref());
        let wanted = |order: &Order| lookup.matches(order) && search.filter.matches(order);
        let after = search.after.as_ref();
        match &lookup {
            // A number or a tracking number names one order: one page.
            OrderLookup::Number(_) | OrderLookup::Tracking(_) if after.is_some() => Ok(Vec::new()),
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
                    after,
                    search.limit,
                    wanted,
                )
                .await
            }
            OrderLookup::Name(words) => {
                // The first word's index items, newest first, then the orders
                // they point at, checked against every word.
                let mut found = Vec::new();
                let query = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .expression_attribute_values(
                        ":word",
                        AttributeValue::S(format!("ORDERNAME#{}", words[0])),
                    )
                    .scan_index_forward(false);
                let query = match after {
                    None => query.key_condition_expression("PK = :word"),
                    Some(cursor) => query
                        .key_condition_expression("PK = :word AND SK < :after")
                        .expression_attribute_values(
                            ":after",
                            AttributeValue::S(items::order_sort_key(cursor.created_at, &cursor.id)),
                        ),
                };
                let mut pages = query.into_paginator().send();
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
                        self.query_orders(
                            "GSI3",
                            format!("ORDERS#{shard}"),
                            after,
                            search.limit,
                            &wanted,
                        )
                        .await?,
                    );
                }
                found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
                found.truncate(search.limit);
                Ok(found)
            }
        }
    }
}

impl DynamoStore {
    /// One try at a commit, in one transaction: for a new order its header,
    /// number claim, name words and expiry item; for a change the header
    /// over the version it was decided on; then the history entries it
    /// adds (all of them with `whole_history`, for a header of the first
    /// shape), the effects, the expiry item's removal, the events, and a
    /// checkout's idempotency record and customer record.
    async fn commit_order_once(
        &self,
        commit: &OrderCommit,
        whole_history: bool,
    ) -> Result<(), StoreError> {
        let expected = commit.expected_version;
        let (writes, parts) = self.order_writes(commit, whole_history)?;
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
                Part::NewOrder => StoreError::AlreadyExists { entity: "order" },
                Part::Number => StoreError::OrderNumberTaken,
                // At the version expected, but without `history_len`: a
                // header of the first shape.
                Part::Order
                    if !whole_history
                        && reason.old_number::<u64>("version") == Some(expected)
                        && !reason.old_has("history_len") =>
                {
                    StoreError::AlreadyExists {
                        entity: "order history",
                    }
                }
                Part::Order => StoreError::StaleVersion {
                    entity: "order",
                    expected,
                },
                Part::Stock(sku) => StoreError::StockShort {
                    sku: (*sku).clone(),
                    available: reason.old_number("stock").unwrap_or(0),
                },
                Part::Tracking(number) => StoreError::TrackingNumberTaken((*number).clone()),
                Part::Customer => StoreError::StaleVersion {
                    entity: "customer",
                    expected: commit
                        .customer
                        .as_ref()
                        .map_or(0, |c| c.version.saturating_sub(1)),
                },
                Part::CreditNote(number) => StoreError::StaleVersion {
                    entity: "credit note",
                    expected: number.saturating_sub(1),
                },
                Part::Count(count) => count.error(),
                Part::Other => StoreError::AlreadyExists { entity: "event" },
            });
        }
        Err(errors::unexplained(&reasons))
    }

    /// How many items the transaction of `commit` writes (of the hundred
    /// DynamoDB allows), for an order stored in today's shape: what the
    /// tests that build each write's largest input count.
    pub fn order_write_items(&self, commit: &OrderCommit) -> Result<usize, StoreError> {
        Ok(self.order_writes(commit, false)?.0.len())
    }

    /// The items of `commit`'s transaction, each with its meaning (to read
    /// a cancellation back). No I/O: the writes are only built.
    fn order_writes<'a>(
        &self,
        commit: &'a OrderCommit,
        whole_history: bool,
    ) -> Result<(Vec<TransactWriteItem>, Vec<Part<'a>>), StoreError> {
        let order = &commit.order;
        let expected = commit.expected_version;
        let mut writes = Vec::new();
        let mut parts = Vec::new();
        if let Some(record) = &commit.idempotency {
            writes.push(self.put_new(Item::for_idempotency(record))?);
            parts.push(Part::Idempotency);
        }
        if commit.is_new_order() {
            writes.push(self.put_new(Item::for_order(order)?)?);
            parts.push(Part::NewOrder);
            writes.push(self.put_new(Item::for_order_number(order))?);
            parts.push(Part::Number);
            for word in order.name_tokens() {
                writes.push(self.put_new(Item::for_order_name(order, &word))?);
                parts.push(Part::NewOrder);
            }
            if awaits_payment(order) {
                writes.push(self.put_new(Item::for_unpaid(order))?);
                parts.push(Part::NewOrder);
            }
        } else {
            let condition = if whole_history {
                "version = :expected AND attribute_not_exists(history_len)"
            } else {
                "version = :expected AND attribute_exists(history_len)"
            };
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(Item::for_order(order)?.into_map()))
                .condition_expression(condition)
                .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .map_err(build_error)?;
            writes.push(TransactWriteItem::builder().put(put).build());
            parts.push(Part::Order);
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
        }
        let first_new = if whole_history {
            0
        } else {
            order.history.len().saturating_sub(commit.appended_history)
        };
        for (index, entry) in order.history.iter().enumerate().skip(first_new) {
            writes.push(self.put_new(Item::for_history(&order.id, index, entry)?)?);
            parts.push(Part::Other);
        }
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
                // Gap-free: the counter moves by one from the number before,
                // or the transaction fails and the refund is decided again.
                Effect::ClaimCreditNote { number } => {
                    let condition = if *number <= 1 {
                        "attribute_not_exists(PK)".to_string()
                    } else {
                        "#value = :previous".to_string()
                    };
                    let mut put = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(Item::for_credit_notes(*number).into_map()))
                        .condition_expression(condition);
                    if *number > 1 {
                        put = put
                            .expression_attribute_names("#value", "value")
                            .expression_attribute_values(
                                ":previous",
                                AttributeValue::N((number - 1).to_string()),
                            );
                    }
                    writes.push(
                        TransactWriteItem::builder()
                            .put(put.build().map_err(build_error)?)
                            .build(),
                    );
                    parts.push(Part::CreditNote(*number));
                }
                // Search by name reads these items: they follow the names.
                Effect::RenameOrder {
                    removed_words,
                    added_words,
                } => {
                    for word in removed_words {
                        let delete = Delete::builder()
                            .table_name(&self.table)
                            .set_key(Some(Item::order_name_keys(order, word)))
                            .build()
                            .map_err(build_error)?;
                        writes.push(TransactWriteItem::builder().delete(delete).build());
                        parts.push(Part::Other);
                    }
                    for word in added_words {
                        writes.push(self.put_new(Item::for_order_name(order, word))?);
                        parts.push(Part::Other);
                    }
                }
            }
        }
        for (index, event) in commit.events.iter().enumerate() {
            writes.push(self.put_new(Item::for_outbox(event, index)?)?);
            parts.push(Part::Other);
        }
        if let Some(customer) = &commit.customer {
            writes.push(self.put_versioned(Item::for_customer(customer)?, customer.version)?);
            parts.push(Part::Customer);
            let lookup = Put::builder()
                .table_name(&self.table)
                .set_item(Some(Item::for_customer_email(customer).into_map()))
                .build()
                .map_err(build_error)?;
            writes.push(TransactWriteItem::builder().put(lookup).build());
            parts.push(Part::Other);
        }
        for (write, part) in
            self.count_order(commit.mailbox_order.as_ref(), &commit.discount_uses)?
        {
            writes.push(write);
            parts.push(Part::Count(part));
        }

        Ok((writes, parts))
    }
}

/// What an item of an order's transaction is, by position, to read a
/// cancellation's reasons back.
enum Part<'a> {
    Idempotency,
    NewOrder,
    Order,
    Number,
    Stock(&'a Sku),
    Tracking(&'a TrackingNumber),
    Customer,
    CreditNote(u64),
    Count(crate::promotions::CountPart),
    Other,
}
