//! How each aggregate is laid out as a DynamoDB item (see docs/dynamodb.md).
//!
//! Aggregates are stored as a JSON document (`doc`) beside the attributes
//! that keys, indexes and conditions need. Attributes that conditional
//! updates change in place (a product's `stock` and `version`) are the
//! truth on read; the document's copies are overwritten with them.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use kontor_domain::customer::Customer;
use kontor_domain::events::Event;
use kontor_domain::order::{HistoryEntry, Order};
use kontor_domain::product::Product;
use kontor_domain::shipment::TrackingNumber;
use kontor_domain::{CustomerId, Email, EventId, OrderId, Sku};
use kontor_platform::store::{IdempotencyRecord, StoreError, StoredSetting, TrackingClaim};
use time::OffsetDateTime;

/// The catalog's partition in GSI1.
pub const CATALOG: &str = "CATALOG";
/// The outbox's unpublished rows, in GSI2 (a sparse index: publishing
/// removes the row from it).
pub const OUTBOX_PENDING: &str = "OUTBOX#PENDING";

/// How many partitions the all-orders index (GSI3) spreads orders over, so
/// that no single index partition takes every order's write.
pub const ORDER_SHARDS: u32 = 4;

/// The sort key of customer records.
const CUSTOMER_SK: &str = "PROFILE";
/// The sort key of idempotency records.
const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";
const MAILBOX_SK: &str = "MAILBOX";
const DAY: i64 = 24 * 60 * 60;
/// An idempotency record answers retries for a day.
const IDEMPOTENCY_TTL: i64 = DAY;
/// An outbox row is kept a week for the record; the stream has long relayed it.
const OUTBOX_TTL: i64 = 7 * DAY;
/// A consumer remembers what it handled for a month, far beyond any redelivery.
const PROCESSED_TTL: i64 = 30 * DAY;

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Internal(format!("unreadable item: {what}"))
}

/// The order header's document, deflated. A header of a few lines is 2–3 KB
/// of JSON and about a third of that deflated, so every change of an order
/// writes one write unit instead of three, in the table and again in each
/// index the header is in (docs/COST.md).
const ORDER_DOC: &str = "docz";
/// More than any item can hold deflated (400 KB) inflates to: a corrupt
/// document is refused instead of filling the memory.
const MAX_INFLATED: u64 = 16 * 1024 * 1024;

fn deflate(text: &str) -> Result<Vec<u8>, StoreError> {
    use std::io::Write;
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(text.as_bytes())
        .and_then(|()| encoder.finish())
        .map_err(|e| StoreError::Internal(format!("cannot deflate a document: {e}")))
}

fn inflate(deflated: &[u8]) -> Result<String, StoreError> {
    use std::io::Read;
    let mut text = String::new();
    DeflateDecoder::new(deflated)
        .take(MAX_INFLATED)
        .read_to_string(&mut text)
        .map_err(|_| corrupt(ORDER_DOC))?;
    if text.len() as u64 >= MAX_INFLATED {
        return Err(corrupt(ORDER_DOC));
    }
    Ok(text)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(e.to_string()))
}

/// Sorts like time: zero-padded Unix nanoseconds.
fn sortable_time(at: OffsetDateTime) -> String {
    format!("{:020}", at.unix_timestamp_nanos().max(0))
}

/// Where an order sorts in every newest-first list (the order indexes and
/// the name words): its time, then its id. A page's cursor is the same key.
pub fn order_sort_key(created_at: OffsetDateTime, id: &OrderId) -> String {
    format!("{}#{id}", sortable_time(created_at))
}

/// The all-orders index partition an order belongs to.
pub fn order_shard(id: &OrderId) -> String {
    format!("ORDERS#{}", shard_of(id))
}

/// A stable shard number of an order, 0 to [`ORDER_SHARDS`] - 1.
fn shard_of(id: &OrderId) -> u32 {
    id.as_str().bytes().fold(0u32, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u32::from(b))
    }) % ORDER_SHARDS
}

