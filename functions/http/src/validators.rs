//! Conditional GETs: every successful answer to a GET (the API's JSON, and
//! locally the pages' files) carries a validator (`ETag`) and says how it
//! may be cached, and a request whose `If-None-Match` names the current
//! validator is answered `304 Not Modified` without the body. A storefront
//! polling the catalog, or a browser revalidating an order page or a
//! script, then moves a few bytes instead of the whole document.
//!
//! The validator is weak (`W/"…"`): it is a digest of the body before any
//! compression, so the gzip and the plain representation share it, which
//! only a weak validator may. Answers for a signed-in person or a guest's
//! order link are `private` (no shared cache may keep them); the rest are
//! public, and every one is revalidated before reuse (`no-cache`), since
//! stock and prices change at any time.

use axum::body::{to_bytes, Body, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Larger answers are passed on as they are: the digest would need the
/// whole body in memory, and no list Kontor serves comes near it.
const MAX_DIGESTED_BYTES: usize = 8 * 1024 * 1024;

/// The middleware: `.layer(axum::middleware::from_fn(validators::conditional_get))`.
pub async fn conditional_get(request: Request, next: Next) -> Response {
    // A HEAD's empty body would give another validator than its GET's.
    let wanted = request.method() == Method::GET;
    let personal = request.headers().contains_key(header::AUTHORIZATION)
        || request
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|pair| pair.starts_with("token=")));
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if !wanted || response.status() != StatusCode::OK {
        return response;
    }
    // A handler that keeps its answer (the catalog's listings) made its
    // validator once with the bytes: hashing them again on every request
    // was a third of a listing's time under load (docs/figures.md).
    if let Some(tag) = response.headers().get(header::ETAG).cloned() {
        let (mut parts, body) = response.into_parts();
        return revalidated(&mut parts, tag, if_none_match.as_ref(), personal)
            .unwrap_or_else(|| Response::from_parts(parts, body));
    }
    // Only a body of known, bounded size is read whole; any other goes on
    // as it is, without a validator.
    let declared = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let bounded = declared
        .or(response.body().size_hint().upper())
        .is_some_and(|size| size <= MAX_DIGESTED_BYTES as u64);
    if !bounded {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_DIGESTED_BYTES).await else {
        // A body that fails while read in memory is a bug of the handler.
        tracing::error!("an answer's body failed while its validator was computed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let tag = validator(&bytes);
    revalidated(&mut parts, tag, if_none_match.as_ref(), personal)
        .unwrap_or_else(|| Response::from_parts(parts, Body::from(bytes)))
}

/// Sets the answer's validator and caching rule, and answers 304 Not
/// Modified when the request's `If-None-Match` names the validator (`None`:
/// send the body).
fn revalidated(
    parts: &mut axum::http::response::Parts,
    tag: HeaderValue,
    if_none_match: Option<&HeaderValue>,
    personal: bool,
) -> Option<Response> {
    parts
        .headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(if personal {
            "private, no-cache"
        } else {
            "no-cache"
        }));
    let unchanged = if_none_match.is_some_and(|value| matches(value, &tag));
    parts.headers.insert(header::ETAG, tag);
    if !unchanged {
        return None;
    }
    let mut not_modified = Response::new(Body::empty());
    *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
    *not_modified.headers_mut() = std::mem::take(&mut parts.headers);
    not_modified.headers_mut().remove(header::CONTENT_LENGTH);
    not_modified.headers_mut().remove(header::CONTENT_TYPE);
    Some(not_modified)
}

/// `W/"<first 16 bytes of the body's SHA-256, hex>"`: the validator this
/// middleware gives an answer, for a handler that keeps its answer's bytes
/// and sets the `ETag` itself.
pub fn validator(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("W/\"{hex}\"")).expect("hex is a valid header value")
}

