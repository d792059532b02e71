//! Returns: what a customer sends back of a placed order, and the money
//! they get for it.
//!
//! Returns live inside the order, like its parcels, so "shipped minus
//! already returned" is guarded by the order's version. A return is
//! `requested` (by the shopper within the shop's window, or by staff on
//! their behalf), then `approved` or `rejected`, then `received` (staff
//! record per line what arrived and whether it goes back on the shelf),
//! then `refunded` — or `closed` when the customer wanted a replacement.
//!
//! The refund is what the customer paid for the units that came back:
//! each line's share of the order's money (its price less its share of
//! discounts, with its share of adjustments) split over its units so that
//! returning every unit refunds the line to the cent. Shipping comes back
//! only when everything shipped came back (a shop setting). On an order
//! not yet paid the refund lowers what is due (a credit) before any money
//! goes out; money out never exceeds what was paid. Every refund has a
//! gap-free credit-note number, which the store claims in the same write.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::actor::Actor;
use crate::money::Money;
use crate::order::{Order, OrderLine};
use crate::pricing::{tax_breakdown, TaxLine};
use crate::shipment::ShipmentStatus;
use crate::tax::tax_in_gross;
use crate::types::{LineId, Quantity, Sku};

/// What the customer wants for what they send back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnAction {
    Refund,
    Replacement,
    Exchange,
}

impl ReturnAction {
    pub const ALL: [ReturnAction; 3] = [
        ReturnAction::Refund,
        ReturnAction::Replacement,
        ReturnAction::Exchange,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ReturnAction::Refund => "refund",
            ReturnAction::Replacement => "replacement",
            ReturnAction::Exchange => "exchange",
        }
    }
}

/// Where a return stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    Requested,
    Approved,
    Rejected,
    Received,
    Refunded,
    Closed,
}

impl ReturnStatus {
    pub fn code(self) -> &'static str {
        match self {
            ReturnStatus::Requested => "requested",
            ReturnStatus::Approved => "approved",
            ReturnStatus::Rejected => "rejected",
            ReturnStatus::Received => "received",
            ReturnStatus::Refunded => "refunded",
            ReturnStatus::Closed => "closed",
        }
    }

    /// Whether the return is over (nothing more happens to it).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ReturnStatus::Rejected | ReturnStatus::Refunded | ReturnStatus::Closed
        )
    }
}

impl std::fmt::Display for ReturnStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The shop's return rules (shop settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnPolicy {
    /// The reasons a customer may give.
    pub reasons: Vec<String>,
    /// What a customer may ask for.
    pub actions: Vec<ReturnAction>,
    /// Days after a parcel's delivery (or its shipping, when no delivery
    /// was reported) that shoppers may ask to return from it.
    pub window_days: u32,
    /// Whether shipping is refunded once everything shipped came back.
    pub refund_shipping_when_all_returned: bool,
}

impl Default for ReturnPolicy {
    fn default() -> Self {
        Self {
            reasons: [
                "too small",
                "too large",
                "not as described",
                "damaged",
                "wrong item",
                "changed my mind",
            ]
            .map(String::from)
            .to_vec(),
            actions: ReturnAction::ALL.to_vec(),
            window_days: 30,
            refund_shipping_when_all_returned: true,
        }
    }
}

/// Units of one line a customer sends back, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    pub line_id: LineId,
    pub sku: Sku,
    pub name: String,
    pub quantity: Quantity,
    pub reason: String,
    /// For an exchange: the product wanted instead.
    pub exchange_sku: Option<Sku>,
}

/// What arrived of one line, and whether it went back on the shelf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedLine {
    pub line_id: LineId,
    pub quantity: u32,
    pub restocked: bool,
}

/// The money for a return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    /// `CN-2026-000123`: sequential per shop, without gaps.
    pub credit_note: String,
    /// Everything refunded: `money_out` and `credit` together.
    pub amount: Money,
    /// Paid back to the customer (staff record it; payment is offline).
    pub money_out: Money,
    /// Taken off what was still due, on an order not fully paid.
    pub credit: Money,
    /// The part of `amount` that is shipping.
    pub shipping: Money,
    /// The VAT in `amount`, per rate (what the credit note shows).
    pub taxes: Vec<TaxLine>,
    /// Why staff refunded less than what was refundable.
    pub reduced_because: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: Actor,
}

