//! Shipments: the parcels an order goes out in.
//!
//! A shipment holds part of an order — any quantities of any lines, never
//! more than was ordered minus what other parcels already hold. Units that
//! were in stock at checkout were taken from stock then; units that were
//! backordered are taken from stock when a parcel ships them, so new stock
//! releases backorders exactly when staff pack them (and only if it is
//! there). A shipment's status only ever moves forward: a late or repeated
//! carrier message cannot take a delivered parcel back to "in transit".
//! The order's shipping status is derived from its shipments, always.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use crate::carrier::{Carrier, TrackingLinks, TrackingNumber};

use crate::actor::Actor;
use crate::events::{ParcelItem, ParcelNotice};
use crate::order::{Order, ShippingStatus, StockTake};
use crate::types::{LineId, Quantity, Sku};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// Packed, not handed to the carrier yet.
    Pending,
    Shipped,
    InTransit,
    OutForDelivery,
    Delivered,
    FailedAttempt,
    ReturnedToSender,
}

impl ShipmentStatus {
    pub const ALL: [ShipmentStatus; 7] = [
        ShipmentStatus::Pending,
        ShipmentStatus::Shipped,
        ShipmentStatus::InTransit,
        ShipmentStatus::OutForDelivery,
        ShipmentStatus::Delivered,
        ShipmentStatus::FailedAttempt,
        ShipmentStatus::ReturnedToSender,
    ];

    pub fn parse(input: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == input)
    }

    pub fn code(self) -> &'static str {
        match self {
            ShipmentStatus::Pending => "pending",
            ShipmentStatus::Shipped => "shipped",
            ShipmentStatus::InTransit => "in_transit",
            ShipmentStatus::OutForDelivery => "out_for_delivery",
            ShipmentStatus::Delivered => "delivered",
            ShipmentStatus::FailedAttempt => "failed_attempt",
            ShipmentStatus::ReturnedToSender => "returned_to_sender",
        }
    }

    /// How far along a parcel is; a status never moves to a lower stage.
    /// A failed attempt is as far as "out for delivery": the next try
    /// goes out again.
    fn stage(self) -> u8 {
        match self {
            ShipmentStatus::Pending => 0,
            ShipmentStatus::Shipped => 1,
            ShipmentStatus::InTransit => 2,
            ShipmentStatus::OutForDelivery | ShipmentStatus::FailedAttempt => 3,
            ShipmentStatus::Delivered | ShipmentStatus::ReturnedToSender => 4,
        }
    }

    /// Delivered and returned parcels change no more.
    pub fn is_final(self) -> bool {
        self.stage() == 4
    }

    /// Whether the parcel has left the shop.
    pub fn has_left(self) -> bool {
        self.stage() >= 1
    }

    /// Whether a parcel in this status may move to `next`.
    pub fn can_become(self, next: ShipmentStatus) -> bool {
        if self == next || self.is_final() || next == ShipmentStatus::Pending {
            return false;
        }
        if next == ShipmentStatus::ReturnedToSender {
            return self.has_left();
        }
        next.stage() >= self.stage()
    }
}

impl fmt::Display for ShipmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Units of one order line in a parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentItem {
    pub line_id: LineId,
    pub sku: Sku,
    pub name: String,
    pub quantity: Quantity,
}

/// One step of a parcel's way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentStep {
    pub status: ShipmentStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub location: Option<String>,
    pub actor: Actor,
    /// The carrier's id of the message that set it: each is applied once.
    pub carrier_event_id: Option<String>,
    /// The sender's own words for the status (`AfterShip Exception_004:
    /// Delayed (Customs clearance)`), kept where Kontor has no status for
    /// them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// `S1`, `S2`, … within the order.
    pub id: String,
    pub items: Vec<ShipmentItem>,
    pub carrier: Carrier,
    pub tracking_number: Option<TrackingNumber>,
    pub status: ShipmentStatus,
    pub history: Vec<ShipmentStep>,
    /// Where the parcel went, recorded when the order's shipping address
    /// changed after it had left (none: the order's address).
    pub ship_to: Option<crate::order::Address>,
    /// A parcel returned to sender that staff took back in.
    pub received_back: bool,
}

