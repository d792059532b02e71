//! The order aggregate and placing an order.
//!
//! `place_order` is the checkout workflow as a pure function: from the
//! shopper's validated details, a snapshot of the products and the values the
//! caller supplies (ids, time, token hash), it builds the order, the stock it
//! takes and the events to publish — or says why it cannot.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::AccessTokenHash;
use crate::actor::{Actor, HistoryAction};
use crate::events::{
    Event, EventPayload, OrderPlaced, PlacedLine, StockChangeReason, StockChanged,
};
use crate::money::{Currency, Money};
use crate::pricing::{price_cart, PricingSettings, TaxLine};
use crate::product::Product;
use crate::shipment::{Shipment, TrackingNumber};
use crate::tax::TaxClass;
use crate::types::{
    CountryCode, CustomerId, Email, EventId, LineId, OrderId, OrderNumber, Quantity, Sku, TextLine,
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
    pub total: Money,
    pub tax_class: TaxClass,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_rate: rust_decimal::Decimal,
    pub tax: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderTotals {
    pub subtotal: Money,
    pub shipping: Money,
    pub tax: Money,
    pub total: Money,
    pub taxes: Vec<TaxLine>,
}

/// The shape of the stored order document; [`crate::stored`] upgrades
/// older ones when they are read.
pub const ORDER_SCHEMA: u32 = 2;

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
    /// to lower case: what staff search by name matches.
    pub fn name_tokens(&self) -> Vec<String> {
        let mut tokens = name_tokens(self.shipping_address.name.as_str());
        for token in name_tokens(self.billing_address.name.as_str()) {
            if !tokens.contains(&token) {
                tokens.push(token);
            }
        }
        tokens
    }

    /// What has been received so far.
    pub fn paid(&self) -> Money {
        Money::sum(self.currency, self.payments.iter().map(|p| &p.amount))
    }

    /// What is still to pay: the total less what was received (never
    /// below zero).
    pub fn amount_due(&self) -> Money {
        let due = self.totals.total.rounded() - self.paid();
        if due.is_negative() {
            Money::zero(self.currency)
        } else {
            due
        }
    }

    /// Whether a shopper holding `token` may read this order.
    pub fn opens_with(&self, token: &str) -> bool {
        self.access_token_hash
            .as_ref()
            .is_some_and(|hash| hash.matches(token))
    }
}

/// The words of a name or a search text, in lower case, for matching names
/// whole-word and case-insensitively ("muster" finds "Anna Muster").
/// Single letters are left out; they match too much to be useful.
pub fn name_tokens(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        if word.chars().count() >= 2 && !tokens.contains(&word) {
            tokens.push(word);
        }
    }
    tokens
}

/// What a staff search text asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderLookup {
    /// An order number such as `K-7F3K-9QX2` (any case).
    Number(OrderNumber),
    /// An e-mail address: the orders placed with it.
    Email(Email),
    /// A parcel's tracking number (one word of 8 or more letters and
    /// digits, with at least one digit).
    Tracking(TrackingNumber),
    /// Words that must all be words of a name on the order.
    Name(Vec<String>),
    /// No text: every order.
    All,
}

impl OrderLookup {
    pub fn parse(text: Option<&str>) -> Self {
        let text = text.map(str::trim).unwrap_or("");
        let upper = text.to_uppercase();
        let looks_like_number = upper.is_ascii()
            && upper.len() == 11
            && upper.starts_with("K-")
            && upper.as_bytes()[6] == b'-'
            && upper[2..6]
                .chars()
                .chain(upper[7..].chars())
                .all(|c| c.is_ascii_alphanumeric());
        if looks_like_number {
            if let Ok(number) = OrderNumber::parse(&upper) {
                return Self::Number(number);
            }
        }
        if text.contains('@') {
            if let Ok(email) = Email::parse(text) {
                return Self::Email(email);
            }
        }
        if text.len() >= 8 && text.chars().any(|c| c.is_ascii_digit()) {
            if let Ok(number) = TrackingNumber::parse(text) {
                return Self::Tracking(number);
            }
        }
        let words = name_tokens(text);
        if words.is_empty() {
            Self::All
        } else {
            Self::Name(words)
        }
    }

