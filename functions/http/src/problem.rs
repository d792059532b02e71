//! Problem details (RFC 9457): every 4xx and 5xx answer is one of these.
//!
//! A problem names the request field at fault in `field` (a path such as
//! `lines[0].quantity`), so a form can put the message next to the input.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kontor_platform::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, such as `urn:kontor:problem:validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field at fault, as a path (`lines[0].quantity`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Further members specific to the problem's type (for example `sku`
    /// and `available` when stock ran out).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
    /// Seconds a client should wait before retrying; sent as `Retry-After`.
    #[serde(skip)]
    pub retry_after: Option<u32>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:kontor:problem:{kind}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            extensions: serde_json::Map::new(),
            retry_after: None,
        }
    }

    /// A request whose field has a value the API does not accept (422).
    pub fn invalid_field(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Invalid request field",
            detail,
        )
        .with_field(field)
    }

    /// A request that cannot be read at all (400).
    pub fn bad_request(kind: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, kind, "Bad request", detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("no such {what}"),
        )
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.extensions.insert(
            key.to_string(),
            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        );
        self
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(status = self.status, kind = %self.kind, detail = %self.detail, "request failed");
        } else {
            tracing::info!(status = self.status, kind = %self.kind, field = ?self.field, "request refused");
        }
        let retry_after = self.retry_after;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Store failures that reach a handler unhandled. Conflicts a workflow
/// expects (stock, idempotency) are handled where they happen; these are the
/// rest: a lost race is a 409, an unavailable store a 503 worth retrying, and
/// anything else a 500, which is a bug.
impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::StaleVersion { .. } | StoreError::AlreadyExists { .. } => Problem::new(
                StatusCode::CONFLICT,
                "conflict",
                "Conflicting change",
                error.to_string(),
            ),
            StoreError::DiscountUsedUp {
                ref discount,
                per_customer,
            } => Problem::new(
                StatusCode::CONFLICT,
                "discount-used-up",
                "Discount used up",
                if per_customer {
                    format!("you have used the discount '{discount}' as often as it allows")
                } else {
                    format!("the discount '{discount}' has just been used up; nothing was ordered, please review your cart")
                },
            )
            .with_field("coupon")
            .with("discount", discount),
            StoreError::TrackingNumberTaken(_) => Problem::new(
                StatusCode::CONFLICT,
                "tracking-number-taken",
                "Tracking number in use",
                "another parcel already has this tracking number",
            )
            .with_field("tracking_number"),
            StoreError::StockShort { ref sku, available } => Problem::new(
                StatusCode::CONFLICT,
                "insufficient-stock",
                "Not in stock",
                error.to_string(),
            )
            .with("sku", sku.as_str())
            .with("available", available),
            StoreError::Unavailable(_) | StoreError::TransactionConflict => {
                tracing::warn!(%error, "store unavailable");
                let mut problem = Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Temporarily unavailable",
                    "the service is busy; please retry shortly",
                );
                problem.retry_after = Some(1);
                problem
            }
            // A bug: logged whole under a correlation id, answered with
            // the id alone and not a word about the inside.
            other => {
                let correlation_id = hex_id();
                tracing::error!(%correlation_id, error = %other, "internal store failure");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    format!(
                        "something went wrong on our side; it has been logged as {correlation_id}"
                    ),
                )
                .with("correlation_id", correlation_id)
            }
        }
    }
}

/// A random id that ties an answer to its log lines.
fn hex_id() -> String {
    let bytes: [u8; 8] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_store_asks_for_a_retry() {
        let response = Problem::from(StoreError::Unavailable("throttled".into())).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }

    #[test]
    fn an_internal_failure_says_nothing_of_the_inside() {
        let problem = Problem::from(StoreError::Internal("table kontor: SQL near 'x'".into()));
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("SQL"), "{}", problem.detail);
        // The answer carries the id its log lines carry, and nothing else.
        let id = problem.extensions["correlation_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(id.len(), 16);
        assert!(problem.detail.ends_with(&id), "{}", problem.detail);
        let again = Problem::from(StoreError::Internal("x".into()));
        assert_ne!(again.extensions["correlation_id"].as_str().unwrap(), id);
    }
}