impl Shipment {
    /// Whether the carrier message `id` was applied already.
    pub fn has_applied(&self, carrier_event_id: &str) -> bool {
        self.history
            .iter()
            .any(|s| s.carrier_event_id.as_deref() == Some(carrier_event_id))
    }

    /// The statuses staff may move this parcel to now, in the order of a
    /// parcel's way (empty once it is final).
    pub fn next_statuses(&self) -> Vec<ShipmentStatus> {
        ShipmentStatus::ALL
            .into_iter()
            .filter(|next| self.status.can_become(*next))
            .collect()
    }
}

/// What staff ask for: these units in one parcel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShipment {
    pub items: Vec<(LineId, Quantity)>,
    pub carrier: Carrier,
    pub tracking_number: Option<TrackingNumber>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShipmentError {
    #[error("a shipment needs at least one item")]
    NoItems,
    #[error("the order has no line {line_id}")]
    UnknownLine { index: usize, line_id: LineId },
    #[error("only {remaining} unit(s) of line {line_id} are left to ship")]
    MoreThanRemains {
        index: usize,
        line_id: LineId,
        remaining: u32,
    },
    #[error("only {available} of {sku} in stock for the backordered units")]
    NotInStock {
        index: usize,
        sku: Sku,
        available: u32,
    },
    #[error("the order has no shipment {0}")]
    UnknownShipment(String),
    #[error("a {from} parcel cannot become {to}")]
    StatusJump {
        from: ShipmentStatus,
        to: ShipmentStatus,
    },
    #[error("a parcel needs a tracking number before it can be {0}")]
    NoTrackingNumber(ShipmentStatus),
    /// A number staff entered that its carrier does not print.
    #[error(transparent)]
    BadTrackingNumber(#[from] crate::carrier::NumberError),
    #[error("a parcel keeps at most {MAX_PARCEL_STEPS} steps, and this one has them all")]
    TooManySteps,
    #[error("an order goes out in at most {MAX_PARCELS_PER_ORDER} parcels")]
    TooManyParcels,
}

/// The most parcels one order is packed into. Cancelling an order
/// releases every parcel's tracking number in the order's one DynamoDB
/// transaction, beside a stock return per line: 20 + [`crate::order::MAX_LINES`]
/// and the order's own items stay under its 100.
pub const MAX_PARCELS_PER_ORDER: usize = 20;

/// The most steps a parcel's history keeps. A parcel moves forward only,
/// but "out for delivery" and "failed attempt" may alternate; without a
/// bound, a carrier (or a forged webhook with a leaked secret) could grow
/// the order document until it no longer fits one DynamoDB item. Twenty-four
/// steps leave room for about ten delivery attempts.
pub const MAX_PARCEL_STEPS: usize = 24;

/// A parcel as packing would make it, with the stock it takes for
/// backordered units and the backorders that releases; nothing changed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackPlan {
    pub shipment: Shipment,
    pub stock_takes: Vec<StockTake>,
    /// Backordered units per line that this parcel ships from today's stock.
    pub releases: Vec<(LineId, u32)>,
}

impl Order {
    /// Units of `line` in parcels (returned parcels excluded: their units
    /// may be sent again).
    pub fn units_in_parcels(&self, line: &LineId) -> u32 {
        self.shipments
            .iter()
            .filter(|s| s.status != ShipmentStatus::ReturnedToSender)
            .flat_map(|s| &s.items)
            .filter(|i| &i.line_id == line)
            .map(|i| i.quantity.get())
            .sum()
    }

    /// Units of `line` still to pack.
    pub fn units_left_to_pack(&self, line: &LineId) -> u32 {
        self.lines.iter().find(|l| &l.id == line).map_or(0, |l| {
            l.quantity.get().saturating_sub(self.units_in_parcels(line))
        })
    }

