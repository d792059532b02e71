//! Every change to a placed order: a command, decided by the order.
//!
//! [`Order::decide`] looks at the order as it stands and a command, and
//! answers a [`Decision`] — the typed changes to the order, the effects
//! outside it (stock taken or returned, tracking numbers claimed or
//! released), the events to publish and the history entries to write — or
//! says why not ([`OrderError`]). Nothing changes while deciding.
//! [`Order::apply`] is then the only code that changes an order: it applies
//! the changes, appends the history, derives the shipping and payment
//! status and bumps the version. Deciding and applying are pure; the order
//! helper in `kontor-http` loads, decides, commits and retries around them.
//!
//! A new workflow adds a variant to [`OrderCommand`] and its arm in
//! `decide`, and nothing else to the write path.

use std::collections::BTreeMap;

use time::{Date, Duration, OffsetDateTime};

use crate::actor::{Actor, HistoryAction};
use crate::carrier::TrackingService;
use crate::events::{
    CancelledBy, ChangeItem, EventPayload, NoteAdded, OrderAddressesChanged, OrderAdjusted,
    OrderCancelled, OrderChangeAnnounced, OrderCompleted, OrderItemAdded, OrderLineChanged,
    PaymentRecorded, PlacedLine, RateShare, ShipmentCreated, ShipmentStatusChanged,
    StockChangeReason, StockChanged, StockUnits, TrackingSent,
};
use crate::money::Money;
use crate::order::{
    Address, Adjustment, Note, Order, OrderLine, OrderStatus, Payment, PaymentMethod,
    PaymentStatus, ShippingStatus, StockTake,
};
use crate::product::Product;
use crate::returns::{ReceivedLine, Refund, Return, ReturnAction, ReturnPolicy, ReturnStatus};
use crate::shipment::{
    derive_shipping_status, Carrier, NewShipment, Shipment, ShipmentError, ShipmentStatus,
    ShipmentStep, TrackingLinks, TrackingNumber, MAX_PARCEL_STEPS,
};
use crate::tax::{tax_in_gross, TaxRates};
use crate::types::{LineId, NoteText, Quantity, Sku};

/// What someone asks of a placed order.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderCommand {
    /// Staff pack a parcel of part of the order.
    PackShipment(NewShipment),
    /// Staff move a parcel on, and may set its tracking number.
    MoveShipment {
        shipment_id: String,
        status: ShipmentStatus,
        tracking_number: Option<TrackingNumber>,
        location: Option<String>,
        /// Whether the customer is e-mailed about it.
        notify: bool,
    },
    /// Staff e-mail a parcel's tracking link again.
    SendTracking {
        shipment_id: String,
    },
    /// A carrier's signed message about one of the order's parcels.
    ApplyCarrierMessage(CarrierUpdate),
    /// Cancel the order: its stock goes back. Shoppers may while nothing
    /// is packed; staff while nothing has left the warehouse.
    Cancel {
        reason: Option<String>,
    },
    /// Money arrived.
    RecordPayment {
        amount: Money,
        date: Date,
        reference: String,
    },
    /// Close the order. Without `even_if_open` only a delivered and paid
    /// order can be completed (it then completes by itself anyway).
    Complete {
        even_if_open: bool,
    },
    /// Cancel a prepayment order whose money has not arrived after
    /// `after_days` days, so that it does not hold stock forever.
    ExpireUnpaid {
        after_days: u32,
    },
    /// Staff write a note: for colleagues, or for the customer.
    AddNote {
        text: NoteText,
        visible_to_customer: bool,
    },
    /// Staff add a line: always a new one (a free unit is never merged into
    /// a paid line), at the product's price or their own (0 for a gift),
    /// taking stock now or backordered when the product allows it.
    AddLine {
        sku: Sku,
        quantity: Quantity,
        unit_price: Option<Money>,
        reason: Option<String>,
        /// Whether the customer is e-mailed about the change.
        notify_customer: bool,
    },
    /// Staff change what is not packed of a line: its quantity (never
    /// below what is packed) or its unit price (while nothing of it is
    /// packed). Freed units go back to stock; more units are taken.
    ChangeLine {
        line_id: LineId,
        quantity: Option<Quantity>,
        unit_price: Option<Money>,
        notify_customer: bool,
    },
    /// Staff remove what is not packed of a line: the whole line while
    /// nothing of it is packed.
    RemoveLine {
        line_id: LineId,
        notify_customer: bool,
    },
    /// A goodwill adjustment: a signed gross amount (negative lowers the
    /// total), split over the order's tax rates.
    Adjust {
        amount: Money,
        reason: String,
        notify_customer: bool,
    },
    /// New addresses; a new shipping address is for parcels not yet gone.
    ChangeAddresses {
        shipping_address: Option<Address>,
        billing_address: Option<Address>,
        notify_customer: bool,
    },
    /// A customer (or staff on their behalf) asks to send units back.
    /// Staff may accept it after the shopper's window (`override_window`).
    RequestReturn {
        lines: Vec<ReturnRequestLine>,
        action: ReturnAction,
        comment: Option<String>,
        override_window: bool,
    },
    ApproveReturn {
        return_id: String,
    },
    /// Refuse a return, with the reason the customer reads.
    RejectReturn {
        return_id: String,
        reason: String,
    },
    /// What arrived, per line, and whether it goes back on the shelf.
    ReceiveReturn {
        return_id: String,
        lines: Vec<ReceivedLine>,
    },
    /// Pay back (or credit) what the received units cost the customer;
    /// staff may refund less, with a reason.
    RefundReturn {
        return_id: String,
        amount: Option<Money>,
        reason: Option<String>,
    },
    /// End a replacement or exchange once its units arrived.
    CloseReturn {
        return_id: String,
    },
    /// A parcel the carrier brought back (returned to sender) is in the
    /// shop again: its units go back on the shelf (`restock`) or wait to
    /// be sent again.
    ReceiveReturnedParcel {
        shipment_id: String,
        restock: bool,
    },
}

/// Units of one line a customer asks to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRequestLine {
    pub line_id: LineId,
    pub quantity: Quantity,
    pub reason: String,
    /// For an exchange: the product the customer wants instead (the same
    /// one when left out).
    pub exchange_sku: Option<Sku>,
}

/// A carrier's message, as the webhook parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierUpdate {
    pub shipment_id: String,
    /// Who sent it.
    pub source: MessageSource,
    /// The sender's id for the message: each is applied once.
    pub event_id: String,
    /// The status it moves the parcel to; `None` for news Kontor has no
    /// status for, which is kept in the parcel's history and moves nothing.
    pub status: Option<ShipmentStatus>,
    /// The sender's own words for the status, kept in the history when
    /// they are not one of Kontor's.
    pub reported: Option<String>,
    pub occurred_at: OffsetDateTime,
    pub location: Option<String>,
}

/// Who sends news of a parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageSource {
    /// The carrier itself: it speaks only of its own parcels.
    Carrier(Carrier),
    /// A tracking service, for whichever carrier took the parcel.
    Service(TrackingService),
}

impl MessageSource {
    pub fn actor(self) -> Actor {
        match self {
            MessageSource::Carrier(carrier) => Actor::Carrier { carrier },
            MessageSource::Service(service) => Actor::TrackingService { service },
        }
    }
}

