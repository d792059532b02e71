//! The store port: every read and write the workflows make, by role.
//!
//! Each role is a trait of its own ([`CatalogStore`], [`CheckoutStore`],
//! [`OrderStore`], [`CustomerStore`], [`PromotionStore`], [`Outbox`], [`ConsumerLedger`],
//! [`SettingsStore`]); [`Store`] is all of them, which is what an adapter
//! implements. Bring the roles into scope with `use
//! kontor_platform::store::roles::*` to call their methods.
//!
//! Writes are conditional. An aggregate is saved only if the stored version is
//! the one it was read at; an order is placed only if every stock decrement
//! still finds enough units; an idempotency key is taken at most once. The
//! order, its stock decrements, its idempotency record and its events (the
//! outbox) commit together or not at all.

use async_trait::async_trait;
use kontor_domain::command::Effect;
use kontor_domain::customer::Customer;
use kontor_domain::discount::Uses;
use kontor_domain::events::Event;
use kontor_domain::order::{DiscountUse, Order, OrderFilter, PlacedOrder};
use kontor_domain::product::Product;
use kontor_domain::rules::Handle;
use kontor_domain::shipment::TrackingNumber;
use kontor_domain::{CustomerId, Email, EventId, OrderId, Sku};
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The stored version differs from the expected one: somebody else wrote first.
    #[error("the {entity} was changed by someone else (expected version {expected})")]
    StaleVersion { entity: &'static str, expected: u64 },
    /// A create found the key taken.
    #[error("the {entity} already exists")]
    AlreadyExists { entity: &'static str },
    /// A stock decrement found fewer units than it needed.
    #[error("only {available} of {sku} left")]
    StockShort { sku: Sku, available: u32 },
    /// Another parcel's tracking number.
    #[error("the tracking number {0} belongs to another parcel")]
    TrackingNumberTaken(TrackingNumber),
    /// Another transaction touched the same items at the same moment
    /// (DynamoDB's `TransactionConflict`): nothing was written; deciding
    /// again on a fresh read is the answer.
    #[error("a concurrent transaction touched the same items")]
    TransactionConflict,
    /// The idempotency key was taken by a concurrent request.
    #[error("the idempotency key is already in use")]
    IdempotencyKeyTaken,
    /// The order number was drawn twice; draw another.
    #[error("the order number is taken")]
    OrderNumberTaken,
    /// A discount reached its limit, in total or for this customer, since
    /// the order was decided: nothing was written.
    #[error("the discount {discount} is used up")]
    DiscountUsedUp {
        discount: String,
        per_customer: bool,
    },
    /// Throttled or temporarily down: worth retrying later.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// Data that cannot be read back, or an unexpected failure: a bug.
    #[error("store failure: {0}")]
    Internal(String),
}

/// A search of the catalog.
#[derive(Debug, Clone, Default)]
pub struct ProductQuery {
    pub text: Option<String>,
    pub category: Option<String>,
}

/// The saved first answer to a request that carried an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The key as the client sent it, scoped by the caller (for example
    /// `checkout:<key>`).
    pub key: String,
    /// A hash of the request body, to tell a retry from a different request.
    pub request_hash: String,
    pub status: u16,
    pub body: String,
    pub created_at: OffsetDateTime,
}

/// The one order write, all or nothing: a new order (`expected_version`
/// 0: written only if its id and number are free) or a decided change to a
/// placed one (written only if the stored version is still
/// `expected_version`), with the effects of its decision outside the order
/// (each adapter maps each effect kind once), its events, and for a
/// checkout its idempotency record and the customer's record. Only the
/// checkout and the order writer build one.
#[derive(Debug, Clone)]
pub struct OrderCommit {
    pub order: Order,
    pub expected_version: u64,
    /// How many of the order's last history entries this commit adds:
    /// a store that keeps entries apart from the order writes only those.
    pub appended_history: usize,
    pub effects: Vec<Effect>,
    pub events: Vec<Event>,
    /// The first answer to the request, under its key; taken at most once.
    pub idempotency: Option<IdempotencyRecord>,
    /// The customer's record with this order counted, written only if the
    /// stored one still has the version before (or, at version 1, none).
    pub customer: Option<Customer>,
    /// One more order for the e-mail address's mailbox: a checkout counts
    /// every order, guests' too, so that "new customer" cannot be gamed.
    pub mailbox_order: Option<MailboxOrder>,
    /// One more use of each discount the order got, each within its limits.
    pub discount_uses: Vec<DiscountUse>,
}

