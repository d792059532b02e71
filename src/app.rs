//! The local runtime's router: every function's routes at the paths the
//! HTTP API uses in AWS, the routes only the local runtime has (its sign-in
//! and the mail outbox), the generated `/openapi.json`, and the storefront
//! with the admin page.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{FromRef, MatchedPath, RawQuery, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use kontor_http::page::{Page, PageLimit};
use kontor_http::{AppState, Problem, QueryParams, Staff};
use kontor_store_sqlite::MailOutbox;
use serde::{Deserialize, Serialize};
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeader;
use tower_http::trace::TraceLayer;
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::local_auth::{self, LocalTokens};

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
        (name = "rules", description = "Rule sets, discounts, checkout offers and customer groups"),
        (name = "orders", description = "Orders: the shopper's view, the customer's history, staff search; cancelling, payments and completion"),
        (name = "shipments", description = "Parcels: staff split and ship, carriers report by signed webhook"),
        (name = "local", description = "Only in the local runtime: sign-in tokens and the mail outbox"),
    ),
    components(schemas(kontor_http::Problem)),
    modifiers(&BearerTokens)
)]
struct ApiDoc;

/// Routes marked `security(("bearer" = []))` take `Authorization: Bearer
/// <token>`: from Cognito in AWS, from `POST /local/token` locally.
struct BearerTokens;

impl Modify for BearerTokens {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// What only the local runtime serves.
#[derive(Clone)]
pub struct Local {
    pub tokens: LocalTokens,
    /// The local mail outbox; `None` when mail goes to SES.
    pub outbox: Option<MailOutbox>,
}

/// Every function's router merged, with the OpenAPI document they generate.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(kontor_catalog::router())
        .merge(kontor_checkout::router())
        .merge(kontor_orders::router())
        .merge(kontor_shipment::router())
        .merge(kontor_tracking_update::router())
        .merge(kontor_order_lifecycle::router())
        .merge(kontor_order_adjustment::router())
        .merge(kontor_return::router())
        .merge(kontor_rule_evaluation::router())
        .split_for_parts()
}

impl FromRef<Local> for LocalTokens {
    fn from_ref(local: &Local) -> Self {
        local.tokens.clone()
    }
}

/// The routes only the local runtime has, with their description.
pub fn local_api() -> (Router<Local>, utoipa::openapi::OpenApi) {
    OpenApiRouter::new()
        .routes(routes!(outbox))
        .merge(local_auth::router())
        .split_for_parts()
}

/// The whole local application.
pub fn app(state: AppState, local: Local, storefront_dir: &Path) -> Router {
    let (api, mut openapi) = api();
    let (local_routes, local_openapi) = local_api();
    openapi.merge(local_openapi);
    kontor_http::openapi::add_common_responses(&mut openapi);
    kontor_http::schemas::add_components(&mut openapi);
    let api = documented_only(api, &openapi).with_state(state);
    let local_routes = documented_only(local_routes, &openapi).with_state(local.clone());
    // The pages' files keep their names across versions, so browsers
    // revalidate them on every use (a 304 when unchanged, by their
    // Last-Modified) rather than keep a stale script.
    let storefront = SetResponseHeader::if_not_present(
        ServeDir::new(storefront_dir)
            .append_index_html_on_directories(true)
            .not_found_service(ServeFile::new(storefront_dir.join("404.html"))),
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    api.merge(local_routes)
        .route("/openapi.json", get(move || async move { Json(openapi) }))
        .fallback_service(storefront)
        .layer(middleware::from_fn_with_state(
            local.tokens,
            local_auth::verify_bearer,
        ))
        .layer(middleware::from_fn(
            kontor_http::validators::conditional_get,
        ))
        .layer(middleware::from_fn(crate::headers::add_security_headers))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// A sent e-mail as the admin page's outbox shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailView {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub order_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub sent_at: time::OffsetDateTime,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// How many (1 to 200, default 50), newest first.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<PageLimit>,
    /// Where to go on: the `cursor` of the `next` link of the page before.
    #[param(minimum = 0, maximum = 4294967295_u64)]
    pub cursor: Option<u32>,
}

/// Every e-mail sent, newest first (staff; local runtime only — in AWS, mail goes to SES).
#[utoipa::path(
    get,
    path = "/admin/outbox",
    tag = "local",
    params(OutboxQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = [MailView]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "Mail goes to SES, not to a local outbox."),
    )
)]
async fn outbox(
    State(local): State<Local>,
    Staff(_): Staff,
    RawQuery(raw): RawQuery,
    QueryParams(query): QueryParams<OutboxQuery>,
) -> Result<Page<MailView>, Problem> {
    let outbox = local
        .outbox
        .ok_or_else(|| Problem::not_found("mail outbox (mail goes to SES)"))?;
    let limit = query.limit.unwrap_or_default();
    let mails = outbox
        .list(query.cursor.map(i64::from), limit.fetch())
        .await?;
    Ok(
        Page::of(mails, limit, |m| m.id.to_string(), raw).map(|m| MailView {
            to: m.to,
            subject: m.subject,
            text: m.text,
            html: m.html,
            order_id: m.order_id,
            sent_at: m.sent_at,
        }),
    )
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