impl OrderCommand {
    /// The products whose current stock deciding this command needs: the
    /// caller reads them and hands them in through [`CommandContext`].
    pub fn stock_skus(&self, order: &Order) -> Vec<Sku> {
        let mut skus: Vec<Sku> = match self {
            OrderCommand::PackShipment(_) => order
                .lines
                .iter()
                .filter(|l| l.backordered > 0)
                .map(|l| l.sku.clone())
                .collect(),
            OrderCommand::Cancel { .. } | OrderCommand::ExpireUnpaid { .. } => order
                .lines
                .iter()
                .filter(|l| l.quantity.get() > l.backordered)
                .map(|l| l.sku.clone())
                .collect(),
            OrderCommand::AddLine { sku, .. } => vec![sku.clone()],
            OrderCommand::ChangeLine { line_id, .. } | OrderCommand::RemoveLine { line_id, .. } => {
                order
                    .lines
                    .iter()
                    .filter(|l| &l.id == line_id)
                    .map(|l| l.sku.clone())
                    .collect()
            }
            OrderCommand::ApproveReturn { return_id } => order
                .returns
                .iter()
                .filter(|r| &r.id == return_id && r.requested_action != ReturnAction::Refund)
                .flat_map(|r| &r.lines)
                .map(|l| l.exchange_sku.clone().unwrap_or_else(|| l.sku.clone()))
                .collect(),
            OrderCommand::ReceiveReturnedParcel { shipment_id, .. } => order
                .shipment(shipment_id)
                .into_iter()
                .flat_map(|s| &s.items)
                .map(|i| i.sku.clone())
                .collect(),
            OrderCommand::ReceiveReturn { lines, .. } => lines
                .iter()
                .filter(|l| l.restocked && l.quantity > 0)
                .filter_map(|l| order.lines.iter().find(|line| line.id == l.line_id))
                .map(|l| l.sku.clone())
                .collect(),
            _ => Vec::new(),
        };
        skus.sort();
        skus.dedup();
        skus
    }
}

impl OrderCommand {
    /// Whether the command is a step of a return (which a completed order
    /// still takes).
    pub fn is_return_step(&self) -> bool {
        matches!(
            self,
            OrderCommand::RequestReturn { .. }
                | OrderCommand::ApproveReturn { .. }
                | OrderCommand::RejectReturn { .. }
                | OrderCommand::ReceiveReturn { .. }
                | OrderCommand::RefundReturn { .. }
                | OrderCommand::CloseReturn { .. }
                | OrderCommand::ReceiveReturnedParcel { .. }
        )
    }

    /// Whether deciding takes the next credit-note number (the caller
    /// reads how many were issued and hands it in).
    pub fn needs_credit_note(&self) -> bool {
        matches!(self, OrderCommand::RefundReturn { .. })
    }
}

/// What deciding needs from outside the order.
pub struct CommandContext<'a> {
    pub now: OffsetDateTime,
    pub actor: &'a Actor,
    /// The products [`OrderCommand::stock_skus`] named, as they are now
    /// (their stock above all).
    pub products: &'a [Product],
    /// The shop's VAT rates, for a line added now.
    pub tax_rates: TaxRates,
    /// The shop's return rules.
    pub return_policy: &'a ReturnPolicy,
    /// Credit notes the shop has issued so far, when
    /// [`OrderCommand::needs_credit_note`].
    pub credit_notes_issued: u64,
}

impl CommandContext<'_> {
    pub fn product(&self, sku: &Sku) -> Option<&Product> {
        self.products.iter().find(|p| &p.sku == sku)
    }

    /// The stock now of `sku` (0 for a product that is not there).
    pub fn stock(&self, sku: &Sku) -> u32 {
        self.product(sku).map_or(0, |p| p.stock)
    }
}

/// One typed change to the order itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A new parcel; `releases` are the backordered units per line it ships
    /// from today's stock.
    ShipmentAdded {
        shipment: Shipment,
        releases: Vec<(LineId, u32)>,
    },
    ShipmentMoved {
        shipment_id: String,
        step: ShipmentStep,
        tracking_number: Option<TrackingNumber>,
    },
    /// Packed parcels that never left, unpacked when the order is cancelled.
    PendingShipmentsDropped {
        shipment_ids: Vec<String>,
    },
    StatusSet(OrderStatus),
    PaymentAdded(Payment),
    NoteAdded(Note),
    LineAdded(OrderLine),
    LineChanged {
        line_id: LineId,
        quantity: Quantity,
        unit_price: Money,
        backordered: u32,
    },
    LineRemoved {
        line_id: LineId,
    },
    AdjustmentAdded(Adjustment),
    AddressesChanged {
        shipping_address: Option<Address>,
        billing_address: Option<Address>,
    },
    ReturnAdded(Return),
    ReturnStatusSet {
        return_id: String,
        status: ReturnStatus,
        rejection_reason: Option<String>,
    },
    ReturnReceived {
        return_id: String,
        received: Vec<ReceivedLine>,
    },
    ReturnRefunded {
        return_id: String,
        refund: Refund,
    },
    /// The lines that carry a replacement's or exchange's units.
    ReplacementsAdded {
        return_id: String,
        lines: Vec<OrderLine>,
    },
    /// A parcel returned to sender is back; with `restock`, its units no
    /// longer hold stock (they are backordered until sent again).
    ParcelReceivedBack {
        shipment_id: String,
        restock: bool,
    },
}

/// A change outside the order that commits in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Units leave stock, only if that many are there.
    TakeStock(StockTake),
    /// Units come back to stock.
    ReturnStock(StockTake),
    /// The tracking number points at this parcel; no other parcel may have it.
    ClaimTracking {
        number: TrackingNumber,
        shipment_id: String,
    },
    /// The tracking number no longer points at this order.
    ReleaseTracking { number: TrackingNumber },
    /// The names on the order changed: staff's search by name must find
    /// it by the new words, not the old.
    RenameOrder {
        removed_words: Vec<String>,
        added_words: Vec<String>,
    },
    /// The shop's credit-note counter moves from `number - 1` to `number`,
    /// only if no other refund took `number` meanwhile (gap-free).
    ClaimCreditNote { number: u64 },
}

/// What a command does, decided but not yet applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub changes: Vec<Change>,
    pub effects: Vec<Effect>,
    /// The events' payloads; the order helper gives them ids, the time and
    /// the version the change produces.
    pub events: Vec<EventPayload>,
    /// One entry per step, in order, each a sentence for staff.
    pub history: Vec<(HistoryAction, String)>,
}

