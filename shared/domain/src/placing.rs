//! Placing an order: the checkout workflow as a pure function. From the
//! shopper's validated details, a snapshot of the products and the values
//! the caller supplies (ids, time, token hash), it builds the order, the
//! stock it takes and the events to publish — or says why it cannot.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::AccessTokenHash;
use crate::actor::{Actor, HistoryAction};
use crate::command::Effect;
use crate::discount::{apply_discounts, DiscountInput, DiscountLine, DiscountOutcome, Skip, Uses};
use crate::events::{
    Event, EventPayload, OrderPlaced, PlacedLine, StockChangeReason, StockChanged,
};
use crate::money::Money;
use crate::order::{
    Address, HistoryEntry, Language, Order, OrderDiscount, OrderLine, OrderStatus, OrderTotals,
    PaymentMethod, PaymentStatus, ShippingCharge, ShippingStatus, StockTake, ORDER_SCHEMA,
};
use crate::pricing::{price_cart, PricedCart, PricingSettings};
use crate::product::{Allocation, Product};
use crate::promotions::{CouponError, Promotions};
use crate::rules::{CouponCode, CustomerFacts, Handle, RuleContext};
use crate::tax::TaxClass;
use crate::types::{
    CountryCode, CustomerId, Email, EventId, LineId, OrderId, OrderNumber, Quantity, Sku,
};

/// A line of a cart as the shopper sent it, or of an order staff take on
/// the phone (who may set their own gross unit price, 0 for a gift).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub sku: Sku,
    pub quantity: Quantity,
    /// Staff's price instead of the catalog's; never from a shopper.
    pub unit_price: Option<Money>,
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
    /// Whether the customer is e-mailed the confirmation (staff taking an
    /// order on the phone may leave it out).
    pub send_confirmation: bool,
    /// The coupon code the shopper entered.
    pub coupon: Option<CouponCode>,
}

/// The values a new order needs from outside the domain.
#[derive(Debug, Clone)]
pub struct NewOrderContext {
    pub id: OrderId,
    pub number: OrderNumber,
    pub now: OffsetDateTime,
    pub customer_id: Option<CustomerId>,
    pub access_token_hash: Option<AccessTokenHash>,
    /// The staff member who took the order on the phone; none when the
    /// shopper placed it.
    pub taken_by: Option<Actor>,
    /// What discount rules may ask about the customer (their earlier
    /// orders, groups, e-mail).
    pub customer: CustomerFacts,
    /// The shop's discounts; none for an order staff take on the phone,
    /// whose prices staff set.
    pub promotions: Option<Arc<Promotions>>,
}

/// A new order, the effects it has outside itself (the stock it takes)
/// and its events: what the checkout commits.
#[derive(Debug, Clone)]
pub struct PlacedOrder {
    pub order: Order,
    pub effects: Vec<Effect>,
    pub events: Vec<Event>,
    /// One more use of each discount the order got: the write counts them,
    /// and refuses the order if a limit was reached meanwhile.
    pub discount_uses: Vec<DiscountUse>,
    /// Whether a discount was given for the customer's count of earlier
    /// orders ("new customers"): the write then holds that count unchanged.
    pub relies_on_order_count: bool,
}

/// One use of a discount by an order, with its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountUse {
    pub discount: Handle,
    pub usage_limit: Option<u32>,
    pub per_customer_limit: Option<u32>,
    /// Whose uses the per-customer limit counts: the mailbox of the
    /// order's e-mail address ([`Email::mailbox`]).
    pub customer_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("the cart is empty")]
    Empty,
    #[error("no product has the sku {sku}")]
    UnknownSku { index: usize, sku: Sku },
    #[error("{sku} appears more than once and adds up to more than {max} units", max = Quantity::MAX)]
    TooManyUnits { index: usize, sku: Sku },
    #[error("a unit price is zero or more, at most 1,000,000.00, in whole cents, in the shop's currency")]
    BadUnitPrice { index: usize },
    #[error("an order has at most {max} different products", max = crate::order::MAX_LINES)]
    TooManyLines,
    /// A product stored with a price above the bound (from before the bound
    /// existed): it cannot be sold until staff correct it.
    #[error("{sku} has a price out of range and cannot be sold now")]
    PriceOutOfRange { index: usize, sku: Sku },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    Cart(#[from] CartError),
    /// The coupon cannot be used now (unknown, expired, used up).
    #[error(transparent)]
    Coupon(#[from] CouponError),
    /// The coupon's discount does not apply to this cart.
    #[error("the code '{code}' does not apply to this cart ({reason})", reason = reason.code())]
    CouponNotApplicable { code: CouponCode, reason: Skip },
    #[error("only {available} of {sku} in stock, {requested} requested")]
    OutOfStock {
        sku: Sku,
        requested: u32,
        available: u32,
    },
}

/// Resolves a cart's lines to products, merging lines of the same sku.
pub fn resolve_cart<'a>(
    lines: &[CartLine],
    catalog: &'a [Product],
) -> Result<Vec<(&'a Product, Quantity)>, CartError> {
    Ok(resolve_lines(lines, catalog)?
        .into_iter()
        .map(|line| (line.product, line.quantity))
        .collect())
}

