//! Guest order access tokens.
//!
//! A guest gets a random token at checkout (made by the caller: the domain has
//! no randomness). Only its SHA-256 hash is stored, so a leaked table does not
//! open anyone's order, and it is compared in constant time.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccessTokenHash(String);

impl AccessTokenHash {
    pub fn of(token: &str) -> Self {
        Self(hex::encode(Sha256::digest(token.as_bytes())))
    }

    /// True when `token` hashes to this value; constant time in the hash.
    pub fn matches(&self, token: &str) -> bool {
        let candidate = Self::of(token);
        candidate.0.as_bytes().ct_eq(self.0.as_bytes()).into()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_token_matches() {
        let hash = AccessTokenHash::of("3f2a9c");
        assert!(hash.matches("3f2a9c"));
        assert!(!hash.matches("3f2a9d"));
        assert!(!hash.matches(""));
        assert_ne!(hash.as_str(), "3f2a9c", "the token itself is never kept");
    }
}
