//! The local runtime's router: every function's routes at the paths the
//! HTTP API uses in AWS, the generated `/openapi.json`, and the storefront.

use std::path::Path;

use axum::routing::get;
use axum::{Json, Router};
use kontor_http::AppState;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kontor",
        description = "Order processing for online shops: catalog, cart, checkout and orders. \
                       Money is a decimal string in the order's currency; errors are application/problem+json (RFC 9457)."
    ),
    tags(
        (name = "catalog", description = "Products with cross-sell and checkout-sell links"),
        (name = "checkout", description = "Cart pricing and order placement"),
        (name = "orders", description = "Orders as shoppers see them"),
    )
)]
struct ApiDoc;

/// Every function's router merged, with the OpenAPI document they generate.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(kontor_catalog::router())
        .merge(kontor_checkout::router())
        .merge(kontor_orders::router())
        .split_for_parts()
}

/// The whole local application.
pub fn app(state: AppState, storefront_dir: &Path) -> Router {
    let (api, openapi) = api();
    let storefront = ServeDir::new(storefront_dir)
        .append_index_html_on_directories(true)
        .not_found_service(ServeFile::new(storefront_dir.join("404.html")));
    api.with_state(state)
        .route("/openapi.json", get(move || async move { Json(openapi) }))
        .fallback_service(storefront)
        .layer(TraceLayer::new_for_http())
}
