//! AWS endpoints that fail, for fault tests, over HTTP on 127.0.0.1: point
//! a real SDK client at them (`endpoint_url`). A [`FaultServer`] answers
//! every call with the error a throttled or failing service sends; a
//! [`FlakyProxy`] passes calls through to a real stand-in (moto) but
//! answers the next few calls of one operation with a fault.

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

    /// DynamoDB cancelling a transaction because another one touched the
    /// same items at the same moment (no condition failed: worth a retry).
    pub fn transaction_conflict() -> Self {
        Self {
            status: 400,
            headers: vec![("content-type", "application/x-amz-json-1.0")],
            body: r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]","CancellationReasons":[{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"}]}"#,
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

/// A pass-through to a real AWS stand-in that answers the next
/// [`FlakyProxy::fail_next`] calls of one JSON-protocol operation
/// (`X-Amz-Target`, such as `DynamoDB_20120810.TransactWriteItems`) with a
/// fault instead of forwarding them.
pub struct FlakyProxy {
    endpoint: String,
    to_fail: Arc<AtomicUsize>,
    injected: Arc<AtomicUsize>,
}

impl FlakyProxy {
    pub async fn start(upstream: &str, target: &'static str, fault: Fault) -> Self {
        let to_fail = Arc::new(AtomicUsize::new(0));
        let injected = Arc::new(AtomicUsize::new(0));
        let client = reqwest::Client::new();
        let upstream = upstream.trim_end_matches('/').to_string();
        let (fail, count) = (to_fail.clone(), injected.clone());
        let app = Router::new().fallback(move |request: axum::extract::Request| {
            let (fault, client, upstream) = (fault.clone(), client.clone(), upstream.clone());
            let (fail, count) = (fail.clone(), count.clone());
            async move {
                let is_target = request
                    .headers()
                    .get("x-amz-target")
                    .is_some_and(|t| t.as_bytes() == target.as_bytes());
                let take = is_target
                    && fail
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                if take {
                    count.fetch_add(1, Ordering::SeqCst);
                    return answer(&fault);
                }
                forward(&client, &upstream, request).await
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            endpoint,
            to_fail,
            injected,
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Fails the next `n` calls of the operation.
    pub fn fail_next(&self, n: usize) {
        self.to_fail.store(n, Ordering::SeqCst);
    }

    /// Faults answered so far.
    pub fn injected(&self) -> usize {
        self.injected.load(Ordering::SeqCst)
    }
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(body) = http_body_util::BodyExt::collect(body).await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut outgoing = client.request(parts.method, format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name, value);
        }
    }
    let Ok(reply) = outgoing.body(body.to_bytes()).send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = reply.status();
    let headers = reply.headers().clone();
    let bytes = reply.bytes().await.unwrap_or_default();
    let mut response = bytes.into_response();
    *response.status_mut() = status;
    for (name, value) in &headers {
        if name != "content-length" && name != "transfer-encoding" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}
