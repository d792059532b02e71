//! The links that open a guest's order.
//!
//! A guest opens their order with a token in its link. The token is an
//! HMAC of the order id under the shop's link key, so the checkout that
//! hands it out and the notifier that writes it into every e-mail derive
//! the same token without storing it: the store keeps only its SHA-256
//! hash, as before. Without the key a token cannot be guessed (128 bits);
//! a leaked key would open orders, so it is a secret (`KONTOR_LINK_KEY` in
//! AWS, a random file in the local data folder).

use std::sync::Arc;

use hmac::{Hmac, Mac};
use kontor_domain::OrderId;
use sha2::Sha256;

/// The key used when none is configured: fine for tests and a first local
/// run, never for a shop on the internet (the runtime warns).
const DEVELOPMENT_KEY: &[u8] = b"kontor-development-order-link-key";

#[derive(Clone, PartialEq, Eq)]
pub struct OrderLinks {
    key: Arc<Vec<u8>>,
}

impl std::fmt::Debug for OrderLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OrderLinks(<secret>)")
    }
}

impl Default for OrderLinks {
    fn default() -> Self {
        Self::new(DEVELOPMENT_KEY.to_vec())
    }
}

impl OrderLinks {
    pub fn new(key: Vec<u8>) -> Self {
        Self { key: Arc::new(key) }
    }

    /// The key from `KONTOR_LINK_KEY`, if set.
    pub fn from_env() -> Option<Self> {
        std::env::var("KONTOR_LINK_KEY")
            .ok()
            .filter(|k| !k.is_empty())
            .map(|k| Self::new(k.into_bytes()))
    }

    pub fn is_development_key(&self) -> bool {
        self.key.as_slice() == DEVELOPMENT_KEY
    }

    /// The token in the link of a guest's order: 128 bits, hex.
    pub fn guest_token(&self, order: &OrderId) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(b"kontor-order-link:");
        mac.update(order.as_str().as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_order_has_its_own_token_under_each_key() {
        let links = OrderLinks::new(b"key one".to_vec());
        let a = OrderId::parse("a").unwrap();
        let b = OrderId::parse("b").unwrap();
        assert_eq!(links.guest_token(&a), links.guest_token(&a));
        assert_eq!(links.guest_token(&a).len(), 32);
        assert_ne!(links.guest_token(&a), links.guest_token(&b));
        assert_ne!(
            links.guest_token(&a),
            OrderLinks::new(b"key two".to_vec()).guest_token(&a)
        );
    }
}
