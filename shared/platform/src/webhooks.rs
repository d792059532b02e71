//! Signed carrier and tracking-service webhooks.
//!
//! A carrier signs each delivery with the header
//! `Kontor-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
//! under its own secret. A delivery is accepted only if the signature
//! matches (compared in constant time) and `t` is at most five minutes off
//! the receiver's clock, so a captured delivery cannot be replayed later.
//!
//! Tracking services sign the raw body alone, in their own headers:
//! AfterShip base64 (`aftership-hmac-sha256`), Sendcloud hex
//! (`Sendcloud-Signature`). Their bodies carry no signed time Kontor could
//! bound, so a replayed delivery is caught by its event identity instead:
//! each is applied once.

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, Mac};
use kontor_domain::carrier::TrackingService;
use kontor_domain::shipment::Carrier;
use sha2::Sha256;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Kontor-Signature";
/// How far the signature's time may be from ours, either way.
pub const MAX_SKEW_SECONDS: i64 = 5 * 60;
/// Every carrier's secret locally, unless set otherwise (DESIGN).
pub const LOCAL_SECRET: &str = "local-webhook-secret";

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no Kontor-Signature header")]
    Missing,
    #[error("the Kontor-Signature header is not t=<seconds>,v1=<hex>")]
    Malformed,
    #[error("the signature's time is more than five minutes off")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value a carrier sends with `body` at `timestamp`.
pub fn signature_header(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let signature = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(signature))
}

/// Checks a delivery's signature header against its raw body.
pub fn verify(
    header: Option<&str>,
    secret: &[u8],
    body: &[u8],
    now_unix: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => {
                signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?)
            }
            _ => return Err(SignatureError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    // Checked: a timestamp at the ends of i64 must be refused as stale,
    // not overflow before the signature is even looked at.
    let skew = now_unix.checked_sub(timestamp).and_then(i64::checked_abs);
    if skew.is_none_or(|skew| skew > MAX_SKEW_SECONDS) {
        return Err(SignatureError::Stale);
    }
    // Any v1 may match, so a carrier can roll its secret without downtime.
    let expected = mac(secret, timestamp, body);
    if signatures
        .iter()
        .any(|signature| expected.clone().verify_slice(signature).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// How a tracking service writes its body signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Base64,
    Hex,
}

/// The header carrying a tracking service's signature.
pub fn service_signature_header(service: TrackingService) -> &'static str {
    match service {
        TrackingService::AfterShip => "aftership-hmac-sha256",
        TrackingService::Sendcloud => "Sendcloud-Signature",
    }
}

fn encoding(service: TrackingService) -> Encoding {
    match service {
        TrackingService::AfterShip => Encoding::Base64,
        TrackingService::Sendcloud => Encoding::Hex,
    }
}

/// The signature a tracking service sends with `body`.
pub fn body_signature(service: TrackingService, secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    let signature = mac.finalize().into_bytes();
    match encoding(service) {
        Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(signature),
        Encoding::Hex => hex::encode(signature),
    }
}

/// Checks a tracking service's signature of the raw body.
pub fn verify_body(
    service: TrackingService,
    header: Option<&str>,
    secret: &[u8],
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let signature = match encoding(service) {
        Encoding::Base64 => base64::engine::general_purpose::STANDARD
            .decode(header)
            .map_err(|_| SignatureError::Malformed)?,
        Encoding::Hex => hex::decode(header).map_err(|_| SignatureError::Malformed)?,
    };
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&signature)
        .map_err(|_| SignatureError::Mismatch)
}

/// Who signs webhooks to Kontor: a carrier or a tracking service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sender {
    Carrier(Carrier),
    Service(TrackingService),
}

impl Sender {
    /// Every carrier, then every tracking service.
    pub fn all() -> impl Iterator<Item = Sender> {
        Carrier::ALL
            .into_iter()
            .map(Sender::Carrier)
            .chain(TrackingService::ALL.into_iter().map(Sender::Service))
    }

    /// The variable holding its own secret: `KONTOR_WEBHOOK_SECRET_DHL`,
    /// `KONTOR_WEBHOOK_SECRET_AFTERSHIP`.
    pub fn variable(self) -> String {
        let code = match self {
            Sender::Carrier(carrier) => carrier.code(),
            Sender::Service(service) => service.code(),
        };
        format!("KONTOR_WEBHOOK_SECRET_{}", code.to_uppercase())
    }
}

/// Each carrier's and tracking service's webhook secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSecrets {
    default: String,
    per_sender: BTreeMap<Sender, String>,
}

