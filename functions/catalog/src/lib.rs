//! The catalog function: the shop's products, searchable by text and
//! category, and each product's detail with its "goes well with" products.
//! Staff list every product with its version at `GET /admin/products` and
//! change one at `PATCH /admin/products/{sku}`: validated (no negative
//! price or stock, links only to products that exist) and version-checked
//! (an edit of a product someone else changed meanwhile gets 409).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kontor_domain::product::Product;
use kontor_domain::product::ProductEdit;
use kontor_domain::{Money, Sku};
use kontor_http::views::ProductView;
use kontor_http::{AppState, JsonBody, Problem, QueryParams, Staff};
use kontor_platform::{ProductQuery, StoreError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod listings;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products))
        .routes(routes!(get_product))
        .routes(routes!(admin_products))
        .routes(routes!(edit_product))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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
) -> Result<Response, Problem> {
    let text = search.q.filter(|q| !q.trim().is_empty());
    let category = search.category.filter(|c| !c.trim().is_empty());
    let key = (text.clone(), category.clone());
    // Read before the catalog: a change after it makes this stamp old.
    let stamp = state.store.catalog_stamp();
    if let Some((json, etag)) = stamp.and_then(|stamp| listings::cached(&key, stamp)) {
        return Ok(([(header::ETAG, etag)], json_answer(json)).into_response());
    }
    let all = state.store.list_products(&ProductQuery::default()).await?;
    let mut categories: Vec<String> = all.iter().map(|p| p.category.clone()).collect();
    categories.sort();
    categories.dedup();
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
    let list = ProductList {
        products,
        categories,
    };
    let json =
        Bytes::from(serde_json::to_vec(&list).map_err(|e| StoreError::Internal(e.to_string()))?);
    if let Some(stamp) = stamp {
        let etag = kontor_http::validators::validator(&json);
        listings::keep(key, stamp, json.clone(), etag);
    }
    Ok(json_answer(json))
}

fn json_answer(json: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
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

/// A product as staff edit it: with the version an edit must name.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AdminProductView {
    #[serde(flatten)]
    pub product: ProductView,
    pub version: u64,
}

impl From<&Product> for AdminProductView {
    fn from(product: &Product) -> Self {
        Self {
            product: ProductView::from(product),
            version: product.version,
        }
    }
}

/// Every product, for the admin page (staff).
#[utoipa::path(
    get,
    path = "/admin/products",
    tag = "catalog",
    security(("bearer" = [])),
    responses(
        (status = 200, body = [AdminProductView]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn admin_products(
    State(state): State<AppState>,
    Staff(_): Staff,
) -> Result<Json<Vec<AdminProductView>>, Problem> {
    let products = state.store.list_products(&ProductQuery::default()).await?;
    Ok(Json(products.iter().map(AdminProductView::from).collect()))
}

/// A change to a product; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductEditBody {
    /// The version the change was made on; a stale one is refused with 409.
    pub version: u64,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Gross unit price in the shop's currency, such as `"59.90"`: zero to
    /// 1,000,000.00.
    #[schema(value_type = Option<kontor_http::schemas::Amount>, example = "59.90")]
    pub price: Option<Decimal>,
    /// Units on hand (never negative).
    pub stock: Option<u32>,
    pub allow_backorder: Option<bool>,
    #[schema(value_type = Option<Vec<kontor_http::schemas::Sku>>)]
    pub cross_sell: Option<Vec<Sku>>,
    #[schema(value_type = Option<Vec<kontor_http::schemas::Sku>>)]
    pub checkout_sell: Option<Vec<Sku>>,
}

/// Change a product (staff).
#[utoipa::path(
    patch,
    path = "/admin/products/{sku}",
    tag = "catalog",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "The product's sku")),
    request_body = ProductEditBody,
    responses(
        (status = 200, body = AdminProductView, description = "The product as stored, with its new version."),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Someone changed the product since `version`; reload and edit again."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A field is invalid; `field` names it (`price`, `stock`, `cross_sell[1]`)."),
    )
)]
async fn edit_product(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(sku): Path<String>,
    body: JsonBody<ProductEditBody>,
) -> Result<Json<AdminProductView>, Problem> {
    let sku = Sku::parse(&sku).map_err(|_| Problem::not_found("product"))?;
    let body = body.value;
    let product = state
        .store
        .get_product(&sku)
        .await?
        .ok_or_else(|| Problem::not_found("product"))?;
    if body.version != product.version {
        return Err(stale(body.version, product.version));
    }
    let edit = ProductEdit {
        name: body.name,
        description: body.description,
        price: body
            .price
            .map(|amount| Money::new(amount, product.price.currency())),
        stock: body.stock,
        allow_backorder: body.allow_backorder,
        cross_sell: body.cross_sell,
        checkout_sell: body.checkout_sell,
    };
    let linked: Vec<Sku> = edit
        .cross_sell
        .iter()
        .chain(&edit.checkout_sell)
        .flatten()
        .cloned()
        .collect();
    let existing = state.store.get_products(&linked).await?;
    let edited = product
        .edited(&edit, &|sku| existing.iter().any(|p| &p.sku == sku))
        .map_err(|error| Problem::invalid_field(error.field(), error.to_string()))?;
    let saved = state
        .store
        .put_product(&edited, Some(product.version))
        .await
        .map_err(|error| match error {
            kontor_platform::StoreError::StaleVersion { .. } => {
                stale(body.version, body.version + 1)
            }
            other => Problem::from(other),
        })?;
    let by = staff
        .email
        .as_ref()
        .map_or_else(|| staff.subject.to_string(), ToString::to_string);
    tracing::info!(sku = %saved.sku, version = saved.version, stock = saved.stock, %by, "product edited");
    Ok(Json(AdminProductView::from(&saved)))
}

fn stale(sent: u64, current: u64) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "stale-version",
        "Changed meanwhile",
        format!("the product was changed since version {sent}; reload it and edit again"),
    )
    .with_field("version")
    .with("current_version", current)
}