/// A line resolved to its product.
struct Resolved<'a> {
    product: &'a Product,
    quantity: Quantity,
    unit_price: Option<Money>,
}

/// Resolves lines to products, merging lines of one sku at one price (so
/// a gift at 0 stays apart from the paid units) and checking staff prices.
fn resolve_lines<'a>(
    lines: &[CartLine],
    catalog: &'a [Product],
) -> Result<Vec<Resolved<'a>>, CartError> {
    let by_sku: BTreeMap<&Sku, &Product> = catalog.iter().map(|p| (&p.sku, p)).collect();
    let mut merged: Vec<Resolved<'a>> = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let product = *by_sku.get(&line.sku).ok_or_else(|| CartError::UnknownSku {
            index,
            sku: line.sku.clone(),
        })?;
        if !crate::product::price_in_range(product.price) || product.price.is_negative() {
            return Err(CartError::PriceOutOfRange {
                index,
                sku: line.sku.clone(),
            });
        }
        if let Some(price) = line.unit_price {
            if price.currency() != product.price.currency()
                || price.is_negative()
                || !price.is_in_minor_units()
                || !crate::product::price_in_range(price)
            {
                return Err(CartError::BadUnitPrice { index });
            }
        }
        let unit_price = line.unit_price.map(Money::rounded);
        let same = |r: &&mut Resolved<'a>| {
            r.product.sku == line.sku
                && r.unit_price.map(|p| p.amount()) == unit_price.map(|p| p.amount())
        };
        match merged.iter_mut().find(|r| same(r)) {
            Some(resolved) => {
                resolved.quantity = Quantity::new(resolved.quantity.get() + line.quantity.get())
                    .map_err(|_| CartError::TooManyUnits {
                        index,
                        sku: line.sku.clone(),
                    })?;
            }
            None => merged.push(Resolved {
                product,
                quantity: line.quantity,
                unit_price,
            }),
        }
    }
    if merged.len() > crate::order::MAX_LINES {
        return Err(CartError::TooManyLines);
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
    let resolved = resolve_lines(&details.lines, catalog)?;

    // Lines of one sku share its stock: each takes from what the ones
    // before it left.
    let mut left: BTreeMap<&Sku, u32> = BTreeMap::new();
    let mut allocations = Vec::with_capacity(resolved.len());
    for line in &resolved {
        let product = line.product;
        let stock = left.entry(&product.sku).or_insert(product.stock);
        let mut remaining = product.clone();
        remaining.stock = *stock;
        let allocation =
            remaining
                .allocate(line.quantity)
                .map_err(|shortage| CheckoutError::OutOfStock {
                    sku: product.sku.clone(),
                    requested: line.quantity.get(),
                    available: shortage.available,
                })?;
        *stock -= allocation.from_stock;
        allocations.push(allocation);
    }
    // Priced at staff's price where they set one.
    let priced_products: Vec<Product> = resolved
        .iter()
        .map(|line| {
            let mut product = line.product.clone();
            if let Some(price) = line.unit_price {
                product.price = price;
            }
            product
        })
        .collect();
    let items: Vec<(&Product, Quantity)> = priced_products
        .iter()
        .zip(&resolved)
        .map(|(product, line)| (product, line.quantity))
        .collect();

    let priced = price_cart(&items, settings);
    let mut discounted = match &context.promotions {
        Some(promotions) => {
            let facts = CartFacts {
                customer: context.customer.clone(),
                shipping_country: Some(details.shipping_address.country.clone()),
                billing_country: Some(
                    details
                        .billing_address
                        .as_ref()
                        .unwrap_or(&details.shipping_address)
                        .country
                        .clone(),
                ),
                coupon: details.coupon.clone(),
                payment_method: Some(details.payment_method),
                now: context.now,
            };
            let discounted = discount_cart(&items, &priced, promotions, &facts, &|_| None, false)?;
            if let Some((code, reason)) = discounted.coupon_skipped.clone() {
                return Err(CheckoutError::CouponNotApplicable { code, reason });
            }
            Some(discounted)
        }
        None => None,
    };
    let zero = Money::zero(settings.currency);
    let mut lines: Vec<OrderLine> = priced
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
            discount: discounted
                .as_ref()
                .map_or(zero, |d| d.outcome.line_discounts[i]),
            gift_of: None,
            adjustment: zero,
        })
        .collect();

    // Free items are lines of their own at 0, from the stock the lines
    // before left; one that is not available is not given (its discount
    // does not count as used).
    let mut stock_lines: Vec<(&Product, Allocation)> = resolved
        .iter()
        .map(|line| line.product)
        .zip(allocations.iter().copied())
        .collect();
    if let Some(discounted) = discounted.as_mut() {
        let by_sku: BTreeMap<&Sku, &Product> = catalog.iter().map(|p| (&p.sku, p)).collect();
        discounted.outcome.applied.retain(|applied| {
            let Some((sku, quantity)) = &applied.gift else {
                return true;
            };
            let Some(product) = by_sku.get(sku).copied() else {
                return false;
            };
            let stock = left.entry(&product.sku).or_insert(product.stock);
            let mut remaining = product.clone();
            remaining.stock = *stock;
            let Ok(allocation) = remaining.allocate(*quantity) else {
                return false;
            };
            *stock -= allocation.from_stock;
            stock_lines.push((product, allocation));
            let tax_rate = settings.tax_rates.rate(product.tax_class);
            lines.push(OrderLine {
                id: LineId::numbered(lines.len() as u32 + 1),
                sku: product.sku.clone(),
                name: product.name.clone(),
                quantity: *quantity,
                backordered: allocation.backordered,
                unit_price: zero,
                total: zero,
                tax_class: product.tax_class,
                tax_rate,
                tax: zero,
                discount: zero,
                gift_of: Some(applied.id.to_string()),
                adjustment: zero,
            });
            true
        });
    }
    let applied = discounted.map(|d| (d.outcome.applied, d.outcome.shipping_discount));
    let (applied, shipping_discount) = applied.unwrap_or((Vec::new(), zero));

    let placed_by = match (&context.taken_by, &context.customer_id) {
        (Some(staff), _) => staff.clone(),
        (None, Some(id)) => Actor::Customer { id: id.clone() },
        (None, None) => Actor::Guest,
    };
    let how = if context.taken_by.is_some() {
        "Order taken on the phone"
    } else {
        "Order placed"
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
            discount: shipping_discount,
            adjustment: zero,
        },
        // Derived below, with the discounts' shares in.
        totals: OrderTotals {
            subtotal: priced.subtotal,
            discounts: zero,
            shipping: priced.shipping,
            adjustments: zero,
            tax: priced.tax,
            total: priced.total,
            taxes: priced.taxes.clone(),
        },
        payment_method: details.payment_method,
        payment_status: PaymentStatus::Pending,
        status: OrderStatus::Open,
        history: vec![HistoryEntry {
            at: context.now,
            action: HistoryAction::Placed,
            actor: placed_by,
            detail: format!(
                "{how}, {} line(s), total {}",
                details.lines.len(),
                priced.total
            ),
        }],
        shipments: Vec::new(),
        payments: Vec::new(),
        notes: Vec::new(),
        adjustments: Vec::new(),
        removed_lines: Vec::new(),
        returns: Vec::new(),
        discounts: applied
            .iter()
            .map(|a| OrderDiscount {
                id: a.id.to_string(),
                name: a.name.clone(),
                kind: a.kind.to_string(),
                coupon: a.coupon.as_ref().map(CouponCode::to_string),
                amount: a.amount,
            })
            .collect(),
        shipping_status: ShippingStatus::NotShipped,
        language: details.language,
        access_token_hash: context.access_token_hash,
    };
    let mut order = order;
    order.derive_money();
    if let Some(entry) = order.history.first_mut() {
        entry.detail = format!(
            "{how}, {} line(s), total {}",
            details.lines.len(),
            order.totals.total
        );
    }

    // One stock take per sku, however many lines share it, in the cart's
    // order.
    let mut taken: Vec<(&Sku, u32, u32)> = Vec::new();
    for (product, allocation) in &stock_lines {
        let sku = &product.sku;
        match taken.iter_mut().find(|(s, ..)| *s == sku) {
            Some((_, units, _)) => *units += allocation.from_stock,
            None => taken.push((sku, allocation.from_stock, product.stock)),
        }
    }
    taken.retain(|(_, units, _)| *units > 0);
    let effects: Vec<Effect> = taken
        .iter()
        .map(|(sku, units, _)| {
            Effect::TakeStock(StockTake {
                sku: (*sku).clone(),
                quantity: *units,
            })
        })
        .collect();

    let mut events = vec![order_event(
        &order,
        new_event_id(),
        EventPayload::OrderPlaced(order_placed(&order, details.send_confirmation)),
    )];
    for (sku, units, stock) in &taken {
        let payload = EventPayload::StockChanged(StockChanged {
            sku: (*sku).clone(),
            change: -i64::from(*units),
            stock: stock.saturating_sub(*units),
            reason: StockChangeReason::OrderPlaced,
        });
        events.push(order_event(&order, new_event_id(), payload));
    }

    let customer_key = order.email.mailbox();
    let discount_uses = applied
        .iter()
        .map(|a| DiscountUse {
            discount: a.id.clone(),
            usage_limit: a.usage_limit,
            per_customer_limit: a.per_customer_limit,
            customer_key: customer_key.clone(),
        })
        .collect();
    Ok(PlacedOrder {
        relies_on_order_count: applied.iter().any(|a| a.reads_order_count),
        order,
        effects,
        events,
        discount_uses,
    })
}