impl Decision {
    pub(crate) fn new(action: HistoryAction, detail: String) -> Self {
        Self {
            changes: Vec::new(),
            effects: Vec::new(),
            events: Vec::new(),
            history: vec![(action, detail)],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("the order is {status} and cannot change any more")]
    Closed { status: OrderStatus },
    #[error(transparent)]
    Shipment(#[from] ShipmentError),
    #[error("part of the order has left the warehouse: it can no longer be cancelled (return the shipped items instead)")]
    AlreadyShipped,
    #[error("the order is being packed; please contact the shop to cancel it")]
    AlreadyPacked,
    #[error("a payment is more than zero, in whole cents")]
    PaymentNotPositive,
    #[error("a payment is in the order's currency")]
    PaymentCurrency,
    #[error("a payment cannot have arrived after today")]
    PaymentDateInFuture,
    #[error("only {due} is due; a payment of {amount} would overpay the order")]
    Overpayment { amount: Money, due: Money },
    #[error("nothing is due on this order")]
    NothingDue,
    #[error("the order is {shipping_status} and {payment_status}; complete it anyway only on purpose (even_if_open)")]
    NotFinished {
        shipping_status: ShippingStatus,
        payment_status: PaymentStatus,
    },
    #[error("only an unpaid prepayment order past its payment deadline expires")]
    NotExpired,
    #[error("this carrier message was applied already")]
    DuplicateCarrierMessage,
    #[error("a {from} parcel cannot become {to}: the message arrived late")]
    LateCarrierMessage {
        from: ShipmentStatus,
        to: ShipmentStatus,
    },
    #[error("the parcel travels with another carrier")]
    WrongCarrier,
    #[error("no product has the sku {0}")]
    UnknownSku(Sku),
    #[error("only {available} of {sku} in stock, and it takes no backorders")]
    OutOfStock { sku: Sku, available: u32 },
    #[error("a unit price is zero or more, at most 1,000,000.00, in whole cents, in the order's currency")]
    BadUnitPrice,
    #[error("a reason has at most 200 characters")]
    ReasonTooLong,
    #[error("a reason is needed")]
    ReasonMissing,
    #[error("an order has at most {max} lines", max = crate::order::MAX_LINES)]
    TooManyLines,
    #[error("the order has no line {0}")]
    UnknownLine(LineId),
    #[error(
        "{packed} unit(s) of line {line_id} are packed: only the part not yet packed can change"
    )]
    LinePacked { line_id: LineId, packed: u32 },
    #[error("the change changes nothing")]
    NothingToChange,
    #[error("an adjustment is a non-zero amount, in whole cents, in the order's currency")]
    BadAdjustment,
    #[error("the order charges nothing to adjust")]
    NothingToAdjust,
    #[error("the total would be {total}: an order never charges less than nothing")]
    BelowZero { total: Money },
    #[error(transparent)]
    Return(#[from] crate::returns::ReturnError),
}

impl Order {
    /// Whether the shopper may cancel the order themselves: it is open and
    /// nothing of it is packed yet.
    pub fn shopper_may_cancel(&self) -> bool {
        self.status == OrderStatus::Open && self.shipments.is_empty()
    }

    /// Whether staff may cancel the order: it is open and no parcel has
    /// left the warehouse.
    pub fn staff_may_cancel(&self) -> bool {
        self.status == OrderStatus::Open && !self.shipments.iter().any(|s| s.status.has_left())
    }

    /// Decides what `command` does to the order as it stands.
    pub fn decide(
        &self,
        command: &OrderCommand,
        context: &CommandContext<'_>,
    ) -> Result<Decision, OrderError> {
        // A completed order still takes back what it delivered; nothing
        // else changes a closed order.
        let open_enough = match self.status {
            OrderStatus::Open => true,
            OrderStatus::Completed => command.is_return_step(),
            OrderStatus::Cancelled => false,
        };
        if !open_enough {
            return Err(OrderError::Closed {
                status: self.status,
            });
        }
        let mut decision = match command {
            OrderCommand::PackShipment(request) => self.decide_pack(request, context)?,
            OrderCommand::MoveShipment {
                shipment_id,
                status,
                tracking_number,
                location,
                notify,
            } => {
                let step = ShipmentStep {
                    status: *status,
                    at: context.now,
                    location: clean_location(location.as_deref()),
                    actor: context.actor.clone(),
                    carrier_event_id: None,
                    reported: None,
                };
                self.decide_move(shipment_id, step, tracking_number.clone(), *notify)?
            }
            OrderCommand::SendTracking { shipment_id } => self.decide_send_tracking(shipment_id)?,
            OrderCommand::ApplyCarrierMessage(update) => self.decide_carrier_message(update)?,
            OrderCommand::Cancel { reason } => {
                if context.actor.is_shopper() && !self.shopper_may_cancel() {
                    return Err(OrderError::AlreadyPacked);
                }
                let by = if context.actor.is_shopper() {
                    CancelledBy::Shopper
                } else {
                    CancelledBy::Staff
                };
                self.decide_cancel(by, reason.clone(), context)?
            }
            OrderCommand::ExpireUnpaid { after_days } => {
                let deadline = self.created_at + Duration::days(i64::from(*after_days));
                let unpaid =
                    self.payment_method == PaymentMethod::Prepayment && self.payments.is_empty();
                if !unpaid || context.now < deadline {
                    return Err(OrderError::NotExpired);
                }
                let reason = format!("no payment within {after_days} days");
                self.decide_cancel(CancelledBy::Expiry, Some(reason), context)?
            }
            OrderCommand::RecordPayment {
                amount,
                date,
                reference,
            } => self.decide_payment(*amount, *date, reference, context)?,
            OrderCommand::AddNote {
                text,
                visible_to_customer,
            } => {
                let id = format!("N{}", self.notes.len() + 1);
                // The history names the note, never its text: history is
                // staff's, but a note's words stay in the note.
                let mut decision = Decision::new(
                    HistoryAction::NoteAdded,
                    if *visible_to_customer {
                        format!("Note {id} to the customer")
                    } else {
                        format!("Internal note {id}")
                    },
                );
                decision.changes.push(Change::NoteAdded(Note {
                    id: id.clone(),
                    text: text.clone(),
                    visible_to_customer: *visible_to_customer,
                    at: context.now,
                    author: context.actor.clone(),
                }));
                decision.events.push(EventPayload::NoteAdded(NoteAdded {
                    number: self.number.clone(),
                    note_id: id,
                    visible_to_customer: *visible_to_customer,
                    text: visible_to_customer.then(|| text.to_string()),
                    email: self.email.clone(),
                    customer_id: self.customer_id.clone(),
                    language: self.language,
                }));
                return Ok(decision);
            }
            OrderCommand::AddLine {
                sku,
                quantity,
                unit_price,
                reason,
                notify_customer,
            } => {
                let decision =
                    self.decide_add_line(sku, *quantity, *unit_price, reason.as_deref(), context)?;
                return self.edited(decision, *notify_customer);
            }
            OrderCommand::ChangeLine {
                line_id,
                quantity,
                unit_price,
                notify_customer,
            } => {
                let decision = self.decide_change_line(line_id, *quantity, *unit_price, context)?;
                return self.edited(decision, *notify_customer);
            }
            OrderCommand::RemoveLine {
                line_id,
                notify_customer,
            } => {
                let decision = self.decide_remove_line(line_id, context)?;
                return self.edited(decision, *notify_customer);
            }
            OrderCommand::Adjust {
                amount,
                reason,
                notify_customer,
            } => {
                let decision = self.decide_adjust(*amount, reason, context)?;
                return self.edited(decision, *notify_customer);
            }
            OrderCommand::ChangeAddresses {
                shipping_address,
                billing_address,
                notify_customer,
            } => {
                let decision =
                    self.decide_addresses(shipping_address.as_ref(), billing_address.as_ref())?;
                return self.edited(decision, *notify_customer);
            }
            OrderCommand::RequestReturn {
                lines,
                action,
                comment,
                override_window,
            } => {
                return self.decide_return_request(
                    lines,
                    *action,
                    comment.as_deref(),
                    *override_window,
                    context,
                )
            }
            OrderCommand::ApproveReturn { return_id } => {
                return self.decide_return_approval(return_id, context)
            }
            OrderCommand::ReceiveReturnedParcel {
                shipment_id,
                restock,
            } => return self.decide_parcel_back(shipment_id, *restock, context),
            OrderCommand::RejectReturn { return_id, reason } => {
                return self.decide_return_verdict(return_id, Some(reason))
            }
            OrderCommand::ReceiveReturn { return_id, lines } => {
                return self.decide_return_receipt(return_id, lines, context)
            }
            OrderCommand::RefundReturn {
                return_id,
                amount,
                reason,
            } => self.decide_refund(return_id, *amount, reason.as_deref(), context)?,
            OrderCommand::CloseReturn { return_id } => return self.decide_return_close(return_id),
            OrderCommand::Complete { even_if_open } => {
                let finished = self.shipping_status == ShippingStatus::Delivered
                    && self.payment_status == PaymentStatus::Paid;
                if !finished && !even_if_open {
                    return Err(OrderError::NotFinished {
                        shipping_status: self.shipping_status,
                        payment_status: self.payment_status,
                    });
                }
                let mut decision = Decision::new(
                    HistoryAction::Completed,
                    if finished {
                        "Order completed".into()
                    } else {
                        format!(
                            "Order completed by staff while {} and {}",
                            self.shipping_status, self.payment_status
                        )
                    },
                );
                decision
                    .changes
                    .push(Change::StatusSet(OrderStatus::Completed));
                decision
                    .events
                    .push(EventPayload::OrderCompleted(OrderCompleted {
                        number: self.number.clone(),
                        by_staff_override: !finished,
                    }));
                return Ok(decision);
            }
        };
        self.follow_up(&mut decision, context);
        Ok(decision)
    }

