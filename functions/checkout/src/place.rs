//! `POST /checkout`: places an order, once per `Idempotency-Key`.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kontor_domain::access::AccessTokenHash;
use kontor_domain::customer::Customer;
use kontor_domain::order::{
    place_order, CartLine, CheckoutDetails, CheckoutError, Language, NewOrderContext, Order,
    PaymentMethod,
};
use kontor_domain::{Email, Sku};
use kontor_http::views::{money, AddressBody};
use kontor_http::{AppState, Claims, JsonBody, MaybeSignedIn, Problem, SignedIn};
use kontor_platform::{IdempotencyRecord, OrderCommit, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::evaluate::{cart_problem, unknown_coupon, CartLineBody};
use crate::seal::{record_key, seal};

/// How often a checkout is tried again when its stock snapshot went stale or
/// its random order number was taken, before the client is asked to retry.
const MAX_ATTEMPTS: usize = 5;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckoutRequest {
    pub lines: Vec<CartLineBody>,
    #[schema(value_type = String, example = "anna@example.de")]
    pub email: Email,
    pub shipping_address: AddressBody,
    /// Defaults to the shipping address.
    pub billing_address: Option<AddressBody>,
    #[schema(value_type = String, example = "invoice")]
    /// `prepayment`, `invoice` or `cash_on_delivery`.
    pub payment_method: PaymentMethod,
    pub coupon: Option<String>,
    /// `de` (default) or `en`: the language of the order's e-mails.
    #[schema(value_type = Option<String>, example = "de")]
    pub language: Option<Language>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BackorderedLine {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckoutResponse {
    pub id: String,
    pub number: String,
    /// For guests: the secret that opens the order (`GET /orders/{id}?token=`).
    /// Shown once; only its hash is stored.
    pub access_token: Option<String>,
    pub currency: String,
    pub subtotal: String,
    pub shipping: String,
    pub tax: String,
    pub total: String,
    /// Units that ship later, when stock arrives.
    pub backordered: Vec<BackorderedLine>,
}

impl CheckoutResponse {
    fn new(order: &Order, access_token: Option<String>) -> Self {
        Self {
            id: order.id.to_string(),
            number: order.number.to_string(),
            access_token,
            currency: order.currency.to_string(),
            subtotal: money(order.totals.subtotal),
            shipping: money(order.totals.shipping),
            tax: money(order.totals.tax),
            total: money(order.totals.total),
            backordered: order
                .lines
                .iter()
                .filter(|l| l.backordered > 0)
                .map(|l| BackorderedLine {
                    sku: l.sku.to_string(),
                    quantity: l.backordered,
                })
                .collect(),
        }
    }

    /// The same answer with its token sealed (or unsealed) by the key.
    fn with_sealed_token(mut self, idempotency_key: &str) -> Self {
        self.access_token = self
            .access_token
            .as_deref()
            .and_then(|token| seal(token, idempotency_key));
        self
    }
}

/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
pub struct IdempotencyKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        let value = parts
            .headers
            .get("idempotency-key")
            .ok_or_else(|| {
                Problem::bad_request(
                    "idempotency-key-missing",
                    "send an Idempotency-Key header, so that a retry cannot order twice",
                )
                .with_field("Idempotency-Key")
            })?
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= 255 && v.chars().all(|c| c.is_ascii_graphic()))
            .ok_or_else(|| {
                Problem::bad_request(
                    "idempotency-key-invalid",
                    "the Idempotency-Key has 1 to 255 visible ASCII characters",
                )
                .with_field("Idempotency-Key")
            })?;
        Ok(Self(value.to_string()))
    }
}

