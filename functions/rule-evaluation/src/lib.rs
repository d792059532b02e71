//! The rule-evaluation function: everything rules decide, and the screens
//! where staff write them.
//!
//! - `POST /cart/evaluate` prices a cart with the discounts it gets (each
//!   with its trace on `?explain=true`), the discounts it nearly gets, and
//!   the checkout-sell suggestions (the products' own and the rule-targeted
//!   offers). The checkout decides with the same domain code.
//!   `POST /me/cart/evaluate` is the same for a signed-in shopper.
//! - `/admin/rule-sets`, `/admin/discounts`, `/admin/offers`: staff's
//!   named rule sets, discounts and checkout offers, each versioned (a
//!   stale version is a 409), kept as one promotions document;
//!   `POST /admin/rule-sets/{id}/simulate` evaluates a rule set against a
//!   sample cart and customer and answers the trace.
//! - `/admin/customers`: staff find a customer by e-mail and set the
//!   groups rules ask about (`customer.groups`).

mod admin;
mod customers;
mod evaluate;
mod views;

use kontor_http::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use evaluate::{EvaluateRequest, PricedCartView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(evaluate::evaluate_cart))
        .routes(routes!(evaluate::evaluate_customer_cart))
        .routes(routes!(admin::list_rule_sets, admin::create_rule_set))
        .routes(routes!(
            admin::get_rule_set,
            admin::replace_rule_set,
            admin::delete_rule_set
        ))
        .routes(routes!(admin::simulate_rule_set))
        .routes(routes!(admin::list_discounts, admin::create_discount))
        .routes(routes!(
            admin::get_discount,
            admin::replace_discount,
            admin::delete_discount
        ))
        .routes(routes!(admin::list_offers, admin::create_offer))
        .routes(routes!(admin::replace_offer, admin::delete_offer))
        .routes(routes!(customers::find_customer))
        .routes(routes!(customers::set_groups))
}
