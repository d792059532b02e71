//! The one write path for placed orders.
//!
//! [`AppState::change_order`] loads the order (and the stock its command
//! needs), lets the order decide, applies the decision, turns its event
//! payloads into bus events (ids, time, the new version, tracking links)
//! and commits all of it with the version it read. A write that lost a race
//! — a stale version, DynamoDB's `TransactionConflict`, stock that moved —
//! is decided again on a fresh read after a jittered back-off, a bounded
//! number of times. No handler bumps a version, writes history, builds an
//! event or loops on conflicts itself.

use std::time::Duration;

use axum::http::StatusCode;
use kontor_domain::actor::Actor;
use kontor_domain::command::{CommandContext, Decision, OrderCommand, OrderError};
use kontor_domain::events::Event;
use kontor_domain::order::Order;
use kontor_domain::returns::ReturnError;
use kontor_domain::shipment::{ShipmentError, TrackingLinks};
use kontor_domain::OrderId;
use kontor_platform::{OrderCommit, StoreError};
use rand::Rng;

use crate::problem::Problem;
use crate::state::AppState;

/// How often a change is decided again after losing a race.
pub const MAX_ATTEMPTS: u32 = 6;
/// The first back-off's ceiling; each further one doubles it.
const BACKOFF_BASE: Duration = Duration::from_millis(8);

/// Why an order did not change.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("no such order")]
    NotFound,
    /// The caller saw an older version than the stored one.
    #[error("the order changed since version {expected} (it is at {current})")]
    Stale { expected: u64, current: u64 },
    /// The order refused the command.
    #[error(transparent)]
    Refused(#[from] OrderError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the caller expects of the order before it changes.
#[derive(Default, Clone, Copy)]
pub struct Expect<'a> {
    /// The version the caller saw; a different one is [`ChangeError::Stale`].
    pub version: Option<u64>,
    /// Whether the caller may see the order at all (a shopper's own order);
    /// an order they may not see does not exist for them.
    pub visible: Option<&'a (dyn Fn(&Order) -> bool + Send + Sync)>,
}

/// An order after a change, with the tracking links if the change needed
/// them (so an answer showing its parcels need not read them again).
#[derive(Debug, Clone)]
pub struct ChangedOrder {
    pub order: Order,
    pub links: Option<TrackingLinks>,
}

impl AppState {
    /// Changes order `id` by `command` on behalf of `actor`.
    pub async fn change_order(
        &self,
        id: &OrderId,
        actor: &Actor,
        command: &OrderCommand,
    ) -> Result<ChangedOrder, ChangeError> {
        self.change_order_if(id, actor, command, Expect::default())
            .await
    }

    /// Changes order `id` as [`AppState::change_order`] does, if it is as
    /// the caller expects: visible to them, and at the version they saw.
    pub async fn change_order_if(
        &self,
        id: &OrderId,
        actor: &Actor,
        command: &OrderCommand,
        expect: Expect<'_>,
    ) -> Result<ChangedOrder, ChangeError> {
        let mut links: Option<TrackingLinks> = None;
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let Decided {
                order,
                decision,
                next,
                now,
            } = self.decide_fresh(id, actor, command, expect).await?;
            let mut payloads = decision.events;
            let links_needed = payloads
                .iter_mut()
                .any(|p| p.parcel_mut().is_some_and(|n| n.tracking_number.is_some()));
            if links_needed && links.is_none() {
                links = Some(self.tracking_links().await?);
            }
            let events: Vec<Event> = payloads
                .into_iter()
                .map(|mut payload| {
                    if let (Some(parcel), Some(links)) = (payload.parcel_mut(), &links) {
                        parcel.tracking_url = parcel
                            .tracking_number
                            .as_ref()
                            .and_then(|n| links.link(parcel.carrier, n));
                    }
                    Event {
                        event_id: self.ids.event_id(),
                        occurred_at: now,
                        order_id: next.id.clone(),
                        order_version: next.version,
                        payload,
                    }
                })
                .collect();
            let commit = OrderCommit::change(
                next,
                order.version,
                decision.history.len(),
                decision.effects,
                events,
            );
            match self.store.commit_order(&commit).await {
                Ok(()) => {
                    let actions: Vec<&str> =
                        decision.history.iter().map(|(a, _)| a.code()).collect();
                    tracing::info!(order_id = %id, version = commit.order.version, %actor, ?actions, "order changed");
                    return Ok(ChangedOrder {
                        order: commit.order,
                        links,
                    });
                }
                // Someone else wrote first, or the stock this decision
                // counted on moved: decide again on what is there now.
                Err(
                    error @ (StoreError::StaleVersion { .. }
                    | StoreError::TransactionConflict
                    | StoreError::StockShort { .. }),
                ) => {
                    tracing::debug!(order_id = %id, attempt, %error, "order write lost a race; deciding again");
                }
                Err(other) => return Err(other.into()),
            }
        }
        tracing::warn!(order_id = %id, attempts = MAX_ATTEMPTS, "order keeps changing; giving up");
        Err(StoreError::Unavailable("the order keeps changing".into()).into())
    }
}

