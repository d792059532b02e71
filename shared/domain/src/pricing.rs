//! Pricing a cart: lines, subtotal, shipping, the tax per rate and the total.
//!
//! Prices are gross. Each line's tax is rounded on its own (per line, half
//! away from zero); the breakdown per rate adds up the rounded line taxes, so
//! the figures on an invoice always add up. Shipping is taxed at the standard
//! rate (a simplification of the German rule, which splits it by the goods'
//! rates; the breakdown keeps it apart so the rule can change in one place).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};
use crate::product::Product;
use crate::tax::{tax_in_gross, TaxClass, TaxRates, TaxShare};
use crate::types::{Quantity, Sku};

/// A flat shipping rate, free from a threshold of goods value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippingPolicy {
    pub flat_rate: Money,
    pub free_from: Option<Money>,
}

impl ShippingPolicy {
    pub fn cost_for(&self, subtotal: Money, has_goods: bool) -> Money {
        let free = match self.free_from {
            Some(threshold) => subtotal.amount() >= threshold.amount(),
            None => false,
        };
        if !has_goods || free {
            Money::zero(self.flat_rate.currency())
        } else {
            self.flat_rate
        }
    }
}

/// The shop's selling settings that pricing needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricingSettings {
    pub currency: Currency,
    pub tax_rates: TaxRates,
    pub shipping: ShippingPolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricedLine {
    pub sku: Sku,
    pub name: String,
    pub quantity: Quantity,
    pub unit_price: Money,
    /// Gross line total: unit price × quantity.
    pub total: Money,
    pub tax_class: TaxClass,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_rate: Decimal,
    /// VAT contained in `total`, rounded for this line.
    pub tax: Money,
}

/// One row of the tax breakdown: everything taxed at one rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxLine {
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    pub net: Money,
    pub tax: Money,
    pub gross: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricedCart {
    pub currency: Currency,
    pub lines: Vec<PricedLine>,
    pub subtotal: Money,
    pub shipping: Money,
    #[serde(with = "rust_decimal::serde::str")]
    pub shipping_tax_rate: Decimal,
    pub shipping_tax: Money,
    pub taxes: Vec<TaxLine>,
    pub tax: Money,
    pub total: Money,
}

/// Prices the given products and quantities. Lines keep the caller's order.
pub fn price_cart(items: &[(&Product, Quantity)], settings: &PricingSettings) -> PricedCart {
    let currency = settings.currency;
    let mut shares: Vec<TaxShare> = Vec::with_capacity(2);
    let lines: Vec<PricedLine> = items
        .iter()
        .map(|(product, quantity)| {
            let total = product.price.times(quantity.get()).rounded();
            let tax_rate = settings.tax_rates.rate(product.tax_class);
            let share = TaxShare::for_rate(&mut shares, tax_rate);
            PricedLine {
                sku: product.sku.clone(),
                name: product.name.clone(),
                quantity: *quantity,
                unit_price: product.price,
                total,
                tax_class: product.tax_class,
                tax_rate,
                tax: share.in_gross(total),
            }
        })
        .collect();

    let subtotal = Money::sum(currency, lines.iter().map(|l| &l.total));
    let shipping = settings.shipping.cost_for(subtotal, !lines.is_empty());
    let shipping_rate = settings.tax_rates.rate(TaxClass::Standard);
    let shipping_tax = tax_in_gross(shipping, shipping_rate);
    let totals = totals_of(
        currency,
        lines.iter().map(|l| Charge {
            rate: l.tax_rate,
            gross: l.total,
            tax: l.tax,
            discount: Money::zero(currency),
            adjustment: Money::zero(currency),
        }),
        Charge {
            rate: shipping_rate,
            gross: shipping,
            tax: shipping_tax,
            discount: Money::zero(currency),
            adjustment: Money::zero(currency),
        },
    );
    PricedCart {
        currency,
        subtotal: totals.subtotal,
        shipping: totals.shipping,
        shipping_tax_rate: shipping_rate,
        shipping_tax,
        tax: totals.tax,
        total: totals.total,
        taxes: totals.taxes,
        lines,
    }
}

/// What one part of an order charges: its gross amount and the VAT in it,
/// at one rate. A line charges its price less its share of discounts
/// (`discount`), with its share of adjustments (`adjustment`); `gross`
/// includes both.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Charge {
    pub rate: Decimal,
    pub gross: Money,
    pub tax: Money,
    pub discount: Money,
    pub adjustment: Money,
}