    /// Applies a decision: the only code that changes a placed order. It
    /// appends the history, derives the statuses and bumps the version.
    pub fn apply(&mut self, decision: &Decision, at: OffsetDateTime, actor: &Actor) {
        self.apply_changes(&decision.changes);
        for (action, detail) in &decision.history {
            self.history.push(crate::order::HistoryEntry {
                at,
                action: *action,
                actor: actor.clone(),
                detail: detail.clone(),
            });
        }
        self.version += 1;
    }

    fn apply_changes(&mut self, changes: &[Change]) {
        for change in changes {
            match change {
                Change::ShipmentAdded { shipment, releases } => {
                    for (line_id, released) in releases {
                        if let Some(line) = self.lines.iter_mut().find(|l| &l.id == line_id) {
                            line.backordered = line.backordered.saturating_sub(*released);
                        }
                    }
                    self.shipments.push(shipment.clone());
                }
                Change::ShipmentMoved {
                    shipment_id,
                    step,
                    tracking_number,
                } => {
                    if let Some(shipment) = self.shipments.iter_mut().find(|s| &s.id == shipment_id)
                    {
                        shipment.status = step.status;
                        shipment.tracking_number = tracking_number.clone();
                        shipment.history.push(step.clone());
                    }
                }
                Change::PendingShipmentsDropped { shipment_ids } => {
                    self.shipments.retain(|s| !shipment_ids.contains(&s.id));
                }
                Change::StatusSet(status) => self.status = *status,
                Change::PaymentAdded(payment) => self.payments.push(payment.clone()),
                Change::NoteAdded(note) => self.notes.push(note.clone()),
                Change::LineAdded(line) => self.lines.push(line.clone()),
                Change::LineChanged {
                    line_id,
                    quantity,
                    unit_price,
                    backordered,
                } => {
                    if let Some(line) = self.lines.iter_mut().find(|l| &l.id == line_id) {
                        line.quantity = *quantity;
                        line.unit_price = *unit_price;
                        line.total = unit_price.times(quantity.get()).rounded();
                        line.backordered = *backordered;
                    }
                }
                Change::LineRemoved { line_id } => {
                    if let Some(at) = self.lines.iter().position(|l| &l.id == line_id) {
                        let mut line = self.lines.remove(at);
                        line.adjustment = Money::zero(self.currency);
                        self.removed_lines.push(line);
                    }
                }
                Change::AdjustmentAdded(adjustment) => self.adjustments.push(adjustment.clone()),
                Change::ReturnAdded(added) => self.returns.push(added.clone()),
                Change::ReturnStatusSet {
                    return_id,
                    status,
                    rejection_reason,
                } => {
                    if let Some(found) = self.returns.iter_mut().find(|r| &r.id == return_id) {
                        found.status = *status;
                        if rejection_reason.is_some() {
                            found.rejection_reason = rejection_reason.clone();
                        }
                    }
                }
                Change::ReturnReceived {
                    return_id,
                    received,
                } => {
                    if let Some(found) = self.returns.iter_mut().find(|r| &r.id == return_id) {
                        found.status = ReturnStatus::Received;
                        found.received = received.clone();
                    }
                }
                Change::ReplacementsAdded { return_id, lines } => {
                    if let Some(found) = self.returns.iter_mut().find(|r| &r.id == return_id) {
                        found.replacement_lines = lines.iter().map(|l| l.id.clone()).collect();
                    }
                    self.lines.extend(lines.iter().cloned());
                }
                Change::ParcelReceivedBack {
                    shipment_id,
                    restock,
                } => {
                    let mut back: Vec<(LineId, u32)> = Vec::new();
                    if let Some(shipment) = self.shipments.iter_mut().find(|s| &s.id == shipment_id)
                    {
                        shipment.received_back = true;
                        back = shipment
                            .items
                            .iter()
                            .map(|i| (i.line_id.clone(), i.quantity.get()))
                            .collect();
                    }
                    if *restock {
                        for (line_id, units) in back {
                            if let Some(line) = self.lines.iter_mut().find(|l| l.id == line_id) {
                                line.backordered =
                                    (line.backordered + units).min(line.quantity.get());
                            }
                        }
                    }
                }
                Change::ReturnRefunded { return_id, refund } => {
                    if let Some(found) = self.returns.iter_mut().find(|r| &r.id == return_id) {
                        found.status = ReturnStatus::Refunded;
                        found.refund = Some(refund.clone());
                    }
                }
                Change::AddressesChanged {
                    shipping_address,
                    billing_address,
                } => {
                    if let Some(address) = shipping_address {
                        // Parcels that left went to the address they had.
                        let before = self.shipping_address.clone();
                        for shipment in &mut self.shipments {
                            if shipment.status.has_left() && shipment.ship_to.is_none() {
                                shipment.ship_to = Some(before.clone());
                            }
                        }
                        self.shipping_address = address.clone();
                    }
                    if let Some(address) = billing_address {
                        self.billing_address = address.clone();
                    }
                }
            }
        }
        self.derive_money();
        self.shipping_status = derive_shipping_status(self);
        self.payment_status = derive_payment_status(self);
    }

    /// The order as `changes` would leave it, to build events from.
    pub(crate) fn after(&self, changes: &[Change]) -> Order {
        let mut after = self.clone();
        after.apply_changes(changes);
        after
    }

    /// What follows by itself from a change: cash on delivery is paid when
    /// its last parcel is delivered, and a delivered, paid order completes.
    fn follow_up(&self, decision: &mut Decision, context: &CommandContext<'_>) {
        // A completed order's return steps complete nothing again.
        if self.status != OrderStatus::Open {
            return;
        }
        let after = self.after(&decision.changes);
        if after.payment_method == PaymentMethod::CashOnDelivery
            && after.shipping_status == ShippingStatus::Delivered
            && self.shipping_status != ShippingStatus::Delivered
            && !after.amount_due().is_zero()
        {
            let due = after.amount_due();
            let payment = Payment {
                amount: due,
                date: context.now.date(),
                reference: "cash on delivery".into(),
                recorded_at: context.now,
                recorded_by: Actor::System {
                    reason: "cash on delivery collected".into(),
                },
            };
            decision.history.push((
                HistoryAction::PaymentRecorded,
                format!("{due} collected on delivery"),
            ));
            decision.changes.push(Change::PaymentAdded(payment));
            let after = self.after(&decision.changes);
            decision
                .events
                .push(EventPayload::PaymentRecorded(payment_recorded(&after, due)));
        }
        let after = self.after(&decision.changes);
        if after.shipping_status == ShippingStatus::Delivered
            && after.payment_status == PaymentStatus::Paid
        {
            decision.history.push((
                HistoryAction::Completed,
                "Delivered and paid: order completed".into(),
            ));
            decision
                .changes
                .push(Change::StatusSet(OrderStatus::Completed));
            decision
                .events
                .push(EventPayload::OrderCompleted(OrderCompleted {
                    number: self.number.clone(),
                    by_staff_override: false,
                }));
        }
    }

