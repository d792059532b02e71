//! Money: a decimal amount in one currency.
//!
//! Amounts are `rust_decimal` values, never floats. Arithmetic keeps full
//! precision; rounding to the currency's minor unit happens where the business
//! rules say (per line, half away from zero) through [`Money::rounded`].

use std::fmt;
use std::ops::{Add, Neg, Sub};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// The currencies a shop can sell in. Each knows its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    #[default]
    Eur,
    Chf,
}

impl Currency {
    /// Digits after the decimal point in this currency's smallest coin.
    pub fn minor_unit_digits(self) -> u32 {
        match self {
            Currency::Eur | Currency::Chf => 2,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Currency::Eur => "EUR",
            Currency::Chf => "CHF",
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of money. Adding or subtracting amounts of different currencies
/// is a programming error (a shop prices everything in its one currency), so
/// those operators assert rather than return a `Result` on every line of
/// arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
    currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// Zero, written with the currency's minor digits (`0.00`).
    pub fn zero(currency: Currency) -> Self {
        Self::new(Decimal::new(0, currency.minor_unit_digits()), currency)
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// Rounded to the currency's minor unit, half away from zero, as German
    /// commercial rounding (and most tax offices) expect.
    pub fn rounded(self) -> Self {
        Self::new(
            round_to_minor_unit(self.amount, self.currency),
            self.currency,
        )
    }

    /// Multiplies by a whole number of units; exact, since unit prices are
    /// already in minor units.
    pub fn times(self, units: u32) -> Self {
        Self::new(self.amount * Decimal::from(units), self.currency)
    }

    /// Multiplies by a decimal factor without rounding.
    pub fn scaled(self, factor: Decimal) -> Self {
        Self::new(self.amount * factor, self.currency)
    }

    /// True when the amount has no more digits than the currency's minor unit.
    pub fn is_in_minor_units(&self) -> bool {
        self.amount == round_to_minor_unit(self.amount, self.currency)
    }

    fn assert_same_currency(&self, other: &Money) {
        assert_eq!(
            self.currency, other.currency,
            "money of different currencies cannot be combined"
        );
    }
}

/// Rounds half away from zero to the currency's minor unit and normalises the
/// scale, so that `19.9` is shown as `19.90`.
pub fn round_to_minor_unit(amount: Decimal, currency: Currency) -> Decimal {
    let digits = currency.minor_unit_digits();
    let mut rounded = amount.round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(digits);
    rounded
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        self.assert_same_currency(&rhs);
        Money::new(self.amount + rhs.amount, self.currency)
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        self.assert_same_currency(&rhs);
        Money::new(self.amount - rhs.amount, self.currency)
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money::new(-self.amount, self.currency)
    }
}

impl Money {
    /// Sums amounts of one currency; the empty sum is zero in `currency`.
    pub fn sum<'a>(currency: Currency, items: impl IntoIterator<Item = &'a Money>) -> Money {
        items
            .into_iter()
            .fold(Money::zero(currency), |acc, m| acc + *m)
    }
}

impl Money {
    /// Splits this amount (in minor units) over parts in proportion to
    /// their weights, by largest remainder: the shares are in minor units,
    /// add up to the amount exactly, and none is further from its exact
    /// share than one minor unit. Ties go to the earlier part. `None` when
    /// the weights add up to nothing (or are negative), or the amount is
    /// too large to split.
    pub fn split(self, weights: &[Decimal]) -> Option<Vec<Money>> {
        if weights.iter().any(|w| w.is_sign_negative() && !w.is_zero()) {
            return None;
        }
        // In whole numbers when everything fits (it does for any amount a
        // shop charges): exact, and without a decimal division per part.
        match self.split_in_integers(weights) {
            Some(shares) => shares,
            None => self.split_in_decimals(weights),
        }
    }

    /// [`Money::split`] in decimals, for figures beyond `i128`.
    fn split_in_decimals(self, weights: &[Decimal]) -> Option<Vec<Money>> {
        let digits = self.currency.minor_unit_digits();
        let scale = Decimal::from(10u32.pow(digits));
        let minor = self.rounded().amount.checked_mul(scale)?;
        let whole = minor.abs();
        let total: Decimal = weights
            .iter()
            .try_fold(Decimal::ZERO, |sum, w| sum.checked_add(*w))?;
        if total.is_zero() {
            return None;
        }
        let mut shares = Vec::with_capacity(weights.len());
        let mut remainders = Vec::with_capacity(weights.len());
        for (index, weight) in weights.iter().enumerate() {
            let exact = whole.checked_mul(*weight)?.checked_div(total)?;
            let floor = exact.trunc();
            shares.push(floor);
            remainders.push((exact - floor, index));
        }
        let handed_out: Decimal = shares.iter().sum();
        let mut left = (whole - handed_out).trunc();
        // Largest remainder first; among equals, the earlier part.
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, index) in remainders {
            if left <= Decimal::ZERO {
                break;
            }
            shares[index] += Decimal::ONE;
            left -= Decimal::ONE;
        }
        let sign = if minor.is_sign_negative() {
            -Decimal::ONE
        } else {
            Decimal::ONE
        };
        Some(
            shares
                .into_iter()
                .map(|share| {
                    let mut amount = share * sign / scale;
                    amount.rescale(digits);
                    Money::new(amount, self.currency)
                })
                .collect(),
        )
    }