/// Places an order.
#[utoipa::path(
    post,
    path = "/checkout",
    tag = "checkout",
    request_body = CheckoutRequest,
    params(("Idempotency-Key" = String, Header, description = "A unique key per order attempt; a retry with the same key and body gets the first answer.")),
    responses(
        (status = 201, body = CheckoutResponse, description = "The order was placed (or this is a retry of a placed order, marked with `Idempotent-Replayed: true`)."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Not enough stock: names the `sku` and the quantity `available`."),
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
    params(("Idempotency-Key" = String, Header, description = "A unique key per order attempt; a retry with the same key and body gets the first answer.")),
    responses(
        (status = 201, body = CheckoutResponse, description = "The order was placed; customers get no access token (they open it from their account)."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Not enough stock: names the `sku` and the quantity `available`."),
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
    let request_hash = hex::encode(Sha256::digest(body.document.to_string()));
    let customer_id = caller.as_ref().map(|c| c.subject.clone());
    let record_key = record_key(&key, customer_id.as_ref());
    let request = body.value;
    if let Some(coupon) = request.coupon.as_deref().filter(|c| !c.trim().is_empty()) {
        return Err(unknown_coupon(coupon));
    }
    let details = CheckoutDetails {
        lines: request.lines.iter().map(CartLine::from).collect(),
        email: request.email,
        shipping_address: request.shipping_address.into(),
        billing_address: request.billing_address.map(Into::into),
        payment_method: request.payment_method,
        language: request.language.unwrap_or_default(),
    };
    let skus: Vec<Sku> = details.lines.iter().map(|l| l.sku.clone()).collect();

    for attempt in 1..=MAX_ATTEMPTS {
        // One read round trip: a retry finds its first answer, a new order
        // finds the products it decides on.
        let read = state
            .store
            .read_for_checkout(&record_key, &skus, customer_id.as_ref())
            .await?;
        if let Some(record) = read.replay {
            return replay(&record, &key, &request_hash);
        }
        let products = read.products;
        // A guest opens the order with the token in its link; a customer
        // opens it from their account, so needs none.
        let id = state.ids.order_id();
        let access_token = caller
            .is_none()
            .then(|| state.settings.order_links.guest_token(&id));
        let context = NewOrderContext {
            id,
            number: state.ids.order_number(),
            now: state.clock.now(),
            customer_id: customer_id.clone(),
            access_token_hash: access_token.as_deref().map(AccessTokenHash::of),
        };
        let placed = place_order(
            &details,
            &products,
            context,
            &state.settings.pricing,
            &mut || state.ids.event_id(),
        )
        .map_err(|e| checkout_problem(e, &details))?;

        // The customer's record counts this order in the same transaction.
        let customer = caller.as_ref().map(|claims| {
            let before = read.customer.clone().unwrap_or_else(|| {
                Customer::new(
                    claims.subject.clone(),
                    claims
                        .email
                        .clone()
                        .unwrap_or_else(|| placed.order.email.clone()),
                    claims.groups.clone(),
                )
            });
            before.after_order(&placed.order, &claims.groups)
        });
        let response = CheckoutResponse::new(&placed.order, access_token);
        let stored = serde_json::to_string(&response.clone().with_sealed_token(&key))
            .map_err(|e| Problem::from(StoreError::Internal(e.to_string())))?;
        let created_at = placed.order.created_at;
        let placement = OrderCommit {
            idempotency: Some(IdempotencyRecord {
                key: record_key.clone(),
                request_hash: request_hash.clone(),
                status: StatusCode::CREATED.as_u16(),
                body: stored,
                created_at,
            }),
            customer,
            ..OrderCommit::new_order(placed)
        };

        match state.store.commit_order(&placement).await {
            Ok(()) => {
                tracing::info!(order_id = %placement.order.id, number = %placement.order.number, total = %placement.order.totals.total, "order placed");
                return Ok(created(response, false));
            }
            // The stock moved since it was read, or the random number was
            // drawn before: read again and decide again.
            Err(StoreError::StockShort { sku, available }) => {
                tracing::debug!(attempt, %sku, available, "stock changed during checkout; retrying");
            }
            Err(StoreError::OrderNumberTaken) => {
                tracing::warn!(attempt, "order number collision; drawing another");
            }
            // DynamoDB cancelled the transaction because another touched
            // the same items (a product's stock) at that moment: try again.
            Err(StoreError::TransactionConflict) => {
                tracing::debug!(attempt, "transaction conflict during checkout; retrying");
            }
            // The same customer's other checkout committed first: count
            // this order on top of that one.
            Err(StoreError::StaleVersion {
                entity: "customer", ..
            }) => {
                tracing::debug!(attempt, "customer record changed during checkout; retrying");
            }
            // A concurrent request with the same key won the race.
            Err(StoreError::IdempotencyKeyTaken) => {
                let record = state
                    .store
                    .get_idempotency(&record_key)
                    .await?
                    .ok_or_else(|| {
                        Problem::from(StoreError::Internal("idempotency record vanished".into()))
                    })?;
                return replay(&record, &key, &request_hash);
            }
            Err(other) => return Err(other.into()),
        }
    }
    Err(Problem::from(StoreError::Unavailable(
        "checkout contention".into(),
    )))
}

fn created(response: CheckoutResponse, replayed: bool) -> Response {
    let location = format!("/orders/{}", response.id);
    let mut answer = (StatusCode::CREATED, Json(response)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        answer.headers_mut().insert(header::LOCATION, location);
    }
    if replayed {
        answer
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    answer
}

/// Answers a retry with the first answer, or refuses a reused key.
fn replay(record: &IdempotencyRecord, key: &str, request_hash: &str) -> Result<Response, Problem> {
    if record.request_hash != request_hash {
        return Err(Problem::invalid_field(
            "Idempotency-Key",
            "this Idempotency-Key was used for a different request; use a new key for a new order",
        ));
    }
    let first: CheckoutResponse = serde_json::from_str(&record.body).map_err(|e| {
        Problem::from(StoreError::Internal(format!(
            "unreadable idempotency record: {e}"
        )))
    })?;
    Ok(created(first.with_sealed_token(key), true))
}

fn checkout_problem(error: CheckoutError, details: &CheckoutDetails) -> Problem {
    match error {
        CheckoutError::Cart(cart) => cart_problem(cart),
        CheckoutError::OutOfStock {
            ref sku,
            requested,
            available,
        } => {
            let index = details
                .lines
                .iter()
                .position(|l| &l.sku == sku)
                .unwrap_or(0);
            Problem::new(
                StatusCode::CONFLICT,
                "out-of-stock",
                "Not enough stock",
                error.to_string(),
            )
            .with_field(format!("lines[{index}].quantity"))
            .with("sku", sku.as_str())
            .with("requested", requested)
            .with("available", available)
        }
    }
}
