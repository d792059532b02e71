//! The demo catalog a fresh data folder starts with: a small clothing shop
//! (trousers, belts, shirts, socks, jackets and care products) with
//! cross-sell and checkout-sell links, a few products low on stock and a few
//! that take backorders, so every workflow can be tried at once; and a few
//! discounts that show each kind the rule builder makes.

use kontor_domain::money::Money;
use kontor_domain::product::Product;
use kontor_domain::promotions::PromotionsDocument;
use kontor_domain::tax::TaxClass;
use kontor_domain::Sku;
use kontor_platform::settings::save_setting;
use kontor_platform::{ProductQuery, ShopSettings, Store, StoreError};
use rust_decimal::Decimal;

struct Row {
    sku: &'static str,
    name: &'static str,
    category: &'static str,
    price: &'static str,
    tax: TaxClass,
    stock: u32,
    backorder: bool,
    cross_sell: &'static [&'static str],
    checkout_sell: &'static [&'static str],
    description: &'static str,
}

const CATALOG: &[Row] = &[
    Row { sku: "TR-CHINO-BEIGE", name: "Chino, beige", category: "trousers", price: "59.90", tax: TaxClass::Standard, stock: 25, backorder: false,
          cross_sell: &["BE-LEATHER-BROWN", "SH-OXFORD-WHITE"], checkout_sell: &["SO-COTTON-3PK", "BE-LEATHER-BROWN"],
          description: "Slim chino in heavy cotton twill with a little stretch." },
    Row { sku: "TR-CHINO-NAVY", name: "Chino, navy", category: "trousers", price: "59.90", tax: TaxClass::Standard, stock: 3, backorder: false,
          cross_sell: &["BE-CANVAS-NAVY", "SH-OXFORD-BLUE"], checkout_sell: &["SO-COTTON-3PK"],
          description: "The navy chino; only a few left in this run." },
    Row { sku: "TR-JEANS-INDIGO", name: "Selvedge jeans, indigo", category: "trousers", price: "89.00", tax: TaxClass::Standard, stock: 0, backorder: true,
          cross_sell: &["BE-LEATHER-BLACK", "JA-DENIM-BLUE"], checkout_sell: &["SO-COTTON-3PK"],
          description: "Raw selvedge denim, 14 oz. The next delivery is on its way: order now, we ship when it arrives." },
    Row { sku: "TR-CORD-OLIVE", name: "Corduroy trousers, olive", category: "trousers", price: "69.00", tax: TaxClass::Standard, stock: 8, backorder: false,
          cross_sell: &["SH-FLANNEL-RED", "BE-LEATHER-BROWN"], checkout_sell: &["SO-WOOL-HIKING"],
          description: "Fine-wale corduroy for autumn and winter." },
    Row { sku: "BE-LEATHER-BROWN", name: "Leather belt, brown", category: "belts", price: "34.90", tax: TaxClass::Standard, stock: 40, backorder: false,
          cross_sell: &["TR-CHINO-BEIGE", "TR-CORD-OLIVE"], checkout_sell: &["CA-LEATHER-BALM"],
          description: "Full-grain vegetable-tanned leather with a brass buckle." },
    Row { sku: "BE-LEATHER-BLACK", name: "Leather belt, black", category: "belts", price: "34.90", tax: TaxClass::Standard, stock: 2, backorder: false,
          cross_sell: &["TR-JEANS-INDIGO"], checkout_sell: &["CA-LEATHER-BALM"],
          description: "Black full-grain leather, matt steel buckle." },
    Row { sku: "BE-CANVAS-NAVY", name: "Canvas belt, navy", category: "belts", price: "19.90", tax: TaxClass::Standard, stock: 15, backorder: false,
          cross_sell: &["TR-CHINO-NAVY"], checkout_sell: &[],
          description: "Woven cotton canvas with leather tips." },
    Row { sku: "SH-OXFORD-WHITE", name: "Oxford shirt, white", category: "shirts", price: "49.90", tax: TaxClass::Standard, stock: 30, backorder: false,
          cross_sell: &["TR-CHINO-BEIGE", "JA-WAX-OLIVE"], checkout_sell: &["SO-COTTON-3PK"],
          description: "Button-down collar, soft Oxford cloth." },
    Row { sku: "SH-OXFORD-BLUE", name: "Oxford shirt, blue", category: "shirts", price: "49.90", tax: TaxClass::Standard, stock: 12, backorder: false,
          cross_sell: &["TR-CHINO-NAVY"], checkout_sell: &["SO-COTTON-3PK"],
          description: "The classic light blue Oxford." },
    Row { sku: "SH-FLANNEL-RED", name: "Flannel shirt, red check", category: "shirts", price: "54.90", tax: TaxClass::Standard, stock: 0, backorder: true,
          cross_sell: &["TR-CORD-OLIVE", "JA-WAX-OLIVE"], checkout_sell: &["SO-WOOL-HIKING"],
          description: "Brushed cotton flannel. Back in stock soon; orders ship as it arrives." },
    Row { sku: "SO-COTTON-3PK", name: "Cotton socks, 3 pairs", category: "socks", price: "14.90", tax: TaxClass::Standard, stock: 100, backorder: false,
          cross_sell: &["SO-WOOL-HIKING"], checkout_sell: &[],
          description: "Combed cotton, reinforced heel and toe." },
    Row { sku: "SO-WOOL-HIKING", name: "Wool hiking socks", category: "socks", price: "19.90", tax: TaxClass::Standard, stock: 4, backorder: false,
          cross_sell: &["SO-COTTON-3PK"], checkout_sell: &[],
          description: "Merino blend, cushioned sole." },
    Row { sku: "JA-WAX-OLIVE", name: "Waxed jacket, olive", category: "jackets", price: "189.00", tax: TaxClass::Standard, stock: 5, backorder: false,
          cross_sell: &["SH-FLANNEL-RED", "TR-CORD-OLIVE"], checkout_sell: &["CA-WAX-TIN"],
          description: "Waxed cotton, corduroy collar, tartan lining." },
    Row { sku: "JA-DENIM-BLUE", name: "Denim jacket", category: "jackets", price: "119.00", tax: TaxClass::Standard, stock: 0, backorder: true,
          cross_sell: &["TR-JEANS-INDIGO"], checkout_sell: &[],
          description: "Rinsed denim trucker jacket. Backordered: ships with the next delivery." },
    Row { sku: "JA-RAIN-YELLOW", name: "Rain jacket, yellow", category: "jackets", price: "99.00", tax: TaxClass::Standard, stock: 1, backorder: false,
          cross_sell: &["SO-WOOL-HIKING"], checkout_sell: &[],
          description: "Bonded cotton, fully taped seams. The last one." },
    Row { sku: "CA-WAX-TIN", name: "Wax dressing, 200 ml", category: "care", price: "12.90", tax: TaxClass::Standard, stock: 20, backorder: false,
          cross_sell: &["JA-WAX-OLIVE"], checkout_sell: &[],
          description: "Re-proofs waxed cotton once a year." },
    Row { sku: "CA-LEATHER-BALM", name: "Leather balm", category: "care", price: "9.90", tax: TaxClass::Standard, stock: 25, backorder: false,
          cross_sell: &["BE-LEATHER-BROWN"], checkout_sell: &[],
          description: "Beeswax balm for belts and shoes." },
    Row { sku: "CA-CARE-GUIDE", name: "The clothing care guide (book)", category: "care", price: "16.00", tax: TaxClass::Reduced, stock: 50, backorder: false,
          cross_sell: &["CA-WAX-TIN", "CA-LEATHER-BALM"], checkout_sell: &[],
          description: "A small book on washing, mending and storing clothes. Books carry the reduced VAT rate." },
];

