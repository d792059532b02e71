//! The checkout: its one read and its one write, all or nothing.

use async_trait::async_trait;
use kontor_domain::{CustomerId, Sku};
use kontor_platform::store::{
    CheckoutRead, CheckoutStore, IdempotencyRecord, OrderPlacement, StoreError,
};
use rusqlite::{params, TransactionBehavior};

use crate::{
    awaiting_payment_since, insert_events, internal, is_unique_violation, read_customer,
    read_idempotency, read_products_by_sku, take_stock, to_json, unix, write_customer, SqliteStore,
};

#[async_trait]
impl CheckoutStore for SqliteStore {
    async fn read_for_checkout(
        &self,
        key: &str,
        skus: &[Sku],
        customer: Option<&CustomerId>,
    ) -> Result<CheckoutRead, StoreError> {
        let key = key.to_string();
        let skus: Vec<String> = skus.iter().map(|s| s.as_str().to_string()).collect();
        let customer = customer.cloned();
        self.run(move |connection| {
            // One read transaction, so the answers come from the same state.
            let tx = connection.unchecked_transaction().map_err(internal)?;
            let read = CheckoutRead {
                replay: read_idempotency(&tx, &key)?,
                products: read_products_by_sku(&tx, &skus)?,
                customer: match &customer {
                    Some(id) => read_customer(&tx, id)?,
                    None => None,
                },
            };
            tx.finish().map_err(internal)?;
            Ok(read)
        })
        .await
    }

    async fn place_order(&self, placement: &OrderPlacement) -> Result<(), StoreError> {
        let placement = placement.clone();
        self.run(move |connection| {
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;

            if let Some(record) = &placement.idempotency {
                let inserted = tx
                    .execute(
                        "INSERT INTO idempotency (key, request_hash, status, body, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) DO NOTHING",
                        params![
                            record.key,
                            record.request_hash,
                            record.status,
                            record.body,
                            unix(record.created_at)
                        ],
                    )
                    .map_err(internal)?;
                if inserted == 0 {
                    return Err(StoreError::IdempotencyKeyTaken);
                }
            }

            let order = &placement.order;
            tx.execute(
                "INSERT INTO orders (id, number, email, customer_id, created_at, version, doc, awaiting_payment_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    order.id.as_str(),
                    order.number.as_str(),
                    order.email.normalized(),
                    order.customer_id.as_ref().map(|c| c.as_str()),
                    unix(order.created_at),
                    order.version,
                    to_json(order)?,
                    awaiting_payment_since(order)
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e, "orders.number") {
                    StoreError::OrderNumberTaken
                } else if is_unique_violation(&e, "orders.id") {
                    StoreError::AlreadyExists { entity: "order" }
                } else {
                    internal(e)
                }
            })?;

            take_stock(&tx, &placement.stock_takes)?;

            if let Some(customer) = &placement.customer {
                write_customer(&tx, customer)?;
            }
            insert_events(&tx, &placement.events)?;
            tx.commit().map_err(internal)
        })
        .await
    }

    async fn get_idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let key = key.to_string();
        self.run(move |connection| read_idempotency(connection, &key))
            .await
    }
}