/// The totals of a cart or an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderTotals {
    /// The goods, before discounts and adjustments.
    pub subtotal: Money,
    /// Discounts on goods and shipping together (a positive amount, taken
    /// off the total).
    pub discounts: Money,
    /// Shipping, before discounts and adjustments.
    pub shipping: Money,
    /// Goodwill adjustments (signed), on goods and shipping together.
    pub adjustments: Money,
    pub tax: Money,
    pub total: Money,
    pub taxes: Vec<TaxLine>,
}

/// Adds up what the goods and the shipping charge: the one place a cart's
/// and an order's totals come from, so that an order always totals what
/// its checkout charged.
pub fn totals_of(
    currency: Currency,
    goods: impl IntoIterator<Item = Charge>,
    shipping: Charge,
) -> OrderTotals {
    let goods: Vec<Charge> = goods.into_iter().collect();
    let listed = |c: &Charge| c.gross + c.discount - c.adjustment;
    let subtotal = Money::sum(currency, goods.iter().map(|c| &c.gross))
        + Money::sum(currency, goods.iter().map(|c| &c.discount))
        - Money::sum(currency, goods.iter().map(|c| &c.adjustment));
    let discounts = Money::sum(
        currency,
        goods.iter().chain([&shipping]).map(|c| &c.discount),
    );
    let adjustments = Money::sum(
        currency,
        goods.iter().chain([&shipping]).map(|c| &c.adjustment),
    );
    let taxes = tax_breakdown(
        currency,
        goods
            .iter()
            .chain((!shipping.gross.is_zero()).then_some(&shipping))
            .map(|c| (c.rate, c.gross, c.tax)),
    );
    let tax = Money::sum(currency, taxes.iter().map(|t| &t.tax));
    OrderTotals {
        subtotal,
        discounts,
        shipping: listed(&shipping),
        adjustments,
        tax,
        total: subtotal - discounts + listed(&shipping) + adjustments,
        taxes,
    }
}

