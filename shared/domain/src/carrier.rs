//! Carriers: who takes a parcel, the numbers they track it by, the links
//! customers follow it at, and the status codes their messages use.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::shipment::ShipmentStatus;
use crate::types::ParseError;

pub mod numbers;
mod services;

pub use numbers::{Format, NumberError};
pub use services::{aftership_status, sendcloud_status, TrackingService};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Carrier {
    Dhl,
    Dpd,
    Ups,
    Gls,
    Hermes,
    Other,
}

impl Carrier {
    pub const ALL: [Carrier; 6] = [
        Carrier::Dhl,
        Carrier::Dpd,
        Carrier::Ups,
        Carrier::Gls,
        Carrier::Hermes,
        Carrier::Other,
    ];

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|c| c.code() == input.trim().to_lowercase())
            .ok_or_else(|| ParseError(format!("'{input}' is not a known carrier")))
    }

    /// The name in URLs and JSON (`dhl`).
    pub fn code(self) -> &'static str {
        match self {
            Carrier::Dhl => "dhl",
            Carrier::Dpd => "dpd",
            Carrier::Ups => "ups",
            Carrier::Gls => "gls",
            Carrier::Hermes => "hermes",
            Carrier::Other => "other",
        }
    }

    /// The name for people (`DHL`).
    pub fn display_name(self) -> &'static str {
        match self {
            Carrier::Dhl => "DHL",
            Carrier::Dpd => "DPD",
            Carrier::Ups => "UPS",
            Carrier::Gls => "GLS",
            Carrier::Hermes => "Hermes",
            Carrier::Other => "the carrier",
        }
    }
}