    /// Whether `order` is one this lookup asks for.
    pub fn matches(&self, order: &Order) -> bool {
        match self {
            Self::Number(number) => &order.number == number,
            Self::Email(email) => order.email.normalized() == email.normalized(),
            Self::Tracking(number) => order
                .shipments
                .iter()
                .any(|s| s.tracking_number.as_ref() == Some(number)),
            Self::Name(words) => {
                let names = order.name_tokens();
                words.iter().all(|w| names.contains(w))
            }
            Self::All => true,
        }
    }
}

/// What staff filter the order list by; every part that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub payment_status: Option<PaymentStatus>,
    pub shipping_status: Option<ShippingStatus>,
}

impl OrderFilter {
    pub fn matches(&self, order: &Order) -> bool {
        self.status.is_none_or(|s| s == order.status)
            && self
                .payment_status
                .is_none_or(|s| s == order.payment_status)
            && self
                .shipping_status
                .is_none_or(|s| s == order.shipping_status)
    }
}

/// A line of a cart as the shopper sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// What the shopper enters at checkout, already parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutDetails {
    pub lines: Vec<CartLine>,
    pub email: Email,
    pub shipping_address: Address,
    pub billing_address: Option<Address>,
    pub payment_method: PaymentMethod,
    pub language: Language,
}

/// The values a new order needs from outside the domain.
#[derive(Debug, Clone)]
pub struct NewOrderContext {
    pub id: OrderId,
    pub number: OrderNumber,
    pub now: OffsetDateTime,
    pub customer_id: Option<CustomerId>,
    pub access_token_hash: Option<AccessTokenHash>,
}

/// Units an order takes from a product's stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockTake {
    pub sku: Sku,
    pub quantity: u32,
}

#[derive(Debug, Clone)]
pub struct PlacedOrder {
    pub order: Order,
    pub stock_takes: Vec<StockTake>,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("the cart is empty")]
    Empty,
    #[error("no product has the sku {sku}")]
    UnknownSku { index: usize, sku: Sku },
    #[error("{sku} appears more than once and adds up to more than {max} units", max = Quantity::MAX)]
    TooManyUnits { index: usize, sku: Sku },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    Cart(#[from] CartError),
    #[error("only {available} of {sku} in stock, {requested} requested")]
    OutOfStock {
        sku: Sku,
        requested: u32,
        available: u32,
    },
}

/// Merges lines of the same sku (keeping the first one's position) and pairs
/// each with its product.
pub fn resolve_cart<'a>(
    lines: &[CartLine],
    catalog: &'a [Product],
) -> Result<Vec<(&'a Product, Quantity)>, CartError> {
    let by_sku: BTreeMap<&Sku, &Product> = catalog.iter().map(|p| (&p.sku, p)).collect();
    let mut merged: Vec<(&'a Product, Quantity)> = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let product = *by_sku.get(&line.sku).ok_or_else(|| CartError::UnknownSku {
            index,
            sku: line.sku.clone(),
        })?;
        match merged.iter_mut().find(|(p, _)| p.sku == line.sku) {
            Some((_, quantity)) => {
                *quantity = Quantity::new(quantity.get() + line.quantity.get()).map_err(|_| {
                    CartError::TooManyUnits {
                        index,
                        sku: line.sku.clone(),
                    }
                })?;
            }
            None => merged.push((product, line.quantity)),
        }
    }
    Ok(merged)
}