/// The demo products, priced in the shop's currency.
pub fn demo_catalog(settings: &ShopSettings) -> Vec<Product> {
    let skus = |list: &[&str]| -> Vec<Sku> {
        list.iter()
            .map(|s| Sku::parse(s).expect("demo skus are valid"))
            .collect()
    };
    CATALOG
        .iter()
        .map(|row| Product {
            sku: Sku::parse(row.sku).expect("demo skus are valid"),
            name: row.name.into(),
            description: row.description.into(),
            category: row.category.into(),
            price: Money::new(
                row.price
                    .parse::<Decimal>()
                    .expect("demo prices are decimals"),
                settings.pricing.currency,
            ),
            tax_class: row.tax,
            stock: row.stock,
            allow_backorder: row.backorder,
            cross_sell: skus(row.cross_sell),
            checkout_sell: skus(row.checkout_sell),
            image: Some(format!("/images/{}.svg", row.sku.to_ascii_lowercase())),
            version: 0,
        })
        .collect()
}

/// The demo discounts: 10 % for new customers, free shipping to Austria,
/// coupon WINTER (5 € off from 50 € until the end of January, 500 uses,
/// one per customer), and free socks with two pairs of trousers for the
/// group `vip`.
pub fn demo_promotions() -> PromotionsDocument {
    let document = serde_json::json!({
        "rule_sets": [
            {"id": "new-customers", "name": "New customers", "version": 1,
             "rule": {"field": "customer.is_new", "op": "eq", "value": true}},
            {"id": "vip", "name": "VIP customers", "version": 1,
             "rule": {"field": "customer.groups", "op": "contains", "value": "vip"}}
        ],
        "discounts": [
            {"id": "welcome", "name": "10 % for new customers", "kind": "percent", "percent": "10",
             "requirement": {"rule_set": "new-customers"}, "priority": 10, "version": 1},
            {"id": "austria-ships-free", "name": "Free shipping to Austria", "kind": "free_shipping",
             "requirement": {"field": "shipping.country", "op": "eq", "value": "AT"}, "version": 1},
            {"id": "winter", "name": "Winter coupon: 5 € off", "kind": "fixed", "amount": "5.00",
             "coupon": "WINTER", "ends_at": "2027-01-31T23:59:59+01:00",
             "usage_limit": 500, "per_customer_limit": 1,
             "requirement": {"field": "cart.subtotal", "op": "gte", "value": "50.00"}, "version": 1},
            {"id": "vip-socks", "name": "Free socks with two trousers", "kind": "free_item",
             "sku": "SO-COTTON-3PK", "quantity": 1,
             "requirement": {"all": [
                 {"rule_set": "vip"},
                 {"field": "cart.categories", "op": "contains", "value": "trousers"},
                 {"field": "cart.quantity", "op": "gte", "value": 2}
             ]}, "version": 1}
        ],
        "offers": [
            {"id": "care-with-jackets", "sku": "CA-LEATHER-BALM", "priority": 1, "version": 1,
             "requirement": {"field": "cart.subtotal", "op": "gte", "value": "100.00"}}
        ]
    });
    serde_json::from_value(document).expect("the demo promotions are well formed")
}

