//! Prices a 20-line cart against 200 discounts whose requirements nest four
//! levels deep (a third through named rule sets), as the cart page does on
//! every view: pricing, rule evaluation and the allocation of what applies.
//! `cargo bench -p kontor-domain --bench discounts`; the median goes into
//! docs/figures.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kontor_domain::money::{Currency, Money};
use kontor_domain::order::{discount_cart, CartFacts};
use kontor_domain::pricing::{price_cart, PricingSettings, ShippingPolicy};
use kontor_domain::product::Product;
use kontor_domain::promotions::{Promotions, PromotionsDocument};
use kontor_domain::rules::{CouponCode, CustomerFacts};
use kontor_domain::tax::{TaxClass, TaxRates};
use kontor_domain::{CountryCode, Email, Quantity, Sku};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use time::macros::datetime;

const CATEGORIES: [&str; 5] = ["trousers", "shirts", "socks", "belts", "jackets"];

fn catalog() -> Vec<Product> {
    (0..20)
        .map(|i| Product {
            sku: Sku::parse(&format!("P-{i:02}")).unwrap(),
            name: format!("Product {i}"),
            description: String::new(),
            category: CATEGORIES[i % 5].into(),
            price: Money::new(Decimal::new(1990 + 250 * i as i64, 2), Currency::Eur),
            tax_class: if i % 4 == 0 {
                TaxClass::Reduced
            } else {
                TaxClass::Standard
            },
            stock: 100,
            allow_backorder: false,
            cross_sell: vec![],
            checkout_sell: vec![],
            image: None,
            version: 1,
        })
        .collect()
}

/// A rule four levels deep, varied by `n`, so that some hold and most do not.
fn deep_rule(n: usize) -> Value {
    let country = ["DE", "AT", "CH", "NL"][n % 4];
    let group = ["vip", "wholesale", "staff"][n % 3];
    json!({"all": [
        {"any": [
            {"field": "shipping.country", "op": "in", "value": [country, "FR"]},
            {"not": {"field": "customer.groups", "op": "contains", "value": group}}
        ]},
        {"all": [
            {"field": "cart.subtotal", "op": "gte", "value": format!("{}.00", 50 + (n % 7) * 40)},
            {"any": [
                {"field": "cart.categories", "op": "contains", "value": CATEGORIES[n % 5]},
                {"field": "cart.quantity", "op": "gt", "value": (n % 30) as u64}
            ]}
        ]},
        {"field": "now", "op": "lt", "value": "2027-01-31T23:59:59+01:00"}
    ]})
}

fn promotions() -> Promotions {
    let rule_sets: Vec<Value> = (0..20)
        .map(|n| json!({"id": format!("set-{n}"), "name": format!("Set {n}"), "rule": deep_rule(n), "version": 1}))
        .collect();
    let discounts: Vec<Value> = (0..200)
        .map(|n| {
            let requirement = if n % 3 == 0 {
                json!({"rule_set": format!("set-{}", n % 20)})
            } else {
                deep_rule(n)
            };
            let mut discount = match n % 4 {
                0 => json!({"kind": "percent", "percent": format!("{}", 5 + n % 20)}),
                1 => json!({"kind": "fixed", "amount": format!("{}.00", 1 + n % 10), "applies_to": "categories", "categories": [CATEGORIES[n % 5]]}),
                2 => json!({"kind": "free_shipping"}),
                _ => json!({"kind": "percent", "percent": "3", "applies_to": "products", "skus": [format!("P-{:02}", n % 20)]}),
            };
            discount["id"] = json!(format!("d-{n}"));
            discount["name"] = json!(format!("Discount {n}"));
            discount["requirement"] = requirement;
            discount["priority"] = json!((n % 11) as i64);
            discount["stacks"] = json!(n % 13 != 0);
            discount["version"] = json!(1);
            if n % 10 == 0 {
                discount["coupon"] = json!(format!("CODE{n}"));
            }
            discount
        })
        .collect();
    let document: PromotionsDocument =
        serde_json::from_value(json!({"rule_sets": rule_sets, "discounts": discounts})).unwrap();
    Promotions::load(&document, Currency::Eur).unwrap()
}

fn settings() -> PricingSettings {
    PricingSettings {
        currency: Currency::Eur,
        tax_rates: TaxRates {
            standard: Decimal::new(19, 0),
            reduced: Decimal::new(7, 0),
        },
        shipping: ShippingPolicy {
            flat_rate: Money::new(Decimal::new(495, 2), Currency::Eur),
            free_from: Some(Money::new(Decimal::new(5000, 2), Currency::Eur)),
        },
    }
}

fn bench(c: &mut Criterion) {
    let catalog = catalog();
    let promotions = promotions();
    let settings = settings();
    let items: Vec<(&Product, Quantity)> = catalog
        .iter()
        .enumerate()
        .map(|(i, p)| (p, Quantity::new(1 + (i % 3) as u32).unwrap()))
        .collect();
    let email = Email::parse("anna@example.de").unwrap();
    let facts = CartFacts {
        customer: CustomerFacts::new(2, &["vip".to_string()], Some(&email)),
        shipping_country: Some(CountryCode::parse("AT").unwrap()),
        billing_country: Some(CountryCode::parse("DE").unwrap()),
        coupon: Some(CouponCode::parse("CODE40").unwrap()),
        payment_method: None,
        now: datetime!(2026-12-10 12:00 UTC),
    };
    // The figure is only worth something if discounts apply and others do not.
    let priced = price_cart(&items, &settings);
    let outcome = discount_cart(&items, &priced, &promotions, &facts, &|_| None, true).unwrap();
    assert!(!outcome.outcome.applied.is_empty());
    assert!(outcome.outcome.skipped.len() > 100);

    // The baseline in the same run: pricing alone, without any discount.
    c.bench_function("price the 20-line cart alone", |b| {
        b.iter(|| black_box(price_cart(black_box(&items), &settings).total))
    });
    c.bench_function(
        "price a 20-line cart against 200 discounts (depth 4)",
        |b| {
            b.iter(|| {
                let priced = price_cart(black_box(&items), &settings);
                let discounted = discount_cart(
                    &items,
                    &priced,
                    black_box(&promotions),
                    &facts,
                    &|_| None,
                    false,
                )
                .unwrap();
                black_box(discounted.totals.total)
            })
        },
    );
    c.bench_function("the same, explained (every trace)", |b| {
        b.iter(|| {
            let priced = price_cart(black_box(&items), &settings);
            let discounted = discount_cart(
                &items,
                &priced,
                black_box(&promotions),
                &facts,
                &|_| None,
                true,
            )
            .unwrap();
            black_box(discounted.totals.total)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