    fn decide_pack(
        &self,
        request: &NewShipment,
        context: &CommandContext<'_>,
    ) -> Result<Decision, OrderError> {
        let stock = |sku: &Sku| context.stock(sku);
        let plan = self.plan_shipment(request, context.now, context.actor, &stock)?;
        let shipment_id = plan.shipment.id.clone();
        let units: u32 = plan.shipment.items.iter().map(|i| i.quantity.get()).sum();
        let mut decision = Decision::new(
            HistoryAction::ShipmentPacked,
            format!(
                "Parcel {shipment_id} packed: {units} unit(s), {}",
                request.carrier
            ),
        );
        if let Some(number) = &request.tracking_number {
            decision.effects.push(Effect::ClaimTracking {
                number: number.clone(),
                shipment_id: shipment_id.clone(),
            });
        }
        decision.changes.push(Change::ShipmentAdded {
            shipment: plan.shipment,
            releases: plan.releases,
        });
        let after = self.after(&decision.changes);
        decision
            .events
            .push(EventPayload::ShipmentCreated(ShipmentCreated {
                parcel: notice(&after, &shipment_id),
            }));
        for take in plan.stock_takes {
            decision.events.push(stock_changed(
                &take,
                -1,
                context.stock(&take.sku),
                StockChangeReason::BackorderShipped,
            ));
            decision.effects.push(Effect::TakeStock(take));
        }
        Ok(decision)
    }

    fn decide_move(
        &self,
        shipment_id: &str,
        step: ShipmentStep,
        tracking_number: Option<TrackingNumber>,
        notify: bool,
    ) -> Result<Decision, OrderError> {
        let previous = self
            .shipment(shipment_id)
            .and_then(|s| s.tracking_number.clone());
        let (from, tracking_number) = self.check_move(shipment_id, step.status, tracking_number)?;
        let to = step.status;
        let mut decision = Decision::new(
            HistoryAction::ShipmentMoved,
            format!(
                "Parcel {shipment_id}: {from} → {to}{}",
                step.location
                    .as_deref()
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default()
            ),
        );
        if tracking_number != previous {
            if let Some(number) = &tracking_number {
                decision.effects.push(Effect::ClaimTracking {
                    number: number.clone(),
                    shipment_id: shipment_id.to_string(),
                });
            }
            if let Some(number) = previous {
                decision.effects.push(Effect::ReleaseTracking { number });
            }
        }
        let by = step.actor.shopper_label();
        let location = step.location.clone();
        decision.changes.push(Change::ShipmentMoved {
            shipment_id: shipment_id.to_string(),
            step,
            tracking_number,
        });
        let after = self.after(&decision.changes);
        decision
            .events
            .push(EventPayload::ShipmentStatusChanged(ShipmentStatusChanged {
                parcel: notice(&after, shipment_id),
                from,
                to,
                location,
                by,
                notify,
                shipping_status: after.shipping_status,
            }));
        Ok(decision)
    }

    fn decide_carrier_message(&self, update: &CarrierUpdate) -> Result<Decision, OrderError> {
        let shipment = self
            .shipment(&update.shipment_id)
            .ok_or_else(|| ShipmentError::UnknownShipment(update.shipment_id.clone()))?;
        if let MessageSource::Carrier(carrier) = update.source {
            if shipment.carrier != carrier {
                return Err(OrderError::WrongCarrier);
            }
        }
        if shipment.has_applied(&update.event_id) {
            return Err(OrderError::DuplicateCarrierMessage);
        }
        let reported = update
            .reported
            .as_deref()
            .and_then(|words| clean_text(Some(words), MAX_REPORTED_CHARS));
        let Some(status) = update.status else {
            return self.decide_parcel_report(shipment, update, reported);
        };
        if !shipment.status.can_become(status) {
            return Err(OrderError::LateCarrierMessage {
                from: shipment.status,
                to: status,
            });
        }
        let step = ShipmentStep {
            status,
            at: update.occurred_at,
            location: clean_location(update.location.as_deref()),
            actor: update.source.actor(),
            carrier_event_id: Some(update.event_id.clone()),
            reported,
        };
        self.decide_move(&update.shipment_id, step, None, true)
    }

    /// News with no status of ours: a step that keeps the parcel where it
    /// is, so staff see what was said, and nobody is e-mailed.
    fn decide_parcel_report(
        &self,
        shipment: &Shipment,
        update: &CarrierUpdate,
        reported: Option<String>,
    ) -> Result<Decision, OrderError> {
        if shipment.history.len() >= MAX_PARCEL_STEPS {
            return Err(ShipmentError::TooManySteps.into());
        }
        let words = reported
            .clone()
            .unwrap_or_else(|| "an unknown status".into());
        let by = update.source.actor();
        let mut decision = Decision::new(
            HistoryAction::ParcelReported,
            format!(
                "Parcel {}: {} said '{words}', not a status Kontor knows; the parcel stays {}",
                shipment.id, by, shipment.status
            ),
        );
        decision.changes.push(Change::ShipmentMoved {
            shipment_id: shipment.id.clone(),
            step: ShipmentStep {
                status: shipment.status,
                at: update.occurred_at,
                location: clean_location(update.location.as_deref()),
                actor: by,
                carrier_event_id: Some(update.event_id.clone()),
                reported: Some(words),
            },
            tracking_number: shipment.tracking_number.clone(),
        });
        Ok(decision)
    }

    fn decide_send_tracking(&self, shipment_id: &str) -> Result<Decision, OrderError> {
        let shipment = self
            .shipment(shipment_id)
            .ok_or_else(|| ShipmentError::UnknownShipment(shipment_id.to_string()))?;
        let Some(number) = &shipment.tracking_number else {
            return Err(ShipmentError::NoTrackingNumber(ShipmentStatus::Shipped).into());
        };
        // Noted in the history, which makes it a versioned change whose
        // event the outbox carries to the notifier.
        let mut decision = Decision::new(
            HistoryAction::TrackingSent,
            format!(
                "Tracking {number} for parcel {shipment_id} e-mailed to {}",
                self.email
            ),
        );
        decision
            .events
            .push(EventPayload::TrackingSent(TrackingSent {
                parcel: notice(self, shipment_id),
            }));
        Ok(decision)
    }

