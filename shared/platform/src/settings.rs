//! The shop's settings. One shop per deployment; values come from the
//! environment or the defaults of a German clothing shop.

use kontor_domain::money::{Currency, Money};
use kontor_domain::pricing::{PricingSettings, ShippingPolicy};
use kontor_domain::tax::TaxTable;
use kontor_domain::CountryCode;
use rust_decimal::Decimal;

#[derive(Debug, Clone)]
pub struct ShopSettings {
    pub name: String,
    pub country: CountryCode,
    pub pricing: PricingSettings,
}

impl Default for ShopSettings {
    fn default() -> Self {
        let country = CountryCode::parse("DE").expect("static country");
        let tax_rates = TaxTable::default()
            .rates_for(&country)
            .expect("Germany is in the tax table");
        let currency = Currency::Eur;
        Self {
            name: "Kontor Demo Shop".into(),
            country,
            pricing: PricingSettings {
                currency,
                tax_rates,
                shipping: ShippingPolicy {
                    flat_rate: Money::new(Decimal::new(495, 2), currency),
                    free_from: Some(Money::new(Decimal::new(5000, 2), currency)),
                },
            },
        }
    }
}