    pub fn shipment(&self, id: &str) -> Option<&Shipment> {
        self.shipments.iter().find(|s| s.id == id)
    }

    /// Plans a new parcel. `in_stock` tells the product's stock now, for
    /// units that were backordered at checkout.
    pub fn plan_shipment(
        &self,
        request: &NewShipment,
        now: OffsetDateTime,
        actor: &Actor,
        in_stock: &dyn Fn(&Sku) -> u32,
    ) -> Result<PackPlan, ShipmentError> {
        if request.items.is_empty() {
            return Err(ShipmentError::NoItems);
        }
        if self.shipments.len() >= MAX_PARCELS_PER_ORDER {
            return Err(ShipmentError::TooManyParcels);
        }
        // Quantities per line, summed, with the first index naming the line.
        let mut wanted: Vec<(usize, LineId, u32)> = Vec::new();
        for (index, (line_id, quantity)) in request.items.iter().enumerate() {
            if !self.lines.iter().any(|l| &l.id == line_id) {
                return Err(ShipmentError::UnknownLine {
                    index,
                    line_id: line_id.clone(),
                });
            }
            match wanted.iter_mut().find(|(_, id, _)| id == line_id) {
                Some((_, _, total)) => *total = total.saturating_add(quantity.get()),
                None => wanted.push((index, line_id.clone(), quantity.get())),
            }
        }
        let mut items = Vec::with_capacity(wanted.len());
        let mut stock_takes = Vec::new();
        let mut releases: Vec<(LineId, u32)> = Vec::new();
        for (index, line_id, quantity) in &wanted {
            let Some(line) = self.lines.iter().find(|l| &l.id == line_id) else {
                continue;
            };
            let in_parcels = self.units_in_parcels(line_id);
            let remaining = line.quantity.get().saturating_sub(in_parcels);
            if *quantity > remaining {
                return Err(ShipmentError::MoreThanRemains {
                    index: *index,
                    line_id: line_id.clone(),
                    remaining,
                });
            }
            // Units taken from stock at checkout go first; the rest were
            // backordered and come out of today's stock.
            let reserved = line.quantity.get().saturating_sub(line.backordered);
            let reserved_left = reserved.saturating_sub(in_parcels);
            let from_stock_now = quantity.saturating_sub(reserved_left);
            if from_stock_now > 0 {
                let available = in_stock(&line.sku);
                if available < from_stock_now {
                    return Err(ShipmentError::NotInStock {
                        index: *index,
                        sku: line.sku.clone(),
                        available,
                    });
                }
                stock_takes.push(StockTake {
                    sku: line.sku.clone(),
                    quantity: from_stock_now,
                });
                releases.push((line_id.clone(), from_stock_now));
            }
            let quantity =
                Quantity::new(*quantity).map_err(|_| ShipmentError::MoreThanRemains {
                    index: *index,
                    line_id: line_id.clone(),
                    remaining,
                })?;
            items.push(ShipmentItem {
                line_id: line_id.clone(),
                sku: line.sku.clone(),
                name: line.name.clone(),
                quantity,
            });
        }
        if let Some(number) = &request.tracking_number {
            request.carrier.check_number(number)?;
        }
        Ok(PackPlan {
            shipment: Shipment {
                id: format!("S{}", self.shipments.len() + 1),
                items,
                carrier: request.carrier,
                tracking_number: request.tracking_number.clone(),
                status: ShipmentStatus::Pending,
                history: vec![ShipmentStep {
                    status: ShipmentStatus::Pending,
                    at: now,
                    location: None,
                    actor: actor.clone(),
                    carrier_event_id: None,
                    reported: None,
                }],
                ship_to: None,
                received_back: false,
            },
            stock_takes,
            releases,
        })
    }

