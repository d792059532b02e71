//! The security headers on every answer of the local runtime — the same
//! that CloudFront adds in AWS through the distribution's response-headers
//! policy in `infra/template.yaml` (a test keeps the two equal).
//!
//! The pages load scripts only from the shop itself (no inline script, so
//! an injected `<script>` or `onclick` does not run), may not be framed,
//! and send no referrer to other sites. Styles may be inline: the pages
//! set a few `style` attributes, which cannot run code.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The pages' Content Security Policy. `connect-src` names Cognito's
/// hosted sign-in domains, where `signin.html` trades its code for a token.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
connect-src 'self' https://*.amazoncognito.com; frame-ancestors 'none'; \
base-uri 'none'; form-action 'self'; object-src 'none'";

/// Two years, the subdomains included (HTTPS only; browsers ignore it on
/// plain HTTP, as the local runtime serves).
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=63072000; includeSubDomains";

/// Every header with its value, as the runtime sends them.
pub const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("strict-transport-security", STRICT_TRANSPORT_SECURITY),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
];

/// Middleware: adds [`SECURITY_HEADERS`] to every response that does not
/// set them itself.
pub async fn add_security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(HeaderName::from_static(name))
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    response
}