    fn decide_cancel(
        &self,
        by: CancelledBy,
        reason: Option<String>,
        context: &CommandContext<'_>,
    ) -> Result<Decision, OrderError> {
        if !self.staff_may_cancel() {
            return Err(OrderError::AlreadyShipped);
        }
        // Every unit taken from stock goes back: those reserved at checkout
        // and backordered ones a packed parcel took since. None has left.
        let mut returns: BTreeMap<Sku, u32> = BTreeMap::new();
        for line in &self.lines {
            let taken = line.quantity.get().saturating_sub(line.backordered);
            if taken > 0 {
                *returns.entry(line.sku.clone()).or_default() += taken;
            }
        }
        let dropped: Vec<&Shipment> = self.shipments.iter().collect();
        let units: u32 = returns.values().sum();
        let mut detail = format!("Order cancelled; {units} unit(s) back in stock");
        if !dropped.is_empty() {
            detail.push_str(&format!(", {} packed parcel(s) unpacked", dropped.len()));
        }
        if let Some(reason) = &reason {
            detail.push_str(&format!(" — {reason}"));
        }
        let mut decision = Decision::new(HistoryAction::Cancelled, detail);
        if !dropped.is_empty() {
            for number in dropped.iter().filter_map(|s| s.tracking_number.clone()) {
                decision.effects.push(Effect::ReleaseTracking { number });
            }
            decision.changes.push(Change::PendingShipmentsDropped {
                shipment_ids: dropped.iter().map(|s| s.id.clone()).collect(),
            });
        }
        decision
            .changes
            .push(Change::StatusSet(OrderStatus::Cancelled));
        decision
            .events
            .push(EventPayload::OrderCancelled(OrderCancelled {
                number: self.number.clone(),
                email: self.email.clone(),
                customer_id: self.customer_id.clone(),
                language: self.language,
                cancelled_by: by,
                reason,
                restocked: returns
                    .iter()
                    .map(|(sku, quantity)| StockUnits {
                        sku: sku.clone(),
                        quantity: *quantity,
                    })
                    .collect(),
            }));
        for (sku, quantity) in returns {
            let take = StockTake { sku, quantity };
            decision.events.push(stock_changed(
                &take,
                1,
                context.stock(&take.sku),
                StockChangeReason::OrderCancelled,
            ));
            decision.effects.push(Effect::ReturnStock(take));
        }
        Ok(decision)
    }

    fn decide_add_line(
        &self,
        sku: &Sku,
        quantity: Quantity,
        unit_price: Option<Money>,
        reason: Option<&str>,
        context: &CommandContext<'_>,
    ) -> Result<Decision, OrderError> {
        let product = context
            .product(sku)
            .ok_or_else(|| OrderError::UnknownSku(sku.clone()))?;
        if self.lines.len() >= crate::order::MAX_LINES {
            return Err(OrderError::TooManyLines);
        }
        let unit_price = self.checked_unit_price(unit_price.unwrap_or(product.price))?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > MAX_REASON) {
            return Err(OrderError::ReasonTooLong);
        }
        let (line, allocation) = self.new_line(product, quantity, unit_price, 0, context)?;
        let line_id = line.id.clone();
        let mut decision = Decision::new(
            HistoryAction::LineAdded,
            format!(
                "Line {line_id} added: {} × {} at {}{}",
                quantity.get(),
                product.name,
                line.unit_price,
                reason.map(|r| format!(" — {r}")).unwrap_or_default()
            ),
        );
        decision.changes.push(Change::LineAdded(line.clone()));
        let after = self.after(&decision.changes);
        decision
            .events
            .push(EventPayload::OrderItemAdded(OrderItemAdded {
                number: self.number.clone(),
                line: PlacedLine {
                    line_id,
                    sku: sku.clone(),
                    name: line.name.clone(),
                    quantity: quantity.get(),
                    backordered: line.backordered,
                    unit_price: line.unit_price.amount(),
                    total: line.total.amount(),
                },
                reason: reason.map(str::to_string),
                total: after.totals.total.rounded().amount(),
                currency: self.currency,
            }));
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
        Ok(decision)
    }

    /// A new line of `quantity` units of `product` at `unit_price`, with the
    /// next free id (`skip` more ids past it, for several lines in one
    /// decision), and how its units are allocated (from stock, or
    /// backordered where the product allows it).
    pub(crate) fn new_line(
        &self,
        product: &Product,
        quantity: Quantity,
        unit_price: Money,
        skip: u32,
        context: &CommandContext<'_>,
    ) -> Result<(OrderLine, crate::product::Allocation), OrderError> {
        let allocation = product
            .allocate(quantity)
            .map_err(|shortage| OrderError::OutOfStock {
                sku: product.sku.clone(),
                available: shortage.available,
            })?;
        let id = LineId::numbered(
            self.next_line_id()
                .number()
                .unwrap_or(1)
                .saturating_add(skip),
        );
        let total = unit_price.times(quantity.get()).rounded();
        let tax_rate = context.tax_rates.rate(product.tax_class);
        let line = OrderLine {
            id,
            sku: product.sku.clone(),
            name: product.name.clone(),
            quantity,
            backordered: allocation.backordered,
            unit_price,
            total,
            tax_class: product.tax_class,
            tax_rate,
            tax: tax_in_gross(total, tax_rate),
            discount: Money::zero(self.currency),
            gift_of: None,
            adjustment: Money::zero(self.currency),
        };
        Ok((line, allocation))
    }

    /// A unit price staff set (or a product's): zero or more, at most
    /// [`crate::product::MAX_UNIT_PRICE`], in whole cents, in the order's
    /// currency.
    fn checked_unit_price(&self, price: Money) -> Result<Money, OrderError> {
        if price.currency() != self.currency
            || price.is_negative()
            || !price.is_in_minor_units()
            || !crate::product::price_in_range(price)
        {
            return Err(OrderError::BadUnitPrice);
        }
        Ok(price.rounded())
    }

    fn line(&self, line_id: &LineId) -> Result<&OrderLine, OrderError> {
        self.lines
            .iter()
            .find(|l| &l.id == line_id)
            .ok_or_else(|| OrderError::UnknownLine(line_id.clone()))
    }

    /// Units of a line in any parcel, returned ones too: those units are
    /// accounted for by the parcel and cannot change here.
    pub fn units_packed(&self, line_id: &LineId) -> u32 {
        self.shipments
            .iter()
            .flat_map(|s| &s.items)
            .filter(|item| &item.line_id == line_id)
            .map(|item| item.quantity.get())
            .sum()
    }

    fn decide_change_line(
        &self,
        line_id: &LineId,
        quantity: Option<Quantity>,
        unit_price: Option<Money>,
        context: &CommandContext<'_>,
    ) -> Result<Decision, OrderError> {
        let line = self.line(line_id)?;
        let packed = self.units_packed(line_id);
        let quantity = quantity.unwrap_or(line.quantity);
        let unit_price = match unit_price {
            Some(price) => self.checked_unit_price(price)?,
            None => line.unit_price,
        };
        let price_changes = unit_price.amount() != line.unit_price.amount();
        if quantity == line.quantity && !price_changes {
            return Err(OrderError::NothingToChange);
        }
        if quantity.get() < packed || (price_changes && packed > 0) {
            return Err(OrderError::LinePacked {
                line_id: line_id.clone(),
                packed,
            });
        }
        let mut detail = format!("Line {line_id} ({}) changed:", line.name);
        if quantity != line.quantity {
            detail.push_str(&format!(
                " quantity {} → {}",
                line.quantity.get(),
                quantity.get()
            ));
        }
        if price_changes {
            detail.push_str(&format!(" unit price {} → {unit_price}", line.unit_price));
        }
        let mut decision = Decision::new(HistoryAction::LineChanged, detail);
        let backordered = self.move_line_stock(line, quantity.get(), context, &mut decision)?;
        decision.changes.push(Change::LineChanged {
            line_id: line_id.clone(),
            quantity,
            unit_price,
            backordered,
        });
        let after = self.after(&decision.changes);
        decision
            .events
            .insert(0, line_changed(&after, line, quantity.get(), unit_price));
        Ok(decision)
    }