/// A mailbox's order counter moving on by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxOrder {
    /// [`kontor_domain::Email::mailbox`] of the order's address.
    pub mailbox: String,
    /// The count the checkout read.
    pub seen: u32,
    /// Whether the order relied on that count (a discount for new
    /// customers): then the write fails if it moved meanwhile.
    pub hold: bool,
}

impl OrderCommit {
    /// The commit of a newly placed order.
    pub fn new_order(placed: PlacedOrder) -> Self {
        Self {
            appended_history: placed.order.history.len(),
            order: placed.order,
            expected_version: 0,
            effects: placed.effects,
            events: placed.events,
            idempotency: None,
            customer: None,
            mailbox_order: None,
            discount_uses: placed.discount_uses,
        }
    }

    /// The commit of a decided change: `next` is the order as the decision
    /// left it, `expected_version` the one it was decided on, and the
    /// decision added `appended_history` history entries.
    pub fn change(
        next: Order,
        expected_version: u64,
        appended_history: usize,
        effects: Vec<Effect>,
        events: Vec<Event>,
    ) -> Self {
        Self {
            order: next,
            expected_version,
            appended_history,
            effects,
            events,
            idempotency: None,
            customer: None,
            mailbox_order: None,
            discount_uses: Vec::new(),
        }
    }

    /// Whether this commit places a new order.
    pub fn is_new_order(&self) -> bool {
        self.expected_version == 0
    }
}

/// A tracking number, unique in the shop, pointing at its parcel: how a
/// carrier's message finds its shipment without a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingClaim {
    pub number: TrackingNumber,
    pub order_id: OrderId,
    pub shipment_id: String,
}

/// What a checkout reads before it decides, in one round trip.
#[derive(Debug, Clone, Default)]
pub struct CheckoutRead {
    /// The first answer, when this request is a retry of a placed order.
    pub replay: Option<IdempotencyRecord>,
    /// The products asked for, as [`Store::get_products`] answers.
    pub products: Vec<Product>,
    /// The signed-in shopper's record, if they have one yet.
    pub customer: Option<Customer>,
    /// The orders counted for the e-mail address's mailbox so far.
    pub mailbox_orders: u32,
    /// The promotions document (rule sets, discounts, offers), if saved.
    pub promotions: Option<StoredSetting>,
}

/// How staff look for orders: by a text (an order number, an e-mail
/// address, or words of a name) and by statuses; newest first, from the
/// start or `after` the last order of the page before.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderSearch {
    pub text: Option<String>,
    pub filter: OrderFilter,
    pub after: Option<OrderCursor>,
    pub limit: usize,
}

/// Where a newest-first list of orders goes on: the orders listed after
/// this one, in the store's own order (its time, then its id, both
/// descending). Each store compares at the precision it sorts by, so a
/// page never skips or repeats an order placed in the same instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCursor {
    pub created_at: OffsetDateTime,
    pub id: OrderId,
}

impl OrderCursor {
    /// The cursor that goes on after `order`.
    pub fn after(order: &Order) -> Self {
        Self {
            created_at: order.created_at,
            id: order.id.clone(),
        }
    }
}

/// The catalog: products with their stock, each versioned.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    async fn list_products(&self, query: &ProductQuery) -> Result<Vec<Product>, StoreError>;
    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError>;
    /// Reads many products in one round trip; unknown skus are left out.
    async fn get_products(&self, skus: &[Sku]) -> Result<Vec<Product>, StoreError>;
    /// Creates a product (`expected_version` `None`) or replaces the stored
    /// one if its version is `expected_version`. The stored product gets the
    /// next version; it is returned.
    async fn put_product(
        &self,
        product: &Product,
        expected_version: Option<u64>,
    ) -> Result<Product, StoreError>;
    /// A number that changes whenever a product or its stock changes, known
    /// without I/O — where this process sees every write (the embedded
    /// store). A listing made after reading a stamp is current while the
    /// stamp stays the same. `None` where others write too (DynamoDB).
    fn catalog_stamp(&self) -> Option<u64> {
        None
    }
}