/// A return of part of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Return {
    /// `R1`, `R2`, … within the order.
    pub id: String,
    pub lines: Vec<ReturnLine>,
    pub requested_action: ReturnAction,
    pub comment: Option<String>,
    pub status: ReturnStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    pub requested_by: Actor,
    /// Staff accepted it after the shopper's window.
    pub window_overridden: bool,
    /// Why it was rejected (the customer reads it).
    pub rejection_reason: Option<String>,
    /// What arrived, once received.
    pub received: Vec<ReceivedLine>,
    pub refund: Option<Refund>,
    /// The lines (at 0) that carry a replacement's or exchange's units,
    /// added when it was approved; they are packed like any line.
    pub replacement_lines: Vec<LineId>,
}

impl Return {
    /// Whether its units still count as on their way back (a rejected
    /// return frees them for another).
    pub fn holds_units(&self) -> bool {
        self.status != ReturnStatus::Rejected
    }
}

impl Order {
    /// Units of `line` that have left in parcels not returned to sender.
    pub fn units_shipped(&self, line: &LineId) -> u32 {
        self.shipments
            .iter()
            .filter(|s| s.status.has_left() && s.status != ShipmentStatus::ReturnedToSender)
            .flat_map(|s| &s.items)
            .filter(|i| &i.line_id == line)
            .map(|i| i.quantity.get())
            .sum()
    }

    /// Units of `line` in returns that are not rejected.
    pub fn units_in_returns(&self, line: &LineId) -> u32 {
        self.returns
            .iter()
            .filter(|r| r.holds_units())
            .flat_map(|r| &r.lines)
            .filter(|l| &l.line_id == line)
            .map(|l| l.quantity.get())
            .sum()
    }

    /// Units of `line` a customer may still send back.
    pub fn units_returnable(&self, line: &LineId) -> u32 {
        self.units_shipped(line)
            .saturating_sub(self.units_in_returns(line))
    }

    /// The last day shoppers may ask to return units of `line`: the window
    /// after the latest of its parcels arrived (or left, when no delivery
    /// was reported). None while nothing of it has left.
    pub fn return_deadline(&self, line: &LineId, window_days: u32) -> Option<OffsetDateTime> {
        self.shipments
            .iter()
            .filter(|s| s.status.has_left() && s.items.iter().any(|i| &i.line_id == line))
            .filter_map(|s| {
                let delivered = s
                    .history
                    .iter()
                    .rev()
                    .find(|step| step.status == ShipmentStatus::Delivered);
                let left = s.history.iter().find(|step| step.status.has_left());
                delivered.or(left).map(|step| step.at)
            })
            .max()
            .map(|from| from + Duration::days(i64::from(window_days)))
    }

    /// Units of `line` already refunded (received in refunded returns).
    pub fn units_refunded(&self, line: &LineId) -> u32 {
        self.returns
            .iter()
            .filter(|r| r.status == ReturnStatus::Refunded)
            .flat_map(|r| &r.received)
            .filter(|l| &l.line_id == line)
            .map(|l| l.quantity)
            .sum()
    }

    /// Money paid back so far.
    pub fn refunded_out(&self) -> Money {
        Money::sum(
            self.currency,
            self.returns
                .iter()
                .filter_map(|r| r.refund.as_ref())
                .map(|refund| &refund.money_out),
        )
    }

    /// Refunds taken off what was due.
    pub fn credits(&self) -> Money {
        Money::sum(
            self.currency,
            self.returns
                .iter()
                .filter_map(|r| r.refund.as_ref())
                .map(|refund| &refund.credit),
        )
    }

    /// What the units received in `received` are worth to the customer:
    /// what they paid for them (see [`line_refund`]), and shipping when
    /// the policy says and everything shipped will then have come back.
    pub fn refundable(&self, received: &[ReceivedLine], policy: &ReturnPolicy) -> RefundableAmount {
        let zero = Money::zero(self.currency);
        let mut goods = zero;
        let mut parts = Vec::new();
        for got in received {
            if let Some(line) = self.lines.iter().find(|l| l.id == got.line_id) {
                let before = self.units_refunded(&line.id);
                let worth = line_refund(line, before, got.quantity);
                goods = goods + worth;
                parts.push((line.tax_rate, worth));
            }
        }
        let all_back = self.lines.iter().all(|line| {
            let now: u32 = received
                .iter()
                .filter(|r| r.line_id == line.id)
                .map(|r| r.quantity)
                .sum();
            self.units_refunded(&line.id) + now >= line.quantity.get()
        });
        let shipping = if policy.refund_shipping_when_all_returned && all_back {
            self.shipping.charged() - self.shipping_refunded()
        } else {
            zero
        };
        if !shipping.is_zero() {
            parts.push((self.shipping.tax_rate, shipping));
        }
        RefundableAmount {
            goods,
            shipping,
            parts,
        }
    }

