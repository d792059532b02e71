//! Goodwill adjustments: how a signed amount staff grant (or charge) is
//! split over an order's tax rates, and spread over its lines and shipping.
//!
//! An adjustment is split once, when it is made, over the tax rates in
//! proportion to what the order charges at each rate (shipping included),
//! so that each rate's VAT falls with its share. Each rate's part is then
//! spread over the parts at that rate in proportion to their price, by
//! largest remainder; the spreading is derived again whenever the lines
//! change, so a removed line's share moves to the lines that remain and a
//! later refund starts from what each unit really cost.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::money::Money;
use crate::order::{Order, RateAmount};

/// The price of each part before adjustments, with its rate: the lines in
/// order, then shipping.
fn parts(order: &Order) -> Vec<(Decimal, Money)> {
    order
        .lines
        .iter()
        .map(|l| (l.tax_rate.normalize(), l.total - l.discount))
        .chain(std::iter::once((
            order.shipping.tax_rate.normalize(),
            order.shipping.amount,
        )))
        .collect()
}

/// Splits `amount` over the order's tax rates in proportion to what the
/// order charges at each rate now, highest rate first; `None` when the
/// order charges nothing to split over.
pub fn split_by_rate(order: &Order, amount: Money) -> Option<Vec<RateAmount>> {
    let mut by_rate: BTreeMap<Decimal, Decimal> = BTreeMap::new();
    for (rate, price) in parts(order) {
        *by_rate.entry(rate).or_default() += price.amount().max(Decimal::ZERO);
    }
    let rates: Vec<(Decimal, Decimal)> = by_rate.into_iter().rev().collect();
    let weights: Vec<Decimal> = rates.iter().map(|(_, w)| *w).collect();
    let shares = amount.split(&weights)?;
    Some(
        rates
            .into_iter()
            .zip(shares)
            .filter(|(_, share)| !share.is_zero())
            .map(|((rate, _), amount)| RateAmount { rate, amount })
            .collect(),
    )
}

/// Sets every line's and the shipping's adjustment share from the order's
/// adjustments.
pub(crate) fn allocate(order: &mut Order) {
    let parts = parts(order);
    let zero = Money::zero(order.currency);
    let mut shares = vec![zero; parts.len()];
    let prices = |keep: &dyn Fn(Decimal) -> bool| -> Vec<Decimal> {
        parts
            .iter()
            .map(|(rate, price)| {
                if keep(*rate) {
                    price.amount().max(Decimal::ZERO)
                } else {
                    Decimal::ZERO
                }
            })
            .collect()
    };
    for adjustment in &order.adjustments {
        for part in &adjustment.by_rate {
            let rate = part.rate.normalize();
            // At its own rate where the order still charges something at
            // it; else over everything the order charges; else (an order
            // that charges nothing at all) on shipping.
            let spread = part
                .amount
                .split(&prices(&|r| r == rate))
                .or_else(|| part.amount.split(&prices(&|_| true)))
                .unwrap_or_else(|| {
                    let mut only_shipping = vec![zero; parts.len()];
                    if let Some(last) = only_shipping.last_mut() {
                        *last = part.amount;
                    }
                    only_shipping
                });
            for (share, add) in shares.iter_mut().zip(spread) {
                *share = *share + add;
            }
        }
    }
    let shipping_share = shares.pop().unwrap_or(zero);
    for (line, share) in order.lines.iter_mut().zip(shares) {
        line.adjustment = share;
    }
    order.shipping.adjustment = shipping_share;
}