    /// [`Money::split`] in `i128`: the amount in minor units and the
    /// weights at one scale. `None` when a figure does not fit (the caller
    /// splits in decimals then); `Some(None)` when the weights add up to
    /// nothing.
    fn split_in_integers(self, weights: &[Decimal]) -> Option<Option<Vec<Money>>> {
        let digits = self.currency.minor_unit_digits();
        let minor = self.rounded().amount;
        let whole = minor.mantissa().checked_abs()?;
        let scale = weights.iter().map(Decimal::scale).max().unwrap_or(0);
        let mut ints = Vec::with_capacity(weights.len());
        for weight in weights {
            let up = 10i128.checked_pow(scale - weight.scale())?;
            ints.push(weight.mantissa().checked_mul(up)?);
        }
        let total = ints.iter().try_fold(0i128, |sum, w| sum.checked_add(*w))?;
        if total == 0 {
            return Some(None);
        }
        let mut shares = Vec::with_capacity(ints.len());
        let mut remainders = Vec::with_capacity(ints.len());
        for (index, weight) in ints.iter().enumerate() {
            let exact = whole.checked_mul(*weight)?;
            shares.push(exact / total);
            remainders.push((exact % total, index));
        }
        let mut left = whole - shares.iter().sum::<i128>();
        // Largest remainder first; among equals, the earlier part.
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, index) in remainders {
            if left <= 0 {
                break;
            }
            shares[index] += 1;
            left -= 1;
        }
        let sign = if minor.is_sign_negative() { -1 } else { 1 };
        Some(Some(
            shares
                .into_iter()
                .map(|share| {
                    Money::new(
                        Decimal::from_i128_with_scale(share * sign, digits),
                        self.currency,
                    )
                })
                .collect(),
        ))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            round_to_minor_unit(self.amount, self.currency),
            self.currency
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounds_half_away_from_zero() {
        let cases = [
            (dec!(1.005), dec!(1.01)),
            (dec!(1.004), dec!(1.00)),
            (dec!(-1.005), dec!(-1.01)),
            (dec!(2.5), dec!(2.50)),
            (dec!(0.125), dec!(0.13)),
        ];
        for (input, expected) in cases {
            let rounded = Money::new(input, Currency::Eur).rounded();
            assert_eq!(rounded.amount(), expected, "rounding {input}");
        }
    }

    #[test]
    fn rounded_amounts_show_two_digits() {
        assert_eq!(
            Money::new(dec!(19.9), Currency::Eur)
                .rounded()
                .amount()
                .to_string(),
            "19.90"
        );
    }

    fn eur(amount: &str) -> Money {
        Money::new(amount.parse().unwrap(), Currency::Eur)
    }

    #[test]
    fn splits_by_largest_remainder() {
        let shares = eur("-10.00").split(&[dec!(1), dec!(1), dec!(1)]).unwrap();
        let amounts: Vec<String> = shares.iter().map(|m| m.amount().to_string()).collect();
        assert_eq!(amounts, ["-3.34", "-3.33", "-3.33"]);
        assert!(eur("1").split(&[Decimal::ZERO]).is_none());
        assert!(eur("1").split(&[]).is_none());
        assert!(eur("1").split(&[dec!(-1), dec!(2)]).is_none());
    }

    proptest::proptest! {
        #[test]
        fn integers_split_as_decimals_do(
            cents in -10_000_000_000_i64..10_000_000_000,
            weights in proptest::collection::vec((0u64..10_000_000_000, 0u32..4), 1..12),
        ) {
            let amount = Money::new(Decimal::new(cents, 2), Currency::Eur);
            let weights: Vec<Decimal> = weights.iter().map(|(m, s)| Decimal::new(*m as i64, *s)).collect();
            let fast = amount.split_in_integers(&weights).expect("these fit");
            proptest::prop_assert_eq!(fast, amount.split_in_decimals(&weights));
        }

        #[test]
        fn shares_add_up_and_stay_close(
            cents in -10_000_000_000i64..10_000_000_000,
            weights in proptest::collection::vec(0u64..10_000_000_000, 1..12),
        ) {
            let amount = Money::new(Decimal::new(cents, 2), Currency::Eur);
            let weights: Vec<Decimal> = weights.into_iter().map(Decimal::from).collect();
            let total: Decimal = weights.iter().sum();
            match amount.split(&weights) {
                None => proptest::prop_assert!(total.is_zero()),
                Some(shares) => {
                    let sum: Decimal = shares.iter().map(|s| s.amount()).sum();
                    proptest::prop_assert_eq!(sum, amount.amount());
                    for (share, weight) in shares.iter().zip(&weights) {
                        proptest::prop_assert!(share.is_in_minor_units());
                        let exact = amount.amount() * weight / total;
                        proptest::prop_assert!((share.amount() - exact).abs() < dec!(0.01));
                        // A share never has the other sign, nor exceeds its part.
                        proptest::prop_assert!(share.amount().is_zero() || share.amount().is_sign_negative() == amount.amount().is_sign_negative());
                    }
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "different currencies")]
    fn refuses_to_add_different_currencies() {
        let _ = Money::new(dec!(1), Currency::Eur) + Money::new(dec!(1), Currency::Chf);
    }
}