/// Writes the demo catalog into an empty store, with the demo discounts
/// when `discounts`; a store with products is left as it is.
pub async fn seed_if_empty(
    store: &dyn Store,
    settings: &ShopSettings,
    discounts: bool,
) -> Result<(), StoreError> {
    if !store
        .list_products(&ProductQuery::default())
        .await?
        .is_empty()
    {
        return Ok(());
    }
    for product in demo_catalog(settings) {
        match store.put_product(&product, None).await {
            Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    tracing::info!(products = CATALOG.len(), "seeded the demo catalog");
    if discounts {
        match save_setting(store, &demo_promotions(), 0).await {
            Ok(_) | Err(StoreError::StaleVersion { .. }) => {}
            Err(error) => return Err(error),
        }
        tracing::info!("seeded the demo discounts");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_discounts_check_against_the_demo_catalog() {
        let settings = ShopSettings::default();
        let promotions = kontor_domain::promotions::Promotions::load(
            &demo_promotions(),
            settings.pricing.currency,
        )
        .expect("the demo promotions check");
        assert_eq!(promotions.discounts.len(), 4);
        let catalog = demo_catalog(&settings);
        for sku in promotions
            .gift_skus()
            .iter()
            .chain(promotions.offers.iter().map(|o| &o.sku))
        {
            assert!(
                catalog.iter().any(|p| &p.sku == sku),
                "{sku} is in the catalog"
            );
        }
    }

    #[test]
    fn links_point_at_products_of_the_catalog() {
        let catalog = demo_catalog(&ShopSettings::default());
        let known = |sku: &Sku| catalog.iter().any(|p| &p.sku == sku);
        for product in &catalog {
            for linked in product.cross_sell.iter().chain(&product.checkout_sell) {
                assert!(known(linked), "{} links to unknown {}", product.sku, linked);
                assert_ne!(linked, &product.sku, "{} links to itself", product.sku);
            }
        }
    }

    #[test]
    fn the_demo_shop_shows_every_situation() {
        let catalog = demo_catalog(&ShopSettings::default());
        let mut categories: Vec<&str> = catalog.iter().map(|p| p.category.as_str()).collect();
        categories.dedup();
        assert!(catalog.len() >= 12);
        assert!(categories.len() >= 4);
        assert!(catalog
            .iter()
            .any(|p| p.stock > 0 && p.stock <= 3 && !p.allow_backorder));
        assert!(catalog.iter().any(|p| p.allow_backorder));
        assert!(catalog.iter().any(|p| p.tax_class == TaxClass::Reduced));
    }
}
