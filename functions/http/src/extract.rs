//! Extractors that turn a request into typed values or a problem naming the
//! field. Request types hold domain types (`Sku`, `Quantity`, …) whose serde
//! goes through their parsers, so a bad value fails here with its path.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// A JSON request body, parsed into `T`. Keeps the parsed document too, so a
/// handler can compare two requests by content (idempotency).
#[derive(Debug, Clone)]
pub struct JsonBody<T> {
    pub value: T,
    /// The body as a JSON value; its keys are sorted, so it serialises the
    /// same however the client ordered them.
    pub document: serde_json::Value,
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let mime = v.split(';').next().unwrap_or("").trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| Problem::bad_request("unreadable-body", e.body_text()))?;
        parse_json(&bytes)
    }
}

/// Parses a JSON body, naming the field of the first error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<JsonBody<T>, Problem> {
    let mut document: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        Problem::bad_request("malformed-json", format!("the body is not valid JSON: {e}"))
    })?;
    integral_numbers_as_integers(&mut document);
    let value = serde_path_to_error::deserialize(&document).map_err(field_problem)?;
    Ok(JsonBody { value, document })
}

/// JSON has one number type: `2` and `2.0` are the same integer to JSON
/// Schema, and clients (JavaScript among them) may write either. Serde
/// reads `2.0` as a float only, so integral floats become integers before
/// the request's types read them; a fraction stays and is refused.
fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64() {
                // Within ±2^53 a float holds every integer exactly.
                if float.fract() == 0.0 && float.abs() <= 9_007_199_254_740_992.0 {
                    *value = Value::from(float as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

fn field_problem(error: serde_path_to_error::Error<serde_json::Error>) -> Problem {
    let path = error.path().to_string();
    let message = error.inner().to_string();
    let field = match missing_field(&message) {
        Some(name) if path == "." => name.to_string(),
        Some(name) => format!("{path}.{name}"),
        None => path,
    };
    let message = match message.find(" at line ") {
        Some(end) => message[..end].to_string(),
        None => message,
    };
    let field = if field == "." {
        "body".to_string()
    } else {
        field
    };
    Problem::invalid_field(field.clone(), format!("{field}: {message}"))
}

/// The name in serde's "missing field `name`" message.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// Query parameters parsed into `T`, or a 400 problem naming the parameter.
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(value)| QueryParams(value))
            .map_err(|rejection| {
                let text = rejection.body_text();
                // serde names the parameter between backticks.
                let field = text.split('`').nth(1).unwrap_or("query").to_string();
                Problem::bad_request("invalid-query", text).with_field(field)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kontor_domain::{Quantity, Sku};
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Line {
        sku: Sku,
        quantity: Quantity,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Cart {
        lines: Vec<Line>,
        email: String,
    }

    fn problem(body: &str) -> Problem {
        parse_json::<Cart>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn names_the_field_at_fault() {
        let cases = [
            (
                r#"{"lines":[{"sku":"A","quantity":0}],"email":"x"}"#,
                422,
                "lines[0].quantity",
            ),
            (
                r#"{"lines":[{"sku":"A","quantity":10000}],"email":"x"}"#,
                422,
                "lines[0].quantity",
            ),
            (
                r#"{"lines":[{"sku":"A B","quantity":1}],"email":"x"}"#,
                422,
                "lines[0].sku",
            ),
            (r#"{"lines":[]}"#, 422, "email"),
            (
                r#"{"lines":[{"sku":"A"}],"email":"x"}"#,
                422,
                "lines[0].quantity",
            ),
        ];
        for (body, status, field) in cases {
            let p = problem(body);
            assert_eq!(p.status, status, "{body}");
            assert_eq!(p.field.as_deref(), Some(field), "{body}");
        }
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        let p = problem("{\"lines\": [");
        assert_eq!(p.status, 400);
        assert!(p.kind.ends_with("malformed-json"));
    }

    #[test]
    fn integral_floats_are_integers_and_fractions_are_refused() {
        #[derive(serde::Deserialize)]
        struct Body {
            version: u64,
            quantity: u32,
        }
        let body: JsonBody<Body> = parse_json(br#"{"version": 2530.0, "quantity": 1e0}"#).unwrap();
        assert_eq!((body.value.version, body.value.quantity), (2530, 1));
        assert!(parse_json::<Body>(br#"{"version": 2.5, "quantity": 1}"#).is_err());
        assert!(parse_json::<Body>(br#"{"version": -1.0, "quantity": 1}"#).is_err());
        assert!(parse_json::<Body>(br#"{"version": 1e300, "quantity": 1}"#).is_err());
    }
}
