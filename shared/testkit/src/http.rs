//! Drives a router in-process: real `http` requests through the full axum
//! stack (extractors, rejections, responses), no sockets.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use kontor_domain::{CustomerId, Email};
use kontor_http::{AppState, Claims};
use tower::ServiceExt;
use utoipa_axum::router::OpenApiRouter;

/// Claims as a verified token carries them.
pub fn claims(subject: &str, email: &str, groups: &[&str]) -> Claims {
    Claims {
        subject: CustomerId::parse(subject).expect("fixture subject"),
        email: Some(Email::parse(email).expect("fixture e-mail")),
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

pub struct TestApp {
    router: Router,
    pub state: AppState,
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl TestResponse {
    /// The body as JSON; panics (failing the test) when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with `status` naming `field`.
    pub fn assert_problem(&self, status: u16, field: Option<&str>) -> serde_json::Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let problem = self.json();
        assert_eq!(problem["status"], status);
        if let Some(field) = field {
            assert_eq!(problem["field"], field, "problem: {problem}");
        }
        problem
    }
}

impl TestApp {
    pub fn new(router: OpenApiRouter<AppState>, state: AppState) -> Self {
        let (router, _) = router.split_for_parts();
        Self {
            router: router.with_state(state.clone()),
            state,
        }
    }

    /// An app over a router already given its state (for example every
    /// function's routes, as the local runtime merges them).
    pub fn from_router(router: Router, state: AppState) -> Self {
        Self { router, state }
    }

    /// Any method; a JSON `null` body sends no body at all.
    pub async fn request(
        &self,
        method: &str,
        uri: &str,
        body: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = Request::builder()
            .method(Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method"))
            .uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = if body.is_null() {
            Body::empty()
        } else {
            request = request.header("content-type", "application/json");
            Body::from(body.to_string())
        };
        self.send(request.body(body).expect("request")).await
    }

    /// The same app with every request made by `claims`, as the JWT
    /// authorizer (or the local runtime's sign-in) would hand them over.
    pub fn signed_in(&self, claims: Claims) -> TestApp {
        TestApp {
            router: self.router.clone().layer(axum::Extension(claims)),
            state: self.state.clone(),
        }
    }

    /// A signed-in shopper with this subject and e-mail.
    pub fn as_customer(&self, subject: &str, email: &str) -> TestApp {
        self.signed_in(claims(subject, email, &[]))
    }

    /// A signed-in staff member.
    pub fn as_staff(&self) -> TestApp {
        self.signed_in(claims("staff-1", "staff@kontor.example", &["staff"]))
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible router");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.send(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }

    /// POSTs raw text as JSON, with extra headers.
    pub async fn post_raw(&self, uri: &str, body: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::from(body.to_string())).expect("request"))
            .await
    }

    pub async fn patch(&self, uri: &str, body: &serde_json::Value) -> TestResponse {
        self.request("patch", uri, body, &[]).await
    }

    pub async fn put(&self, uri: &str, body: &serde_json::Value) -> TestResponse {
        self.request("put", uri, body, &[]).await
    }

    pub async fn delete(&self, uri: &str) -> TestResponse {
        self.request("delete", uri, &serde_json::Value::Null, &[])
            .await
    }

    pub async fn post(
        &self,
        uri: &str,
        body: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        self.post_raw(uri, &body.to_string(), headers).await
    }
}
