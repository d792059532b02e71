//! Events: what an aggregate tells the rest of the system after a change.
//!
//! Every event carries its id (consumers apply each id once), the time it
//! happened, the order it belongs to and the order version it produced. On the
//! wire an event is one flat JSON object whose `type` names it; its JSON
//! Schema lives in `events/` at the workspace root.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::money::Currency;
use crate::order::{Address, Language, PaymentMethod};
use crate::types::{CustomerId, Email, EventId, LineId, OrderId, OrderNumber, Sku};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub event_id: EventId,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub order_id: OrderId,
    pub order_version: u64,
    #[serde(flatten)]
    pub payload: EventPayload,
}

impl Event {
    /// The event's name, used as EventBridge's `detail-type`.
    pub fn name(&self) -> &'static str {
        self.payload.name()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EventPayload {
    OrderPlaced(OrderPlaced),
    StockChanged(StockChanged),
}

impl EventPayload {
    pub fn name(&self) -> &'static str {
        match self {
            EventPayload::OrderPlaced(_) => "OrderPlaced",
            EventPayload::StockChanged(_) => "StockChanged",
        }
    }
}

/// Every event type the system emits, for schema checks and routing tables.
pub const EVENT_NAMES: &[&str] = &["OrderPlaced", "StockChanged"];

/// A new order: everything the confirmation e-mail and the order's
/// downstream consumers need, without internal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderPlaced {
    pub number: OrderNumber,
    pub email: Email,
    pub customer_id: Option<CustomerId>,
    pub language: Language,
    pub currency: Currency,
    pub payment_method: PaymentMethod,
    pub shipping_address: Address,
    pub lines: Vec<PlacedLine>,
    #[serde(with = "rust_decimal::serde::str")]
    pub subtotal: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub shipping: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedLine {
    pub line_id: LineId,
    pub sku: Sku,
    pub name: String,
    pub quantity: u32,
    pub backordered: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
}

/// A product's stock moved. `change` is signed: negative when an order took
/// units, positive when units came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockChanged {
    pub sku: Sku,
    pub change: i64,
    pub stock: u32,
    pub reason: StockChangeReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockChangeReason {
    OrderPlaced,
}
