//! Tracking services: AfterShip and Sendcloud post carriers' news about
//! parcels on the carriers' behalf, each in its own words. These tables
//! turn their statuses into Kontor's; a status with no entry moves
//! nothing and is kept in the parcel's history in the service's words,
//! so staff see what was said.
//!
//! AfterShip's tags and subtags are from its "Delivery statuses" and
//! "Delivery sub-statuses" reference; Sendcloud's ids from its
//! `GET /parcels/statuses` list and its tracking-status definitions.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::shipment::ShipmentStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackingService {
    #[serde(rename = "aftership")]
    AfterShip,
    Sendcloud,
}

impl TrackingService {
    pub const ALL: [TrackingService; 2] = [TrackingService::AfterShip, TrackingService::Sendcloud];

    /// The name in URLs, variables and event ids (`aftership`).
    pub fn code(self) -> &'static str {
        match self {
            TrackingService::AfterShip => "aftership",
            TrackingService::Sendcloud => "sendcloud",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            TrackingService::AfterShip => "AfterShip",
            TrackingService::Sendcloud => "Sendcloud",
        }
    }
}

impl fmt::Display for TrackingService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// AfterShip's `msg.tag` (with `msg.subtag`) as a Kontor status, if it
/// is one.
pub fn aftership_status(tag: &str, subtag: Option<&str>) -> Option<ShipmentStatus> {
    use ShipmentStatus::*;
    match tag {
        "InfoReceived" => Some(Shipped),
        "InTransit" => Some(InTransit),
        // AfterShip's own definition: "about to deliver, or ready to
        // pick up"; both are the last step before the customer has it.
        "OutForDelivery" | "AvailableForPickup" => Some(OutForDelivery),
        "AttemptFail" => Some(FailedAttempt),
        "Delivered" => Some(Delivered),
        // Of the exceptions only "returned to sender" is a step of ours;
        // customs holds, delays, damage and refusals are news for staff.
        "Exception" if subtag == Some("Exception_011") => Some(ReturnedToSender),
        // Pending, Expired and the rest.
        _ => None,
    }
}

/// Sendcloud's `parcel.status.id` as a Kontor status, if it is one.
pub fn sendcloud_status(id: i64) -> Option<ShipmentStatus> {
    use ShipmentStatus::*;
    match id {
        // Picked up by the driver, or handed in at the post office.
        22 => Some(Shipped),
        // En route to the sorting centre, sorted, being sorted, en route.
        3 | 5 | 7 | 91 => Some(InTransit),
        // The driver is on the way; waiting at a service point.
        92 | 12 => Some(OutForDelivery),
        8 => Some(FailedAttempt),
        // Delivered; collected by the customer at a service point.
        11 | 93 => Some(Delivered),
        // Announcements, delays, cancellations, errors and unknowns.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_map_what_they_know_and_nothing_else() {
        assert_eq!(
            aftership_status("Delivered", Some("Delivered_001")),
            Some(ShipmentStatus::Delivered)
        );
        assert_eq!(
            aftership_status("AttemptFail", None),
            Some(ShipmentStatus::FailedAttempt)
        );
        assert_eq!(
            aftership_status("Exception", Some("Exception_011")),
            Some(ShipmentStatus::ReturnedToSender)
        );
        assert_eq!(aftership_status("Exception", Some("Exception_004")), None);
        assert_eq!(aftership_status("Pending", None), None);
        assert_eq!(
            aftership_status("delivered", None),
            None,
            "tags are case-sensitive"
        );
        assert_eq!(sendcloud_status(11), Some(ShipmentStatus::Delivered));
        assert_eq!(sendcloud_status(8), Some(ShipmentStatus::FailedAttempt));
        assert_eq!(sendcloud_status(1000), None);
        assert_eq!(sendcloud_status(i64::MIN), None);
        assert_eq!(
            serde_json::to_string(&TrackingService::AfterShip).unwrap(),
            "\"aftership\""
        );
    }
}
