//! The shop's secrets in the environment, checked when a process starts:
//! one that a process needs and lacks stops it with a message that names
//! the variable (fail closed, rather than signing guests' links with the
//! development key), and one set too short to resist guessing is refused
//! wherever it is set.

use crate::webhooks::Sender;

/// The least length of Kontor's own keys (HMAC-SHA256 keys: 256 bits).
pub const MIN_KEY_BYTES: usize = 32;
/// The least length of a carrier's or tracking service's webhook secret:
/// they choose their own, and the template's parameters ask for 16 bytes.
pub const MIN_CARRIER_SECRET_BYTES: usize = 16;

/// A secret a process may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// `KONTOR_LINK_KEY`: signs guests' order links.
    OrderLinkKey,
    /// A webhook secret for every carrier and tracking service:
    /// `KONTOR_WEBHOOK_SECRET_<SENDER>` or the shared `KONTOR_WEBHOOK_SECRET`.
    WebhookSecrets,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("{name} is not set, and this process cannot run safely without it")]
    Missing { name: String },
    #[error("{name} is {length} bytes long; it must have at least {least}")]
    TooShort {
        name: String,
        length: usize,
        least: usize,
    },
}

/// Checks the environment `lookup` reads: every secret that is set has
/// its least length, and every one in `required` is set.
pub fn check(
    required: &[Secret],
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), SecretError> {
    let set = |name: &str| lookup(name).filter(|value| !value.is_empty());
    let mut lengths = vec![
        ("KONTOR_LINK_KEY".to_string(), MIN_KEY_BYTES),
        ("KONTOR_TOKEN_SECRET".to_string(), MIN_KEY_BYTES),
        (
            "KONTOR_WEBHOOK_SECRET".to_string(),
            MIN_CARRIER_SECRET_BYTES,
        ),
    ];
    lengths.extend(Sender::all().map(|sender| (sender.variable(), MIN_CARRIER_SECRET_BYTES)));
    for (name, least) in lengths {
        if let Some(value) = set(&name) {
            if value.len() < least {
                return Err(SecretError::TooShort {
                    length: value.len(),
                    name,
                    least,
                });
            }
        }
    }
    for secret in required {
        match secret {
            Secret::OrderLinkKey => {
                if set("KONTOR_LINK_KEY").is_none() {
                    return Err(SecretError::Missing {
                        name: "KONTOR_LINK_KEY".into(),
                    });
                }
            }
            Secret::WebhookSecrets => {
                let shared = set("KONTOR_WEBHOOK_SECRET").is_some();
                if let Some(sender) =
                    Sender::all().find(|sender| !shared && set(&sender.variable()).is_none())
                {
                    return Err(SecretError::Missing {
                        name: sender.variable(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// [`check`] against the process's environment.
pub fn check_env(required: &[Secret]) -> Result<(), SecretError> {
    check(required, |name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_function_that_signs_links_does_not_start_without_the_key() {
        assert_eq!(
            check(&[Secret::OrderLinkKey], env(&[])),
            Err(SecretError::Missing {
                name: "KONTOR_LINK_KEY".into()
            })
        );
        assert_eq!(
            check(&[Secret::OrderLinkKey], env(&[("KONTOR_LINK_KEY", "")])),
            Err(SecretError::Missing {
                name: "KONTOR_LINK_KEY".into()
            })
        );
        assert_eq!(
            check(&[Secret::OrderLinkKey], env(&[("KONTOR_LINK_KEY", KEY)])),
            Ok(())
        );
        assert_eq!(check(&[], env(&[])), Ok(()), "others need none");
    }

    #[test]
    fn a_short_secret_is_refused_wherever_it_is_set() {
        for name in ["KONTOR_LINK_KEY", "KONTOR_TOKEN_SECRET"] {
            assert_eq!(
                check(&[], env(&[(name, &KEY[..31])])),
                Err(SecretError::TooShort {
                    name: name.into(),
                    length: 31,
                    least: 32
                })
            );
        }
        assert!(check(&[], env(&[("KONTOR_WEBHOOK_SECRET_DHL", "short")])).is_err());
        assert_eq!(
            check(&[], env(&[("KONTOR_WEBHOOK_SECRET_DHL", &KEY[..16])])),
            Ok(())
        );
    }

    #[test]
    fn every_sender_needs_a_webhook_secret_its_own_or_the_shared_one() {
        assert_eq!(
            check(&[Secret::WebhookSecrets], env(&[])),
            Err(SecretError::Missing {
                name: "KONTOR_WEBHOOK_SECRET_DHL".into()
            })
        );
        assert_eq!(
            check(
                &[Secret::WebhookSecrets],
                env(&[("KONTOR_WEBHOOK_SECRET", KEY)])
            ),
            Ok(())
        );
        let all: Vec<(String, &str)> = Sender::all().map(|s| (s.variable(), KEY)).collect();
        let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(check(&[Secret::WebhookSecrets], env(&pairs)), Ok(()));
        assert!(check(&[Secret::WebhookSecrets], env(&pairs[1..])).is_err());
        // The tracking services are senders like the carriers.
        let without_sendcloud: Vec<(&str, &str)> = pairs
            .iter()
            .copied()
            .filter(|(name, _)| *name != "KONTOR_WEBHOOK_SECRET_SENDCLOUD")
            .collect();
        assert_eq!(
            check(&[Secret::WebhookSecrets], env(&without_sendcloud)),
            Err(SecretError::Missing {
                name: "KONTOR_WEBHOOK_SECRET_SENDCLOUD".into()
            })
        );
        assert!(check(&[], env(&[("KONTOR_WEBHOOK_SECRET_AFTERSHIP", "short")])).is_err());
    }
}