/// The checkout's reads (its write is an [`OrderCommit`]).
#[async_trait]
pub trait CheckoutStore: Send + Sync {
    /// The idempotency record under `key`, the products of `skus` and the
    /// customer's record, read together: a checkout makes one read round
    /// trip before its one write.
    /// With them the order count of the e-mail address's `mailbox` and
    /// the promotions document.
    async fn read_for_checkout(
        &self,
        key: &str,
        skus: &[Sku],
        customer: Option<&CustomerId>,
        mailbox: &str,
    ) -> Result<CheckoutRead, StoreError>;
    async fn get_idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError>;
    /// What the cart page prices with, in one round trip: the products of
    /// `skus`, the signed-in shopper's record, the order count of a known
    /// e-mail's `mailbox` and the promotions document (`replay` is none).
    async fn read_for_cart(
        &self,
        skus: &[Sku],
        customer: Option<&CustomerId>,
        mailbox: Option<&str>,
    ) -> Result<CheckoutRead, StoreError>;
}

/// Placed orders: read, found, and changed through [`OrderCommit`]s.
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// The order whole, with its full history.
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError>;
    /// Writes an [`OrderCommit`]: a stale version is `StaleVersion` (of the
    /// order, or of the customer's record), missing stock `StockShort`, a
    /// tracking number another parcel has `TrackingNumberTaken`, a taken
    /// idempotency key `IdempotencyKeyTaken`, a drawn order number
    /// `OrderNumberTaken`, a colliding transaction `TransactionConflict`;
    /// then nothing is written.
    async fn commit_order(&self, commit: &OrderCommit) -> Result<(), StoreError>;
    /// Open prepayment orders without any payment, placed before `before`,
    /// oldest first, at most `limit`: the candidates for expiry.
    async fn unpaid_orders(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<OrderId>, StoreError>;
    /// The parcel a tracking number belongs to.
    async fn find_tracking(
        &self,
        number: &TrackingNumber,
    ) -> Result<Option<TrackingClaim>, StoreError>;
    /// A customer's orders, newest first (`after` a cursor), at most
    /// `limit`, for lists: their histories may be left out.
    async fn customer_orders(
        &self,
        id: &CustomerId,
        after: Option<&OrderCursor>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError>;
    /// Orders matching a staff search, newest first (after `search.after`),
    /// at most `limit`, for
    /// lists (histories may be left out). A text is an order number
    /// (exact), an e-mail address (exact, any case), a tracking number, or
    /// words that must all be words of a name on the order.
    async fn search_orders(&self, search: &OrderSearch) -> Result<Vec<Order>, StoreError>;
    /// How many credit notes the shop has issued: the last number taken
    /// (an order commit with `Effect::ClaimCreditNote` takes the next).
    async fn credit_notes_issued(&self) -> Result<u64, StoreError>;
}

/// Signed-in shoppers' records.
#[async_trait]
pub trait CustomerStore: Send + Sync {
    async fn get_customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError>;
    /// The customer whose record has this e-mail address now (compared
    /// case-insensitively), for staff taking an order on the phone.
    async fn find_customer_by_email(&self, email: &Email) -> Result<Option<Customer>, StoreError>;
    /// Saves a changed record (staff set its groups) if the stored one is
    /// still the version before `customer.version`.
    async fn save_customer(&self, customer: &Customer) -> Result<(), StoreError>;
}

/// What promotions count: discounts' uses and mailboxes' orders (the
/// checkout's [`OrderCommit`] moves them on).
#[async_trait]
pub trait PromotionStore: Send + Sync {
    /// Each discount's uses so far, and by `customer_key` (a mailbox)
    /// when given; discounts never used are left out.
    async fn discount_uses(
        &self,
        discounts: &[Handle],
        customer_key: Option<&str>,
    ) -> Result<Vec<(Handle, Uses)>, StoreError>;
    /// The orders counted for a mailbox.
    async fn mailbox_orders(&self, mailbox: &str) -> Result<u32, StoreError>;
}

/// Committed events on their way to the bus.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Events not yet handed to the bus, oldest first.
    async fn pending_events(&self, limit: usize) -> Result<Vec<Event>, StoreError>;
    async fn mark_published(&self, ids: &[EventId]) -> Result<(), StoreError>;
}

