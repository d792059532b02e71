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
use crate::order::{Address, Language, PaymentMethod, PaymentStatus, ShippingStatus};
use crate::shipment::{Carrier, ShipmentStatus, TrackingNumber};
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
    ShipmentCreated(ShipmentCreated),
    ShipmentStatusChanged(ShipmentStatusChanged),
    TrackingSent(TrackingSent),
    OrderCancelled(OrderCancelled),
    PaymentRecorded(PaymentRecorded),
    OrderCompleted(OrderCompleted),
    NoteAdded(NoteAdded),
    OrderItemAdded(OrderItemAdded),
    OrderLineChanged(OrderLineChanged),
    OrderAdjusted(OrderAdjusted),
    OrderAddressesChanged(OrderAddressesChanged),
    OrderChangeAnnounced(OrderChangeAnnounced),
    ReturnRequested(ReturnRequested),
    ReturnApproved(ReturnDecided),
    ReturnRejected(ReturnDecided),
    ReturnReceived(ReturnReceived),
    RefundIssued(RefundIssued),
}

/// Defines each event's name once: `EventPayload::name` and [`EVENT_NAMES`]
/// come from the same list, so a new event cannot be missing from either.
macro_rules! event_names {
    ($($variant:ident),* $(,)?) => {
        impl EventPayload {
            pub fn name(&self) -> &'static str {
                match self {
                    $(EventPayload::$variant(_) => stringify!($variant),)*
                }
            }
        }

        /// Every event type the system emits, for schema checks and routing tables.
        pub const EVENT_NAMES: &[&str] = &[$(stringify!($variant)),*];
    };
}

event_names!(
    OrderPlaced,
    StockChanged,
    ShipmentCreated,
    ShipmentStatusChanged,
    TrackingSent,
    OrderCancelled,
    PaymentRecorded,
    OrderCompleted,
    NoteAdded,
    OrderItemAdded,
    OrderLineChanged,
    OrderAdjusted,
    OrderAddressesChanged,
    OrderChangeAnnounced,
    ReturnRequested,
    ReturnApproved,
    ReturnRejected,
    ReturnReceived,
    RefundIssued,
);

impl EventPayload {
    /// The parcel an event describes, for the order helper to add the
    /// carrier's tracking link to (links are a shop setting, read outside
    /// the domain).
    pub fn parcel_mut(&mut self) -> Option<&mut ParcelNotice> {
        match self {
            EventPayload::ShipmentCreated(e) => Some(&mut e.parcel),
            EventPayload::ShipmentStatusChanged(e) => Some(&mut e.parcel),
            EventPayload::TrackingSent(e) => Some(&mut e.parcel),
            _ => None,
        }
    }
}

/// A parcel as the customer's e-mails describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParcelNotice {
    pub number: OrderNumber,
    pub email: Email,
    /// The customer's, or none for a guest (whose link carries a token).
    pub customer_id: Option<CustomerId>,
    pub language: Language,
    pub shipment_id: String,
    pub carrier: Carrier,
    pub tracking_number: Option<TrackingNumber>,
    pub tracking_url: Option<String>,
    pub items: Vec<ParcelItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParcelItem {
    pub line_id: LineId,
    pub sku: Sku,
    pub name: String,
    pub quantity: u32,
}

/// Staff packed a parcel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentCreated {
    pub parcel: ParcelNotice,
}

/// A parcel moved on; `notify` says whether the customer is told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentStatusChanged {
    pub parcel: ParcelNotice,
    pub from: ShipmentStatus,
    pub to: ShipmentStatus,
    pub location: Option<String>,
    /// `staff <e-mail>` or `carrier <name>`.
    pub by: String,
    pub notify: bool,
    /// The order's shipping status after the change.
    pub shipping_status: ShippingStatus,
}

/// Staff sent the customer the parcel's tracking link again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingSent {
    pub parcel: ParcelNotice,
}

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
    /// What discounts took off goods and shipping (events from before
    /// discounts carry none).
    #[serde(with = "rust_decimal::serde::str", default)]
    pub discounts: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub shipping: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    /// Whether the customer gets the confirmation e-mail (an order staff
    /// took on the phone may go without).
    pub send_confirmation: bool,
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
    /// Backordered units left in a parcel once stock had arrived.
    BackorderShipped,
    /// A cancelled order's units went back on the shelf.
    OrderCancelled,
    /// Staff changed the order's lines.
    OrderChanged,
    /// Returned units arrived sellable and went back on the shelf.
    ReturnRestocked,
}

/// Who asked for a cancellation, as the customer's e-mail words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelledBy {
    /// The shopper, from the order page.
    Shopper,
    /// The shop's staff.
    Staff,
    /// Kontor, because a prepayment never arrived.
    Expiry,
}

/// The order was cancelled; the units it held went back to stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub number: OrderNumber,
    pub email: Email,
    pub customer_id: Option<CustomerId>,
    pub language: Language,
    pub cancelled_by: CancelledBy,
    /// The reason the customer is told, if staff gave one.
    pub reason: Option<String>,
    /// Units back in stock, per sku.
    pub restocked: Vec<StockUnits>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockUnits {
    pub sku: Sku,
    pub quantity: u32,
}