/// The sort key prefix of an order's history items.
pub const HISTORY_PREFIX: &str = "HISTORY#";

/// The partition of the unpaid-prepayment items an order belongs to:
/// spread like the all-orders index, so no partition takes every
/// prepayment checkout's write.
pub fn unpaid_partition(shard: u32) -> String {
    format!("UNPAID#{shard}")
}

/// The sort key of an unpaid item: the time the order was placed.
pub fn unpaid_sort_key(order: &Order) -> String {
    format!("{}#{}", sortable_time(order.created_at), order.id)
}

/// Sort keys of unpaid items placed before `at` are less than this.
pub fn unpaid_before(at: OffsetDateTime) -> String {
    sortable_time(at)
}

/// An item's primary key.
pub struct Keys {
    pub(crate) pk: String,
    sk: &'static str,
}

impl Keys {
    pub fn product(sku: &Sku) -> Self {
        Self {
            pk: format!("PRODUCT#{sku}"),
            sk: "PRODUCT",
        }
    }

    pub fn order(id: &OrderId) -> Self {
        Self {
            pk: format!("ORDER#{id}"),
            sk: "ORDER",
        }
    }

    pub fn order_number(number: &str) -> Self {
        Self {
            pk: format!("ORDERNUMBER#{number}"),
            sk: "ORDERNUMBER",
        }
    }

    pub fn idempotency(key: &str) -> Self {
        Self {
            pk: format!("IDEMPOTENCY#{key}"),
            sk: IDEMPOTENCY_SK,
        }
    }

    pub fn outbox(id: &EventId) -> Self {
        Self {
            pk: format!("OUTBOX#{id}"),
            sk: "EVENT",
        }
    }

    pub fn customer(id: &CustomerId) -> Self {
        Self {
            pk: format!("CUSTOMER#{id}"),
            sk: CUSTOMER_SK,
        }
    }

    /// The shop's credit-note counter: the last number issued.
    pub fn credit_notes() -> Self {
        Self {
            pk: "COUNTER#credit-note".to_string(),
            sk: "COUNTER",
        }
    }

    /// The orders counted for a mailbox (an e-mail address, normalised).
    pub fn mailbox(mailbox: &str) -> Self {
        Self {
            pk: format!("MAILBOX#{mailbox}"),
            sk: MAILBOX_SK,
        }
    }

    /// A discount's uses: in total, or by one customer (a mailbox).
    pub fn discount_uses(discount: &str, customer: Option<&str>) -> Self {
        Self {
            pk: match customer {
                None => format!("DISCOUNTUSES#{discount}"),
                Some(key) => format!("DISCOUNTUSES#{discount}#{key}"),
            },
            sk: "USES",
        }
    }

    /// The lookup from an e-mail address to the customer who has it.
    pub fn customer_email(email: &Email) -> Self {
        Self {
            pk: format!("CUSTOMEREMAIL#{}", email.normalized()),
            sk: "CUSTOMER",
        }
    }

    pub fn setting(name: &str) -> Self {
        Self {
            pk: format!("SETTING#{name}"),
            sk: "SETTING",
        }
    }

    pub fn tracking(number: &TrackingNumber) -> Self {
        Self {
            pk: format!("TRACKING#{number}"),
            sk: "TRACKING",
        }
    }

    pub fn processed(consumer: &str, id: &EventId) -> Self {
        Self {
            pk: format!("PROCESSED#{consumer}#{id}"),
            sk: "PROCESSED",
        }
    }

    pub fn mark(consumer: &str, key: &str) -> Self {
        Self {
            pk: format!("MARK#{consumer}#{key}"),
            sk: "MARK",
        }
    }

    pub fn into_map(self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("PK".to_string(), s(self.pk)),
            ("SK".to_string(), s(self.sk)),
        ])
    }
}

/// A DynamoDB item.
pub struct Item(HashMap<String, AttributeValue>);

