//! The checkout function: places orders (the cart page's prices come from
//! `rule-evaluation`, whose domain code the checkout decides with).
//!
//! - `POST /checkout` places an order. It needs an `Idempotency-Key`: a
//!   retry with the same key and body gets the first answer, the same key
//!   with another body is refused. Stock is reserved in the same transaction
//!   as the order, so it is never oversold.

mod place;

use kontor_http::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use kontor_http::order_placer::CheckoutResponse;
pub use kontor_http::views::CartLineBody;
pub use place::CheckoutRequest;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place::checkout))
        .routes(routes!(place::customer_checkout))
}