    fn decide_remove_line(
        &self,
        line_id: &LineId,
        context: &CommandContext<'_>,
    ) -> Result<Decision, OrderError> {
        let line = self.line(line_id)?;
        let packed = self.units_packed(line_id);
        if packed >= line.quantity.get() {
            return Err(OrderError::LinePacked {
                line_id: line_id.clone(),
                packed,
            });
        }
        if packed > 0 {
            // What is packed stays: the line keeps those units.
            let kept = Quantity::new(packed).map_err(|_| OrderError::NothingToChange)?;
            let mut decision = Decision::new(
                HistoryAction::LineChanged,
                format!(
                    "Line {line_id} ({}): the {} unit(s) not packed removed, {packed} packed stay",
                    line.name,
                    line.quantity.get() - packed
                ),
            );
            let backordered = self.move_line_stock(line, packed, context, &mut decision)?;
            decision.changes.push(Change::LineChanged {
                line_id: line_id.clone(),
                quantity: kept,
                unit_price: line.unit_price,
                backordered,
            });
            let after = self.after(&decision.changes);
            decision
                .events
                .insert(0, line_changed(&after, line, packed, line.unit_price));
            return Ok(decision);
        }
        let mut decision = Decision::new(
            HistoryAction::LineRemoved,
            format!(
                "Line {line_id} removed: {} × {} at {}",
                line.quantity.get(),
                line.name,
                line.unit_price
            ),
        );
        self.move_line_stock(line, 0, context, &mut decision)?;
        decision.changes.push(Change::LineRemoved {
            line_id: line_id.clone(),
        });
        let after = self.after(&decision.changes);
        decision
            .events
            .insert(0, line_changed(&after, line, 0, line.unit_price));
        Ok(decision)
    }

    /// Takes or frees the stock for `line` going to `quantity` units, and
    /// answers its backordered units after. Fewer units drop backordered
    /// ones first (they hold no stock), then return the rest to stock;
    /// more units come from stock, or are backordered where allowed.
    fn move_line_stock(
        &self,
        line: &OrderLine,
        quantity: u32,
        context: &CommandContext<'_>,
        decision: &mut Decision,
    ) -> Result<u32, OrderError> {
        let current = line.quantity.get();
        let stock = context.stock(&line.sku);
        if quantity < current {
            let freed = current - quantity;
            let unbackordered = freed.min(line.backordered);
            let back = freed - unbackordered;
            if back > 0 {
                let units = StockTake {
                    sku: line.sku.clone(),
                    quantity: back,
                };
                decision.events.push(stock_changed(
                    &units,
                    1,
                    stock,
                    StockChangeReason::OrderChanged,
                ));
                decision.effects.push(Effect::ReturnStock(units));
            }
            return Ok(line.backordered - unbackordered);
        }
        let more = quantity - current;
        if more == 0 {
            return Ok(line.backordered);
        }
        let wanted = Quantity::new(more).map_err(|_| OrderError::NothingToChange)?;
        let product = context
            .product(&line.sku)
            .ok_or_else(|| OrderError::UnknownSku(line.sku.clone()))?;
        let allocation = product
            .allocate(wanted)
            .map_err(|shortage| OrderError::OutOfStock {
                sku: line.sku.clone(),
                available: shortage.available,
            })?;
        if allocation.from_stock > 0 {
            let take = StockTake {
                sku: line.sku.clone(),
                quantity: allocation.from_stock,
            };
            decision.events.push(stock_changed(
                &take,
                -1,
                stock,
                StockChangeReason::OrderChanged,
            ));
            decision.effects.push(Effect::TakeStock(take));
        }
        Ok(line.backordered.saturating_add(allocation.backordered))
    }

    fn decide_adjust(
        &self,
        amount: Money,
        reason: &str,
        context: &CommandContext<'_>,
    ) -> Result<Decision, OrderError> {
        if amount.currency() != self.currency || amount.is_zero() || !amount.is_in_minor_units() {
            return Err(OrderError::BadAdjustment);
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(OrderError::ReasonMissing);
        }
        if reason.chars().count() > MAX_REASON {
            return Err(OrderError::ReasonTooLong);
        }
        let amount = amount.rounded();
        let total_after = self.totals.total.rounded() + amount;
        if total_after.is_negative() {
            return Err(OrderError::BelowZero { total: total_after });
        }
        let by_rate =
            crate::adjustment::split_by_rate(self, amount).ok_or(OrderError::NothingToAdjust)?;
        let id = format!("A{}", self.adjustments.len() + 1);
        let mut decision = Decision::new(
            HistoryAction::Adjusted,
            format!("Adjustment {id}: {amount} — {reason}"),
        );
        decision.changes.push(Change::AdjustmentAdded(Adjustment {
            id: id.clone(),
            amount,
            reason: reason.to_string(),
            by_rate: by_rate.clone(),
            at: context.now,
            author: context.actor.clone(),
        }));
        let after = self.after(&decision.changes);
        decision
            .events
            .push(EventPayload::OrderAdjusted(OrderAdjusted {
                number: self.number.clone(),
                adjustment_id: id,
                amount: amount.amount(),
                by_rate: by_rate
                    .iter()
                    .map(|part| RateShare {
                        rate: part.rate,
                        amount: part.amount.amount(),
                    })
                    .collect(),
                total: after.totals.total.rounded().amount(),
                currency: self.currency,
            }));
        Ok(decision)
    }

    fn decide_addresses(
        &self,
        shipping: Option<&Address>,
        billing: Option<&Address>,
    ) -> Result<Decision, OrderError> {
        let shipping = shipping.filter(|a| *a != &self.shipping_address);
        let billing = billing.filter(|a| *a != &self.billing_address);
        if shipping.is_none() && billing.is_none() {
            return Err(OrderError::NothingToChange);
        }
        let mut details = Vec::new();
        if let Some(address) = shipping {
            details.push(format!(
                "Shipping address: {} → {}",
                one_line(&self.shipping_address),
                one_line(address)
            ));
        }
        if let Some(address) = billing {
            details.push(format!(
                "Billing address: {} → {}",
                one_line(&self.billing_address),
                one_line(address)
            ));
        }
        let mut decision = Decision::new(HistoryAction::AddressesChanged, details.join("; "));
        decision.changes.push(Change::AddressesChanged {
            shipping_address: shipping.cloned(),
            billing_address: billing.cloned(),
        });
        let after = self.after(&decision.changes);
        let before_words = self.name_tokens();
        let after_words = after.name_tokens();
        if before_words != after_words {
            decision.effects.push(Effect::RenameOrder {
                removed_words: before_words
                    .iter()
                    .filter(|w| !after_words.contains(w))
                    .cloned()
                    .collect(),
                added_words: after_words
                    .iter()
                    .filter(|w| !before_words.contains(w))
                    .cloned()
                    .collect(),
            });
        }
        decision
            .events
            .push(EventPayload::OrderAddressesChanged(OrderAddressesChanged {
                number: self.number.clone(),
                shipping_address: shipping.cloned(),
                billing_address: billing.cloned(),
            }));
        Ok(decision)
    }

