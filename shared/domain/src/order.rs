//! The order aggregate: its lines, money, addresses, statuses, parcels,
//! payments and history. Placing an order is [`crate::placing`]; every
//! later change is a command ([`crate::command`]); finding orders is
//! [`crate::search`] (re-exported here).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::AccessTokenHash;
use crate::actor::{Actor, HistoryAction};
use crate::money::{Currency, Money};
use crate::pricing::Charge;
use crate::shipment::Shipment;
use crate::tax::{tax_in_gross, TaxClass};
use crate::types::{
    CountryCode, CustomerId, Email, LineId, NoteText, OrderId, OrderNumber, Quantity, Sku, TextLine,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub name: TextLine,
    pub street: TextLine,
    pub postal_code: TextLine,
    pub city: TextLine,
    pub country: CountryCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Prepayment,
    Invoice,
    CashOnDelivery,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Nothing received yet (prepayment and invoice until paid; cash on
    /// delivery until the parcel is handed over).
    Pending,
    /// Some, not all, of the total received.
    PartiallyPaid,
    Paid,
    PartiallyRefunded,
    Refunded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    Completed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShippingStatus {
    NotShipped,
    PartiallyShipped,
    Shipped,
    PartiallyDelivered,
    Delivered,
}

/// The snake-case names the API and the events use, for messages.
macro_rules! status_codes {
    ($name:ident { $($variant:ident => $code:literal),* $(,)? }) => {
        impl $name {
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

status_codes!(OrderStatus { Open => "open", Completed => "completed", Cancelled => "cancelled" });
status_codes!(PaymentStatus {
    Pending => "pending",
    PartiallyPaid => "partially_paid",
    Paid => "paid",
    PartiallyRefunded => "partially_refunded",
    Refunded => "refunded",
});
status_codes!(ShippingStatus {
    NotShipped => "not_shipped",
    PartiallyShipped => "partially_shipped",
    Shipped => "shipped",
    PartiallyDelivered => "partially_delivered",
    Delivered => "delivered",
});

/// The language of the shopper's e-mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    De,
    En,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    pub id: LineId,
    pub sku: Sku,
    pub name: String,
    pub quantity: Quantity,
    /// Units not in stock when the order was placed; they ship later.
    pub backordered: u32,
    pub unit_price: Money,
    /// Unit price × quantity.
    pub total: Money,
    pub tax_class: TaxClass,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_rate: rust_decimal::Decimal,
    /// The VAT in what the line charges, rounded for this line.
    pub tax: Money,
    /// This line's share of the order's discounts (it lowers what the line
    /// charges); zero until discounts arrive. Refunds start from it.
    pub discount: Money,
    /// The discount that gave this line away (a free item at price 0);
    /// none for a line the shopper or staff chose.
    pub gift_of: Option<String>,
    /// This line's share of the order's goodwill adjustments (signed):
    /// derived from [`Order::adjustments`] whenever the order changes or is
    /// read ([`Order::derive_money`]), so it follows the lines.
    pub adjustment: Money,
}

impl OrderLine {
    /// What the customer pays for the line: its price less its share of
    /// discounts, with its share of adjustments.
    pub fn charged(&self) -> Money {
        self.total - self.discount + self.adjustment
    }
}

/// What the order charges for shipping, and the VAT in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippingCharge {
    /// The shipping cost as the checkout priced it.
    pub amount: Money,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_rate: rust_decimal::Decimal,
    /// The VAT in what shipping charges (its amount less its discount,
    /// with its adjustment).
    pub tax: Money,
    /// What discounts took off shipping (free shipping takes it all).
    pub discount: Money,
    /// Shipping's share of goodwill adjustments (signed), derived like a
    /// line's.
    pub adjustment: Money,
}

impl ShippingCharge {
    /// What the customer pays for shipping.
    pub fn charged(&self) -> Money {
        self.amount - self.discount + self.adjustment
    }
}

/// A goodwill adjustment staff made: a signed gross amount (negative lowers
/// the total), kept as its own entry with its author and reason. It was
/// split over the order's tax rates when it was made; each rate's part is
/// spread over the lines (and shipping) at that rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adjustment {
    /// `A1`, `A2`, … within the order.
    pub id: String,
    pub amount: Money,
    /// Why, for staff (never shown to the shopper).
    pub reason: String,
    /// The amount per tax rate, adding up to `amount`.
    pub by_rate: Vec<RateAmount>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub author: Actor,
}

/// Part of an amount taxed at one rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateAmount {
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: rust_decimal::Decimal,
    pub amount: Money,
}

pub use crate::placing::{
    discount_cart, place_order, resolve_cart, CartError, CartFacts, CartLine, CheckoutDetails,
    CheckoutError, DiscountUse, DiscountedCart, NewOrderContext, PlacedOrder,
};
pub use crate::pricing::OrderTotals;
pub use crate::search::{name_tokens, OrderFilter, OrderLookup};

/// The most words of an order's names that staff search finds it by.
pub const MAX_NAME_WORDS: usize = 8;

/// The most lines a cart has, and an order (placed and added together),
/// free items aside: with each line's stock movement and its event, the
/// free items of at most [`crate::discount::MAX_DISCOUNTS_PER_ORDER`]
/// discounts and their usage counters, and the e-mail's order counter, a
/// DynamoDB transaction stays within its 100 items.
pub const MAX_LINES: usize = 34;

/// The shape of the stored order document; [`crate::stored`] upgrades
/// older ones when they are read.
pub const ORDER_SCHEMA: u32 = 7;

/// Money received for an order, as staff recorded it (or as the carrier
/// collected it, for cash on delivery).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub amount: Money,
    /// The day the money arrived, as the bank statement says.
    pub date: time::Date,
    /// The bank's or the carrier's reference.
    pub reference: String,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    pub recorded_by: Actor,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// The document's shape ([`ORDER_SCHEMA`]).
    pub schema: u32,
    pub id: OrderId,
    pub number: OrderNumber,
    /// Starts at 1; every change bumps it and is written only if the stored
    /// version is still the one it was read at.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub currency: Currency,
    pub email: Email,
    pub customer_id: Option<CustomerId>,
    pub shipping_address: Address,
    pub billing_address: Address,
    pub lines: Vec<OrderLine>,
    pub shipping: ShippingCharge,
    /// Derived from the lines and the shipping ([`Order::derive_totals`])
    /// whenever the order is placed, read or changed; kept in the document
    /// only for people reading it.
    pub totals: OrderTotals,
    pub payment_method: PaymentMethod,
    pub payment_status: PaymentStatus,
    pub status: OrderStatus,
    pub shipping_status: ShippingStatus,
    pub language: Language,
    /// Present for guest orders: the hash of the token in the order's link.
    pub access_token_hash: Option<AccessTokenHash>,
    /// What happened to the order, oldest first: staff read it on the
    /// order's page.
    pub history: Vec<HistoryEntry>,
    /// The parcels the order goes out in.
    pub shipments: Vec<Shipment>,
    /// Money received, oldest first.
    pub payments: Vec<Payment>,
    /// Notes staff wrote, oldest first. Internal ones never reach the
    /// shopper: the shopper's views keep only those visible to them.
    pub notes: Vec<Note>,
    /// Goodwill adjustments, oldest first.
    pub adjustments: Vec<Adjustment>,
    /// Lines staff removed before any unit of them was packed: kept so
    /// that staff see them and their ids are never given out again.
    pub removed_lines: Vec<OrderLine>,
    /// Returns of shipped units, oldest first.
    pub returns: Vec<crate::returns::Return>,
    /// The discounts the checkout gave, as they were then; each line's and
    /// the shipping's share of them is on the line and the shipping.
    pub discounts: Vec<OrderDiscount>,
}