/// `?dry_run=true` on a staff edit: decide and answer, write nothing (the
/// admin forms' previews).
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Preview {
    /// Answer what the change would produce without making it.
    #[serde(default)]
    pub dry_run: bool,
}

impl AppState {
    /// A staff edit of order `id` on the version the form showed: made, or
    /// for a dry run only decided, exactly as it would be made.
    pub async fn edit_order(
        &self,
        id: &OrderId,
        actor: &Actor,
        command: &OrderCommand,
        version: u64,
        dry_run: bool,
    ) -> Result<Order, ChangeError> {
        let expect = Expect {
            version: Some(version),
            visible: None,
        };
        if dry_run {
            self.preview_order(id, actor, command, expect).await
        } else {
            Ok(self
                .change_order_if(id, actor, command, expect)
                .await?
                .order)
        }
    }
}

/// A decision on the order as stored now, and the order it makes.
struct Decided {
    order: Order,
    decision: Decision,
    next: Order,
    now: time::OffsetDateTime,
}

impl AppState {
    /// What `command` would make of order `id`, decided exactly as
    /// [`AppState::change_order_if`] decides it, without writing anything:
    /// the forms' previews.
    pub async fn preview_order(
        &self,
        id: &OrderId,
        actor: &Actor,
        command: &OrderCommand,
        expect: Expect<'_>,
    ) -> Result<Order, ChangeError> {
        Ok(self.decide_fresh(id, actor, command, expect).await?.next)
    }

    /// Reads the order (and the stock its command needs), checks what the
    /// caller expects of it, decides and applies the decision to a copy.
    async fn decide_fresh(
        &self,
        id: &OrderId,
        actor: &Actor,
        command: &OrderCommand,
        expect: Expect<'_>,
    ) -> Result<Decided, ChangeError> {
        let order = self
            .store
            .get_order(id)
            .await?
            .filter(|order| expect.visible.is_none_or(|visible| visible(order)))
            .ok_or(ChangeError::NotFound)?;
        // A version the caller saw is a promise about what they decided
        // on: a newer order is theirs to look at again, not ours to retry.
        if let Some(expected) = expect.version.filter(|v| *v != order.version) {
            return Err(ChangeError::Stale {
                expected,
                current: order.version,
            });
        }
        let skus = command.stock_skus(&order);
        let products = if skus.is_empty() {
            Vec::new()
        } else {
            self.store.get_products(&skus).await?
        };
        let credit_notes_issued = if command.needs_credit_note() {
            self.store.credit_notes_issued().await?
        } else {
            0
        };
        let now = self.clock.now();
        let context = CommandContext {
            now,
            actor,
            products: &products,
            tax_rates: self.settings.pricing.tax_rates,
            return_policy: &self.settings.returns,
            credit_notes_issued,
        };
        let decision = order.decide(command, &context)?;
        let mut next = order.clone();
        next.apply(&decision, now, actor);
        Ok(Decided {
            order,
            decision,
            next,
            now,
        })
    }
}