impl Default for WebhookSecrets {
    fn default() -> Self {
        Self {
            default: LOCAL_SECRET.into(),
            per_sender: BTreeMap::new(),
        }
    }
}

impl WebhookSecrets {
    /// `KONTOR_WEBHOOK_SECRET_<SENDER>` (for example `..._DHL`,
    /// `..._AFTERSHIP`) per sender, else `KONTOR_WEBHOOK_SECRET`, else the
    /// local default.
    pub fn from_env() -> Self {
        let mut secrets = Self::default();
        if let Ok(secret) = std::env::var("KONTOR_WEBHOOK_SECRET") {
            if !secret.is_empty() {
                secrets.default = secret;
            }
        }
        for sender in Sender::all() {
            if let Ok(secret) = std::env::var(sender.variable()) {
                if !secret.is_empty() {
                    secrets.per_sender.insert(sender, secret);
                }
            }
        }
        secrets
    }

    pub fn with(mut self, sender: Sender, secret: &str) -> Self {
        self.per_sender.insert(sender, secret.to_string());
        self
    }

    pub fn for_sender(&self, sender: Sender) -> &[u8] {
        self.per_sender
            .get(&sender)
            .unwrap_or(&self.default)
            .as_bytes()
    }

    pub fn for_carrier(&self, carrier: Carrier) -> &[u8] {
        self.for_sender(Sender::Carrier(carrier))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000;

    #[test]
    fn a_signed_delivery_verifies() {
        let header = signature_header(b"secret", NOW, br#"{"a":1}"#);
        assert_eq!(
            verify(Some(&header), b"secret", br#"{"a":1}"#, NOW + 299),
            Ok(())
        );
        assert_eq!(
            verify(Some(&header), b"secret", br#"{"a":1}"#, NOW - 299),
            Ok(())
        );
    }

    /// Known-good signatures, computed apart from this code with the
    /// README's command: `printf '%s.%s' "$t" "$body" | openssl dgst
    /// -sha256 -hmac <secret> -hex`.
    const BODY: &[u8] =
        br#"{"event_id":"e1","tracking_number":"00340434161094042557","status":"delivered"}"#;
    const LOCAL: &str = "3a355c615c807af7d8ccf41c4d318aedfee06980e9c92b578af08cd09c531b29";
    const DHL: &str = "082589fb03e44a4177f1d9c95503ed84a1e473bfe2375af60c40e3e20729dfd3";
    const EMPTY_BODY: &str = "7695e2282f59e46186162510afada97b441b80a2416e3263b414d8be49db7e45";

    #[test]
    fn signatures_match_those_openssl_computes() {
        assert_eq!(
            signature_header(b"local-webhook-secret", NOW, BODY),
            format!("t={NOW},v1={LOCAL}")
        );
        assert_eq!(
            signature_header(b"dhl-secret", NOW, BODY),
            format!("t={NOW},v1={DHL}")
        );
        for (secret, body, hex) in [
            (&b"local-webhook-secret"[..], BODY, LOCAL),
            (&b"dhl-secret"[..], BODY, DHL),
            (&b"local-webhook-secret"[..], &b""[..], EMPTY_BODY),
        ] {
            let header = format!("t={NOW},v1={hex}");
            assert_eq!(verify(Some(&header), secret, body, NOW), Ok(()), "{hex}");
            // Upper-case hex is the same signature.
            let upper = format!("t={NOW},v1={}", hex.to_uppercase());
            assert_eq!(verify(Some(&upper), secret, body, NOW), Ok(()));
        }
    }

    #[test]
    fn timestamps_at_the_ends_of_the_range_are_stale_not_a_crash() {
        for t in [i64::MIN, i64::MAX, i64::MIN + 1] {
            let header = format!("t={t},v1=00");
            assert_eq!(
                verify(Some(&header), b"secret", b"{}", NOW),
                Err(SignatureError::Stale),
                "{t}"
            );
        }
        assert_eq!(
            verify(
                Some("t=-9223372036854775808,v1=00"),
                b"secret",
                b"{}",
                i64::MAX
            ),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn known_bad_signatures_are_refused() {
        let swapped = format!("t={NOW},v1={DHL}");
        assert_eq!(
            verify(Some(&swapped), b"local-webhook-secret", BODY, NOW),
            Err(SignatureError::Mismatch),
            "another carrier's signature"
        );
        let truncated = format!("t={NOW},v1={}", &LOCAL[..62]);
        assert_ne!(
            verify(Some(&truncated), b"local-webhook-secret", BODY, NOW),
            Ok(())
        );
        let one_off = format!("t={NOW},v1={}0", &LOCAL[..63]);
        assert_eq!(
            verify(Some(&one_off), b"local-webhook-secret", BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        let mut reordered = BODY.to_vec();
        reordered.push(b' ');
        let header = format!("t={NOW},v1={LOCAL}");
        assert_eq!(
            verify(Some(&header), b"local-webhook-secret", &reordered, NOW),
            Err(SignatureError::Mismatch),
            "the raw body is signed, byte for byte"
        );
    }

    #[test]
    fn anything_else_is_refused() {
        let header = signature_header(b"secret", NOW, b"body");
        assert_eq!(
            verify(None, b"secret", b"body", NOW),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(Some("v1=00"), b"secret", b"body", NOW),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some("t=1,v1=zz"), b"secret", b"body", NOW),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some(&header), b"other", b"body", NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&header), b"secret", b"body2", NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&header), b"secret", b"body", NOW + 301),
            Err(SignatureError::Stale)
        );
        // The time is signed: moving it breaks the signature.
        let moved = header.replace(&format!("t={NOW}"), &format!("t={}", NOW + 10));
        assert_eq!(
            verify(Some(&moved), b"secret", b"body", NOW),
            Err(SignatureError::Mismatch)
        );
    }

    /// Sendcloud's documentation's own example: `{"key": "value"}` under
    /// `secretkey`; AfterShip's computed apart from this code with
    /// `openssl dgst -sha256 -hmac <secret> -binary | base64`.
    #[test]
    fn tracking_services_signatures_match_their_documented_examples() {
        let documented = "1eed4b3d41f4653ac64fd56f1bf1cbfd349e4482cbc11dff7134bd93e5da4b0a";
        let body = br#"{"key": "value"}"#;
        assert_eq!(
            body_signature(TrackingService::Sendcloud, b"secretkey", body),
            documented
        );
        assert_eq!(
            verify_body(
                TrackingService::Sendcloud,
                Some(documented),
                b"secretkey",
                body
            ),
            Ok(())
        );
        let aftership = "guKv7V7Rq1zVsUuo+AL0BJAgXe8rN6Po62ps0bFbMxQ=";
        let body = br#"{"event":"tracking_update","event_id":"e1"}"#;
        assert_eq!(
            body_signature(TrackingService::AfterShip, b"aftership-secret-123", body),
            aftership
        );
        assert_eq!(
            verify_body(
                TrackingService::AfterShip,
                Some(aftership),
                b"aftership-secret-123",
                body
            ),
            Ok(())
        );
        // Wrong secret, changed body, missing or garbled header, or the
        // other service's encoding: refused.
        for (service, header, secret, body) in [
            (
                TrackingService::AfterShip,
                Some(aftership),
                &b"other-secret-1234"[..],
                &body[..],
            ),
            (
                TrackingService::AfterShip,
                Some(aftership),
                b"aftership-secret-123",
                br#"{"event":"tracking_update","event_id":"e2"}"#,
            ),
            (
                TrackingService::AfterShip,
                None,
                b"aftership-secret-123",
                &body[..],
            ),
            (
                TrackingService::AfterShip,
                Some("not base64!"),
                b"aftership-secret-123",
                &body[..],
            ),
            (
                TrackingService::Sendcloud,
                Some(aftership),
                b"aftership-secret-123",
                &body[..],
            ),
            (
                TrackingService::Sendcloud,
                Some(&documented[..63]),
                b"secretkey",
                br#"{"key": "value"}"#,
            ),
        ] {
            assert!(
                verify_body(service, header, secret, body).is_err(),
                "{service} {header:?}"
            );
        }
    }

    #[test]
    fn every_sender_has_its_own_variable_and_falls_back_to_the_shared_secret() {
        let names: Vec<String> = Sender::all().map(Sender::variable).collect();
        assert!(names.contains(&"KONTOR_WEBHOOK_SECRET_AFTERSHIP".to_string()));
        assert!(names.contains(&"KONTOR_WEBHOOK_SECRET_SENDCLOUD".to_string()));
        assert!(names.contains(&"KONTOR_WEBHOOK_SECRET_DHL".to_string()));
        let secrets = WebhookSecrets::default().with(
            Sender::Service(TrackingService::AfterShip),
            "aftership-secret-123",
        );
        assert_eq!(
            secrets.for_sender(Sender::Service(TrackingService::AfterShip)),
            b"aftership-secret-123"
        );
        assert_eq!(
            secrets.for_sender(Sender::Service(TrackingService::Sendcloud)),
            LOCAL_SECRET.as_bytes()
        );
    }
}