/// A discount an order got at checkout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderDiscount {
    pub id: String,
    pub name: String,
    /// `percent`, `fixed`, `free_shipping` or `free_item`.
    pub kind: String,
    pub coupon: Option<String>,
    /// What it took off (zero for a free item).
    pub amount: Money,
}

/// A note on an order: for colleagues (internal, the default), or for the
/// customer, who sees it on the order page and gets it by e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// `N1`, `N2`, … within the order.
    pub id: String,
    pub text: NoteText,
    pub visible_to_customer: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub author: Actor,
}

/// One thing that happened to an order. Only applying a decision
/// ([`crate::command`]) appends one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub action: HistoryAction,
    pub actor: Actor,
    /// A sentence for staff.
    pub detail: String,
}

impl Order {
    /// The words of the names on the order (shipping and billing), folded
    /// to lower case: what staff search by name matches. At most
    /// [`MAX_NAME_WORDS`], the first ones: a name of a hundred words must
    /// not make a hundred index entries (DynamoDB writes an order with its
    /// index entries in one transaction of at most 100 items).
    pub fn name_tokens(&self) -> Vec<String> {
        let mut tokens = name_tokens(self.shipping_address.name.as_str());
        for token in name_tokens(self.billing_address.name.as_str()) {
            if !tokens.contains(&token) {
                tokens.push(token);
            }
        }
        tokens.truncate(MAX_NAME_WORDS);
        tokens
    }

