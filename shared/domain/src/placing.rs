//! Placing an order: the checkout workflow as a pure function. From the
//! shopper's validated details, a snapshot of the products and the values
//! the caller supplies (ids, time, token hash), it builds the order, the
//! stock it takes and the events to publish — or says why it cannot.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::AccessTokenHash;
use crate::actor::{Actor, HistoryAction};
use crate::command::Effect;
use crate::events::{
    Event, EventPayload, OrderPlaced, PlacedLine, StockChangeReason, StockChanged,
};
use crate::money::Money;
use crate::order::{
    Address, HistoryEntry, Language, Order, OrderLine, OrderStatus, OrderTotals, PaymentMethod,
    PaymentStatus, ShippingCharge, ShippingStatus, StockTake, ORDER_SCHEMA,
};
use crate::pricing::{price_cart, PricingSettings};
use crate::product::Product;
use crate::tax::TaxClass;
use crate::types::{CustomerId, Email, EventId, LineId, OrderId, OrderNumber, Quantity, Sku};

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

/// A new order, the effects it has outside itself (the stock it takes)
/// and its events: what the checkout commits.
#[derive(Debug, Clone)]
pub struct PlacedOrder {
    pub order: Order,
    pub effects: Vec<Effect>,
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
            id: LineId::numbered(i as u32 + 1),
            sku: line.sku.clone(),
            name: line.name.clone(),
            quantity: line.quantity,
            backordered: allocation.backordered,
            unit_price: line.unit_price,
            total: line.total,
            tax_class: line.tax_class,
            tax_rate: line.tax_rate,
            tax: line.tax,
            discount: Money::zero(settings.currency),
            adjustment: Money::zero(settings.currency),
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
        shipping: ShippingCharge {
            amount: priced.shipping,
            tax_rate: settings.tax_rates.rate(TaxClass::Standard),
            tax: priced.shipping_tax,
            adjustment: Money::zero(settings.currency),
        },
        totals: OrderTotals {
            subtotal: priced.subtotal,
            shipping: priced.shipping,
            adjustments: Money::zero(settings.currency),
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
        notes: Vec::new(),
        adjustments: Vec::new(),
        removed_lines: Vec::new(),
        shipping_status: ShippingStatus::NotShipped,
        language: details.language,
        access_token_hash: context.access_token_hash,
    };

    let effects: Vec<Effect> = items
        .iter()
        .zip(&allocations)
        .filter(|(_, allocation)| allocation.from_stock > 0)
        .map(|((product, _), allocation)| {
            Effect::TakeStock(StockTake {
                sku: product.sku.clone(),
                quantity: allocation.from_stock,
            })
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
        effects,
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
    use crate::money::Currency;
    use crate::order::Address;
    use crate::pricing::fixtures::settings;
    use crate::product::fixtures::product;
    use crate::tax::TaxClass;
    use crate::types::{CountryCode, TextLine};
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
            placed.effects,
            vec![
                Effect::TakeStock(StockTake {
                    sku: Sku::parse("TR").unwrap(),
                    quantity: 1
                }),
                Effect::TakeStock(StockTake {
                    sku: Sku::parse("BE").unwrap(),
                    quantity: 1
                }),
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

    use proptest::prelude::*;

    proptest! {
        /// For any cart — prices to the cent, both VAT classes, shipping
        /// charged or free — the order's totals derived from its lines and
        /// shipping are exactly what the checkout charged, to the cent; and
        /// they survive a round trip through the stored document.
        #[test]
        fn derived_totals_equal_what_the_checkout_charged(
            items in proptest::collection::vec((1u32..=20_000, 1u32..=30, any::<bool>()), 1..8),
        ) {
            let catalog: Vec<Product> = items
                .iter()
                .enumerate()
                .map(|(i, (cents, _, reduced))| {
                    let mut p = product(&format!("P{i}"), "1.00", 1_000, false);
                    p.price = Money::new(rust_decimal::Decimal::new(i64::from(*cents), 2), Currency::Eur);
                    if *reduced {
                        p.tax_class = TaxClass::Reduced;
                    }
                    p
                })
                .collect();
            let lines: Vec<(String, u32)> = items
                .iter()
                .enumerate()
                .map(|(i, (_, n, _))| (format!("P{i}"), *n))
                .collect();
            let refs: Vec<(&str, u32)> = lines.iter().map(|(s, n)| (s.as_str(), *n)).collect();
            let placed = place_order(&details(&refs), &catalog, context(), &settings(), &mut ids()).unwrap();
            let cart: Vec<(&Product, Quantity)> = catalog
                .iter()
                .zip(&items)
                .map(|(p, (_, n, _))| (p, Quantity::new(*n).unwrap()))
                .collect();
            let charged = price_cart(&cart, &settings());
            let derived = placed.order.derive_totals();
            prop_assert_eq!(&derived, &placed.order.totals);
            prop_assert_eq!(derived.total, charged.total);
            prop_assert_eq!(derived.tax, charged.tax);
            prop_assert_eq!(&derived.taxes, &charged.taxes);
            let line_sum: rust_decimal::Decimal =
                placed.order.lines.iter().map(|l| l.charged().amount()).sum();
            prop_assert_eq!(line_sum + placed.order.shipping.amount.amount(), derived.total.amount());
            let stored = serde_json::to_string(&placed.order).unwrap();
            let read = crate::stored::order_from_json(&stored).unwrap();
            prop_assert_eq!(read, placed.order);
        }
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
