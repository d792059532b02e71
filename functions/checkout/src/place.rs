//! `POST /checkout` and `POST /me/checkout`: a shopper places an order,
//! once per `Idempotency-Key`, through the shared order placer.

use axum::extract::State;
use axum::response::Response;
use kontor_domain::order::{CartLine, CheckoutDetails, Language, PaymentMethod};
use kontor_domain::Email;
use kontor_http::views::AddressBody;
use kontor_http::{
    AppState, Claims, IdempotencyKey, JsonBody, MaybeSignedIn, NewOrder, Owner, Problem, SignedIn,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use kontor_http::order_placer::CheckoutResponse;
use kontor_http::views::{coupon_code, CartLineBody};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckoutRequest {
    pub lines: Vec<CartLineBody>,
    #[schema(value_type = kontor_http::schemas::Email, example = "anna@example.de")]
    pub email: Email,
    pub shipping_address: AddressBody,
    /// Defaults to the shipping address.
    pub billing_address: Option<AddressBody>,
    /// `prepayment`, `invoice` or `cash_on_delivery`.
    #[schema(value_type = kontor_http::schemas::PaymentMethod, example = "invoice")]
    pub payment_method: PaymentMethod,
    /// A coupon code (letters, digits, `-` and `_`, at most 64).
    #[schema(example = "WINTER")]
    pub coupon: Option<String>,
    /// The total the cart showed (`POST /cart/evaluate`): when the order
    /// would total otherwise (a discount ended meanwhile), it is refused
    /// with 409 `total-changed` instead of placed.
    #[schema(example = "107.82")]
    pub expected_total: Option<String>,
    /// `de` (default) or `en`: the language of the order's e-mails.
    #[schema(value_type = Option<kontor_http::schemas::Language>, example = "de")]
    pub language: Option<Language>,
}

/// Places an order.
#[utoipa::path(
    post,
    path = "/checkout",
    tag = "checkout",
    request_body = CheckoutRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, body = CheckoutResponse, description = "The order was placed (or this is a retry of a placed order, marked with `Idempotent-Replayed: true`)."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Not enough stock (names the `sku` and the quantity `available`), a discount used up meanwhile (`discount-used-up`), or a total other than `expected_total` (`total-changed`)."),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn checkout(
    State(state): State<AppState>,
    MaybeSignedIn(caller): MaybeSignedIn,
    IdempotencyKey(key): IdempotencyKey,
    body: JsonBody<CheckoutRequest>,
) -> Result<Response, Problem> {
    place(state, caller, key, body).await
}

/// Places an order as the signed-in customer: it is counted in their record
/// and listed in their account. (In AWS the JWT authorizer cannot be
/// optional, so customers have this route and guests `/checkout`.)
#[utoipa::path(
    post,
    path = "/me/checkout",
    tag = "checkout",
    security(("bearer" = [])),
    request_body = CheckoutRequest,
    params(IdempotencyKey),
    responses(
        (status = 201, body = CheckoutResponse, description = "The order was placed; customers get no access token (they open it from their account)."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Not enough stock (names the `sku` and the quantity `available`), a discount used up meanwhile (`discount-used-up`), or a total other than `expected_total` (`total-changed`)."),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn customer_checkout(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    IdempotencyKey(key): IdempotencyKey,
    body: JsonBody<CheckoutRequest>,
) -> Result<Response, Problem> {
    place(state, Some(caller), key, body).await
}

async fn place(
    state: AppState,
    caller: Option<Claims>,
    key: String,
    body: JsonBody<CheckoutRequest>,
) -> Result<Response, Problem> {
    let request = body.value;
    let coupon = coupon_code(request.coupon.as_deref())?;
    let expected_total = request
        .expected_total
        .as_deref()
        .map(|typed| {
            let amount = typed.trim().parse().map_err(|_| {
                Problem::invalid_field("expected_total", "is an amount such as \"107.82\"")
            })?;
            state.typed_amount("expected_total", amount)
        })
        .transpose()?;
    let details = CheckoutDetails {
        lines: request.lines.iter().map(CartLine::from).collect(),
        email: request.email,
        shipping_address: request.shipping_address.into(),
        billing_address: request.billing_address.map(Into::into),
        payment_method: request.payment_method,
        language: request.language.unwrap_or_default(),
        send_confirmation: true,
        coupon,
    };
    state
        .place_new_order(NewOrder {
            details,
            owner: caller.map_or(Owner::Guest, Owner::SignedIn),
            taken_by: None,
            idempotency_key: key,
            body: body.document,
            expected_total,
        })
        .await
}
