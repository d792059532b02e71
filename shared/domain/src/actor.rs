//! Who changed an order, and what the change was called.
//!
//! Every change to an order has an [`Actor`] and a [`HistoryAction`]: typed,
//! so that the admin page, the shopper's view and the e-mails can each say
//! it their own way (staff see which colleague; shoppers only "staff"),
//! and no handler ever writes a history string of its own.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::carrier::TrackingService;
use crate::shipment::Carrier;
use crate::types::CustomerId;

/// Who did something to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A shopper without an account, holding the order's link.
    Guest,
    /// A signed-in customer.
    Customer { id: CustomerId },
    /// A staff member: their e-mail address, or the token's subject when it
    /// carries none.
    Staff { email: String },
    /// A carrier's signed webhook.
    Carrier { carrier: Carrier },
    /// A tracking service's signed webhook, on the carrier's behalf.
    TrackingService { service: TrackingService },
    /// Kontor itself, for example expiring an unpaid order.
    System { reason: String },
}

impl Actor {
    /// How shoppers see the actor: never which staff member it was.
    pub fn shopper_label(&self) -> String {
        match self {
            Actor::Guest | Actor::Customer { .. } => "you".into(),
            Actor::Staff { .. } => "staff".into(),
            Actor::Carrier { carrier } => carrier.display_name().into(),
            // The shopper knows the carrier, not the service in between.
            Actor::TrackingService { .. } => "the carrier".into(),
            Actor::System { .. } => "the shop".into(),
        }
    }

    /// Whether the actor is the shopper who placed the order.
    pub fn is_shopper(&self) -> bool {
        matches!(self, Actor::Guest | Actor::Customer { .. })
    }
}

/// For staff: `guest`, `customer c-1`, `staff lena@kontor.example`,
/// `carrier DHL`, `system (unpaid)`.
impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Guest => f.write_str("guest"),
            Actor::Customer { id } => write!(f, "customer {id}"),
            Actor::Staff { email } => write!(f, "staff {email}"),
            Actor::Carrier { carrier } => write!(f, "carrier {}", carrier.display_name()),
            Actor::TrackingService { service } => write!(f, "tracking service {service}"),
            Actor::System { reason } => write!(f, "system ({reason})"),
        }
    }
}

/// What a history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryAction {
    Placed,
    ShipmentPacked,
    ShipmentMoved,
    TrackingSent,
    Cancelled,
    PaymentRecorded,
    Completed,
    NoteAdded,
    LineAdded,
    LineChanged,
    LineRemoved,
    Adjusted,
    AddressesChanged,
    ReturnRequested,
    ReturnApproved,
    ReturnRejected,
    ReturnReceived,
    Refunded,
    ReturnClosed,
    ParcelReceivedBack,
    /// A carrier or tracking service said something about a parcel that
    /// is none of Kontor's statuses: kept, nothing moved.
    ParcelReported,
}

impl HistoryAction {
    pub fn code(self) -> &'static str {
        match self {
            HistoryAction::Placed => "placed",
            HistoryAction::ShipmentPacked => "shipment_packed",
            HistoryAction::ShipmentMoved => "shipment_moved",
            HistoryAction::TrackingSent => "tracking_sent",
            HistoryAction::Cancelled => "cancelled",
            HistoryAction::PaymentRecorded => "payment_recorded",
            HistoryAction::Completed => "completed",
            HistoryAction::NoteAdded => "note_added",
            HistoryAction::LineAdded => "line_added",
            HistoryAction::LineChanged => "line_changed",
            HistoryAction::LineRemoved => "line_removed",
            HistoryAction::Adjusted => "adjusted",
            HistoryAction::AddressesChanged => "addresses_changed",
            HistoryAction::ReturnRequested => "return_requested",
            HistoryAction::ReturnApproved => "return_approved",
            HistoryAction::ReturnRejected => "return_rejected",
            HistoryAction::ReturnReceived => "return_received",
            HistoryAction::Refunded => "refunded",
            HistoryAction::ReturnClosed => "return_closed",
            HistoryAction::ParcelReceivedBack => "parcel_received_back",
            HistoryAction::ParcelReported => "parcel_reported",
        }
    }
}

impl fmt::Display for HistoryAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_are_named_to_staff_only() {
        let staff = Actor::Staff {
            email: "lena@kontor.example".into(),
        };
        assert_eq!(staff.to_string(), "staff lena@kontor.example");
        assert_eq!(staff.shopper_label(), "staff");
        let carrier = Actor::Carrier {
            carrier: Carrier::Dhl,
        };
        assert_eq!(carrier.to_string(), "carrier DHL");
        assert_eq!(carrier.shopper_label(), "DHL");
        assert!(Actor::Guest.is_shopper());
        assert!(!staff.is_shopper());
    }

    #[test]
    fn actors_serialise_with_their_kind() {
        let json = serde_json::to_value(Actor::Carrier {
            carrier: Carrier::Ups,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "carrier", "carrier": "ups"})
        );
        let back: Actor = serde_json::from_value(json).unwrap();
        assert_eq!(
            back,
            Actor::Carrier {
                carrier: Carrier::Ups
            }
        );
    }
}
