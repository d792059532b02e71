//! Finding orders: what a staff search text asks for, and the status
//! filters of the order list. Both stores ask these whether an order
//! matches, so they find the same orders.

use crate::order::{Order, OrderStatus, PaymentStatus, ShippingStatus};
use crate::shipment::TrackingNumber;
use crate::types::{Email, OrderNumber};

/// The words of a name or a search text, in lower case, for matching names
/// whole-word and case-insensitively ("muster" finds "Anna Muster").
/// Single letters are left out; they match too much to be useful.
pub fn name_tokens(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        if word.chars().count() >= 2 && !tokens.contains(&word) {
            tokens.push(word);
        }
    }
    tokens
}

/// What a staff search text asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderLookup {
    /// An order number such as `K-7F3K-9QX2` (any case).
    Number(OrderNumber),
    /// An e-mail address: the orders placed with it.
    Email(Email),
    /// A parcel's tracking number (one word of 8 or more letters and
    /// digits, with at least one digit).
    Tracking(TrackingNumber),
    /// Words that must all be words of a name on the order.
    Name(Vec<String>),
    /// No text: every order.
    All,
}

impl OrderLookup {
    pub fn parse(text: Option<&str>) -> Self {
        let text = text.map(str::trim).unwrap_or("");
        let upper = text.to_uppercase();
        let looks_like_number = upper.is_ascii()
            && upper.len() == 11
            && upper.starts_with("K-")
            && upper.as_bytes()[6] == b'-'
            && upper[2..6]
                .chars()
                .chain(upper[7..].chars())
                .all(|c| c.is_ascii_alphanumeric());
        if looks_like_number {
            if let Ok(number) = OrderNumber::parse(&upper) {
                return Self::Number(number);
            }
        }
        if text.contains('@') {
            if let Ok(email) = Email::parse(text) {
                return Self::Email(email);
            }
        }
        if text.len() >= 8 && text.chars().any(|c| c.is_ascii_digit()) {
            if let Ok(number) = TrackingNumber::parse(text) {
                return Self::Tracking(number);
            }
        }
        let words = name_tokens(text);
        if words.is_empty() {
            Self::All
        } else {
            Self::Name(words)
        }
    }

    /// Whether `order` is one this lookup asks for.
    pub fn matches(&self, order: &Order) -> bool {
        match self {
            Self::Number(number) => &order.number == number,
            Self::Email(email) => order.email.normalized() == email.normalized(),
            Self::Tracking(number) => order
                .shipments
                .iter()
                .any(|s| s.tracking_number.as_ref() == Some(number)),
            Self::Name(words) => {
                let names = order.name_tokens();
                words.iter().all(|w| names.contains(w))
            }
            Self::All => true,
        }
    }
}

/// What staff filter the order list by; every part that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub payment_status: Option<PaymentStatus>,
    pub shipping_status: Option<ShippingStatus>,
    /// Orders with a return in this status (staff's list of open returns).
    pub return_status: Option<crate::returns::ReturnStatus>,
}

impl OrderFilter {
    pub fn matches(&self, order: &Order) -> bool {
        self.status.is_none_or(|s| s == order.status)
            && self
                .payment_status
                .is_none_or(|s| s == order.payment_status)
            && self
                .shipping_status
                .is_none_or(|s| s == order.shipping_status)
            && self
                .return_status
                .is_none_or(|s| order.returns.iter().any(|r| r.status == s))
    }
}
