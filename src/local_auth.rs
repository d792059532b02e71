//! The local runtime's own sign-in, standing in for Cognito and API
//! Gateway's JWT authorizer: `POST /local/token {email, staff}` issues a
//! signed token, and [`verify_bearer`] checks the token of every request
//! and hands handlers the same [`Claims`] the authorizer gives the Lambda
//! functions. None of this is part of a Lambda function or of `infra/`.
//!
//! Tokens are JWTs signed with HMAC-SHA256 under a key kept in the data
//! folder (`token.key`, created on first start) or given as
//! `KONTOR_TOKEN_SECRET`. Verification accepts exactly HS256 (so
//! `alg: none` and algorithm swaps fail), compares the signature in
//! constant time, and checks issuer, audience and expiry.

use std::path::Path;
use std::sync::Arc;

use axum::extract::{FromRef, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use kontor_domain::{CustomerId, Email};
use kontor_http::identity::{Claims, STAFF_GROUP};
use kontor_http::{JsonBody, Problem};
use kontor_platform::Clock;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const ISSUER: &str = "kontor-local";
const AUDIENCE: &str = "kontor-local-api";
/// A working day: long enough for a session, short enough to matter.
const LIFETIME_SECONDS: i64 = 8 * 60 * 60;

type HmacSha256 = Hmac<Sha256>;

/// Issues and verifies the local runtime's tokens.
#[derive(Clone)]
pub struct LocalTokens {
    key: Arc<Vec<u8>>,
    clock: Arc<dyn Clock>,
    /// Whether `POST /local/token` issues tokens: anyone who reaches it
    /// may sign in as staff, so only a runtime on this machine's loopback
    /// with the embedded backend does, unless told otherwise on purpose.
    issuing: bool,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a JWT")]
    Malformed,
    #[error("the token is not signed with HS256")]
    WrongAlgorithm,
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token was not issued for this API")]
    WrongAudience,
    #[error("the token was not issued by this runtime")]
    WrongIssuer,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot keep the token key at {path}: {source}")]
pub struct KeyError {
    path: String,
    source: std::io::Error,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    iss: String,
    aud: String,
    sub: String,
    email: String,
    #[serde(default)]
    groups: Vec<String>,
    iat: i64,
    exp: i64,
}

impl LocalTokens {
    pub fn new(key: Vec<u8>, clock: Arc<dyn Clock>) -> Self {
        Self {
            key: Arc::new(key),
            clock,
            issuing: true,
        }
    }

    /// The same tokens, verified but no longer issued by `/local/token`.
    pub fn without_issuing(mut self) -> Self {
        self.issuing = false;
        self
    }

    /// The key from `KONTOR_TOKEN_SECRET`, else the data folder's
    /// `token.key`, made of 32 random bytes on first use.
    pub fn for_data_dir(data_dir: &Path, clock: Arc<dyn Clock>) -> Result<Self, KeyError> {
        if let Ok(secret) = std::env::var("KONTOR_TOKEN_SECRET") {
            if !secret.is_empty() {
                return Ok(Self::new(secret.into_bytes(), clock));
            }
        }
        Ok(Self::new(key_file(data_dir, "token.key")?, clock))
    }

    /// A token for `email`; staff tokens carry the staff group.
    pub fn issue(&self, email: &Email, staff: bool) -> IssuedToken {
        self.issue_with_groups(email, staff, &[])
    }

    /// A token for `email` in `groups` besides (the identity provider's
    /// groups, such as `vip`, which rules ask about); staff tokens carry the
    /// staff group too.
    pub fn issue_with_groups(&self, email: &Email, staff: bool, groups: &[String]) -> IssuedToken {
        let now = self.clock.now();
        let expires_at = now + time::Duration::seconds(LIFETIME_SECONDS);
        let subject = local_subject(email);
        let payload = Payload {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: subject.to_string(),
            email: email.as_str().to_string(),
            groups: staff
                .then(|| STAFF_GROUP.to_string())
                .into_iter()
                .chain(groups.iter().cloned())
                .collect(),
            iat: now.unix_timestamp(),
            exp: expires_at.unix_timestamp(),
        };
        let header = Header {
            alg: "HS256".into(),
            typ: Some("JWT".into()),
        };
        IssuedToken {
            token: self.sign(&header, &payload),
            subject: subject.to_string(),
            expires_at,
        }
    }

    fn sign(&self, header: &Header, payload: &Payload) -> String {
        let signing_input = format!("{}.{}", encode_json(header), encode_json(payload));
        let signature = self.mac(signing_input.as_bytes()).finalize().into_bytes();
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn mac(&self, input: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(input);
        mac
    }

    /// The claims of a valid token.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header: Header = decode_json(header)?;
        // Only the one algorithm this runtime signs with: "none" and any
        // other choice the token makes for itself are refused.
        if header.alg != "HS256" {
            return Err(TokenError::WrongAlgorithm);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        let signing_input = &token[..header_and_payload_len(token)];
        self.mac(signing_input.as_bytes())
            .verify_slice(&signature)
            .map_err(|_| TokenError::BadSignature)?;
        let payload: Payload = decode_json(payload)?;
        if payload.iss != ISSUER {
            return Err(TokenError::WrongIssuer);
        }
        if payload.aud != AUDIENCE {
            return Err(TokenError::WrongAudience);
        }
        if payload.exp <= self.clock.now().unix_timestamp() {
            return Err(TokenError::Expired);
        }
        Ok(Claims {
            subject: CustomerId::parse(&payload.sub).map_err(|_| TokenError::Malformed)?,
            email: Email::parse(&payload.email).ok(),
            groups: payload.groups,
        })
    }
}

/// A secret key kept in the data folder: read if it is there, else made of
/// 32 random bytes and written, so it survives restarts.
pub fn key_file(data_dir: &Path, name: &str) -> Result<Vec<u8>, KeyError> {
    let path = data_dir.join(name);
    let failed = |source| KeyError {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read(&path) {
        Ok(key) if key.len() >= 32 => Ok(key),
        _ => {
            let key: [u8; 32] = rand::random();
            std::fs::create_dir_all(data_dir).map_err(failed)?;
            write_private(&path, &key).map_err(failed)?;
            Ok(key.to_vec())
        }
    }
}

/// Writes a secret readable by its owner alone (0600 on Unix): the key
/// signs staff tokens and guests' order links.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // A file that existed with a short key keeps its old mode otherwise.
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    options.open(path)?.write_all(bytes)
}

/// The length of `<header>.<payload>` in a token already known to have
/// three parts.
fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

/// The same e-mail always signs in as the same customer.
pub fn local_subject(email: &Email) -> CustomerId {
    let digest = Sha256::digest(email.normalized().as_bytes());
    CustomerId::parse(&format!("local-{}", &hex::encode(digest)[..24])).expect("hex is a valid id")
}

fn encode_json<T: Serialize>(part: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(part).expect("plain structs serialise"))
}

/// Middleware: a request with `Authorization: Bearer <token>` carries the
/// token's claims on to the handlers; a bad token is refused with 401 right
/// away rather than treated as anonymous.
pub async fn verify_bearer(
    State(tokens): State<LocalTokens>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return next.run(request).await;
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let verified = token
        .ok_or(TokenError::Malformed)
        .and_then(|token| tokens.verify(token));
    match verified {
        Ok(claims) => {
            request.extensions_mut().insert(claims);
            next.run(request).await
        }
        Err(error) => {
            tracing::info!(%error, "refused a token");
            let mut response = Problem::new(
                StatusCode::UNAUTHORIZED,
                "invalid-token",
                "Invalid token",
                error.to_string(),
            )
            .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            response
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    #[schema(value_type = String, example = "eva@example.de")]
    pub email: Email,
    /// Issue a staff member's token (the `staff` group).
    #[serde(default)]
    pub staff: bool,
    /// Groups the token carries besides (`vip`): at most 20 names of 1 to
    /// 64 letters, digits, `-` and `_`; `staff` goes by `staff`.
    #[serde(default)]
    #[schema(example = json!(["vip"]))]
    pub groups: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// The customer id the token signs in as.
    pub subject: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

/// Issue a token (local runtime only; in AWS, Cognito signs shoppers and staff in).
#[utoipa::path(
    post,
    path = "/local/token",
    tag = "local",
    request_body = TokenRequest,
    responses(
        (status = 200, body = IssuedToken),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "Local sign-in is off: the runtime listens beyond loopback or runs on AWS."),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn issue_token(
    State(tokens): State<LocalTokens>,
    body: JsonBody<TokenRequest>,
) -> Result<Json<IssuedToken>, Problem> {
    if !tokens.issuing {
        return Err(Problem::new(
            axum::http::StatusCode::FORBIDDEN,
            "local-sign-in-off",
            "Local sign-in is off",
            "this runtime listens beyond this machine or runs on AWS, so it issues no tokens; set KONTOR_UNSAFE_LOCAL_SIGN_IN=1 to allow it anyway",
        ));
    }
    let request = body.value;
    if request.groups.len() > 20 {
        return Err(Problem::invalid_field("groups", "at most 20 groups"));
    }
    for (index, group) in request.groups.iter().enumerate() {
        let fine = !group.is_empty()
            && group.len() <= 64
            && group != STAFF_GROUP
            && group
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !fine {
            return Err(Problem::invalid_field(
                format!("groups[{index}]"),
                "a group has 1 to 64 letters, digits, '-' and '_' (staff go by `staff`)",
            ));
        }
    }
    Ok(Json(tokens.issue_with_groups(
        &request.email,
        request.staff,
        &request.groups,
    )))
}

/// Whether a runtime may issue local tokens: on loopback with the embedded
/// backend, or when `unsafe_allowed` (`KONTOR_UNSAFE_LOCAL_SIGN_IN=1`).
pub fn may_issue(addr: std::net::SocketAddr, embedded: bool, unsafe_allowed: bool) -> bool {
    unsafe_allowed || (addr.ip().is_loopback() && embedded)
}

/// The local sign-in route, for any router state that holds the tokens.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    LocalTokens: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(issue_token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kontor_platform::FixedClock;
    use time::macros::datetime;

    fn tokens_at(now: OffsetDateTime) -> LocalTokens {
        LocalTokens::new(
            b"0123456789abcdef0123456789abcdef".to_vec(),
            Arc::new(FixedClock::new(now)),
        )
    }

    fn tokens() -> LocalTokens {
        tokens_at(datetime!(2026-11-28 10:00 UTC))
    }

    fn eva() -> Email {
        Email::parse("Eva@Example.de").unwrap()
    }

    /// A token with the given header and payload, signed with `key`.
    fn forge(header: serde_json::Value, payload: serde_json::Value, key: &[u8]) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let mut mac = HmacSha256::new_from_slice(key).unwrap();
        mac.update(input.as_bytes());
        format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    fn payload() -> serde_json::Value {
        serde_json::json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "local-abc", "email": "eva@example.de",
            "groups": ["staff"], "iat": 1_795_000_000, "exp": 1_895_000_000
        })
    }

    #[test]
    fn a_token_it_issued_verifies_with_the_same_claims() {
        let tokens = tokens();
        let vip = tokens
            .verify(
                &tokens
                    .issue_with_groups(&eva(), false, &["vip".into()])
                    .token,
            )
            .unwrap();
        assert_eq!(vip.groups, vec!["vip".to_string()]);
        assert!(!vip.is_staff());
        let staff = tokens.verify(&tokens.issue(&eva(), true).token).unwrap();
        assert!(staff.is_staff());
        assert_eq!(staff.subject, local_subject(&eva()));
        assert_eq!(staff.email, Some(eva()));
        let shopper = tokens.verify(&tokens.issue(&eva(), false).token).unwrap();
        assert!(!shopper.is_staff());
        assert_eq!(shopper.subject, staff.subject, "one e-mail, one customer");
    }

    #[test]
    fn an_expired_token_is_refused() {
        let issued = tokens().issue(&eva(), false);
        let later = tokens_at(datetime!(2026-11-28 18:00 UTC));
        assert_eq!(later.verify(&issued.token), Err(TokenError::Expired));
        let almost = tokens_at(datetime!(2026-11-28 17:59 UTC));
        assert!(almost.verify(&issued.token).is_ok());
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let forged = forge(
            serde_json::json!({"alg": "HS256"}),
            payload(),
            b"another key entirely",
        );
        assert_eq!(tokens().verify(&forged), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_changed_payload_breaks_the_signature() {
        let token = tokens().issue(&eva(), false).token;
        let parts: Vec<&str> = token.split('.').collect();
        let promoted = URL_SAFE_NO_PAD.encode(
            payload().to_string(), // claims staff
        );
        let tampered = format!("{}.{}.{}", parts[0], promoted, parts[2]);
        assert_eq!(tokens().verify(&tampered), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_token_for_another_audience_or_issuer_is_refused() {
        let key = b"0123456789abcdef0123456789abcdef";
        let mut other = payload();
        other["aud"] = "someone-else".into();
        let token = forge(serde_json::json!({"alg": "HS256"}), other, key);
        assert_eq!(tokens().verify(&token), Err(TokenError::WrongAudience));
        let mut other = payload();
        other["iss"] = "someone-else".into();
        let token = forge(serde_json::json!({"alg": "HS256"}), other, key);
        assert_eq!(tokens().verify(&token), Err(TokenError::WrongIssuer));
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(payload().to_string())
        );
        assert_eq!(tokens().verify(&unsigned), Err(TokenError::WrongAlgorithm));
        let key = b"0123456789abcdef0123456789abcdef";
        let other = forge(serde_json::json!({"alg": "HS512"}), payload(), key);
        assert_eq!(tokens().verify(&other), Err(TokenError::WrongAlgorithm));
    }

    #[test]
    fn garbage_is_malformed() {
        for token in ["", "abc", "a.b", "a.b.c.d", "!!.!!.!!"] {
            assert_eq!(
                tokens().verify(token),
                Err(TokenError::Malformed),
                "{token:?}"
            );
        }
    }
}

#[cfg(test)]
mod fencing_tests {
    use super::*;

    #[test]
    fn only_loopback_and_embedded_issue_tokens_unless_told_otherwise() {
        let loopback: std::net::SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let public: std::net::SocketAddr = "0.0.0.0:3000".parse().unwrap();
        assert!(may_issue(loopback, true, false));
        assert!(!may_issue(public, true, false), "reachable from elsewhere");
        assert!(!may_issue(loopback, false, false), "on real AWS");
        assert!(may_issue(public, false, true), "on purpose");
    }

    #[tokio::test]
    async fn a_fenced_runtime_issues_no_token() {
        use tower::ServiceExt;
        let tokens = LocalTokens::new(
            b"0123456789abcdef0123456789abcdef".to_vec(),
            Arc::new(kontor_platform::FixedClock::new(
                time::macros::datetime!(2026-11-28 10:00 UTC),
            )),
        );
        for (tokens, expected) in [
            (tokens.clone(), StatusCode::OK),
            (tokens.without_issuing(), StatusCode::FORBIDDEN),
        ] {
            let (app, _) = router::<LocalTokens>().split_for_parts();
            let response = app
                .with_state(tokens)
                .oneshot(
                    axum::http::Request::post("/local/token")
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(
                            r#"{"email":"lena@kontor.example","staff":true}"#,
                        ))
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(response.status(), expected);
        }
    }
}

#[cfg(all(test, unix))]
mod key_file_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn key_files_are_readable_by_their_owner_alone() {
        let dir = tempfile::tempdir().unwrap();
        let key = key_file(dir.path(), "token.key").unwrap();
        assert_eq!(key.len(), 32);
        let mode = std::fs::metadata(dir.path().join("token.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // The same key on the next start.
        assert_eq!(key_file(dir.path(), "token.key").unwrap(), key);
        // A short key left behind world-readable is replaced, privately.
        std::fs::write(dir.path().join("link.key"), b"short").unwrap();
        std::fs::set_permissions(
            dir.path().join("link.key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        key_file(dir.path(), "link.key").unwrap();
        let mode = std::fs::metadata(dir.path().join("link.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