    /// Finishes a staff edit: the order must still charge nothing below
    /// zero anywhere, and the customer is told when staff asked for it.
    fn edited(
        &self,
        mut decision: Decision,
        notify_customer: bool,
    ) -> Result<Decision, OrderError> {
        let after = self.after(&decision.changes);
        let negative = after.totals.total.is_negative()
            || after.shipping.charged().is_negative()
            || after.lines.iter().any(|l| l.charged().is_negative());
        if negative {
            return Err(OrderError::BelowZero {
                total: after.totals.total.rounded(),
            });
        }
        if notify_customer {
            let changes = self.change_items(&after, &decision.changes);
            decision
                .events
                .push(EventPayload::OrderChangeAnnounced(OrderChangeAnnounced {
                    number: self.number.clone(),
                    email: after.email.clone(),
                    customer_id: after.customer_id.clone(),
                    language: after.language,
                    currency: after.currency,
                    changes,
                    total: after.totals.total.rounded().amount(),
                    amount_due: after.amount_due().amount(),
                }));
        }
        Ok(decision)
    }

    /// The changes as the customer is told of them.
    fn change_items(&self, after: &Order, changes: &[Change]) -> Vec<ChangeItem> {
        let unit = |m: Money| m.rounded().amount();
        changes
            .iter()
            .filter_map(|change| match change {
                Change::LineAdded(line) => Some(ChangeItem::ItemAdded {
                    name: line.name.clone(),
                    quantity: line.quantity.get(),
                    unit_price: unit(line.unit_price),
                }),
                Change::LineChanged {
                    line_id,
                    quantity,
                    unit_price,
                    ..
                } => {
                    let before = self.lines.iter().find(|l| &l.id == line_id)?;
                    Some(ChangeItem::ItemChanged {
                        name: before.name.clone(),
                        quantity_before: before.quantity.get(),
                        quantity: quantity.get(),
                        unit_price_before: unit(before.unit_price),
                        unit_price: unit(*unit_price),
                    })
                }
                Change::LineRemoved { line_id } => {
                    let before = self.lines.iter().find(|l| &l.id == line_id)?;
                    Some(ChangeItem::ItemRemoved {
                        name: before.name.clone(),
                        quantity: before.quantity.get(),
                    })
                }
                Change::AdjustmentAdded(adjustment) => Some(ChangeItem::Adjusted {
                    amount: unit(adjustment.amount),
                }),
                Change::AddressesChanged {
                    shipping_address,
                    billing_address,
                } => shipping_address
                    .as_ref()
                    .map(|_| ChangeItem::ShippingAddressChanged {
                        address: after.shipping_address.clone(),
                    })
                    .or_else(|| {
                        billing_address
                            .as_ref()
                            .map(|_| ChangeItem::BillingAddressChanged {
                                address: after.billing_address.clone(),
                            })
                    }),
                _ => None,
            })
            .collect()
    }

    fn decide_payment(
        &self,
        amount: Money,
        date: Date,
        reference: &str,
        context: &CommandContext<'_>,
    ) -> Result<Decision, OrderError> {
        if amount.currency() != self.currency {
            return Err(OrderError::PaymentCurrency);
        }
        if amount.is_negative() || amount.is_zero() || !amount.is_in_minor_units() {
            return Err(OrderError::PaymentNotPositive);
        }
        if date > context.now.date() {
            return Err(OrderError::PaymentDateInFuture);
        }
        let due = self.amount_due();
        if due.is_zero() {
            return Err(OrderError::NothingDue);
        }
        if amount.amount() > due.amount() {
            return Err(OrderError::Overpayment { amount, due });
        }
        let amount = amount.rounded();
        let mut decision = Decision::new(
            HistoryAction::PaymentRecorded,
            format!("{amount} received on {date} (reference {reference})"),
        );
        decision.changes.push(Change::PaymentAdded(Payment {
            amount,
            date,
            reference: reference.to_string(),
            recorded_at: context.now,
            recorded_by: context.actor.clone(),
        }));
        let after = self.after(&decision.changes);
        decision
            .events
            .push(EventPayload::PaymentRecorded(payment_recorded(
                &after, amount,
            )));
        Ok(decision)
    }
}

/// The payment status as the payments and refunds make it.
pub fn derive_payment_status(order: &Order) -> PaymentStatus {
    let paid = order.paid();
    let refunded = order.refunded_out();
    if !refunded.is_zero() {
        return if refunded.amount() >= paid.amount() {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        };
    }
    if paid.is_zero() {
        PaymentStatus::Pending
    } else if order.amount_due().is_zero() {
        PaymentStatus::Paid
    } else {
        PaymentStatus::PartiallyPaid
    }
}

fn payment_recorded(after: &Order, amount: Money) -> PaymentRecorded {
    PaymentRecorded {
        number: after.number.clone(),
        currency: after.currency,
        amount: amount.rounded().amount(),
        paid: after.paid().rounded().amount(),
        due: after.amount_due().rounded().amount(),
        payment_status: after.payment_status,
    }
}

/// A parcel as events describe it; the order helper adds the tracking link.
fn notice(order: &Order, shipment_id: &str) -> crate::events::ParcelNotice {
    order
        .parcel_notice(shipment_id, &TrackingLinks(BTreeMap::new()))
        .unwrap_or_else(|| unreachable_parcel(order, shipment_id))
}

/// Only reached if a decision names a parcel it did not check: an empty
/// notice rather than a panic.
fn unreachable_parcel(order: &Order, shipment_id: &str) -> crate::events::ParcelNotice {
    crate::events::ParcelNotice {
        number: order.number.clone(),
        email: order.email.clone(),
        customer_id: order.customer_id.clone(),
        language: order.language,
        shipment_id: shipment_id.to_string(),
        carrier: Carrier::Other,
        tracking_number: None,
        tracking_url: None,
        items: Vec::new(),
    }
}

/// A stock movement: `sign` -1 for units taken, 1 for units returned;
/// `stock_before` as read before deciding.
pub(crate) fn stock_changed(
    take: &StockTake,
    sign: i64,
    stock_before: u32,
    reason: StockChangeReason,
) -> EventPayload {
    let stock = if sign < 0 {
        stock_before.saturating_sub(take.quantity)
    } else {
        stock_before.saturating_add(take.quantity)
    };
    EventPayload::StockChanged(StockChanged {
        sku: take.sku.clone(),
        change: sign * i64::from(take.quantity),
        stock,
        reason,
    })
}

/// The most characters a reason staff give may have.
const MAX_REASON: usize = 200;

/// A line changed (quantity 0: removed), as its event tells it.
fn line_changed(
    after: &Order,
    before: &OrderLine,
    quantity: u32,
    unit_price: Money,
) -> EventPayload {
    EventPayload::OrderLineChanged(OrderLineChanged {
        number: after.number.clone(),
        line_id: before.id.clone(),
        sku: before.sku.clone(),
        quantity_before: before.quantity.get(),
        quantity,
        unit_price_before: before.unit_price.amount(),
        unit_price: unit_price.amount(),
        total: after.totals.total.rounded().amount(),
        currency: after.currency,
    })
}

/// An address on one line, for the history.
fn one_line(address: &Address) -> String {
    format!(
        "{}, {}, {} {}, {}",
        address.name, address.street, address.postal_code, address.city, address.country
    )
}

/// A location as people typed it: trimmed, at most 200 characters, none
/// when empty.
fn clean_location(location: Option<&str>) -> Option<String> {
    clean_text(location, 200)
}

/// The most characters of a sender's words a parcel step keeps.
const MAX_REPORTED_CHARS: usize = 200;

/// A carrier's free text, trimmed, without control characters, and cut
/// to `max` characters: it is shown to staff and stored per step.
fn clean_text(text: Option<&str>, max: usize) -> Option<String> {
    let text: String = text?
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod edit_tests;
