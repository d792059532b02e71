//! Fixtures with sensible defaults, so a test names only what it is about.

use std::sync::Arc;

use kontor_domain::money::{Currency, Money};
use kontor_domain::product::Product;
use kontor_domain::tax::TaxClass;
use kontor_domain::Sku;
use kontor_http::AppState;
use kontor_platform::{FixedClock, SequentialIds, ShopSettings, Store};
use kontor_store_sqlite::SqliteStore;
use rust_decimal::Decimal;
use time::macros::datetime;

/// A product priced in euros with no links.
pub fn product(sku: &str, price: &str, stock: u32, allow_backorder: bool) -> Product {
    Product {
        sku: Sku::parse(sku).expect("fixture sku"),
        name: format!("Product {sku}"),
        description: format!("Description of {sku}"),
        category: "trousers".into(),
        price: Money::new(
            price.parse::<Decimal>().expect("fixture price"),
            Currency::Eur,
        ),
        tax_class: TaxClass::Standard,
        stock,
        allow_backorder,
        cross_sell: vec![],
        checkout_sell: vec![],
        image: None,
        version: 0,
    }
}

/// Parses a list of skus.
pub fn skus(list: &[&str]) -> Vec<Sku> {
    list.iter()
        .map(|s| Sku::parse(s).expect("fixture sku"))
        .collect()
}

/// A checkout body for the given lines.
pub fn checkout_body(lines: &[(&str, u32)]) -> serde_json::Value {
    serde_json::json!({
        "lines": lines.iter().map(|(sku, quantity)| serde_json::json!({"sku": sku, "quantity": quantity})).collect::<Vec<_>>(),
        "email": "anna@example.de",
        "shipping_address": {
            "name": "Anna Muster", "street": "Hauptstraße 1", "postal_code": "10115",
            "city": "Berlin", "country": "DE"
        },
        "payment_method": "invoice"
    })
}

/// Handler state over the given store, with a fixed clock and sequential ids.
pub fn state_over(store: Arc<dyn Store>) -> AppState {
    AppState {
        store,
        clock: Arc::new(FixedClock::new(datetime!(2026-11-28 10:00 UTC))),
        ids: Arc::new(SequentialIds::default()),
        settings: Arc::new(ShopSettings::default()),
        payments: Arc::new(kontor_platform::OfflinePayments),
        promotions: Default::default(),
    }
}

/// Handler state over a fresh in-memory SQLite store holding `products`.
pub async fn state_with(products: &[Product]) -> AppState {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().expect("in-memory store"));
    for product in products {
        store
            .put_product(product, None)
            .await
            .expect("seed product");
    }
    state_over(store)
}

/// The `n`-th of a series of valid DHL tracking numbers: `00`, seventeen
/// digits from `n`, and the GS1 check digit, as on a DHL label.
pub fn dhl_number(n: u64) -> String {
    let body = format!("34043416{:09}", n % 1_000_000_000);
    let check = kontor_domain::carrier::numbers::gs1_check_digit(body.as_bytes());
    format!("00{body}{check}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dhl_numbers_are_valid_and_distinct() {
        use kontor_domain::shipment::{Carrier, TrackingNumber};
        let first = super::dhl_number(1);
        assert_ne!(first, super::dhl_number(2));
        for n in [0, 1, 2, 999_999_999] {
            let number = TrackingNumber::parse(&super::dhl_number(n)).unwrap();
            assert!(Carrier::Dhl.check_number(&number).is_ok(), "{number}");
        }
    }
}
