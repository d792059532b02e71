//! VAT: tax classes, the rates of a country, and the tax inside a gross amount.
//!
//! Prices are gross (VAT included), as German shops show them. The tax in a
//! gross amount is `gross × rate / (100 + rate)`, rounded per line.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::types::CountryCode;

/// Which of a country's VAT rates applies to a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxClass {
    Standard,
    Reduced,
}

/// A country's VAT rates, in percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRates {
    #[serde(with = "rust_decimal::serde::str")]
    pub standard: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub reduced: Decimal,
}

impl TaxRates {
    pub fn rate(&self, class: TaxClass) -> Decimal {
        match class {
            TaxClass::Standard => self.standard,
            TaxClass::Reduced => self.reduced,
        }
    }
}

/// VAT rates by country. Germany is the default; other countries are rows
/// in this table, so a shop based elsewhere only changes its settings.
#[derive(Debug, Clone)]
pub struct TaxTable {
    rates: BTreeMap<String, TaxRates>,
}

impl Default for TaxTable {
    fn default() -> Self {
        let rows = [
            ("DE", "19", "7"),
            ("AT", "20", "10"),
            ("NL", "21", "9"),
            ("FR", "20", "5.5"),
            ("BE", "21", "6"),
            ("CH", "8.1", "2.6"),
        ];
        let rates = rows
            .into_iter()
            .map(|(country, standard, reduced)| {
                let rates = TaxRates {
                    standard: standard.parse().expect("static rate"),
                    reduced: reduced.parse().expect("static rate"),
                };
                (country.to_string(), rates)
            })
            .collect();
        Self { rates }
    }
}

impl TaxTable {
    pub fn rates_for(&self, country: &CountryCode) -> Option<TaxRates> {
        self.rates.get(country.as_str()).copied()
    }
}

/// The VAT contained in a gross amount at `rate_percent`, rounded to the
/// currency's minor unit.
pub fn tax_in_gross(gross: Money, rate_percent: Decimal) -> Money {
    TaxShare::of(rate_percent).in_gross(gross)
}

/// The share of a gross amount that is VAT at one rate (`rate / (100 +
/// rate)`), worked out once for the many lines priced at that rate: a
/// decimal division is the dearest step of pricing a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaxShare {
    rate: Decimal,
    share: Decimal,
}

impl TaxShare {
    pub fn of(rate_percent: Decimal) -> Self {
        Self {
            rate: rate_percent,
            share: rate_percent / (Decimal::ONE_HUNDRED + rate_percent),
        }
    }

    /// The VAT contained in `gross`, rounded to the minor unit: exactly
    /// what [`tax_in_gross`] answers for this rate.
    pub fn in_gross(&self, gross: Money) -> Money {
        gross.scaled(self.share).rounded()
    }

    /// The share at `rate_percent`, from `known` or worked out and kept.
    pub fn for_rate(known: &mut Vec<TaxShare>, rate_percent: Decimal) -> TaxShare {
        if let Some(found) = known.iter().find(|s| s.rate == rate_percent) {
            return *found;
        }
        let share = TaxShare::of(rate_percent);
        known.push(share);
        share
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use rust_decimal_macros::dec;

    #[test]
    fn tax_in_gross_prices() {
        let cases = [
            (dec!(119.00), dec!(19), dec!(19.00)),
            (dec!(10.70), dec!(7), dec!(0.70)),
            (dec!(59.90), dec!(19), dec!(9.56)),
            (dec!(0.01), dec!(19), dec!(0.00)),
            (dec!(4.95), dec!(19), dec!(0.79)),
        ];
        for (gross, rate, tax) in cases {
            let got = tax_in_gross(Money::new(gross, Currency::Eur), rate);
            assert_eq!(got.amount(), tax, "tax in {gross} at {rate}%");
        }
    }

    #[test]
    fn germany_is_in_the_table() {
        let de = TaxTable::default()
            .rates_for(&CountryCode::parse("DE").unwrap())
            .unwrap();
        assert_eq!(de.standard, dec!(19));
        assert_eq!(de.reduced, dec!(7));
    }
}