    /// Derives the money that follows from the lines, the shipping and
    /// the adjustments: each part's adjustment share, the VAT in what each
    /// part charges, and the totals (by the same code that priced the
    /// cart). Run on placement, on every change and on every read.
    pub fn derive_money(&mut self) {
        crate::adjustment::allocate(self);
        for line in &mut self.lines {
            line.tax = tax_in_gross(line.charged(), line.tax_rate);
        }
        self.shipping.tax = tax_in_gross(self.shipping.charged(), self.shipping.tax_rate);
        self.totals = self.derive_totals();
    }

    /// The totals as the lines and the shipping charge them now.
    pub fn derive_totals(&self) -> OrderTotals {
        crate::pricing::totals_of(
            self.currency,
            self.lines.iter().map(|l| Charge {
                rate: l.tax_rate,
                gross: l.charged(),
                tax: l.tax,
                discount: l.discount,
                adjustment: l.adjustment,
            }),
            Charge {
                rate: self.shipping.tax_rate,
                gross: self.shipping.charged(),
                tax: self.shipping.tax,
                discount: self.shipping.discount,
                adjustment: self.shipping.adjustment,
            },
        )
    }

    /// The next free line id: ids are never reused, removed lines included.
    pub fn next_line_id(&self) -> LineId {
        let highest = self
            .lines
            .iter()
            .chain(&self.removed_lines)
            .filter_map(|l| l.id.number())
            .max()
            .unwrap_or(0);
        LineId::numbered(highest.saturating_add(1))
    }

    /// What has been received so far.
    pub fn paid(&self) -> Money {
        Money::sum(self.currency, self.payments.iter().map(|p| &p.amount))
    }

    /// What is still to pay: the total less what was received and what
    /// returns took off it (never below zero; money paid back does not
    /// make anything due again).
    pub fn amount_due(&self) -> Money {
        let due = self.totals.total.rounded() - self.credits() - self.paid();
        if due.is_negative() {
            Money::zero(self.currency)
        } else {
            due
        }
    }

    /// The notes the shopper may see.
    pub fn customer_notes(&self) -> impl Iterator<Item = &Note> {
        self.notes.iter().filter(|n| n.visible_to_customer)
    }

    /// Whether a shopper holding `token` may read this order.
    pub fn opens_with(&self, token: &str) -> bool {
        self.access_token_hash
            .as_ref()
            .is_some_and(|hash| hash.matches(token))
    }
}

/// Units an order takes from a product's stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockTake {
    pub sku: Sku,
    pub quantity: u32,
}