impl From<HashMap<String, AttributeValue>> for Item {
    fn from(map: HashMap<String, AttributeValue>) -> Self {
        Self(map)
    }
}

impl Item {
    fn keyed(keys: Keys) -> Self {
        Self(keys.into_map())
    }

    fn with(mut self, name: &str, value: AttributeValue) -> Self {
        self.0.insert(name.to_string(), value);
        self
    }

    pub fn into_map(self) -> HashMap<String, AttributeValue> {
        self.0
    }

    /// Whether this is a customer's record (by its sort key).
    pub fn is_customer(&self) -> bool {
        matches!(self.0.get("SK"), Some(AttributeValue::S(sk)) if sk == CUSTOMER_SK)
    }

    /// Whether this is a mailbox's order counter (by its sort key).
    pub fn is_mailbox(&self) -> bool {
        matches!(self.0.get("SK"), Some(AttributeValue::S(sk)) if sk == MAILBOX_SK)
    }

    /// Whether this is a setting (by its sort key).
    pub fn is_setting(&self) -> bool {
        matches!(self.0.get("SK"), Some(AttributeValue::S(sk)) if sk == "SETTING")
    }

    /// Whether this is an idempotency record (by its sort key).
    pub fn is_idempotency(&self) -> bool {
        matches!(self.0.get("SK"), Some(AttributeValue::S(sk)) if sk == IDEMPOTENCY_SK)
    }