    /// Checks that a parcel may move on: a status it cannot reach from
    /// where it is (backwards, or out of a final one) is refused, and a
    /// parcel on its way needs a tracking number. Answers the status it
    /// moves from and the tracking number it will have.
    pub fn check_move(
        &self,
        shipment_id: &str,
        to: ShipmentStatus,
        tracking_number: Option<TrackingNumber>,
    ) -> Result<(ShipmentStatus, Option<TrackingNumber>), ShipmentError> {
        let shipment = self
            .shipment(shipment_id)
            .ok_or_else(|| ShipmentError::UnknownShipment(shipment_id.to_string()))?;
        let from = shipment.status;
        if !from.can_become(to) {
            return Err(ShipmentError::StatusJump { from, to });
        }
        if shipment.history.len() >= MAX_PARCEL_STEPS {
            return Err(ShipmentError::TooManySteps);
        }
        // A number staff enter now must be one the carrier prints; one
        // the parcel already has was checked when it was entered.
        if let Some(number) = tracking_number
            .as_ref()
            .filter(|n| shipment.tracking_number.as_ref() != Some(*n))
        {
            shipment.carrier.check_number(number)?;
        }
        let tracking_number = tracking_number.or_else(|| shipment.tracking_number.clone());
        if to.has_left() && tracking_number.is_none() && shipment.carrier != Carrier::Other {
            return Err(ShipmentError::NoTrackingNumber(to));
        }
        Ok((from, tracking_number))
    }
}

impl Order {
    /// The parcel as the customer's e-mails describe it.
    pub fn parcel_notice(&self, shipment_id: &str, links: &TrackingLinks) -> Option<ParcelNotice> {
        let shipment = self.shipment(shipment_id)?;
        Some(ParcelNotice {
            number: self.number.clone(),
            email: self.email.clone(),
            customer_id: self.customer_id.clone(),
            language: self.language,
            shipment_id: shipment.id.clone(),
            carrier: shipment.carrier,
            tracking_number: shipment.tracking_number.clone(),
            tracking_url: shipment
                .tracking_number
                .as_ref()
                .and_then(|n| links.link(shipment.carrier, n)),
            items: shipment
                .items
                .iter()
                .map(|i| ParcelItem {
                    line_id: i.line_id.clone(),
                    sku: i.sku.clone(),
                    name: i.name.clone(),
                    quantity: i.quantity.get(),
                })
                .collect(),
        })
    }
}

/// The order's shipping status as its parcels make it.
pub fn derive_shipping_status(order: &Order) -> ShippingStatus {
    let ordered: u32 = order.lines.iter().map(|l| l.quantity.get()).sum();
    let units = |keep: &dyn Fn(ShipmentStatus) -> bool| -> u32 {
        order
            .shipments
            .iter()
            .filter(|s| keep(s.status))
            .flat_map(|s| &s.items)
            .map(|i| i.quantity.get())
            .sum()
    };
    let delivered = units(&|s| s == ShipmentStatus::Delivered);
    let left = units(&|s| s.has_left() && s != ShipmentStatus::ReturnedToSender);
    if ordered > 0 && delivered >= ordered {
        ShippingStatus::Delivered
    } else if delivered > 0 {
        ShippingStatus::PartiallyDelivered
    } else if ordered > 0 && left >= ordered {
        ShippingStatus::Shipped
    } else if left > 0 {
        ShippingStatus::PartiallyShipped
    } else {
        ShippingStatus::NotShipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_only_move_forward() {
        use ShipmentStatus::*;
        assert!(Pending.can_become(Shipped));
        assert!(Shipped.can_become(Delivered), "carriers may skip scans");
        assert!(OutForDelivery.can_become(FailedAttempt));
        assert!(FailedAttempt.can_become(OutForDelivery), "the next try");
        assert!(InTransit.can_become(ReturnedToSender));
        for final_status in [Delivered, ReturnedToSender] {
            for next in ShipmentStatus::ALL {
                assert!(!final_status.can_become(next), "{final_status} → {next}");
            }
        }
        assert!(!InTransit.can_become(Shipped));
        assert!(!Shipped.can_become(Pending));
        assert!(!Pending.can_become(ReturnedToSender), "it never left");
        assert!(!Shipped.can_become(Shipped));
    }
}