/// Whether `If-None-Match` names `tag`, compared weakly (RFC 9110 13.1.2):
/// a list of tags, each with or without `W/`, or `*`.
fn matches(if_none_match: &HeaderValue, tag: &HeaderValue) -> bool {
    let Ok(listed) = if_none_match.to_str() else {
        return false;
    };
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let ours = opaque(tag.to_str().unwrap_or_default());
    listed
        .split(',')
        .any(|t| t.trim() == "*" || opaque(t) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    fn app() -> Router {
        Router::new()
            .route(
                "/catalog",
                get(|| async { axum::Json(serde_json::json!({"products": [1, 2]})) }),
            )
            .route("/page", get(|| async { "plain text" }))
            // A handler that keeps its answer and made its validator.
            .route(
                "/kept",
                get(|| async { ([(header::ETAG, "W/\"kept\"")], "kept bytes") }),
            )
            .route(
                "/missing",
                get(|| async { (StatusCode::NOT_FOUND, axum::Json(serde_json::json!({}))) }),
            )
            .layer(axum::middleware::from_fn(conditional_get))
    }

    async fn call(uri: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = Request::get(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        app()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_json_answer_carries_a_validator_and_revalidates_to_304() {
        let first = call("/catalog", &[]).await;
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()[header::ETAG].to_str().unwrap().to_string();
        assert!(tag.starts_with("W/\"") && tag.len() == 36, "{tag}");
        assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache");
        // The same document again: the same validator, and 304 when asked.
        let again = call("/catalog", &[]).await;
        assert_eq!(again.headers()[header::ETAG].to_str().unwrap(), tag);
        for asked in [
            tag.clone(),
            tag.replace("W/", ""),
            format!("\"other\", {tag}"),
            "*".into(),
        ] {
            let unchanged = call("/catalog", &[("if-none-match", &asked)]).await;
            assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED, "{asked}");
            assert_eq!(unchanged.headers()[header::ETAG].to_str().unwrap(), tag);
            let body = to_bytes(unchanged.into_body(), 1024).await.unwrap();
            assert!(body.is_empty());
        }
        // Another validator: the whole document.
        let changed = call("/catalog", &[("if-none-match", "W/\"0123\"")]).await;
        assert_eq!(changed.status(), StatusCode::OK);
        let body = to_bytes(changed.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], br#"{"products":[1,2]}"#);
    }

    #[tokio::test]
    async fn a_validator_the_handler_made_is_kept_and_revalidates() {
        let first = call("/kept", &[]).await;
        assert_eq!(
            first.headers()[header::ETAG],
            "W/\"kept\"",
            "not hashed again"
        );
        assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache");
        let unchanged = call("/kept", &[("if-none-match", "W/\"kept\"")]).await;
        assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(unchanged.headers()[header::ETAG], "W/\"kept\"");
        assert!(!unchanged.headers().contains_key(header::CONTENT_TYPE));
        let body = to_bytes(unchanged.into_body(), 1024).await.unwrap();
        assert!(body.is_empty());
        let changed = call("/kept", &[("if-none-match", "W/\"old\"")]).await;
        assert_eq!(changed.status(), StatusCode::OK);
        let body = to_bytes(changed.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], b"kept bytes");
    }

    #[tokio::test]
    async fn personal_answers_are_private_and_only_a_200_has_a_validator() {
        let signed_in = call("/catalog", &[("authorization", "Bearer x")]).await;
        assert_eq!(
            signed_in.headers()[header::CACHE_CONTROL],
            "private, no-cache"
        );
        let guest_link = call("/catalog?token=abc", &[]).await;
        assert_eq!(
            guest_link.headers()[header::CACHE_CONTROL],
            "private, no-cache"
        );
        let text = call("/page", &[]).await;
        assert!(text.headers().contains_key(header::ETAG), "files too");
        let missing = call("/missing", &[("if-none-match", "*")]).await;
        assert_eq!(
            missing.status(),
            StatusCode::NOT_FOUND,
            "only a 200 has a validator"
        );
        assert!(!missing.headers().contains_key(header::ETAG));
    }
}