    fn text(&self, name: &str) -> Result<&str, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::S(value)) => Ok(value),
            _ => Err(corrupt(name)),
        }
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<T, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::N(value)) => value.parse().map_err(|_| corrupt(name)),
            _ => Err(corrupt(name)),
        }
    }

    fn doc<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_str(self.text("doc")?)
            .map_err(|e| StoreError::Internal(format!("unreadable document: {e}")))
    }

    pub fn for_product(product: &Product) -> Result<Self, StoreError> {
        Ok(Self::keyed(Keys::product(&product.sku))
            .with("stock", n(product.stock))
            .with("version", n(product.version))
            .with("category", s(&product.category))
            .with("doc", s(to_json(product)?))
            .with("GSI1PK", s(CATALOG))
            .with("GSI1SK", s(format!("{}#{}", product.category, product.sku))))
    }

    /// The order's header: the order without its history (which lives in
    /// items of its own beside it), with what lists and searches need in
    /// its attributes. Its size does not grow with the history.
    pub fn for_order(order: &Order) -> Result<Self, StoreError> {
        let created = order_sort_key(order.created_at, &order.id);
        let header = Order {
            history: Vec::new(),
            ..order.clone()
        };
        let mut item = Self::keyed(Keys::order(&order.id))
            .with("version", n(order.version))
            .with("number", s(order.number.as_str()))
            .with("history_len", n(order.history.len()))
            .with(
                ORDER_DOC,
                AttributeValue::B(Blob::new(deflate(&to_json(&header)?)?)),
            )
            .with("GSI1PK", s(format!("EMAIL#{}", order.email.normalized())))
            .with("GSI1SK", s(created.clone()));
        item = item
            .with("GSI3PK", s(order_shard(&order.id)))
            .with("GSI3SK", s(created.clone()));
        if let Some(customer) = &order.customer_id {
            item = item
                .with("GSI2PK", s(format!("CUSTOMER#{customer}")))
                .with("GSI2SK", s(created));
        }
        Ok(item)
    }

    /// History entry `index` of an order: an item of the order's own item
    /// collection (`ORDER#<id>`, `HISTORY#<index>`), written once, in the
    /// transaction of the change it records.
    pub fn for_history(
        order: &OrderId,
        index: usize,
        entry: &HistoryEntry,
    ) -> Result<Self, StoreError> {
        Ok(Self(HashMap::from([
            ("PK".to_string(), s(format!("ORDER#{order}"))),
            ("SK".to_string(), s(format!("{HISTORY_PREFIX}{index:06}"))),
            ("entry".to_string(), s(to_json(entry)?)),
        ])))
    }

    /// Whether this is a history entry of an order (by its sort key).
    pub fn is_history(&self) -> bool {
        matches!(self.0.get("SK"), Some(AttributeValue::S(sk)) if sk.starts_with(HISTORY_PREFIX))
    }

    pub fn history_entry(&self) -> Result<HistoryEntry, StoreError> {
        serde_json::from_str(self.text("entry")?)
            .map_err(|e| StoreError::Internal(format!("unreadable history entry: {e}")))
    }

    /// The key of the item that marks a prepayment order as waiting for its
    /// money.
    pub fn unpaid_keys(order: &Order) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("PK".to_string(), s(unpaid_partition(shard_of(&order.id)))),
            ("SK".to_string(), s(unpaid_sort_key(order))),
        ])
    }

    /// The order waits for a prepayment: the expiry sweeper finds it here.
    pub fn for_unpaid(order: &Order) -> Self {
        let mut map = Self::unpaid_keys(order);
        map.insert("order_id".into(), s(order.id.as_str()));
        Self(map)
    }

    /// A word of a name on the order, pointing at the order: staff search
    /// by name queries `ORDERNAME#<word>`, newest first.
    pub fn for_order_name(order: &Order, word: &str) -> Self {
        let mut map = Self::order_name_keys(order, word);
        map.insert("order_id".to_string(), s(order.id.as_str()));
        Self(map)
    }

    /// The keys of a name word's item, to delete it when the name changes.
    pub fn order_name_keys(order: &Order, word: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("PK".to_string(), s(format!("ORDERNAME#{word}"))),
            (
                "SK".to_string(),
                s(order_sort_key(order.created_at, &order.id)),
            ),
        ])
    }

    /// The claim on a tracking number: unique, and the lookup from a
    /// carrier's message to its parcel.
    pub fn for_tracking(claim: &TrackingClaim) -> Self {
        Self::keyed(Keys::tracking(&claim.number))
            .with("order_id", s(claim.order_id.as_str()))
            .with("shipment_id", s(&claim.shipment_id))
    }

    pub fn tracking(&self, number: &TrackingNumber) -> Result<TrackingClaim, StoreError> {
        Ok(TrackingClaim {
            number: number.clone(),
            order_id: self.order_id()?,
            shipment_id: self.text("shipment_id")?.to_string(),
        })
    }

    pub fn for_setting(
        name: &str,
        value: &serde_json::Value,
        version: u64,
    ) -> Result<Self, StoreError> {
        Ok(Self::keyed(Keys::setting(name))
            .with("doc", s(to_json(value)?))
            .with("version", n(version)))
    }

    /// A setting saved before settings had versions reads as version 1.
    pub fn setting(&self) -> Result<StoredSetting, StoreError> {
        let version = match self.0.get("version") {
            Some(_) => self.number("version")?,
            None => 1,
        };
        Ok(StoredSetting {
            value: self.doc()?,
            version,
        })
    }

    pub fn for_customer(customer: &Customer) -> Result<Self, StoreError> {
        Ok(Self::keyed(Keys::customer(&customer.id))
            .with("version", n(customer.version))
            .with("doc", s(to_json(customer)?)))
    }

    /// Points the customer's e-mail address at them. An address they used
    /// before keeps its item, which a lookup ignores once the record's
    /// address differs.
    pub fn for_customer_email(customer: &Customer) -> Self {
        Self::keyed(Keys::customer_email(&customer.email))
            .with("customer_id", s(customer.id.as_str()))
    }

    /// The credit-note counter at `number`.
    pub fn for_credit_notes(number: u64) -> Self {
        Self::keyed(Keys::credit_notes()).with("value", n(number))
    }

    /// The value of a counter item.
    pub fn counter_value(&self) -> Result<u64, StoreError> {
        self.number("value")
    }

    pub fn customer_id(&self) -> Result<CustomerId, StoreError> {
        CustomerId::parse(self.text("customer_id")?).map_err(|_| corrupt("customer_id"))
    }

    pub fn customer(&self) -> Result<Customer, StoreError> {
        let mut customer: Customer = self.doc()?;
        customer.version = self.number("version")?;
        Ok(customer)
    }

    /// The order an index item points at.
    pub fn sort_key(&self) -> Result<&str, StoreError> {
        self.text("SK")
    }

    pub fn partition_key(&self) -> Result<&str, StoreError> {
        self.text("PK")
    }

    pub fn order_id(&self) -> Result<OrderId, StoreError> {
        OrderId::parse(self.text("order_id")?).map_err(|_| corrupt("order_id"))
    }

    /// The claim on an order number: unique because it is created with
    /// `attribute_not_exists`, and a lookup from number to order.
    pub fn for_order_number(order: &Order) -> Self {
        Self::keyed(Keys::order_number(order.number.as_str()))
            .with("order_id", s(order.id.as_str()))
    }

    pub fn for_idempotency(record: &IdempotencyRecord) -> Self {
        Self::keyed(Keys::idempotency(&record.key))
            .with("request_hash", s(&record.request_hash))
            .with("status", n(record.status))
            .with("body", s(&record.body))
            .with("created_at", n(record.created_at.unix_timestamp()))
            .with(
                "expires_at",
                n(record.created_at.unix_timestamp() + IDEMPOTENCY_TTL),
            )
    }

    /// An outbox row. `index` keeps the events of one write in their order.
    pub fn for_outbox(event: &Event, index: usize) -> Result<Self, StoreError> {
        Ok(Self::keyed(Keys::outbox(&event.event_id))
            .with("event", s(to_json(event)?))
            .with("event_type", s(event.name()))
            .with("order_id", s(event.order_id.as_str()))
            .with(
                "expires_at",
                n(event.occurred_at.unix_timestamp() + OUTBOX_TTL),
            )
            .with("GSI2PK", s(OUTBOX_PENDING))
            .with(
                "GSI2SK",
                s(format!(
                    "{}#{}#{index:03}",
                    sortable_time(event.occurred_at),
                    event.order_id
                )),
            ))
    }

    pub fn for_processed(consumer: &str, event_id: &EventId) -> Self {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        Self::keyed(Keys::processed(consumer, event_id)).with("expires_at", n(now + PROCESSED_TTL))
    }

    /// A delivery's claim on an event until `until` (Unix seconds): the
    /// record of [`Item::for_processed`] with `claimed_until` beside it.
    pub fn for_claim(consumer: &str, event_id: &EventId, until: i64) -> Self {
        Self::for_processed(consumer, event_id).with("claimed_until", n(until))
    }

    /// A consumer's mark for `key` at `version`; it expires with the
    /// ledger's records (a parcel's messages end long before).
    pub fn for_mark(consumer: &str, key: &str, version: u64) -> Self {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        Self::keyed(Keys::mark(consumer, key))
            .with("version", n(version))
            .with("expires_at", n(now + PROCESSED_TTL))
    }

    /// Whether this ledger item is a claim still (not yet a record).
    pub fn is_claim(&self) -> bool {
        self.0.contains_key("claimed_until")
    }

    pub fn product(&self) -> Result<Product, StoreError> {
        let mut product: Product = self.doc()?;
        product.stock = self.number("stock")?;
        product.version = self.number("version")?;
        Ok(product)
    }

    /// The order document, upgraded from any older shape it was stored in
    /// (DynamoDB items are rewritten in the new shape by their next change).
    /// Headers written before documents were deflated keep a text `doc`.
    pub fn order(&self) -> Result<Order, StoreError> {
        let text = match self.0.get(ORDER_DOC) {
            Some(AttributeValue::B(deflated)) => inflate(deflated.as_ref())?,
            _ => self.text("doc")?.to_string(),
        };
        kontor_domain::stored::order_from_json(&text)
            .map_err(|e| StoreError::Internal(e.to_string()))
    }

    pub fn idempotency(&self) -> Result<IdempotencyRecord, StoreError> {
        Ok(IdempotencyRecord {
            key: self
                .text("PK")?
                .strip_prefix("IDEMPOTENCY#")
                .ok_or_else(|| corrupt("PK"))?
                .to_string(),
            request_hash: self.text("request_hash")?.to_string(),
            status: self.number("status")?,
            body: self.text("body")?.to_string(),
            created_at: OffsetDateTime::from_unix_timestamp(self.number("created_at")?)
                .map_err(|_| corrupt("created_at"))?,
        })
    }

    pub fn event(&self) -> Result<Event, StoreError> {
        serde_json::from_str(self.text("event")?)
            .map_err(|e| StoreError::Internal(format!("unreadable event: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use kontor_platform::store::CatalogStore;
    use kontor_store_sqlite::SqliteStore;
    use kontor_testkit::contract::placement;
    use kontor_testkit::fixtures::product;

    use super::*;

    async fn an_order() -> Order {
        let store = SqliteStore::in_memory().unwrap();
        for (sku, price) in [("SHIRT", "29.90"), ("BELT", "19.90")] {
            store
                .put_product(&product(sku, price, 10, false), None)
                .await
                .unwrap();
        }
        placement(&store, &[("SHIRT", 2), ("BELT", 1)], 1)
            .await
            .order
    }

    /// DynamoDB's size of an attribute value, as far as these items use them.
    fn size(item: &Item) -> usize {
        item.0
            .iter()
            .map(|(name, value)| {
                name.len()
                    + match value {
                        AttributeValue::S(text) => text.len(),
                        AttributeValue::N(number) => number.len() / 2 + 1,
                        AttributeValue::B(bytes) => bytes.as_ref().len(),
                        _ => 1,
                    }
            })
            .sum()
    }

    #[tokio::test]
    async fn an_order_header_is_stored_deflated_and_read_back() {
        let order = an_order().await;
        let item = Item::for_order(&order).unwrap();
        assert!(matches!(item.0.get(ORDER_DOC), Some(AttributeValue::B(_))));
        assert!(!item.0.contains_key("doc"));
        let read = item.order().unwrap();
        assert_eq!(
            to_json(&read).unwrap(),
            to_json(&Order {
                history: Vec::new(),
                ..order
            })
            .unwrap()
        );
    }

    #[tokio::test]
    async fn an_order_header_of_a_few_lines_is_one_write_unit() {
        let order = an_order().await;
        let item = Item::for_order(&order).unwrap();
        assert!(size(&item) <= 1024, "{} bytes", size(&item));
    }

    #[tokio::test]
    async fn a_header_written_before_deflating_is_read_as_text() {
        let order = an_order().await;
        let mut item = Item::for_order(&order).unwrap();
        let header = Order {
            history: Vec::new(),
            ..order
        };
        item.0.remove(ORDER_DOC);
        item.0.insert("doc".into(), s(to_json(&header).unwrap()));
        assert_eq!(
            to_json(&item.order().unwrap()).unwrap(),
            to_json(&header).unwrap()
        );
    }

    #[tokio::test]
    async fn a_corrupt_or_oversized_document_is_refused_not_a_panic() {
        let order = an_order().await;
        let mut item = Item::for_order(&order).unwrap();
        item.0.insert(
            ORDER_DOC.into(),
            AttributeValue::B(Blob::new(vec![0xff; 64])),
        );
        assert!(matches!(item.order(), Err(StoreError::Internal(_))));
        // Far more than any order inflates to, from a few kilobytes.
        let bomb = deflate(&" ".repeat(MAX_INFLATED as usize + 1)).unwrap();
        assert!(bomb.len() < 64 * 1024);
        item.0
            .insert(ORDER_DOC.into(), AttributeValue::B(Blob::new(bomb)));
        assert!(matches!(item.order(), Err(StoreError::Internal(_))));
    }
}