/// Places an order. `new_event_id` supplies fresh event ids.
pub fn place_order(
    details: &CheckoutDetails,
    catalog: &[Product],
    context: NewOrderContext,
    settings: &PricingSettings,
    new_event_id: &mut dyn FnMut() -> EventId,
) -> Result<PlacedOrder, CheckoutError> {
    if details.lines.is_empty() {
        return Err(CartError::Empty.into());
    }
    let items = resolve_cart(&details.lines, catalog)?;

    let mut allocations = Vec::with_capacity(items.len());
    for (product, quantity) in &items {
        let allocation =
            product
                .allocate(*quantity)
                .map_err(|shortage| CheckoutError::OutOfStock {
                    sku: product.sku.clone(),
                    requested: quantity.get(),
                    available: shortage.available,
                })?;
        allocations.push(allocation);
    }

    let priced = price_cart(&items, settings);
    let lines: Vec<OrderLine> = priced
        .lines
        .iter()
        .zip(&allocations)
        .enumerate()
        .map(|(i, (line, allocation))| OrderLine {
            id: LineId::parse(&format!("L{}", i + 1)).expect("generated line ids are valid"),
            sku: line.sku.clone(),
            name: line.name.clone(),
            quantity: line.quantity,
            backordered: allocation.backordered,
            unit_price: line.unit_price,
            total: line.total,
            tax_class: line.tax_class,
            tax_rate: line.tax_rate,
            tax: line.tax,
        })
        .collect();

    let placed_by = match &context.customer_id {
        Some(id) => Actor::Customer { id: id.clone() },
        None => Actor::Guest,
    };
    let order = Order {
        schema: ORDER_SCHEMA,
        id: context.id,
        number: context.number,
        version: 1,
        created_at: context.now,
        currency: settings.currency,
        email: details.email.clone(),
        customer_id: context.customer_id,
        shipping_address: details.shipping_address.clone(),
        billing_address: details
            .billing_address
            .clone()
            .unwrap_or_else(|| details.shipping_address.clone()),
        lines,
        totals: OrderTotals {
            subtotal: priced.subtotal,
            shipping: priced.shipping,
            tax: priced.tax,
            total: priced.total,
            taxes: priced.taxes,
        },
        payment_method: details.payment_method,
        payment_status: PaymentStatus::Pending,
        status: OrderStatus::Open,
        history: vec![HistoryEntry {
            at: context.now,
            action: HistoryAction::Placed,
            actor: placed_by,
            detail: format!(
                "Order placed, {} line(s), total {}",
                details.lines.len(),
                priced.total
            ),
        }],
        shipments: Vec::new(),
        payments: Vec::new(),
        shipping_status: ShippingStatus::NotShipped,
        language: details.language,
        access_token_hash: context.access_token_hash,
    };

    let stock_takes: Vec<StockTake> = items
        .iter()
        .zip(&allocations)
        .filter(|(_, allocation)| allocation.from_stock > 0)
        .map(|((product, _), allocation)| StockTake {
            sku: product.sku.clone(),
            quantity: allocation.from_stock,
        })
        .collect();

    let mut events = vec![order_event(
        &order,
        new_event_id(),
        EventPayload::OrderPlaced(order_placed(&order)),
    )];
    for ((product, _), allocation) in items.iter().zip(&allocations) {
        if allocation.from_stock == 0 {
            continue;
        }
        let payload = EventPayload::StockChanged(StockChanged {
            sku: product.sku.clone(),
            change: -i64::from(allocation.from_stock),
            stock: product.stock - allocation.from_stock,
            reason: StockChangeReason::OrderPlaced,
        });
        events.push(order_event(&order, new_event_id(), payload));
    }

    Ok(PlacedOrder {
        order,
        stock_takes,
        events,
    })
}

fn order_event(order: &Order, event_id: EventId, payload: EventPayload) -> Event {
    Event {
        event_id,
        occurred_at: order.created_at,
        order_id: order.id.clone(),
        order_version: order.version,
        payload,
    }
}

