//! The local runtime's router: every function's routes at the paths the
//! HTTP API uses in AWS, the generated `/openapi.json`, and the storefront.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use kontor_http::AppState;
use kontor_http::Problem;
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
    let api = documented_only(api, &openapi);
    let storefront = ServeDir::new(storefront_dir)
        .append_index_html_on_directories(true)
        .not_found_service(ServeFile::new(storefront_dir.join("404.html")));
    api.with_state(state)
        .route("/openapi.json", get(move || async move { Json(openapi) }))
        .fallback_service(storefront)
        .layer(TraceLayer::new_for_http())
}

/// In debug builds (every test run), a request that reaches a route missing
/// from `/openapi.json` fails loudly, so no route can be added undocumented.
pub fn documented_only<S: Clone + Send + Sync + 'static>(
    api: Router<S>,
    openapi: &utoipa::openapi::OpenApi,
) -> Router<S> {
    let documented: Arc<BTreeSet<String>> = Arc::new(openapi.paths.paths.keys().cloned().collect());
    api.route_layer(middleware::from_fn(move |request: Request, next: Next| {
        let documented = Arc::clone(&documented);
        async move { refuse_undocumented(&documented, request, next).await }
    }))
}

async fn refuse_undocumented(
    documented: &BTreeSet<String>,
    request: Request,
    next: Next,
) -> Response {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    match path {
        Some(path) if cfg!(debug_assertions) && !documented.contains(&path) => Problem::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "undocumented-route",
            "Undocumented route",
            format!("{path} is mounted but missing from /openapi.json"),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn an_undocumented_route_fails_in_tests() {
        let (api, openapi) = api();
        let api: Router = api
            .route("/secret", get(|| async { "hidden" }))
            .with_state(kontor_testkit::fixtures::state_with(&[]).await);
        let guarded = documented_only(api, &openapi);
        let response = guarded
            .oneshot(
                axum::http::Request::get("/secret")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
