//! Drives a router in-process: real `http` requests through the full axum
//! stack (extractors, rejections, responses), no sockets.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use kontor_http::AppState;
use tower::ServiceExt;
use utoipa_axum::router::OpenApiRouter;

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

    pub async fn post(
        &self,
        uri: &str,
        body: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        self.post_raw(uri, &body.to_string(), headers).await
    }
}