    fn shipping_refunded(&self) -> Money {
        Money::sum(
            self.currency,
            self.returns
                .iter()
                .filter_map(|r| r.refund.as_ref())
                .map(|refund| &refund.shipping),
        )
    }
}

/// What a return may refund: goods and shipping, and each part with its
/// VAT rate.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundableAmount {
    pub goods: Money,
    pub shipping: Money,
    /// (VAT rate, gross) per line refunded, and shipping.
    pub parts: Vec<(Decimal, Money)>,
}

impl RefundableAmount {
    pub fn total(&self) -> Money {
        self.goods + self.shipping
    }

    /// The VAT in refunding `amount` of it, per rate: each part at its own
    /// rate, a lower amount split over the parts in proportion.
    pub fn taxes(&self, amount: Money) -> Vec<TaxLine> {
        let weights: Vec<Decimal> = self.parts.iter().map(|(_, gross)| gross.amount()).collect();
        let grosses = if amount == self.total().rounded() {
            self.parts.iter().map(|(_, gross)| *gross).collect()
        } else {
            amount.split(&weights).unwrap_or_default()
        };
        tax_breakdown(
            amount.currency(),
            self.parts
                .iter()
                .zip(grosses)
                .map(|((rate, _), gross)| (*rate, gross, tax_in_gross(gross, *rate))),
        )
    }
}

/// What the customer paid for `units` more units of `line` after `before`
/// were refunded: the line's charge split over its units so that the
/// refunds of all its units add up to the charge to the cent (the first
/// `n` units are worth the charge × n / quantity, rounded).
pub fn line_refund(line: &OrderLine, before: u32, units: u32) -> Money {
    let charged = line.charged();
    let quantity = Decimal::from(line.quantity.get());
    let worth = |n: u32| -> Money {
        let n = n.min(line.quantity.get());
        charged.scaled(Decimal::from(n) / quantity).rounded()
    };
    worth(before.saturating_add(units)) - worth(before)
}

/// Why a return step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("name at least one line to return")]
    NoLines,
    #[error("line {line_id} is named twice")]
    LineTwice { index: usize, line_id: LineId },
    #[error("nothing of line {line_id} has been shipped")]
    NotShipped { index: usize, line_id: LineId },
    #[error("only {returnable} unit(s) of line {line_id} can be returned")]
    MoreThanReturnable {
        index: usize,
        line_id: LineId,
        returnable: u32,
    },
    #[error("'{reason}' is not one of the shop's return reasons")]
    UnknownReason { index: usize, reason: String },
    #[error("the shop does not offer {}", action.code())]
    ActionNotOffered { action: ReturnAction },
    #[error("the return window for line {line_id} ended on {deadline}")]
    OutsideWindow {
        index: usize,
        line_id: LineId,
        deadline: time::Date,
    },
    #[error("a comment has at most 1,000 characters")]
    CommentTooLong,
    #[error("no return {0} on this order")]
    UnknownReturn(String),
    #[error("return {return_id} is {status}: it cannot be {step} now")]
    OutOfOrder {
        return_id: String,
        status: ReturnStatus,
        step: &'static str,
    },
    #[error("a reason is needed (1 to 200 characters)")]
    BadReason,
    #[error("line {line_id} is not in this return")]
    NotInReturn { index: usize, line_id: LineId },
    #[error("only {expected} unit(s) of line {line_id} were to come back")]
    MoreThanExpected {
        index: usize,
        line_id: LineId,
        expected: u32,
    },
    #[error("at most {refundable} can be refunded for this return")]
    AboveRefundable { refundable: Money },
    #[error("a refund is zero or more, in whole cents, in the order's currency")]
    BadAmount,
    #[error("a return that asked for a refund is refunded, not closed")]
    RefundNotClose,
    #[error("parcel {0} is not back from the carrier (or was received back already)")]
    NotBackFromCarrier(String),
}

const MAX_REASON: usize = 200;
const MAX_COMMENT: usize = 1_000;

