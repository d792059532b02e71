//! Keeping a guest's access token out of the idempotency record.
//!
//! The first answer to a checkout carries the guest's access token, and a
//! retry must get that same answer. Storing it would break the rule that only
//! a hash of the token is kept. So the record is keyed by a hash of the
//! `Idempotency-Key`, and the token is stored XOR-ed with a pad derived from
//! the key itself: only a client that still holds the key can read it back.

use kontor_domain::CustomerId;
use sha2::{Digest, Sha256};

/// The record key for a client's `Idempotency-Key`.
pub fn record_key(idempotency_key: &str, customer: Option<&CustomerId>) -> String {
    // Scoped by caller, so one shopper's key can never replay another's
    // answer; the prefixes keep a guest's key from spelling a customer's.
    let scoped = match customer {
        Some(customer) => format!("kontor-checkout-key:customer:{customer}:{idempotency_key}"),
        None => format!("kontor-checkout-key:guest:{idempotency_key}"),
    };
    hex::encode(Sha256::digest(scoped))
}

/// Seals or unseals (the operation is its own inverse) a hex token of up to
/// 32 bytes with the pad of `idempotency_key`.
pub fn seal(token_hex: &str, idempotency_key: &str) -> Option<String> {
    let token = hex::decode(token_hex).ok()?;
    let pad = Sha256::digest(format!("kontor-checkout-pad:{idempotency_key}"));
    if token.len() > pad.len() {
        return None;
    }
    Some(hex::encode(
        token
            .iter()
            .zip(pad.iter())
            .map(|(t, p)| t ^ p)
            .collect::<Vec<u8>>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_twice_gives_the_token_back() {
        let token = "00112233445566778899aabbccddeeff";
        let sealed = seal(token, "key-1").unwrap();
        assert_ne!(sealed, token);
        assert_eq!(seal(&sealed, "key-1").unwrap(), token);
        assert_ne!(seal(&sealed, "key-2").unwrap(), token);
    }

    #[test]
    fn record_keys_do_not_reveal_the_key() {
        assert!(!record_key("my-key", None).contains("my-key"));
        assert_eq!(record_key("a", None), record_key("a", None));
        assert_ne!(record_key("a", None), record_key("b", None));
    }

    #[test]
    fn record_keys_are_scoped_by_caller() {
        let eva = CustomerId::parse("eva").unwrap();
        let tom = CustomerId::parse("tom").unwrap();
        assert_ne!(record_key("a", Some(&eva)), record_key("a", None));
        assert_ne!(record_key("a", Some(&eva)), record_key("a", Some(&tom)));
    }
}
