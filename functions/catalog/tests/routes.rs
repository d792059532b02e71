//! The catalog router driven in-process with real requests.

use kontor_testkit::fixtures::{product, skus, state_with};
use kontor_testkit::http::TestApp;

async fn app() -> TestApp {
    let mut chino = product("TR-CHINO", "59.90", 5, false);
    chino.name = "Chino beige".into();
    chino.cross_sell = skus(&["BE-BROWN", "SH-WHITE"]);
    let mut belt = product("BE-BROWN", "34.90", 2, false);
    belt.category = "belts".into();
    belt.name = "Leather belt brown".into();
    let mut shirt = product("SH-WHITE", "49.90", 0, true);
    shirt.category = "shirts".into();
    let state = state_with(&[chino, belt, shirt]).await;
    TestApp::new(kontor_catalog::router(), state)
}

fn sku_list(body: &serde_json::Value) -> Vec<String> {
    body["products"]
        .as_array()
        .expect("products")
        .iter()
        .map(|p| p["sku"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn lists_all_products_with_their_categories() {
    let response = app().await.get("/catalog/products").await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(sku_list(&body), ["BE-BROWN", "SH-WHITE", "TR-CHINO"]);
    assert_eq!(
        body["categories"],
        serde_json::json!(["belts", "shirts", "trousers"])
    );
    let chino = &body["products"][2];
    assert_eq!(chino["price"], "59.90");
    assert_eq!(chino["currency"], "EUR");
    assert_eq!(
        chino["cross_sell"],
        serde_json::json!(["BE-BROWN", "SH-WHITE"])
    );
}

#[tokio::test]
async fn filters_by_category_and_text() {
    let app = app().await;
    let cases = [
        ("/catalog/products?category=belts", vec!["BE-BROWN"]),
        ("/catalog/products?category=BELTS", vec!["BE-BROWN"]),
        ("/catalog/products?q=leather", vec!["BE-BROWN"]),
        ("/catalog/products?q=chino%20beige", vec!["TR-CHINO"]),
        ("/catalog/products?q=brown&category=shirts", vec![]),
        (
            "/catalog/products?q=",
            vec!["BE-BROWN", "SH-WHITE", "TR-CHINO"],
        ),
    ];
    for (uri, expected) in cases {
        let response = app.get(uri).await;
        assert_eq!(response.status, 200, "{uri}");
        assert_eq!(sku_list(&response.json()), expected, "{uri}");
    }
}

#[tokio::test]
async fn detail_resolves_cross_sell_products_in_order() {
    let response = app().await.get("/catalog/products/tr-chino").await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["sku"], "TR-CHINO");
    let linked: Vec<&str> = body["cross_sell_products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(linked, ["BE-BROWN", "SH-WHITE"]);
    assert_eq!(
        body["cross_sell_products"][1]["available"], true,
        "backorderable counts as available"
    );
}

#[tokio::test]
async fn unknown_or_malformed_skus_are_not_found() {
    let app = app().await;
    for uri in ["/catalog/products/NOPE", "/catalog/products/a%20b"] {
        app.get(uri).await.assert_problem(404, None);
    }
}

/// Listings are kept serialised between requests: each change of a
/// product or of its stock is in the next listing all the same.
#[tokio::test]
async fn listings_follow_every_change_of_products_and_stock() {
    let state = state_with(&[product("TR-CHINO", "59.90", 5, false)]).await;
    let store = state.store.clone();
    let app = TestApp::new(kontor_catalog::router(), state);
    let chino = |body: serde_json::Value| body["products"][0].clone();

    let first = chino(app.get("/catalog/products").await.json());
    assert_eq!(
        (first["price"].as_str(), first["stock"].as_u64()),
        (Some("59.90"), Some(5))
    );
    let kept = app.get("/catalog/products").await;
    assert_eq!(chino(kept.json()), first, "kept");
    // A kept listing brings the validator of its bytes, made once.
    assert_eq!(
        kept.headers.get("etag"),
        Some(&kontor_http::validators::validator(kept.text.as_bytes()))
    );

    let sku = kontor_domain::Sku::parse("TR-CHINO").unwrap();
    let mut cheaper = store.get_product(&sku).await.unwrap().unwrap();
    cheaper.price = kontor_domain::Money::new(
        rust_decimal::Decimal::new(4990, 2),
        kontor_domain::Currency::Eur,
    );
    let version = cheaper.version;
    store.put_product(&cheaper, Some(version)).await.unwrap();
    assert_eq!(
        chino(app.get("/catalog/products").await.json())["price"],
        "49.90"
    );

    let order = kontor_testkit::contract::placement(store.as_ref(), &[("TR-CHINO", 2)], 1).await;
    store.commit_order(&order).await.unwrap();
    assert_eq!(chino(app.get("/catalog/products").await.json())["stock"], 3);
    assert_eq!(
        chino(app.get("/catalog/products?q=chino").await.json())["stock"],
        3,
        "every search"
    );
}
