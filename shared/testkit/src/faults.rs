//! An AWS endpoint that always fails the same way, for fault tests: point
//! a real SDK client at it (`endpoint_url`) and every call gets the error a
//! throttled or failing service sends, over HTTP on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// One failure as the service would send it.
#[derive(Debug, Clone)]
pub struct Fault {
    pub status: u16,
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: &'static str,
}

impl Fault {
    /// DynamoDB (and EventBridge, which uses the same JSON protocol) saying
    /// "slow down".
    pub fn json_throttling() -> Self {
        Self {
            status: 400,
            headers: vec![("content-type", "application/x-amz-json-1.0")],
            body: r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#,
        }
    }

    /// A JSON-protocol service failing on its side.
    pub fn json_internal_error() -> Self {
        Self {
            status: 500,
            headers: vec![("content-type", "application/x-amz-json-1.0")],
            body: r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#,
        }
    }

    /// SES v2 (a REST-JSON service) saying "slow down".
    pub fn rest_too_many_requests() -> Self {
        Self {
            status: 429,
            headers: vec![
                ("content-type", "application/json"),
                ("x-amzn-errortype", "TooManyRequestsException"),
            ],
            body: r#"{"message":"Maximum sending rate exceeded."}"#,
        }
    }
}

/// A server answering every request with one [`Fault`]; it counts them.
pub struct FaultServer {
    endpoint: String,
    requests: Arc<AtomicUsize>,
}

impl FaultServer {
    pub async fn start(fault: Fault) -> Self {
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let app = Router::new().fallback(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let fault = fault.clone();
            async move { answer(&fault) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { endpoint, requests }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Requests answered so far (retries included).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn answer(fault: &Fault) -> Response {
    let mut response = fault.body.into_response();
    *response.status_mut() = StatusCode::from_u16(fault.status).expect("a status code");
    for (name, value) in &fault.headers {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}
