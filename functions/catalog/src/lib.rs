//! The catalog function: the shop's products, searchable by text and
//! category, and each product's detail with its "goes well with" products.

use axum::extract::{Path, State};
use axum::Json;
use kontor_domain::Sku;
use kontor_http::views::ProductView;
use kontor_http::{AppState, Problem, QueryParams};
use kontor_platform::ProductQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products))
        .routes(routes!(get_product))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ProductSearch {
    /// Words that must all appear in the name, description, category or sku.
    pub q: Option<String>,
    /// Only products of this category.
    pub category: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductList {
    pub products: Vec<ProductView>,
    /// Every category of the catalog, for navigation.
    pub categories: Vec<String>,
}

/// Lists the catalog, optionally filtered.
#[utoipa::path(
    get,
    path = "/catalog/products",
    tag = "catalog",
    params(ProductSearch),
    responses(
        (status = 200, body = ProductList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_products(
    State(state): State<AppState>,
    QueryParams(search): QueryParams<ProductSearch>,
) -> Result<Json<ProductList>, Problem> {
    let all = state.store.list_products(&ProductQuery::default()).await?;
    let mut categories: Vec<String> = all.iter().map(|p| p.category.clone()).collect();
    categories.sort();
    categories.dedup();
    let text = search.q.filter(|q| !q.trim().is_empty());
    let category = search.category.filter(|c| !c.trim().is_empty());
    let products = all
        .iter()
        .filter(|p| {
            category
                .as_ref()
                .is_none_or(|c| p.category.eq_ignore_ascii_case(c))
        })
        .filter(|p| text.as_ref().is_none_or(|t| p.matches_text(t)))
        .map(ProductView::from)
        .collect();
    Ok(Json(ProductList {
        products,
        categories,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductDetail {
    #[serde(flatten)]
    pub product: ProductView,
    /// The cross-sell products themselves, for the "goes well with" row.
    pub cross_sell_products: Vec<ProductView>,
}

/// One product with its cross-sell products.
#[utoipa::path(
    get,
    path = "/catalog/products/{sku}",
    tag = "catalog",
    params(("sku" = String, Path, description = "The product's sku")),
    responses(
        (status = 200, body = ProductDetail),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_product(
    State(state): State<AppState>,
    Path(sku): Path<String>,
) -> Result<Json<ProductDetail>, Problem> {
    // A string that cannot be a sku names no product: 404, like an unknown one.
    let sku = Sku::parse(&sku).map_err(|_| Problem::not_found("product"))?;
    let product = state
        .store
        .get_product(&sku)
        .await?
        .ok_or_else(|| Problem::not_found("product"))?;
    let linked = state.store.get_products(&product.cross_sell).await?;
    // Keep the order staff gave the links in.
    let cross_sell_products = product
        .cross_sell
        .iter()
        .filter_map(|sku| linked.iter().find(|p| &p.sku == sku))
        .map(ProductView::from)
        .collect();
    Ok(Json(ProductDetail {
        product: ProductView::from(&product),
        cross_sell_products,
    }))
}