/// Where one delivery of an event stands for a consumer that acts on it
/// outside the store (an e-mail cannot be taken back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This delivery holds the event until its lease ends: it may act.
    Claimed,
    /// A delivery has acted on the event already.
    Done,
    /// Another delivery holds it and may be acting now.
    Busy,
}

/// What each event consumer has handled, so that it handles each event once.
#[async_trait]
pub trait ConsumerLedger: Send + Sync {
    /// Records that `consumer` handled `event_id` (ending a claim on it);
    /// false if it had already.
    async fn record_processed(
        &self,
        consumer: &str,
        event_id: &EventId,
    ) -> Result<bool, StoreError>;
    /// Whether `consumer` has recorded `event_id` as handled.
    async fn has_processed(&self, consumer: &str, event_id: &EventId) -> Result<bool, StoreError>;
    /// Claims `event_id` for one delivery to `consumer` until `now_unix` +
    /// `lease_seconds`, in one conditional write: granted when nobody
    /// handled the event and no other claim on it is still running, so of
    /// two deliveries at once only one acts. A claim whose holder vanished
    /// (a crash between acting and recording) lapses with its lease.
    async fn claim(
        &self,
        consumer: &str,
        event_id: &EventId,
        now_unix: i64,
        lease_seconds: i64,
    ) -> Result<Claim, StoreError>;
    /// Gives a claim up after a failed attempt, so that the next delivery
    /// need not wait for the lease; a handled event stays handled.
    async fn release(&self, consumer: &str, event_id: &EventId) -> Result<(), StoreError>;
    /// Moves `consumer`'s mark for `key` (one parcel's messages, say) up to
    /// `version` unless a later version holds it already, in one
    /// conditional write: true when `version` is the latest seen (the same
    /// version again included, so a retried delivery goes on), false when
    /// a later one came first and this one is stale.
    async fn advance(&self, consumer: &str, key: &str, version: u64) -> Result<bool, StoreError>;
}

/// Shop settings staff edit, as JSON documents, each versioned.
/// [`crate::settings::ShopSetting`] reads and writes them typed.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// A setting as last saved, with its version (1 for the first save).
    async fn get_setting(&self, name: &str) -> Result<Option<StoredSetting>, StoreError>;
    /// Saves a setting if the stored version is `expected_version` (0: never
    /// saved); a stale one is `StaleVersion`. Answers the new version.
    async fn put_setting(
        &self,
        name: &str,
        value: &serde_json::Value,
        expected_version: u64,
    ) -> Result<u64, StoreError>;
}

/// A saved setting document and its version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSetting {
    pub value: serde_json::Value,
    pub version: u64,
}

/// Every role at once: what an adapter implements and what the handlers'
/// state holds. A consumer that needs less takes the role it needs (the
/// notifier a [`ConsumerLedger`], the relay an [`Outbox`]).
pub trait Store:
    CatalogStore
    + CheckoutStore
    + OrderStore
    + CustomerStore
    + PromotionStore
    + Outbox
    + ConsumerLedger
    + SettingsStore
{
}

impl<T> Store for T where
    T: CatalogStore
        + CheckoutStore
        + OrderStore
        + CustomerStore
        + PromotionStore
        + Outbox
        + ConsumerLedger
        + SettingsStore
{
}

/// The role traits, to bring their methods into scope at once.
pub mod roles {
    pub use super::{
        CatalogStore, CheckoutStore, ConsumerLedger, CustomerStore, OrderStore, Outbox,
        PromotionStore, SettingsStore, Store,
    };
}