/// Full jitter: a random wait up to a ceiling that doubles per attempt, so
/// that writers who collided do not collide again in step.
async fn backoff(attempt: u32) {
    let ceiling = BACKOFF_BASE.saturating_mul(1 << attempt.min(8));
    let wait = rand::rng().random_range(Duration::ZERO..=ceiling);
    tokio::time::sleep(wait).await;
}

impl From<ChangeError> for Problem {
    fn from(error: ChangeError) -> Self {
        match error {
            ChangeError::NotFound => Problem::not_found("order"),
            ChangeError::Stale { current, .. } => Problem::new(
                StatusCode::CONFLICT,
                "stale-version",
                "Changed meanwhile",
                error.to_string(),
            )
            .with_field("version")
            .with("current_version", current),
            ChangeError::Refused(refusal) => refusal_problem(refusal),
            ChangeError::Store(store) => store.into(),
        }
    }
}

/// An order's refusal as an answer: each names its reason, and the field
/// at fault where a field is.
pub fn refusal_problem(error: OrderError) -> Problem {
    let detail = error.to_string();
    let conflict =
        |kind: &str, title: &str| Problem::new(StatusCode::CONFLICT, kind, title, detail.clone());
    match error {
        OrderError::Closed { status } => {
            conflict("order-closed", "Order closed").with("order_status", status.code())
        }
        OrderError::Shipment(shipment) => shipment_problem(shipment),
        OrderError::AlreadyShipped => conflict("already-shipped", "Already shipped"),
        OrderError::AlreadyPacked => conflict("already-packed", "Already packed"),
        OrderError::PaymentNotPositive | OrderError::PaymentCurrency => {
            Problem::invalid_field("amount", detail)
        }
        OrderError::PaymentDateInFuture => Problem::invalid_field("date", detail),
        OrderError::Overpayment { due, .. } => {
            Problem::invalid_field("amount", detail).with("due", crate::views::money(due))
        }
        OrderError::NothingDue => conflict("nothing-due", "Nothing due"),
        OrderError::NotFinished {
            shipping_status,
            payment_status,
        } => conflict("order-not-finished", "Order not finished")
            .with_field("even_if_open")
            .with("shipping_status", shipping_status.code())
            .with("payment_status", payment_status.code()),
        OrderError::NotExpired => conflict("not-expired", "Not expired"),
        OrderError::DuplicateCarrierMessage
        | OrderError::LateCarrierMessage { .. }
        | OrderError::WrongCarrier => conflict("carrier-message-not-applied", "Not applied"),
        OrderError::UnknownSku(_) => Problem::invalid_field("sku", detail),
        OrderError::OutOfStock { sku, available } => conflict("insufficient-stock", "Not in stock")
            .with_field("quantity")
            .with("sku", sku.as_str())
            .with("available", available),
        OrderError::BadUnitPrice => Problem::invalid_field("unit_price", detail),
        OrderError::ReasonTooLong | OrderError::ReasonMissing => {
            Problem::invalid_field("reason", detail)
        }
        OrderError::UnknownLine(_) => Problem::not_found("line"),
        OrderError::TooManyLines => conflict("too-many-lines", "Too many lines"),
        OrderError::LinePacked { packed, .. } => conflict("line-packed", "Line packed")
            .with_field("quantity")
            .with("packed", packed),
        OrderError::NothingToChange => conflict("nothing-to-change", "Nothing to change"),
        OrderError::BadAdjustment => Problem::invalid_field("amount", detail),
        OrderError::NothingToAdjust => conflict("nothing-to-adjust", "Nothing to adjust"),
        OrderError::BelowZero { total } => {
            Problem::invalid_field("amount", detail).with("total", crate::views::money(total))
        }
        OrderError::Return(error) => return_problem(error),
    }
}