/// Money for the order was received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentRecorded {
    pub number: OrderNumber,
    pub currency: Currency,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Everything received so far.
    #[serde(with = "rust_decimal::serde::str")]
    pub paid: Decimal,
    /// What is still due after this payment.
    #[serde(with = "rust_decimal::serde::str")]
    pub due: Decimal,
    pub payment_status: PaymentStatus,
}

/// Every unit was delivered and the order is paid (or staff closed it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderCompleted {
    pub number: OrderNumber,
    /// Whether staff completed it before it was delivered and paid.
    pub by_staff_override: bool,
}

/// Staff wrote a note on the order. An internal note's event says only
/// that there is one: its text never leaves the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteAdded {
    pub number: OrderNumber,
    pub note_id: String,
    pub visible_to_customer: bool,
    /// The text, for a note to the customer only.
    pub text: Option<String>,
    pub email: Email,
    pub customer_id: Option<CustomerId>,
    pub language: Language,
}

/// Staff added a line to a placed order (a gift at 0, or at a price).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderItemAdded {
    pub number: OrderNumber,
    pub line: PlacedLine,
    /// Why, as staff said it.
    pub reason: Option<String>,
    /// The order's total after the change.
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    pub currency: Currency,
}

/// Staff changed what is not packed of a line: its quantity (0 when the
/// line was removed) or its unit price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLineChanged {
    pub number: OrderNumber,
    pub line_id: LineId,
    pub sku: Sku,
    pub quantity_before: u32,
    /// 0 when the line was removed.
    pub quantity: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price_before: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
    /// The order's total after the change.
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    pub currency: Currency,
}

/// Staff made a goodwill adjustment (negative lowers the total). Its
/// reason stays with staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderAdjusted {
    pub number: OrderNumber,
    pub adjustment_id: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// The amount per VAT rate.
    pub by_rate: Vec<RateShare>,
    /// The order's total after the change.
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateShare {
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// Staff changed the order's addresses; each is there when it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderAddressesChanged {
    pub number: OrderNumber,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
}

/// Staff asked that the customer be told of a change to their order: what
/// changed and the totals after it, for the "your order was changed"
/// e-mail. Never sent for notes, whose own event carries what the customer
/// may read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderChangeAnnounced {
    pub number: OrderNumber,
    pub email: Email,
    pub customer_id: Option<CustomerId>,
    pub language: Language,
    pub currency: Currency,
    pub changes: Vec<ChangeItem>,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount_due: Decimal,
}

/// One change as the customer is told of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeItem {
    ItemAdded {
        name: String,
        quantity: u32,
        #[serde(with = "rust_decimal::serde::str")]
        unit_price: Decimal,
    },
    ItemChanged {
        name: String,
        quantity_before: u32,
        quantity: u32,
        #[serde(with = "rust_decimal::serde::str")]
        unit_price_before: Decimal,
        #[serde(with = "rust_decimal::serde::str")]
        unit_price: Decimal,
    },
    ItemRemoved {
        name: String,
        quantity: u32,
    },
    Adjusted {
        #[serde(with = "rust_decimal::serde::str")]
        amount: Decimal,
    },
    ShippingAddressChanged {
        address: Address,
    },
    BillingAddressChanged {
        address: Address,
    },
}

/// Who a customer e-mail about an order goes to, and in which language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerContact {
    pub email: Email,
    /// The customer's, or none for a guest (whose link carries a token).
    pub customer_id: Option<CustomerId>,
    pub language: Language,
}

/// Units of a line in a return, as the customer asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnedUnits {
    pub line_id: LineId,
    pub sku: Sku,
    pub name: String,
    pub quantity: u32,
    pub reason: String,
}

/// A customer (or staff on their behalf) asked to send units back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnRequested {
    pub number: OrderNumber,
    pub return_id: String,
    pub lines: Vec<ReturnedUnits>,
    pub requested_action: crate::returns::ReturnAction,
    /// Staff accepted it after the shopper's window.
    pub window_overridden: bool,
    #[serde(flatten)]
    pub customer: CustomerContact,
}

/// Staff approved a return (`ReturnApproved`) or rejected it
/// (`ReturnRejected`, with the reason the customer reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnDecided {
    pub number: OrderNumber,
    pub return_id: String,
    pub reason: Option<String>,
    #[serde(flatten)]
    pub customer: CustomerContact,
}

/// What arrived of a return, line by line, and whether it was restocked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnReceived {
    pub number: OrderNumber,
    pub return_id: String,
    pub lines: Vec<ReceivedUnits>,
    #[serde(flatten)]
    pub customer: CustomerContact,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceivedUnits {
    pub line_id: LineId,
    pub name: String,
    pub quantity: u32,
    pub restocked: bool,
}

/// A return was refunded: money paid back (`money_out`) and what was taken
/// off the amount due (`credit`), under a credit note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundIssued {
    pub number: OrderNumber,
    pub return_id: String,
    pub credit_note: String,
    pub currency: Currency,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub money_out: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub credit: Decimal,
    /// What is still to pay after it.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount_due: Decimal,
    pub payment_status: PaymentStatus,
    /// The VAT in `amount`, per rate.
    pub taxes: Vec<RefundTax>,
    #[serde(flatten)]
    pub customer: CustomerContact,
}

/// One VAT rate's share of a refund.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundTax {
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub net: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub gross: Decimal,
}