/// What the cart page and the checkout know about a cart besides its
/// lines: what rules may ask.
#[derive(Debug, Clone)]
pub struct CartFacts {
    pub customer: CustomerFacts,
    pub shipping_country: Option<CountryCode>,
    pub billing_country: Option<CountryCode>,
    pub coupon: Option<CouponCode>,
    pub payment_method: Option<PaymentMethod>,
    pub now: OffsetDateTime,
}

/// A cart with its discounts decided.
#[derive(Debug, Clone)]
pub struct DiscountedCart {
    pub outcome: DiscountOutcome,
    pub context: RuleContext,
    /// The coupon entered, when its discount does not apply, and why.
    pub coupon_skipped: Option<(CouponCode, Skip)>,
    /// The totals with the discounts taken off (by the code that totals
    /// orders).
    pub totals: OrderTotals,
}

/// Decides the discounts of a priced cart: the cart page and the checkout
/// call this one function. `uses` are the discounts' uses so far where
/// known. A coupon no discount can give now is an error.
pub fn discount_cart(
    items: &[(&Product, Quantity)],
    priced: &PricedCart,
    promotions: &Promotions,
    facts: &CartFacts,
    uses: &dyn Fn(&Handle) -> Option<Uses>,
    explain: bool,
) -> Result<DiscountedCart, CouponError> {
    let coupon_discount = match &facts.coupon {
        Some(code) => {
            let discount = promotions.coupon(code, facts.now, None)?;
            promotions.coupon(code, facts.now, uses(&discount.id))?;
            Some(discount.id.clone())
        }
        None => None,
    };
    let context = RuleContext::new(
        facts.customer.clone(),
        priced.lines.iter().zip(items).map(|(line, (product, _))| {
            (
                &line.sku,
                product.category.as_str(),
                line.quantity.get(),
                line.total.amount(),
            )
        }),
        facts.shipping_country.clone(),
        facts.billing_country.clone(),
        facts.coupon.clone(),
        facts.payment_method,
        facts.now,
    );
    let lines: Vec<DiscountLine<'_>> = priced
        .lines
        .iter()
        .zip(items)
        .map(|(line, (product, _))| DiscountLine {
            sku: &line.sku,
            category: &product.category,
            total: line.total,
        })
        .collect();
    let mut outcome = apply_discounts(
        &promotions.discounts,
        &promotions.book,
        &DiscountInput {
            lines: &lines,
            shipping: priced.shipping,
            context: &context,
            uses,
            explain,
            watch: coupon_discount.as_ref(),
        },
    );
    // A coupon whose discount did not apply: why (its reason is kept even
    // when the others' are not).
    let coupon_skipped = match (&coupon_discount, &facts.coupon) {
        (Some(id), Some(code)) => outcome
            .skipped
            .iter()
            .find(|s| &s.id == id)
            .map(|s| (code.clone(), s.reason)),
        _ => None,
    };
    if !explain {
        outcome.skipped.clear();
    }
    let currency = priced.currency;
    // A part no discount touched keeps the VAT pricing found for it.
    let mut shares: Vec<crate::tax::TaxShare> = Vec::with_capacity(2);
    let mut charge = |rate, gross: Money, tax: Money, discount: Money| {
        let charged = gross - discount;
        crate::pricing::Charge {
            rate,
            gross: charged,
            tax: if discount.is_zero() {
                tax
            } else {
                crate::tax::TaxShare::for_rate(&mut shares, rate).in_gross(charged)
            },
            discount,
            adjustment: Money::zero(currency),
        }
    };
    let shipping = charge(
        priced.shipping_tax_rate,
        priced.shipping,
        priced.shipping_tax,
        outcome.shipping_discount,
    );
    let goods: Vec<crate::pricing::Charge> = priced
        .lines
        .iter()
        .zip(&outcome.line_discounts)
        .map(|(line, discount)| charge(line.tax_rate, line.total, line.tax, *discount))
        .collect();
    let totals = crate::pricing::totals_of(currency, goods, shipping);
    Ok(DiscountedCart {
        outcome,
        context,
        coupon_skipped,
        totals,
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

fn order_placed(order: &Order, send_confirmation: bool) -> OrderPlaced {
    OrderPlaced {
        send_confirmation,
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
        discounts: order.totals.discounts.rounded().amount(),
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
                    unit_price: None,
                })
                .collect(),
            email: Email::parse("anna@example.de").unwrap(),
            shipping_address: address(),
            billing_address: None,
            payment_method: PaymentMethod::Invoice,
            language: Language::De,
            send_confirmation: true,
            coupon: None,
        }
    }

    fn context() -> NewOrderContext {
        NewOrderContext {
            id: OrderId::parse("o1").unwrap(),
            number: OrderNumber::parse("K-TEST-0001").unwrap(),
            now: datetime!(2026-11-28 10:00 UTC),
            customer_id: None,
            access_token_hash: Some(AccessTokenHash::of("secret")),
            taken_by: None,
            customer: crate::rules::CustomerFacts::default(),
            promotions: None,
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
    fn staff_on_the_phone_set_prices_and_a_gift_stays_its_own_line() {
        let catalog = [product("TR", "59.90", 3, false)];
        let mut phone = details(&[("TR", 2), ("TR", 1), ("TR", 1)]);
        let eur = |a| Some(Money::new(a, Currency::Eur));
        phone.lines[1].unit_price = eur(dec!(0));
        phone.lines[2].unit_price = eur(dec!(49.00));
        phone.send_confirmation = false;
        let staff = Actor::Staff {
            email: "lena@kontor.example".into(),
        };
        let mut context = context();
        context.taken_by = Some(staff.clone());
        // Four units of a product with three in stock and no backorders.
        let short = place_order(&phone, &catalog, context.clone(), &settings(), &mut ids());
        assert!(matches!(
            short,
            Err(CheckoutError::OutOfStock { available: 0, .. })
        ));
        phone.lines.pop();
        let placed = place_order(&phone, &catalog, context, &settings(), &mut ids()).unwrap();
        let prices: Vec<_> = placed
            .order
            .lines
            .iter()
            .map(|l| (l.quantity.get(), l.unit_price.amount()))
            .collect();
        assert_eq!(prices, [(2, dec!(59.90)), (1, dec!(0.00))]);
        assert_eq!(placed.order.totals.total.amount(), dec!(119.80));
        assert_eq!(
            placed.effects,
            [Effect::TakeStock(StockTake {
                sku: Sku::parse("TR").unwrap(),
                quantity: 3
            })],
            "one take for the sku"
        );
        assert_eq!(placed.order.history[0].actor, staff);
        assert!(placed.order.history[0]
            .detail
            .starts_with("Order taken on the phone"));
        let EventPayload::OrderPlaced(event) = &placed.events[0].payload else {
            panic!()
        };
        assert!(!event.send_confirmation);
        // A negative or fractional staff price is refused by line.
        let mut bad = details(&[("TR", 1)]);
        bad.lines[0].unit_price = eur(dec!(-1));
        assert_eq!(
            place_order(&bad, &catalog, self::context(), &settings(), &mut ids()).map(|_| ()),
            Err(CheckoutError::Cart(CartError::BadUnitPrice { index: 0 }))
        );
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

    fn shop_promotions() -> Arc<Promotions> {
        let document: crate::promotions::PromotionsDocument = serde_json::from_value(serde_json::json!({
            "discounts": [
                {"id": "new", "name": "10 % for new customers", "kind": "percent", "percent": "10", "version": 1,
                 "requirement": {"field": "customer.is_new", "op": "eq", "value": true}},
                {"id": "winter", "name": "Winter", "kind": "fixed", "amount": "5.00", "coupon": "WINTER", "version": 1,
                 "requirement": {"field": "cart.subtotal", "op": "gte", "value": "100.00"}, "usage_limit": 10, "per_customer_limit": 1},
                {"id": "socks", "name": "Free socks", "kind": "free_item", "sku": "SO", "quantity": 1, "version": 1,
                 "requirement": {"field": "cart.quantity", "op": "gte", "value": 2}}
            ]
        }))
        .unwrap();
        Arc::new(Promotions::load(&document, Currency::Eur).unwrap())
    }

    #[test]
    fn a_new_customer_gets_the_discount_spread_over_lines_with_their_vat() {
        let mut socks = product("SO", "4.99", 1, false);
        socks.tax_class = TaxClass::Reduced;
        let catalog = [product("TR", "59.90", 5, false), socks];
        let mut context = context();
        context.promotions = Some(shop_promotions());
        let placed = place_order(
            &details(&[("TR", 2)]),
            &catalog,
            context.clone(),
            &settings(),
            &mut ids(),
        )
        .unwrap();
        let order = &placed.order;
        // 10 % of 119.80; the free socks are a line of their own at 0.
        assert_eq!(order.totals.subtotal.amount(), dec!(119.80));
        assert_eq!(order.totals.discounts.amount(), dec!(11.98));
        assert_eq!(order.totals.total.amount(), dec!(107.82));
        assert_eq!(order.lines.len(), 2);
        assert_eq!(order.lines[1].gift_of.as_deref(), Some("socks"));
        assert!(order.lines[1].charged().is_zero());
        // The VAT is in what the line charges after its discount.
        assert_eq!(
            order.lines[0].tax,
            crate::tax::tax_in_gross(order.lines[0].charged(), dec!(19))
        );
        assert_eq!(order.discounts.len(), 2);
        assert!(placed.relies_on_order_count);
        assert_eq!(placed.discount_uses.len(), 2);
        assert_eq!(placed.discount_uses[0].customer_key, "anna@example.de");
        // The gift takes its stock like any line.
        assert!(placed
            .effects
            .iter()
            .any(|e| matches!(e, Effect::TakeStock(t) if t.sku.as_str() == "SO")));

        // A returning customer does not get it; a coupon whose requirement
        // the cart misses refuses the order.
        context.customer = CustomerFacts::new(1, &[], None);
        let again = place_order(
            &details(&[("TR", 1)]),
            &catalog,
            context.clone(),
            &settings(),
            &mut ids(),
        )
        .unwrap();
        assert!(again.order.discounts.is_empty());
        assert!(!again.relies_on_order_count);
        let mut with_coupon = details(&[("TR", 1)]);
        with_coupon.coupon = Some(CouponCode::parse("winter").unwrap());
        assert!(matches!(
            place_order(
                &with_coupon,
                &catalog,
                context.clone(),
                &settings(),
                &mut ids()
            ),
            Err(CheckoutError::CouponNotApplicable {
                reason: Skip::RequirementNotMet,
                ..
            })
        ));
        with_coupon.coupon = Some(CouponCode::parse("summer").unwrap());
        assert!(matches!(
            place_order(
                &with_coupon,
                &catalog,
                context.clone(),
                &settings(),
                &mut ids()
            ),
            Err(CheckoutError::Coupon(CouponError::Unknown(_)))
        ));
        // Two trousers and the coupon: 5 € off, the socks given while in stock.
        let mut two = details(&[("TR", 2), ("SO", 1)]);
        two.coupon = Some(CouponCode::parse("winter").unwrap());
        let placed = place_order(&two, &catalog, context, &settings(), &mut ids()).unwrap();
        assert_eq!(placed.order.totals.discounts.amount(), dec!(5.00));
        assert!(
            placed.order.lines.iter().all(|l| l.gift_of.is_none()),
            "the only pair of socks is sold"
        );
        let stored = serde_json::to_string(&placed.order).unwrap();
        assert_eq!(
            crate::stored::order_from_json(&stored).unwrap(),
            placed.order
        );
    }
}
