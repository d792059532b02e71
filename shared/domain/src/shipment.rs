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

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::events::{ParcelItem, ParcelNotice};
use crate::order::{HistoryEntry, Order, OrderStatus, ShippingStatus, StockTake};
use crate::types::{LineId, ParseError, Quantity, Sku};

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
    /// the carrier's own code, looked up in its table.
    pub fn status_for(self, text: &str) -> Option<ShipmentStatus> {
        use ShipmentStatus::*;
        let text = text.trim().to_lowercase();
        if let Some(ours) = ShipmentStatus::parse(&text) {
            return Some(ours);
        }
        let table: &[(&str, ShipmentStatus)] = match self {
            Carrier::Dhl => &[
                ("pre-transit", Shipped),
                ("transit", InTransit),
                ("out-for-delivery", OutForDelivery),
                ("failure", FailedAttempt),
                ("returned", ReturnedToSender),
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
/// upper case (no spaces, no control characters: it goes into links and
/// keys).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingNumber(String);

impl TrackingNumber {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let ok = (4..=40).contains(&input.len())
            && input.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if ok {
            Ok(Self(input.to_ascii_uppercase()))
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
    /// `staff <e-mail>` or `carrier <name>`.
    pub by: String,
    /// The carrier's id of the message that set it: each is applied once.
    pub carrier_event_id: Option<String>,
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
}

impl Shipment {
    /// Whether the carrier message `id` was applied already.
    pub fn has_applied(&self, carrier_event_id: &str) -> bool {
        self.history
            .iter()
            .any(|s| s.carrier_event_id.as_deref() == Some(carrier_event_id))
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
    #[error("the order is cancelled")]
    OrderCancelled,
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
}

/// A new parcel and the stock it takes for backordered units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedShipment {
    pub shipment_id: String,
    pub stock_takes: Vec<StockTake>,
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

    pub fn shipment(&self, id: &str) -> Option<&Shipment> {
        self.shipments.iter().find(|s| s.id == id)
    }

    /// Packs a new parcel. `in_stock` tells the product's stock now, for
    /// units that were backordered at checkout.
    pub fn pack_shipment(
        &mut self,
        request: &NewShipment,
        now: OffsetDateTime,
        by: &str,
        in_stock: &dyn Fn(&Sku) -> u32,
    ) -> Result<PackedShipment, ShipmentError> {
        if self.status == OrderStatus::Cancelled {
            return Err(ShipmentError::OrderCancelled);
        }
        if request.items.is_empty() {
            return Err(ShipmentError::NoItems);
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
                Some((_, _, total)) => *total += quantity.get(),
                None => wanted.push((index, line_id.clone(), quantity.get())),
            }
        }
        let mut items = Vec::with_capacity(wanted.len());
        let mut stock_takes = Vec::new();
        let mut releases: Vec<(LineId, u32)> = Vec::new();
        for (index, line_id, quantity) in &wanted {
            let line = self
                .lines
                .iter()
                .find(|l| &l.id == line_id)
                .expect("checked above");
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
            let reserved = line.quantity.get() - line.backordered;
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
            items.push(ShipmentItem {
                line_id: line_id.clone(),
                sku: line.sku.clone(),
                name: line.name.clone(),
                quantity: Quantity::new(*quantity).expect("at most the line's quantity"),
            });
        }
        for (line_id, released) in releases {
            if let Some(line) = self.lines.iter_mut().find(|l| l.id == line_id) {
                line.backordered -= released;
            }
        }
        let shipment_id = format!("S{}", self.shipments.len() + 1);
        let units: u32 = items.iter().map(|i| i.quantity.get()).sum();
        self.history.push(HistoryEntry {
            at: now,
            action: "shipment_packed".into(),
            by: by.to_string(),
            detail: format!(
                "Parcel {shipment_id} packed: {units} unit(s), {}",
                request.carrier
            ),
        });
        self.shipments.push(Shipment {
            id: shipment_id.clone(),
            items,
            carrier: request.carrier,
            tracking_number: request.tracking_number.clone(),
            status: ShipmentStatus::Pending,
            history: vec![ShipmentStep {
                status: ShipmentStatus::Pending,
                at: now,
                location: None,
                by: by.to_string(),
                carrier_event_id: None,
            }],
        });
        self.shipping_status = derive_shipping_status(self);
        self.version += 1;
        Ok(PackedShipment {
            shipment_id,
            stock_takes,
        })
    }

    /// Moves a parcel on. A status a parcel cannot reach from where it is
    /// (backwards, or out of a final one) is refused; parcels need a
    /// tracking number to be on their way.
    pub fn move_shipment(
        &mut self,
        shipment_id: &str,
        step: ShipmentStep,
        tracking_number: Option<TrackingNumber>,
    ) -> Result<ShipmentStatus, ShipmentError> {
        let shipment = self
            .shipments
            .iter_mut()
            .find(|s| s.id == shipment_id)
            .ok_or_else(|| ShipmentError::UnknownShipment(shipment_id.to_string()))?;
        let from = shipment.status;
        if !from.can_become(step.status) {
            return Err(ShipmentError::StatusJump {
                from,
                to: step.status,
            });
        }
        let tracking_number = tracking_number.or_else(|| shipment.tracking_number.clone());
        if step.status.has_left() && tracking_number.is_none() && shipment.carrier != Carrier::Other
        {
            return Err(ShipmentError::NoTrackingNumber(step.status));
        }
        shipment.tracking_number = tracking_number;
        shipment.status = step.status;
        let entry = HistoryEntry {
            at: step.at,
            action: format!("shipment_{}", step.status),
            by: step.by.clone(),
            detail: format!(
                "Parcel {shipment_id}: {} → {}{}",
                from,
                step.status,
                step.location
                    .as_deref()
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default()
            ),
        };
        shipment.history.push(step);
        self.history.push(entry);
        self.shipping_status = derive_shipping_status(self);
        self.version += 1;
        Ok(from)
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
    use crate::access::AccessTokenHash;
    use crate::order::{
        place_order, Address, CartLine, CheckoutDetails, Language, NewOrderContext, PaymentMethod,
    };
    use crate::pricing::fixtures::settings;
    use crate::product::fixtures::product;
    use crate::types::{CountryCode, Email, EventId, OrderId, OrderNumber, TextLine};
    use proptest::prelude::*;
    use time::macros::datetime;

    /// An order of three products with `stock` units each in stock and
    /// backorders allowed, for `quantities` units each.
    fn order(quantities: [u32; 3], stock: u32) -> Order {
        let skus = ["A", "B", "C"];
        let catalog: Vec<_> = skus
            .iter()
            .map(|s| product(s, "10.00", stock, true))
            .collect();
        let details = CheckoutDetails {
            lines: skus
                .iter()
                .zip(quantities)
                .map(|(sku, n)| CartLine {
                    sku: Sku::parse(sku).unwrap(),
                    quantity: Quantity::new(n).unwrap(),
                })
                .collect(),
            email: Email::parse("anna@example.de").unwrap(),
            shipping_address: Address {
                name: TextLine::parse("Anna Muster").unwrap(),
                street: TextLine::parse("Hauptstr. 1").unwrap(),
                postal_code: TextLine::parse("10115").unwrap(),
                city: TextLine::parse("Berlin").unwrap(),
                country: CountryCode::parse("DE").unwrap(),
            },
            billing_address: None,
            payment_method: PaymentMethod::Invoice,
            language: Language::De,
        };
        let context = NewOrderContext {
            id: OrderId::parse("o1").unwrap(),
            number: OrderNumber::parse("K-TEST-0001").unwrap(),
            now: datetime!(2026-11-28 10:00 UTC),
            customer_id: None,
            access_token_hash: Some(AccessTokenHash::of("secret")),
        };
        let mut n = 0;
        place_order(&details, &catalog, context, &settings(), &mut || {
            n += 1;
            EventId::parse(&format!("e{n}")).unwrap()
        })
        .unwrap()
        .order
    }

    fn step(status: ShipmentStatus) -> ShipmentStep {
        ShipmentStep {
            status,
            at: datetime!(2026-11-29 10:00 UTC),
            location: None,
            by: "staff".into(),
            carrier_event_id: None,
        }
    }

    fn line(n: usize) -> LineId {
        LineId::parse(&format!("L{n}")).unwrap()
    }

    #[test]
    fn a_split_delivery_ships_in_two_parcels() {
        // B was out of stock at checkout: 2 units backordered.
        let mut order = order([1, 2, 1], 1);
        assert_eq!(order.lines[1].backordered, 1);
        let none = |_: &Sku| 0;
        let first = NewShipment {
            items: vec![
                (line(1), Quantity::new(1).unwrap()),
                (line(2), Quantity::new(1).unwrap()),
                (line(3), Quantity::new(1).unwrap()),
            ],
            carrier: Carrier::Dhl,
            tracking_number: Some(TrackingNumber::parse("00340434161094042557").unwrap()),
        };
        let packed = order
            .pack_shipment(&first, datetime!(2026-11-29 9:00 UTC), "staff", &none)
            .unwrap();
        assert!(packed.stock_takes.is_empty(), "reserved units only");
        let second = NewShipment {
            items: vec![(line(2), Quantity::new(1).unwrap())],
            carrier: Carrier::Dpd,
            tracking_number: Some(TrackingNumber::parse("01234567890123").unwrap()),
        };
        assert_eq!(
            order.pack_shipment(&second, datetime!(2026-11-29 9:00 UTC), "staff", &none),
            Err(ShipmentError::NotInStock {
                index: 0,
                sku: Sku::parse("B").unwrap(),
                available: 0
            }),
            "the backordered unit waits for stock"
        );
        let packed = order
            .pack_shipment(&second, datetime!(2026-11-30 9:00 UTC), "staff", &|_| 4)
            .unwrap();
        assert_eq!(
            packed.stock_takes,
            [StockTake {
                sku: Sku::parse("B").unwrap(),
                quantity: 1
            }]
        );
        assert_eq!(order.lines[1].backordered, 0, "released");
        assert_eq!(order.shipping_status, ShippingStatus::NotShipped);
        order
            .move_shipment("S1", step(ShipmentStatus::Shipped), None)
            .unwrap();
        assert_eq!(order.shipping_status, ShippingStatus::PartiallyShipped);
        order
            .move_shipment("S2", step(ShipmentStatus::Shipped), None)
            .unwrap();
        assert_eq!(order.shipping_status, ShippingStatus::Shipped);
        order
            .move_shipment("S1", step(ShipmentStatus::Delivered), None)
            .unwrap();
        assert_eq!(order.shipping_status, ShippingStatus::PartiallyDelivered);
        order
            .move_shipment("S2", step(ShipmentStatus::Delivered), None)
            .unwrap();
        assert_eq!(order.shipping_status, ShippingStatus::Delivered);
        let too_many = NewShipment {
            items: vec![(line(1), Quantity::new(1).unwrap())],
            carrier: Carrier::Dhl,
            tracking_number: None,
        };
        assert!(matches!(
            order.pack_shipment(&too_many, datetime!(2026-11-30 9:00 UTC), "staff", &|_| 9),
            Err(ShipmentError::MoreThanRemains { remaining: 0, .. })
        ));
    }

    #[test]
    fn parcels_on_their_way_need_a_tracking_number() {
        let mut order = order([1, 1, 1], 5);
        let request = NewShipment {
            items: vec![(line(1), Quantity::new(1).unwrap())],
            carrier: Carrier::Ups,
            tracking_number: None,
        };
        order
            .pack_shipment(&request, datetime!(2026-11-29 9:00 UTC), "staff", &|_| 0)
            .unwrap();
        assert_eq!(
            order.move_shipment("S1", step(ShipmentStatus::Shipped), None),
            Err(ShipmentError::NoTrackingNumber(ShipmentStatus::Shipped))
        );
        assert_eq!(
            order.shipment("S1").unwrap().tracking_number,
            None,
            "nothing changed"
        );
        let number = TrackingNumber::parse("1Z999AA10123456784").unwrap();
        order
            .move_shipment("S1", step(ShipmentStatus::Shipped), Some(number.clone()))
            .unwrap();
        assert_eq!(order.shipment("S1").unwrap().tracking_number, Some(number));
    }

    fn status() -> impl Strategy<Value = ShipmentStatus> {
        proptest::sample::select(ShipmentStatus::ALL.to_vec())
    }

    #[derive(Debug, Clone)]
    enum Op {
        Pack(Vec<(usize, u32)>, u32),
        Move(usize, ShipmentStatus),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (
                proptest::collection::vec((1usize..=4, 1u32..=4), 1..4),
                0u32..4
            )
                .prop_map(|(items, stock)| Op::Pack(items, stock)),
            (1usize..=6, status()).prop_map(|(n, s)| Op::Move(n, s)),
        ]
    }

    proptest! {
        /// Whatever staff and carriers do, parcels never hold more than was
        /// ordered, statuses never go back, and the order's shipping status
        /// is the one its parcels make.
        #[test]
        fn shipping_never_exceeds_the_order_and_the_status_follows(
            quantities in proptest::array::uniform3(1u32..=5),
            stock in 0u32..4,
            ops in proptest::collection::vec(op(), 1..25),
        ) {
            let mut order = order(quantities, stock);
            for op in ops {
                let before = order.clone();
                let result = match &op {
                    Op::Pack(items, stock) => {
                        let request = NewShipment {
                            items: items.iter().map(|(l, q)| (line(*l), Quantity::new(*q).unwrap())).collect(),
                            carrier: Carrier::Dhl,
                            tracking_number: Some(TrackingNumber::parse("00340434161094042557").unwrap()),
                        };
                        order.pack_shipment(&request, datetime!(2026-11-29 9:00 UTC), "staff", &|_| *stock).map(|_| ())
                    }
                    Op::Move(n, status) => order.move_shipment(&format!("S{n}"), step(*status), None).map(|_| ()),
                };
                if result.is_err() {
                    prop_assert_eq!(&order, &before, "a refused change changes nothing");
                }
                for line in &order.lines {
                    prop_assert!(order.units_in_parcels(&line.id) <= line.quantity.get());
                    prop_assert!(line.backordered <= line.quantity.get());
                }
                prop_assert_eq!(order.shipping_status, derive_shipping_status(&order));
                for (old, new) in before.shipments.iter().zip(&order.shipments) {
                    prop_assert!(old.status == new.status || old.status.can_become(new.status));
                }
            }
        }
    }

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
        for bad in [
            "",
            "abc",
            "12 34 56",
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
