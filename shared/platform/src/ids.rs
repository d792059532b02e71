//! The id port: fresh identifiers and order numbers. (A guest's order link
//! token is derived from the order id: see `links`.)
//!
//! Order numbers are random rather than counted: a counter is one hot item
//! that every checkout must write, which caps throughput on DynamoDB and
//! serialises checkouts everywhere. Forty random bits in Crockford base32
//! (no I, L, O or U, so nothing is misread on the phone) give numbers like
//! `K-7F3K-9QX2`; the store refuses a duplicate and the caller draws again.

use std::sync::atomic::{AtomicU64, Ordering};

use kontor_domain::{EventId, OrderId, OrderNumber};
use rand::RngCore;

pub trait IdSource: Send + Sync {
    fn order_id(&self) -> OrderId;
    fn order_number(&self) -> OrderNumber;
    fn event_id(&self) -> EventId;
}

/// Ids from the operating system's random source.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Formats 40 bits as `K-XXXX-XXXX` in Crockford base32.
pub fn format_order_number(bits: u64) -> OrderNumber {
    let chars: Vec<char> = (0..8)
        .rev()
        .map(|i| CROCKFORD[((bits >> (i * 5)) & 0x1f) as usize] as char)
        .collect();
    let text: String = format!(
        "K-{}-{}",
        chars[..4].iter().collect::<String>(),
        chars[4..].iter().collect::<String>()
    );
    OrderNumber::parse(&text).expect("formatted order numbers are valid ids")
}

impl IdSource for RandomIds {
    fn order_id(&self) -> OrderId {
        OrderId::parse(&random_hex(12)).expect("hex is a valid id")
    }

    fn order_number(&self) -> OrderNumber {
        format_order_number(rand::rng().next_u64() & 0xff_ffff_ffff)
    }

    fn event_id(&self) -> EventId {
        EventId::parse(&random_hex(16)).expect("hex is a valid id")
    }
}

/// Predictable ids for tests: `o-1`, `e-2`, ….
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl SequentialIds {
    fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

impl IdSource for SequentialIds {
    fn order_id(&self) -> OrderId {
        OrderId::parse(&format!("o-{}", self.next())).expect("valid id")
    }

    fn order_number(&self) -> OrderNumber {
        format_order_number(self.next())
    }

    fn event_id(&self) -> EventId {
        EventId::parse(&format!("e-{}", self.next())).expect("valid id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_are_readable() {
        assert_eq!(format_order_number(0).as_str(), "K-0000-0000");
        assert_eq!(format_order_number(0xff_ffff_ffff).as_str(), "K-ZZZZ-ZZZZ");
        let n = RandomIds.order_number();
        assert_eq!(n.as_str().len(), 11);
    }
}
