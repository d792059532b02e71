//! The one way a new order is placed: by a shopper at the checkout, or by
//! staff taking an order on the phone.
//!
//! [`AppState::place_new_order`] answers a retry under the same
//! `Idempotency-Key` with the first answer (and refuses the key with
//! another body), reads the products and the customer's record in one
//! round trip, lets the domain place the order, and commits the order, its
//! stock, its events, the idempotency record and the customer's record in
//! one transaction; it decides again when the stock moved, the random order
//! number was taken or the customer's record changed meanwhile.
//!
//! The first answer carries a guest's access token, and a retry must get
//! it again; storing it would break the rule that only a hash of the token
//! is kept. So the record is keyed by a hash of the `Idempotency-Key`, and
//! the token is stored XOR-ed with a pad derived from the key itself: only
//! a client that still holds the key can read it back.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kontor_domain::access::AccessTokenHash;
use kontor_domain::customer::Customer;
use kontor_domain::order::{
    place_order, CartError, CheckoutDetails, CheckoutError, NewOrderContext, Order,
};
use kontor_domain::Money;
use kontor_domain::{CustomerId, Sku};
use kontor_platform::{IdempotencyRecord, MailboxOrder, OrderCommit, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::identity::Claims;
use crate::problem::Problem;
use crate::promotions::customer_facts;
use crate::state::AppState;
use crate::views::money;

/// How often a placement is decided again when its stock snapshot went
/// stale or its random order number was taken, before the client is asked
/// to retry.
const MAX_ATTEMPTS: usize = 5;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BackorderedLine {
    pub sku: String,
    pub quantity: u32,
}

/// A placed order, as the checkout (and staff taking a phone order) see it.
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
    pub fn new(order: &Order, access_token: Option<String>) -> Self {
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

/// The header as the document states it, for `params(IdempotencyKey)`.
impl utoipa::IntoParams for IdempotencyKey {
    fn into_params(
        _parameter_in_provider: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        use utoipa::openapi::Required;
        vec![ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(
                "A unique key per order attempt; a retry with the same key and body gets the first answer.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::String))
                    .pattern(Some(crate::schemas::IDEMPOTENCY_KEY_PATTERN))
                    .examples([serde_json::Value::from("checkout-6f1c2a")]),
            ))
            .build()]
    }
}

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

/// Whose order it is.
#[derive(Debug, Clone)]
pub enum Owner {
    /// A guest: the order opens with the token in its link.
    Guest,
    /// A signed-in shopper: their record counts the order, with the groups
    /// and e-mail of their token.
    SignedIn(Claims),
    /// A customer staff found by e-mail: their record counts the order and
    /// keeps its groups.
    Known(CustomerId),
}

impl Owner {
    fn customer_id(&self) -> Option<&CustomerId> {
        match self {
            Owner::Guest => None,
            Owner::SignedIn(claims) => Some(&claims.subject),
            Owner::Known(id) => Some(id),
        }
    }

    /// Scopes the client's key, so that one caller's key can never replay
    /// another's answer; the prefixes keep one kind of caller's key from
    /// spelling another's.
    fn record_key(&self, idempotency_key: &str, taken_by: Option<&Claims>) -> String {
        let scoped = match (taken_by, self.customer_id()) {
            (Some(staff), _) => {
                format!(
                    "kontor-checkout-key:staff:{}:{idempotency_key}",
                    staff.subject
                )
            }
            (None, Some(customer)) => {
                format!("kontor-checkout-key:customer:{customer}:{idempotency_key}")
            }
            (None, None) => format!("kontor-checkout-key:guest:{idempotency_key}"),
        };
        hex::encode(Sha256::digest(scoped))
    }
}

/// A new order to place.
pub struct NewOrder {
    pub details: CheckoutDetails,
    pub owner: Owner,
    /// Staff taking the order on the phone; none at the checkout.
    pub taken_by: Option<Claims>,
    /// The client's `Idempotency-Key`.
    pub idempotency_key: String,
    /// The request's body as received: a retry must send the same.
    pub body: serde_json::Value,
    /// The total the shopper's cart showed, if the client says: an order
    /// that would total otherwise is refused, not placed.
    pub expected_total: Option<Money>,
}

impl AppState {
    /// Places `new` once per idempotency key (see the module's text).
    pub async fn place_new_order(&self, new: NewOrder) -> Result<Response, Problem> {
        let key = new.idempotency_key.as_str();
        let request_hash = hex::encode(Sha256::digest(new.body.to_string()));
        let record_key = new.owner.record_key(key, new.taken_by.as_ref());
        let customer_id = new.owner.customer_id().cloned();
        let mut skus: Vec<Sku> = new.details.lines.iter().map(|l| l.sku.clone()).collect();
        let taken_by = new.taken_by.as_ref().map(Claims::staff_actor);
        let mailbox = new.details.email.mailbox();
        // Shoppers get the shop's discounts; staff on the phone set prices.
        let with_discounts = new.taken_by.is_none();
        if with_discounts {
            add_missing(&mut skus, self.promotions.gift_skus());
        }
        let signed_in = match &new.owner {
            Owner::SignedIn(claims) => Some(claims),
            _ => None,
        };

        for attempt in 1..=MAX_ATTEMPTS {
            // One read round trip: a retry finds its first answer, a new
            // order finds the products, the customer's counts and the
            // promotions it decides on.
            let read = self
                .store
                .read_for_checkout(&record_key, &skus, customer_id.as_ref(), &mailbox)
                .await?;
            if let Some(record) = read.replay {
                return replay(&record, key, &request_hash);
            }
            let promotions = if with_discounts {
                let promotions = self.promotions_of(read.promotions.as_ref())?;
                // Promotions changed since this process last read them and
                // give away a product not read yet: read again with it.
                if add_missing(&mut skus, promotions.gift_skus()) {
                    continue;
                }
                Some(promotions)
            } else {
                None
            };
            // A guest opens the order with the token in its link; a
            // customer opens it from their account, so needs none.
            let id = self.ids.order_id();
            let access_token = matches!(new.owner, Owner::Guest)
                .then(|| self.settings.order_links.guest_token(&id));
            let context = NewOrderContext {
                id,
                number: self.ids.order_number(),
                now: self.clock.now(),
                customer_id: customer_id.clone(),
                access_token_hash: access_token.as_deref().map(AccessTokenHash::of),
                taken_by: taken_by.clone(),
                customer: customer_facts(
                    signed_in,
                    read.customer.as_ref(),
                    read.mailbox_orders,
                    Some(&new.details.email),
                ),
                promotions,
            };
            let placed = place_order(
                &new.details,
                &read.products,
                context,
                &self.settings.pricing,
                &mut || self.ids.event_id(),
            )
            .map_err(|e| checkout_problem(e, &new.details))?;

            // The shopper's cart showed a total: an order for another one
            // (a discount ended or was used up meanwhile) is not placed.
            if let Some(expected) = new.expected_total {
                if expected.amount() != placed.order.totals.total.amount() {
                    return Err(total_changed(&placed.order));
                }
            }
            // The customer's record counts this order in the same transaction.
            let customer = customer_after(&new.owner, read.customer, &placed.order);
            let mailbox_order = Some(MailboxOrder {
                mailbox: mailbox.clone(),
                seen: read.mailbox_orders,
                hold: placed.relies_on_order_count,
            });
            let response = CheckoutResponse::new(&placed.order, access_token);
            let stored = serde_json::to_string(&response.clone().with_sealed_token(key))
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
                mailbox_order,
                ..OrderCommit::new_order(placed)
            };

            match self.store.commit_order(&placement).await {
                Ok(()) => {
                    let by = taken_by.as_ref().map(ToString::to_string);
                    tracing::info!(order_id = %placement.order.id, number = %placement.order.number, total = %placement.order.totals.total, ?by, "order placed");
                    return Ok(created(response, false));
                }
                // The stock moved since it was read, or the random number
                // was drawn before: read again and decide again.
                Err(StoreError::StockShort { sku, available }) => {
                    tracing::debug!(attempt, %sku, available, "stock changed while placing; retrying");
                }
                Err(StoreError::OrderNumberTaken) => {
                    tracing::warn!(attempt, "order number collision; drawing another");
                }
                // DynamoDB cancelled the transaction because another
                // touched the same items (a product's stock) at that
                // moment: try again.
                Err(StoreError::TransactionConflict) => {
                    tracing::debug!(attempt, "transaction conflict while placing; retrying");
                }
                // The same customer's other order committed first: count
                // this one on top of it.
                Err(StoreError::StaleVersion {
                    entity: "customer", ..
                }) => {
                    tracing::debug!(attempt, "customer record changed while placing; retrying");
                }
                // Another order of the same mailbox committed first, and a
                // discount for new customers relied on its count: decide
                // again on the new count.
                Err(StoreError::StaleVersion {
                    entity: "mailbox's order count",
                    ..
                }) => {
                    tracing::debug!(
                        attempt,
                        "mailbox's order count moved while placing; retrying"
                    );
                }
                // A concurrent request with the same key won the race.
                Err(StoreError::IdempotencyKeyTaken) => {
                    let record =
                        self.store
                            .get_idempotency(&record_key)
                            .await?
                            .ok_or_else(|| {
                                Problem::from(StoreError::Internal(
                                    "idempotency record vanished".into(),
                                ))
                            })?;
                    return replay(&record, key, &request_hash);
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(Problem::from(StoreError::Unavailable(
            "order placement contention".into(),
        )))
    }
}

impl AppState {
    /// What placing `details` would give, decided as
    /// [`AppState::place_new_order`] decides it, without writing anything:
    /// the phone order form's preview.
    pub async fn preview_new_order(
        &self,
        details: &CheckoutDetails,
        taken_by: &Claims,
    ) -> Result<Order, Problem> {
        let skus: Vec<Sku> = details.lines.iter().map(|l| l.sku.clone()).collect();
        let products = self.store.get_products(&skus).await?;
        let context = NewOrderContext {
            id: self.ids.order_id(),
            number: self.ids.order_number(),
            now: self.clock.now(),
            customer_id: None,
            access_token_hash: None,
            taken_by: Some(taken_by.staff_actor()),
            customer: Default::default(),
            promotions: None,
        };
        place_order(
            details,
            &products,
            context,
            &self.settings.pricing,
            &mut || self.ids.event_id(),
        )
        .map(|placed| placed.order)
        .map_err(|e| checkout_problem(e, details))
    }
}

/// The owner's record after `order`, or none for a guest order.
fn customer_after(owner: &Owner, stored: Option<Customer>, order: &Order) -> Option<Customer> {
    match owner {
        Owner::Guest => None,
        Owner::SignedIn(claims) => {
            let before = stored.unwrap_or_else(|| {
                Customer::new(
                    claims.subject.clone(),
                    claims.email.clone().unwrap_or_else(|| order.email.clone()),
                    Vec::new(),
                )
            });
            Some(before.after_order(order))
        }
        Owner::Known(id) => {
            let before = stored
                .unwrap_or_else(|| Customer::new(id.clone(), order.email.clone(), Vec::new()));
            Some(before.after_order(order))
        }
    }
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

/// The problem for a cart that cannot be priced, naming the line at fault.
pub fn cart_problem(error: CartError) -> Problem {
    match &error {
        CartError::Empty => Problem::invalid_field("lines", error.to_string()),
        CartError::UnknownSku { index, .. } => {
            Problem::invalid_field(format!("lines[{index}].sku"), error.to_string())
        }
        CartError::TooManyUnits { index, .. } => {
            Problem::invalid_field(format!("lines[{index}].quantity"), error.to_string())
        }
        CartError::BadUnitPrice { index } => {
            Problem::invalid_field(format!("lines[{index}].unit_price"), error.to_string())
        }
        CartError::TooManyLines => Problem::invalid_field("lines", error.to_string()),
        CartError::PriceOutOfRange { index, .. } => {
            Problem::invalid_field(format!("lines[{index}].sku"), error.to_string())
        }
    }
}

/// Adds the skus `more` has that `skus` lacks; whether it added any.
fn add_missing(skus: &mut Vec<Sku>, more: Vec<Sku>) -> bool {
    let before = skus.len();
    for sku in more {
        if !skus.contains(&sku) {
            skus.push(sku);
        }
    }
    skus.len() > before
}

/// The order would total otherwise than the cart showed.
fn total_changed(order: &Order) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "total-changed",
        "The total changed",
        format!(
            "the order would total {} now; nothing was ordered, please review your cart",
            order.totals.total
        ),
    )
    .with_field("expected_total")
    .with("total", money(order.totals.total))
}

fn checkout_problem(error: CheckoutError, details: &CheckoutDetails) -> Problem {
    match error {
        CheckoutError::Cart(cart) => cart_problem(cart),
        CheckoutError::Coupon(_) | CheckoutError::CouponNotApplicable { .. } => {
            Problem::invalid_field("coupon", error.to_string())
        }
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

/// Seals or unseals (the operation is its own inverse) a hex token of up to
/// 32 bytes with the pad of `idempotency_key`.
fn seal(token_hex: &str, idempotency_key: &str) -> Option<String> {
    let token = hex::decode(token_hex).ok()?;
    let pad = Sha256::digest(format!("kontor-checkout-pad:{idempotency_key}"));
    if token.len() > pad.len() {
        return None;
    }
    Some(hex::encode(
        token
            .iter()
            .zip(pad.iter())
            .map(|(t, p)| t ^ p)
            .collect::<Vec<u8>>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_twice_gives_the_token_back() {
        let token = "00112233445566778899aabbccddeeff";
        let sealed = seal(token, "key-1").unwrap();
        assert_ne!(sealed, token);
        assert_eq!(seal(&sealed, "key-1").unwrap(), token);
        assert_ne!(seal(&sealed, "key-2").unwrap(), token);
    }

    fn claims(subject: &str) -> Claims {
        Claims {
            subject: CustomerId::parse(subject).unwrap(),
            email: None,
            groups: Vec::new(),
        }
    }

    #[test]
    fn record_keys_do_not_reveal_the_key_and_are_scoped_by_caller() {
        let guest = Owner::Guest;
        assert!(!guest.record_key("my-key", None).contains("my-key"));
        assert_eq!(guest.record_key("a", None), guest.record_key("a", None));
        assert_ne!(guest.record_key("a", None), guest.record_key("b", None));
        let eva = Owner::SignedIn(claims("eva"));
        let tom = Owner::SignedIn(claims("tom"));
        assert_ne!(eva.record_key("a", None), guest.record_key("a", None));
        assert_ne!(eva.record_key("a", None), tom.record_key("a", None));
        // Staff's keys are theirs, whoever the order is for.
        let lena = claims("lena");
        assert_ne!(
            guest.record_key("a", Some(&lena)),
            guest.record_key("a", None)
        );
        assert_eq!(
            guest.record_key("a", Some(&lena)),
            eva.record_key("a", Some(&lena))
        );
    }
}