fn return_problem(error: ReturnError) -> Problem {
    let detail = error.to_string();
    let line = |index: usize, field: &str| format!("lines[{index}].{field}");
    match error {
        ReturnError::NoLines => Problem::invalid_field("lines", detail),
        ReturnError::LineTwice { index, .. }
        | ReturnError::NotShipped { index, .. }
        | ReturnError::NotInReturn { index, .. } => {
            Problem::invalid_field(line(index, "line_id"), detail)
        }
        ReturnError::MoreThanReturnable {
            index, returnable, ..
        } => Problem::invalid_field(line(index, "quantity"), detail).with("returnable", returnable),
        ReturnError::MoreThanExpected {
            index, expected, ..
        } => Problem::invalid_field(line(index, "quantity"), detail).with("expected", expected),
        ReturnError::UnknownReason { index, .. } => {
            Problem::invalid_field(line(index, "reason"), detail)
        }
        ReturnError::ActionNotOffered { .. } => Problem::invalid_field("requested_action", detail),
        ReturnError::OutsideWindow {
            index, deadline, ..
        } => Problem::invalid_field(line(index, "line_id"), detail)
            .with("deadline", deadline.to_string()),
        ReturnError::CommentTooLong => Problem::invalid_field("comment", detail),
        ReturnError::UnknownReturn(_) => Problem::not_found("return"),
        ReturnError::OutOfOrder { status, .. } => {
            Problem::new(StatusCode::CONFLICT, "return-step", "Not now", detail)
                .with("return_status", status.code())
        }
        ReturnError::BadReason => Problem::invalid_field("reason", detail),
        ReturnError::AboveRefundable { refundable } => Problem::invalid_field("amount", detail)
            .with("refundable", crate::views::money(refundable)),
        ReturnError::BadAmount => Problem::invalid_field("amount", detail),
        ReturnError::NotBackFromCarrier(_) => Problem::new(
            StatusCode::CONFLICT,
            "not-back-from-carrier",
            "Not back",
            detail,
        ),
        ReturnError::RefundNotClose => Problem::new(
            StatusCode::CONFLICT,
            "refund-not-close",
            "Refund it",
            detail,
        ),
    }
}

fn shipment_problem(error: ShipmentError) -> Problem {
    let detail = error.to_string();
    match error {
        ShipmentError::NoItems => Problem::invalid_field("items", detail),
        ShipmentError::UnknownLine { index, .. } => {
            Problem::invalid_field(format!("items[{index}].line_id"), detail)
        }
        ShipmentError::MoreThanRemains {
            index, remaining, ..
        } => Problem::invalid_field(format!("items[{index}].quantity"), detail)
            .with("remaining", remaining),
        ShipmentError::NotInStock {
            index,
            sku,
            available,
        } => Problem::new(
            StatusCode::CONFLICT,
            "insufficient-stock",
            "Not in stock",
            detail,
        )
        .with_field(format!("items[{index}].quantity"))
        .with("sku", sku.as_str())
        .with("available", available),
        ShipmentError::UnknownShipment(_) => Problem::not_found("shipment"),
        ShipmentError::StatusJump { from, .. } => {
            Problem::invalid_field("status", detail).with("current", from.code())
        }
        ShipmentError::NoTrackingNumber(_) | ShipmentError::BadTrackingNumber(_) => {
            Problem::invalid_field("tracking_number", detail)
        }
        ShipmentError::TooManySteps => Problem::new(
            StatusCode::CONFLICT,
            "parcel-steps-exhausted",
            "The parcel's history is full",
            detail,
        )
        .with_field("status"),
        ShipmentError::TooManyParcels => Problem::new(
            StatusCode::CONFLICT,
            "too-many-parcels",
            "Too many parcels",
            detail,
        )
        .with_field("items"),
    }
}