fn reason_text(reason: &str) -> Result<String, ReturnError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(ReturnError::BadReason);
    }
    Ok(reason.to_string())
}

use crate::actor::HistoryAction;
use crate::command::{
    stock_changed, Change, CommandContext, Decision, Effect, OrderError, ReturnRequestLine,
};
use crate::events::{
    CustomerContact, EventPayload, ReceivedUnits, RefundIssued, ReturnDecided, ReturnReceived,
    ReturnRequested, ReturnedUnits, StockChangeReason,
};
use crate::order::StockTake;

impl Order {
    fn contact(&self) -> CustomerContact {
        CustomerContact {
            email: self.email.clone(),
            customer_id: self.customer_id.clone(),
            language: self.language,
        }
    }

    fn find_return(&self, return_id: &str) -> Result<&Return, ReturnError> {
        self.returns
            .iter()
            .find(|r| r.id == return_id)
            .ok_or_else(|| ReturnError::UnknownReturn(return_id.to_string()))
    }

    pub(crate) fn decide_return_request(
        &self,
        lines: &[ReturnRequestLine],
        action: ReturnAction,
        comment: Option<&str>,
        override_window: bool,
        context: &CommandContext<'_>,
    ) -> Result<Decision, OrderError> {
        let policy = context.return_policy;
        if lines.is_empty() {
            return Err(ReturnError::NoLines.into());
        }
        if !policy.actions.contains(&action) {
            return Err(ReturnError::ActionNotOffered { action }.into());
        }
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT) {
            return Err(ReturnError::CommentTooLong.into());
        }
        // Only staff may accept a return after the window, and they say so.
        let overriding = override_window && !context.actor.is_shopper();
        let mut window_overridden = false;
        let mut accepted = Vec::with_capacity(lines.len());
        for (index, wanted) in lines.iter().enumerate() {
            let line_id = wanted.line_id.clone();
            if lines[..index].iter().any(|l| l.line_id == line_id) {
                return Err(ReturnError::LineTwice { index, line_id }.into());
            }
            let Some(line) = self.lines.iter().find(|l| l.id == line_id) else {
                return Err(ReturnError::NotShipped { index, line_id }.into());
            };
            if self.units_shipped(&line_id) == 0 {
                return Err(ReturnError::NotShipped { index, line_id }.into());
            }
            let returnable = self.units_returnable(&line_id);
            if wanted.quantity.get() > returnable {
                return Err(ReturnError::MoreThanReturnable {
                    index,
                    line_id,
                    returnable,
                }
                .into());
            }
            let reason = wanted.reason.trim();
            if !policy.reasons.iter().any(|r| r == reason) {
                return Err(ReturnError::UnknownReason {
                    index,
                    reason: reason.to_string(),
                }
                .into());
            }
            if let Some(deadline) = self.return_deadline(&line_id, policy.window_days) {
                if context.now > deadline {
                    if !overriding {
                        return Err(ReturnError::OutsideWindow {
                            index,
                            line_id,
                            deadline: deadline.date(),
                        }
                        .into());
                    }
                    window_overridden = true;
                }
            }
            accepted.push(ReturnLine {
                line_id,
                sku: line.sku.clone(),
                name: line.name.clone(),
                quantity: wanted.quantity,
                reason: reason.to_string(),
                exchange_sku: wanted
                    .exchange_sku
                    .clone()
                    .filter(|_| action == ReturnAction::Exchange),
            });
        }
        let id = format!("R{}", self.returns.len() + 1);
        let units: u32 = accepted.iter().map(|l| l.quantity.get()).sum();
        let mut detail = format!("Return {id} requested: {units} unit(s), {}", action.code());
        if window_overridden {
            detail.push_str(", accepted by staff after the return window");
        }
        let mut decision = Decision::new(HistoryAction::ReturnRequested, detail);
        decision
            .events
            .push(EventPayload::ReturnRequested(ReturnRequested {
                number: self.number.clone(),
                return_id: id.clone(),
                lines: accepted
                    .iter()
                    .map(|l| ReturnedUnits {
                        line_id: l.line_id.clone(),
                        sku: l.sku.clone(),
                        name: l.name.clone(),
                        quantity: l.quantity.get(),
                        reason: l.reason.clone(),
                    })
                    .collect(),
                requested_action: action,
                window_overridden,
                customer: self.contact(),
            }));
        decision.changes.push(Change::ReturnAdded(Return {
            id,
            lines: accepted,
            requested_action: action,
            comment: comment.map(str::to_string),
            status: ReturnStatus::Requested,
            requested_at: context.now,
            requested_by: context.actor.clone(),
            window_overridden,
            rejection_reason: None,
            received: Vec::new(),
            refund: None,
            replacement_lines: Vec::new(),
        }));
        Ok(decision)
    }

    /// Approves a requested return; for a replacement or an exchange, the
    /// units to send are new lines at 0, taken from stock (or backordered)
    /// now and packed like any line, and a completed order opens again.
    pub(crate) fn decide_return_approval(
        &self,
        return_id: &str,
        context: &CommandContext<'_>,
    ) -> Result<Decision, OrderError> {
        let mut decision = self.decide_return_verdict(return_id, None)?;
        let found = self.find_return(return_id)?;
        if found.requested_action == ReturnAction::Refund {
            return Ok(decision);
        }
        let mut lines = Vec::with_capacity(found.lines.len());
        for (skip, returned) in (0u32..).zip(&found.lines) {
            let sku = returned.exchange_sku.as_ref().unwrap_or(&returned.sku);
            let product = context
                .product(sku)
                .ok_or_else(|| OrderError::UnknownSku(sku.clone()))?;
            let (line, allocation) = self.new_line(
                product,
                returned.quantity,
                Money::zero(self.currency),
                skip,
                context,
            )?;
            if allocation.from_stock > 0 {
                let take = StockTake {
                    sku: sku.clone(),
                    quantity: allocation.from_stock,
                };
                decision.events.push(stock_changed(
                    &take,
                    -1,
                    product.stock,
                    StockChangeReason::OrderChanged,
                ));
                decision.effects.push(Effect::TakeStock(take));
            }
            decision.history[0].1.push_str(&format!(
                "; line {} at 0: {} × {} to send",
                line.id,
                line.quantity.get(),
                line.name
            ));
            lines.push(line);
        }
        decision.changes.push(Change::ReplacementsAdded {
            return_id: return_id.to_string(),
            lines,
        });
        if self.status == crate::order::OrderStatus::Completed {
            decision
                .changes
                .push(Change::StatusSet(crate::order::OrderStatus::Open));
        }
        Ok(decision)
    }

    /// A parcel the carrier brought back is in the shop again.
    pub(crate) fn decide_parcel_back(
        &self,
        shipment_id: &str,
        restock: bool,
        context: &CommandContext<'_>,
    ) -> Result<Decision, OrderError> {
        let shipment = self.shipment(shipment_id).ok_or_else(|| {
            crate::shipment::ShipmentError::UnknownShipment(shipment_id.to_string())
        })?;
        if shipment.status != ShipmentStatus::ReturnedToSender || shipment.received_back {
            return Err(ReturnError::NotBackFromCarrier(shipment_id.to_string()).into());
        }
        let units: u32 = shipment.items.iter().map(|i| i.quantity.get()).sum();
        let mut decision = Decision::new(
            HistoryAction::ParcelReceivedBack,
            if restock {
                format!("Parcel {shipment_id} back from the carrier: {units} unit(s) back in stock")
            } else {
                format!("Parcel {shipment_id} back from the carrier: {units} unit(s) kept to send again")
            },
        );
        decision.changes.push(Change::ParcelReceivedBack {
            shipment_id: shipment_id.to_string(),
            restock,
        });
        if restock {
            let mut back: Vec<StockTake> = Vec::new();
            for item in &shipment.items {
                match back.iter_mut().find(|t| t.sku == item.sku) {
                    Some(take) => take.quantity += item.quantity.get(),
                    None => back.push(StockTake {
                        sku: item.sku.clone(),
                        quantity: item.quantity.get(),
                    }),
                }
            }
            for units in back {
                decision.events.push(stock_changed(
                    &units,
                    1,
                    context.stock(&units.sku),
                    StockChangeReason::ReturnRestocked,
                ));
                decision.effects.push(Effect::ReturnStock(units));
            }
        }
        Ok(decision)
    }

    /// Approves (`rejection` none) or rejects a requested return.
    pub(crate) fn decide_return_verdict(
        &self,
        return_id: &str,
        rejection: Option<&String>,
    ) -> Result<Decision, OrderError> {
        let found = self.find_return(return_id)?;
        let step = if rejection.is_some() {
            "rejected"
        } else {
            "approved"
        };
        if found.status != ReturnStatus::Requested {
            return Err(ReturnError::OutOfOrder {
                return_id: return_id.to_string(),
                status: found.status,
                step,
            }
            .into());
        }
        let reason = rejection.map(|r| reason_text(r)).transpose()?;
        let (action, status, detail) = match &reason {
            Some(reason) => (
                HistoryAction::ReturnRejected,
                ReturnStatus::Rejected,
                format!("Return {return_id} rejected — {reason}"),
            ),
            None => (
                HistoryAction::ReturnApproved,
                ReturnStatus::Approved,
                format!("Return {return_id} approved"),
            ),
        };
        let mut decision = Decision::new(action, detail);
        decision.changes.push(Change::ReturnStatusSet {
            return_id: return_id.to_string(),
            status,
            rejection_reason: reason.clone(),
        });
        let decided = ReturnDecided {
            number: self.number.clone(),
            return_id: return_id.to_string(),
            reason,
            customer: self.contact(),
        };
        decision.events.push(if status == ReturnStatus::Rejected {
            EventPayload::ReturnRejected(decided)
        } else {
            EventPayload::ReturnApproved(decided)
        });
        Ok(decision)
    }

    pub(crate) fn decide_return_receipt(
        &self,
        return_id: &str,
        received: &[ReceivedLine],
        context: &CommandContext<'_>,
    ) -> Result<Decision, OrderError> {
        let found = self.find_return(return_id)?;
        if found.status != ReturnStatus::Approved {
            return Err(ReturnError::OutOfOrder {
                return_id: return_id.to_string(),
                status: found.status,
                step: "received",
            }
            .into());
        }
        for (index, got) in received.iter().enumerate() {
            let Some(asked) = found.lines.iter().find(|l| l.line_id == got.line_id) else {
                return Err(ReturnError::NotInReturn {
                    index,
                    line_id: got.line_id.clone(),
                }
                .into());
            };
            if received[..index].iter().any(|l| l.line_id == got.line_id) {
                return Err(ReturnError::LineTwice {
                    index,
                    line_id: got.line_id.clone(),
                }
                .into());
            }
            if got.quantity > asked.quantity.get() {
                return Err(ReturnError::MoreThanExpected {
                    index,
                    line_id: got.line_id.clone(),
                    expected: asked.quantity.get(),
                }
                .into());
            }
        }
        let arrived: u32 = received.iter().map(|l| l.quantity).sum();
        let restocked: u32 = received
            .iter()
            .filter(|l| l.restocked)
            .map(|l| l.quantity)
            .sum();
        let mut decision = Decision::new(
            HistoryAction::ReturnReceived,
            format!("Return {return_id} received: {arrived} unit(s), {restocked} back in stock"),
        );
        decision.changes.push(Change::ReturnReceived {
            return_id: return_id.to_string(),
            received: received.to_vec(),
        });
        decision
            .events
            .push(EventPayload::ReturnReceived(ReturnReceived {
                number: self.number.clone(),
                return_id: return_id.to_string(),
                lines: received
                    .iter()
                    .map(|l| ReceivedUnits {
                        line_id: l.line_id.clone(),
                        name: self
                            .lines
                            .iter()
                            .find(|line| line.id == l.line_id)
                            .map(|line| line.name.clone())
                            .unwrap_or_default(),
                        quantity: l.quantity,
                        restocked: l.restocked,
                    })
                    .collect(),
                customer: self.contact(),
            }));
        // One stock movement per sku, however many lines share it.
        let mut back: Vec<StockTake> = Vec::new();
        for got in received.iter().filter(|l| l.restocked && l.quantity > 0) {
            let Some(line) = self.lines.iter().find(|l| l.id == got.line_id) else {
                continue;
            };
            match back.iter_mut().find(|t| t.sku == line.sku) {
                Some(take) => take.quantity += got.quantity,
                None => back.push(StockTake {
                    sku: line.sku.clone(),
                    quantity: got.quantity,
                }),
            }
        }
        for units in back {
            decision.events.push(stock_changed(
                &units,
                1,
                context.stock(&units.sku),
                StockChangeReason::ReturnRestocked,
            ));
            decision.effects.push(Effect::ReturnStock(units));
        }
        Ok(decision)
    }

    pub(crate) fn decide_refund(
        &self,
        return_id: &str,
        amount: Option<Money>,
        reason: Option<&str>,
        context: &CommandContext<'_>,
    ) -> Result<Decision, OrderError> {
        let found = self.find_return(return_id)?;
        if found.status != ReturnStatus::Received {
            return Err(ReturnError::OutOfOrder {
                return_id: return_id.to_string(),
                status: found.status,
                step: "refunded",
            }
            .into());
        }
        let refundable = self.refundable(&found.received, context.return_policy);
        let full = refundable.total().rounded();
        let amount = match amount {
            None => full,
            Some(amount) => {
                if amount.currency() != self.currency
                    || amount.is_negative()
                    || !amount.is_in_minor_units()
                {
                    return Err(ReturnError::BadAmount.into());
                }
                if amount.amount() > full.amount() {
                    return Err(ReturnError::AboveRefundable { refundable: full }.into());
                }
                amount.rounded()
            }
        };
        let reduced_because = if amount.amount() < full.amount() {
            Some(reason_text(reason.unwrap_or_default())?)
        } else {
            None
        };
        // What is still due is credited first; the rest goes back as money
        // (never more than was paid and not yet paid back).
        let due = self.amount_due();
        let credit = if amount.amount() <= due.amount() {
            amount
        } else {
            due
        };
        let mut money_out = amount - credit;
        let paid_left = self.paid() - self.refunded_out();
        if money_out.amount() > paid_left.amount() {
            money_out = paid_left;
        }
        let credit = amount - money_out;
        let shipping = if refundable.shipping.amount() <= amount.amount() {
            refundable.shipping
        } else {
            amount
        };
        let number = context.credit_notes_issued.saturating_add(1);
        let credit_note = format!("CN-{}-{number:06}", context.now.year());
        let taxes = refundable.taxes(amount);
        let refund = Refund {
            credit_note: credit_note.clone(),
            amount,
            money_out,
            credit,
            shipping,
            taxes: taxes.clone(),
            reduced_because: reduced_because.clone(),
            at: context.now,
            by: context.actor.clone(),
        };
        let mut detail =
            format!("Return {return_id} refunded: {amount} under credit note {credit_note}");
        if !money_out.is_zero() {
            detail.push_str(&format!(", {money_out} paid back"));
        }
        if !credit.is_zero() {
            detail.push_str(&format!(", {credit} off the amount due"));
        }
        if let Some(reason) = &reduced_because {
            detail.push_str(&format!(" (less than {full} — {reason})"));
        }
        let mut decision = Decision::new(HistoryAction::Refunded, detail);
        decision.effects.push(Effect::ClaimCreditNote { number });
        decision.changes.push(Change::ReturnRefunded {
            return_id: return_id.to_string(),
            refund,
        });
        let after = self.after(&decision.changes);
        decision
            .events
            .push(EventPayload::RefundIssued(RefundIssued {
                number: self.number.clone(),
                return_id: return_id.to_string(),
                credit_note,
                currency: self.currency,
                amount: amount.amount(),
                money_out: money_out.rounded().amount(),
                credit: credit.rounded().amount(),
                amount_due: after.amount_due().rounded().amount(),
                payment_status: after.payment_status,
                taxes: taxes
                    .iter()
                    .map(|t| crate::events::RefundTax {
                        rate: t.rate,
                        net: t.net.amount(),
                        tax: t.tax.amount(),
                        gross: t.gross.amount(),
                    })
                    .collect(),
                customer: self.contact(),
            }));
        Ok(decision)
    }

    pub(crate) fn decide_return_close(&self, return_id: &str) -> Result<Decision, OrderError> {
        let found = self.find_return(return_id)?;
        if found.status != ReturnStatus::Received {
            return Err(ReturnError::OutOfOrder {
                return_id: return_id.to_string(),
                status: found.status,
                step: "closed",
            }
            .into());
        }
        if found.requested_action == ReturnAction::Refund {
            return Err(ReturnError::RefundNotClose.into());
        }
        let mut decision = Decision::new(
            HistoryAction::ReturnClosed,
            format!(
                "Return {return_id} closed ({})",
                found.requested_action.code()
            ),
        );
        decision.changes.push(Change::ReturnStatusSet {
            return_id: return_id.to_string(),
            status: ReturnStatus::Closed,
            rejection_reason: None,
        });
        Ok(decision)
    }
}

#[cfg(test)]
mod tests;
