//! The checkout function: prices a cart and places orders.
//!
//! - `POST /cart/evaluate` prices a cart without writing anything and
//!   suggests checkout-sell products.
//! - `POST /checkout` places an order. It needs an `Idempotency-Key`: a
//!   retry with the same key and body gets the first answer, the same key
//!   with another body is refused. Stock is reserved in the same transaction
//!   as the order, so it is never oversold.

mod evaluate;
mod place;

use kontor_http::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use evaluate::{CartLineBody, EvaluateRequest, PricedCartView};
pub use kontor_http::order_placer::CheckoutResponse;
pub use place::CheckoutRequest;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(evaluate::evaluate_cart))
        .routes(routes!(place::checkout))
        .routes(routes!(place::customer_checkout))
}