/// Groups (rate, gross, tax) triples into one row per rate, highest rate first.
pub fn tax_breakdown(
    currency: Currency,
    parts: impl IntoIterator<Item = (Decimal, Money, Money)>,
) -> Vec<TaxLine> {
    let mut by_rate: BTreeMap<Decimal, (Money, Money)> = BTreeMap::new();
    for (rate, gross, tax) in parts {
        let entry = by_rate
            .entry(rate.normalize())
            .or_insert((Money::zero(currency), Money::zero(currency)));
        entry.0 = entry.0 + gross;
        entry.1 = entry.1 + tax;
    }
    by_rate
        .into_iter()
        .rev()
        .map(|(rate, (gross, tax))| TaxLine {
            rate,
            net: (gross - tax).rounded(),
            tax: tax.rounded(),
            gross: gross.rounded(),
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use rust_decimal_macros::dec;

    pub fn settings() -> PricingSettings {
        PricingSettings {
            currency: Currency::Eur,
            tax_rates: TaxRates {
                standard: dec!(19),
                reduced: dec!(7),
            },
            shipping: ShippingPolicy {
                flat_rate: Money::new(dec!(4.95), Currency::Eur),
                free_from: Some(Money::new(dec!(50), Currency::Eur)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::settings;
    use super::*;
    use crate::product::fixtures::product;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn q(n: u32) -> Quantity {
        Quantity::new(n).unwrap()
    }

    #[test]
    fn prices_a_small_cart_with_shipping() {
        let trousers = product("TR", "19.99", 10, false);
        let mut socks = product("SO", "4.99", 10, false);
        socks.tax_class = TaxClass::Reduced;
        let cart = price_cart(&[(&trousers, q(1)), (&socks, q(2))], &settings());
        assert_eq!(cart.subtotal.amount(), dec!(29.97));
        assert_eq!(cart.shipping.amount(), dec!(4.95));
        assert_eq!(cart.total.amount(), dec!(34.92));
        // 19.99 at 19 % holds 3.19; shipping 4.95 holds 0.79; 9.98 at 7 % holds 0.65.
        assert_eq!(cart.taxes.len(), 2);
        assert_eq!(cart.taxes[0].rate, dec!(19));
        assert_eq!(cart.taxes[0].tax.amount(), dec!(3.98));
        assert_eq!(cart.taxes[1].rate, dec!(7));
        assert_eq!(cart.taxes[1].tax.amount(), dec!(0.65));
        assert_eq!(cart.tax.amount(), dec!(4.63));
    }

    #[test]
    fn shipping_is_free_from_the_threshold() {
        let jacket = product("JA", "50.00", 10, false);
        let cart = price_cart(&[(&jacket, q(1))], &settings());
        assert!(cart.shipping.is_zero());
        assert_eq!(cart.total.amount(), dec!(50.00));
    }

    #[test]
    fn empty_cart_costs_nothing() {
        let cart = price_cart(&[], &settings());
        assert!(cart.total.is_zero());
        assert!(cart.taxes.is_empty());
    }

    #[test]
    fn tax_is_rounded_per_line_not_on_the_sum() {
        // Each 0.05 line holds 0.00798… of VAT, rounded to 0.01; the sum of
        // three lines is 0.03, whereas rounding the sum (0.15) would give 0.02.
        let a = product("A", "0.05", 10, false);
        let b = product("B", "0.05", 10, false);
        let c = product("C", "0.05", 10, false);
        let cart = price_cart(&[(&a, q(1)), (&b, q(1)), (&c, q(1))], &settings());
        let goods_tax: Decimal = cart.lines.iter().map(|l| l.tax.amount()).sum();
        assert_eq!(goods_tax, dec!(0.03));
    }

    fn arb_cart() -> impl Strategy<Value = Vec<(Product, Quantity)>> {
        prop::collection::vec((1u32..=500_000u32, 1u32..=999u32, any::<bool>()), 0..8).prop_map(
            |rows| {
                rows.into_iter()
                    .enumerate()
                    .map(|(i, (cents, qty, reduced))| {
                        let mut p = product(&format!("P{i}"), "0", 0, true);
                        p.price = Money::new(Decimal::new(cents.into(), 2), Currency::Eur);
                        if reduced {
                            p.tax_class = TaxClass::Reduced;
                        }
                        (p, Quantity::new(qty).unwrap())
                    })
                    .collect()
            },
        )
    }

    proptest! {
        #[test]
        fn totals_add_up(cart in arb_cart()) {
            let items: Vec<(&Product, Quantity)> = cart.iter().map(|(p, q)| (p, *q)).collect();
            let priced = price_cart(&items, &settings());

            // total = lines + shipping
            let lines: Decimal = priced.lines.iter().map(|l| l.total.amount()).sum();
            prop_assert_eq!(priced.subtotal.amount(), lines);
            prop_assert_eq!(priced.total.amount(), lines + priced.shipping.amount());

            // per-rate taxes add up to the order's tax, and to the line taxes
            let by_rate: Decimal = priced.taxes.iter().map(|t| t.tax.amount()).sum();
            prop_assert_eq!(priced.tax.amount(), by_rate);
            let line_taxes: Decimal = priced.lines.iter().map(|l| l.tax.amount()).sum();
            prop_assert_eq!(by_rate, line_taxes + priced.shipping_tax.amount());

            // each rate's net and tax make its gross; the grosses make the total
            for row in &priced.taxes {
                prop_assert_eq!(row.net.amount() + row.tax.amount(), row.gross.amount());
            }
            let gross: Decimal = priced.taxes.iter().map(|t| t.gross.amount()).sum();
            prop_assert_eq!(gross, priced.total.amount());

            // per-line rounding: every figure is in cents, each line's tax is
            // its own gross share, at the rate its product's class has in
            // Germany (19 % or 7 %, fixed here, not read back from the
            // output), rounded half away from zero
            for (line, (product, quantity)) in priced.lines.iter().zip(&cart) {
                let rate = match product.tax_class {
                    TaxClass::Standard => dec!(19),
                    TaxClass::Reduced => dec!(7),
                };
                prop_assert_eq!(line.tax_rate, rate);
                let gross = product.price.amount() * Decimal::from(quantity.get());
                prop_assert_eq!(line.total.amount(), gross);
                prop_assert!(line.tax.is_in_minor_units());
                let exact = gross * rate / (Decimal::ONE_HUNDRED + rate);
                prop_assert!((exact - line.tax.amount()).abs() <= dec!(0.005));
            }

            // nothing is negative
            prop_assert!(!priced.total.is_negative());
            prop_assert!(!priced.tax.is_negative());
            prop_assert!(priced.tax.amount() <= priced.total.amount());
        }
    }
}