impl Carrier {
    /// A status a carrier's message names: one of ours (`delivered`), or
    /// the carrier's own code, looked up in its table. `None` for a code
    /// neither knows: the message is kept in the parcel's history and
    /// moves nothing.
    pub fn status_for(self, text: &str) -> Option<ShipmentStatus> {
        use ShipmentStatus::*;
        let text = text.trim().to_lowercase();
        if let Some(ours) = ShipmentStatus::parse(&text) {
            return Some(ours);
        }
        let table: &[(&str, ShipmentStatus)] = match self {
            // The `statusCode` of DHL's Shipment Tracking API; its fifth,
            // `unknown`, moves nothing.
            Carrier::Dhl => &[
                ("pre-transit", Shipped),
                ("transit", InTransit),
                ("delivered", Delivered),
                ("failure", FailedAttempt),
            ],
            Carrier::Dpd => &[
                ("pickup", Shipped),
                ("inbound", InTransit),
                ("outfordelivery", OutForDelivery),
                ("notdelivered", FailedAttempt),
                ("returntosender", ReturnedToSender),
            ],
            Carrier::Ups => &[
                ("m", Shipped),
                ("i", InTransit),
                ("o", OutForDelivery),
                ("d", Delivered),
                ("x", FailedAttempt),
                ("rs", ReturnedToSender),
            ],
            Carrier::Gls => &[
                ("preadvice", Shipped),
                ("intransit", InTransit),
                ("indelivery", OutForDelivery),
                ("notdelivered", FailedAttempt),
                ("returned", ReturnedToSender),
            ],
            Carrier::Hermes => &[
                ("1", Shipped),
                ("2", InTransit),
                ("3", OutForDelivery),
                ("4", Delivered),
                ("5", FailedAttempt),
                ("6", ReturnedToSender),
            ],
            Carrier::Other => &[],
        };
        table
            .iter()
            .find(|(code, _)| *code == text)
            .map(|(_, status)| *status)
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// A carrier's tracking number: 4 to 40 letters, digits or dashes, kept in
/// upper case without the spaces labels group it by (no control
/// characters: it goes into links and keys).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingNumber(String);

impl TrackingNumber {
    /// A number as printed on a label or typed by staff: the spaces that
    /// group its digits (`0034 0434 1610 9404 2557`) are dropped and
    /// letters are upper case, so each parcel has one spelling.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let compact: String = input
            .chars()
            .filter(|c| *c != ' ' && *c != '\u{a0}')
            .take(41)
            .collect();
        let ok = (4..=40).contains(&compact.len())
            && compact
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if ok {
            Ok(Self(compact.to_ascii_uppercase()))
        } else {
            Err(ParseError(
                "a tracking number is 4 to 40 letters, digits or dashes".into(),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TrackingNumber {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, ParseError> {
        Self::parse(&value)
    }
}

impl From<TrackingNumber> for String {
    fn from(value: TrackingNumber) -> String {
        value.0
    }
}

impl fmt::Display for TrackingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where customers follow a parcel: a URL template per carrier with
/// `{tracking}` where the number goes. Staff may change them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingLinks(pub BTreeMap<Carrier, String>);

impl Default for TrackingLinks {
    fn default() -> Self {
        Self(BTreeMap::from([
            (Carrier::Dhl, "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={tracking}".into()),
            (Carrier::Dpd, "https://tracking.dpd.de/status/de_DE/parcel/{tracking}".into()),
            (Carrier::Ups, "https://www.ups.com/track?tracknum={tracking}".into()),
            (Carrier::Gls, "https://gls-group.com/DE/de/paketverfolgung?match={tracking}".into()),
            (Carrier::Hermes, "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation#{tracking}".into()),
        ]))
    }
}

impl TrackingLinks {
    /// The link for a parcel, if its carrier has a template.
    pub fn link(&self, carrier: Carrier, number: &TrackingNumber) -> Option<String> {
        self.0
            .get(&carrier)
            .filter(|t| !t.is_empty())
            .map(|template| template.replace("{tracking}", number.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_numbers_are_plain() {
        assert_eq!(
            TrackingNumber::parse("00340434161094042557")
                .unwrap()
                .as_str(),
            "00340434161094042557"
        );
        assert_eq!(
            TrackingNumber::parse("1z999aa1").unwrap().as_str(),
            "1Z999AA1"
        );
        // As printed on a label, grouped by spaces, and typed in lower case.
        assert_eq!(
            TrackingNumber::parse(" 0034 0434 1610 9404 2557 ")
                .unwrap()
                .as_str(),
            "00340434161094042557"
        );
        assert_eq!(
            TrackingNumber::parse("rr 123 456 785 de").unwrap().as_str(),
            "RR123456785DE"
        );
        for bad in [
            "",
            "abc",
            "1 2 3",
            &format!("1234{}", " ".repeat(100)).replace(' ', " 5"),
            "12\n3456",
            "12\u{7}3456",
            &"9".repeat(41),
            "ÄBCDEF",
        ] {
            assert!(TrackingNumber::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn links_follow_the_carrier_template() {
        let number = TrackingNumber::parse("1Z999AA10123456784").unwrap();
        let links = TrackingLinks::default();
        assert_eq!(
            links.link(Carrier::Ups, &number).unwrap(),
            "https://www.ups.com/track?tracknum=1Z999AA10123456784"
        );
        assert_eq!(links.link(Carrier::Other, &number), None);
        assert_eq!(Carrier::parse("DHL").unwrap(), Carrier::Dhl);
        assert_eq!(
            Carrier::Dhl.status_for("delivered"),
            Some(ShipmentStatus::Delivered)
        );
        assert_eq!(
            Carrier::Ups.status_for("D"),
            Some(ShipmentStatus::Delivered)
        );
        assert_eq!(
            Carrier::Dpd.status_for("OutForDelivery"),
            Some(ShipmentStatus::OutForDelivery)
        );
        assert_eq!(Carrier::Hermes.status_for("9"), None);
        assert_eq!(Carrier::Other.status_for("x"), None);
        assert!(Carrier::parse("fedex").is_err());
    }
}