fn order_placed(order: &Order) -> OrderPlaced {
    OrderPlaced {
        number: order.number.clone(),
        email: order.email.clone(),
        customer_id: order.customer_id.clone(),
        language: order.language,
        currency: order.currency,
        payment_method: order.payment_method,
        shipping_address: order.shipping_address.clone(),
        lines: order
            .lines
            .iter()
            .map(|line| PlacedLine {
                line_id: line.id.clone(),
                sku: line.sku.clone(),
                name: line.name.clone(),
                quantity: line.quantity.get(),
                backordered: line.backordered,
                unit_price: line.unit_price.rounded().amount(),
                total: line.total.rounded().amount(),
            })
            .collect(),
        subtotal: order.totals.subtotal.rounded().amount(),
        shipping: order.totals.shipping.rounded().amount(),
        tax: order.totals.tax.rounded().amount(),
        total: order.totals.total.rounded().amount(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::fixtures::settings;
    use crate::product::fixtures::product;
    use rust_decimal_macros::dec;
    use time::macros::datetime;

    fn address() -> Address {
        Address {
            name: TextLine::parse("Anna Muster").unwrap(),
            street: TextLine::parse("Hauptstr. 1").unwrap(),
            postal_code: TextLine::parse("10115").unwrap(),
            city: TextLine::parse("Berlin").unwrap(),
            country: CountryCode::parse("DE").unwrap(),
        }
    }

    fn details(lines: &[(&str, u32)]) -> CheckoutDetails {
        CheckoutDetails {
            lines: lines
                .iter()
                .map(|(sku, n)| CartLine {
                    sku: Sku::parse(sku).unwrap(),
                    quantity: Quantity::new(*n).unwrap(),
                })
                .collect(),
            email: Email::parse("anna@example.de").unwrap(),
            shipping_address: address(),
            billing_address: None,
            payment_method: PaymentMethod::Invoice,
            language: Language::De,
        }
    }

    fn context() -> NewOrderContext {
        NewOrderContext {
            id: OrderId::parse("o1").unwrap(),
            number: OrderNumber::parse("K-TEST-0001").unwrap(),
            now: datetime!(2026-11-28 10:00 UTC),
            customer_id: None,
            access_token_hash: Some(AccessTokenHash::of("secret")),
        }
    }

    fn ids() -> impl FnMut() -> EventId {
        let mut n = 0;
        move || {
            n += 1;
            EventId::parse(&format!("e{n}")).unwrap()
        }
    }

    #[test]
    fn places_an_order_with_a_backordered_line() {
        let catalog = [
            product("TR", "59.90", 5, false),
            product("BE", "24.90", 1, true),
        ];
        let placed = place_order(
            &details(&[("TR", 1), ("BE", 3)]),
            &catalog,
            context(),
            &settings(),
            &mut ids(),
        )
        .unwrap();
        let order = &placed.order;
        assert_eq!(order.version, 1);
        assert_eq!(order.lines[0].backordered, 0);
        assert_eq!(order.lines[1].backordered, 2);
        assert_eq!(order.totals.total.amount(), dec!(134.60));
        assert_eq!(order.billing_address, order.shipping_address);
        assert_eq!(
            placed.stock_takes,
            vec![
                StockTake {
                    sku: Sku::parse("TR").unwrap(),
                    quantity: 1
                },
                StockTake {
                    sku: Sku::parse("BE").unwrap(),
                    quantity: 1
                },
            ]
        );
        let names: Vec<&str> = placed.events.iter().map(Event::name).collect();
        assert_eq!(names, ["OrderPlaced", "StockChanged", "StockChanged"]);
        assert!(order.opens_with("secret"));
        assert!(!order.opens_with("guess"));
    }

    #[test]
    fn refuses_more_than_in_stock_without_backorder() {
        let catalog = [product("TR", "59.90", 2, false)];
        let err = place_order(
            &details(&[("TR", 3)]),
            &catalog,
            context(),
            &settings(),
            &mut ids(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            CheckoutError::OutOfStock {
                sku: Sku::parse("TR").unwrap(),
                requested: 3,
                available: 2
            }
        );
    }

    #[test]
    fn merges_repeated_skus_and_checks_their_sum() {
        let catalog = [product("TR", "1.00", 2000, false)];
        let placed = place_order(
            &details(&[("TR", 2), ("TR", 3)]),
            &catalog,
            context(),
            &settings(),
            &mut ids(),
        )
        .unwrap();
        assert_eq!(placed.order.lines.len(), 1);
        assert_eq!(placed.order.lines[0].quantity.get(), 5);
        let err = place_order(
            &details(&[("TR", 600), ("TR", 600)]),
            &catalog,
            context(),
            &settings(),
            &mut ids(),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            CheckoutError::Cart(CartError::TooManyUnits { index: 1, .. })
        ));
    }

    #[test]
    fn refuses_unknown_skus_and_empty_carts() {
        let catalog = [product("TR", "1.00", 1, false)];
        let err = place_order(
            &details(&[("TR", 1), ("NOPE", 1)]),
            &catalog,
            context(),
            &settings(),
            &mut ids(),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            CheckoutError::Cart(CartError::UnknownSku { index: 1, .. })
        ));
        let err =
            place_order(&details(&[]), &catalog, context(), &settings(), &mut ids()).unwrap_err();
        assert_eq!(err, CheckoutError::Cart(CartError::Empty));
    }

    #[test]
    fn events_serialise_flat_with_their_type() {
        let catalog = [product("TR", "59.90", 5, false)];
        let placed = place_order(
            &details(&[("TR", 1)]),
            &catalog,
            context(),
            &settings(),
            &mut ids(),
        )
        .unwrap();
        let json = serde_json::to_value(&placed.events[0]).unwrap();
        assert_eq!(json["type"], "OrderPlaced");
        assert_eq!(json["order_version"], 1);
        assert_eq!(json["total"], "59.90");
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, placed.events[0]);
    }
}
