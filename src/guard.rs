//! What the local runtime does against callers it should not serve:
//!
//! - **DNS rebinding**: a web page on another site can point its own host
//!   name at 127.0.0.1 and then talk to a runtime on this machine as if it
//!   were that site. Its requests carry that host name, so a runtime that
//!   listens on loopback answers only requests whose `Host` names loopback
//!   (`localhost`, `127.0.0.1`, `[::1]`); listening elsewhere, the names in
//!   `KONTOR_ALLOWED_HOSTS` (comma-separated), when set.
//! - **Abuse**: each client (by its address) may place a bounded number of
//!   orders and sign in a bounded number of times per minute, so a script
//!   cannot take every unit of stock with orders it never pays or mail the
//!   shop's confirmation to strangers in bulk. Unpaid orders expire
//!   (`expiry`), so stock held by the orders that do get through comes
//!   back. In AWS, API Gateway's route throttling and the optional WAF rule
//!   in `infra/` do this.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kontor_http::Problem;

/// How many clients the limiter remembers; beyond that it forgets those
/// that have been idle longest, so memory stays bounded whatever the
/// number of addresses a caller uses.
const MAX_CLIENTS: usize = 10_000;

/// Requests per minute per client, with a burst of as many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `POST /checkout` and `POST /me/checkout`.
    pub checkouts_per_minute: u32,
    /// `POST /local/token`.
    pub sign_ins_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            checkouts_per_minute: 20,
            sign_ins_per_minute: 20,
        }
    }
}

/// Which host names the runtime answers; `None` answers any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts(Option<Vec<String>>);

impl AllowedHosts {
    /// Loopback names for a runtime on loopback; else `configured`, the
    /// names of `KONTOR_ALLOWED_HOSTS`, or any name when there are none.
    pub fn for_listener(addr: SocketAddr, configured: &[String]) -> Self {
        if addr.ip().is_loopback() {
            let mut names = vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()];
            names.extend(configured.iter().cloned());
            Self(Some(names))
        } else if configured.is_empty() {
            Self(None)
        } else {
            Self(Some(configured.to_vec()))
        }
    }

    /// Whether a request with this `Host` header is answered. The port is
    /// not compared: only the host name tells a rebinding page apart.
    pub fn allows(&self, host: &str) -> bool {
        let Some(names) = &self.0 else { return true };
        let name = host_name(host);
        names
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(name))
    }
}

/// `example.com` of `example.com:3000`, `[::1]` of `[::1]:3000`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.rsplit_once(':').map_or(host, |(name, _port)| name)
}

/// A token bucket: `tokens` of at most `capacity`, refilled at
/// `capacity` per minute.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Counts each client's requests of each limited kind.
#[derive(Debug, Default)]
struct Buckets {
    by_client: HashMap<(IpAddr, Kind), Bucket>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Checkout,
    SignIn,
}

impl Buckets {
    /// Takes one request from the client's bucket; `Err` with the wait
    /// until the next one is allowed.
    fn take(&mut self, key: (IpAddr, Kind), per_minute: u32, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(per_minute.max(1));
        let per_second = capacity / 60.0;
        if self.by_client.len() >= MAX_CLIENTS && !self.by_client.contains_key(&key) {
            self.forget_idle(now, capacity / per_second);
        }
        let bucket = self.by_client.entry(key).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }

    /// Drops the buckets that have refilled completely (their clients have
    /// been quiet for a whole refill); if none has, the oldest half.
    fn forget_idle(&mut self, now: Instant, refill_seconds: f64) {
        self.by_client.retain(|_, bucket| {
            now.saturating_duration_since(bucket.updated).as_secs_f64() < refill_seconds
        });
        if self.by_client.len() >= MAX_CLIENTS {
            let mut times: Vec<Instant> = self.by_client.values().map(|b| b.updated).collect();
            times.sort_unstable();
            let median = times[times.len() / 2];
            self.by_client.retain(|_, bucket| bucket.updated > median);
        }
    }
}

/// The guard's state: allowed hosts, limits and the clients' counts.
#[derive(Debug, Clone)]
pub struct Guard {
    hosts: AllowedHosts,
    limits: Limits,
    buckets: Arc<Mutex<Buckets>>,
}

impl Guard {
    pub fn new(hosts: AllowedHosts, limits: Limits) -> Self {
        Self {
            hosts,
            limits,
            buckets: Arc::default(),
        }
    }

    fn limit_for(&self, method: &Method, path: &str) -> Option<(Kind, u32)> {
        if method != Method::POST {
            return None;
        }
        match path {
            "/checkout" | "/me/checkout" => {
                Some((Kind::Checkout, self.limits.checkouts_per_minute))
            }
            "/local/token" => Some((Kind::SignIn, self.limits.sign_ins_per_minute)),
            _ => None,
        }
    }
}

/// Middleware: refuses requests for other hosts (421) and clients over
/// their limit (429 with `Retry-After`). Needs the connection's address
/// (`into_make_service_with_connect_info`); without it, no client is
/// limited.
pub async fn check(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    if let Some(host) = request.headers().get(header::HOST) {
        let allowed = host.to_str().is_ok_and(|host| guard.hosts.allows(host));
        if !allowed {
            tracing::warn!(host = ?host, "refused a request for another host name");
            return Problem::new(
                StatusCode::MISDIRECTED_REQUEST,
                "unknown-host",
                "This shop does not answer for that host name",
                "The Host header names a host this runtime does not serve (see KONTOR_ALLOWED_HOSTS).",
            )
            .with_field("Host")
            .into_response();
        }
    }
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let (Some(client), Some((kind, per_minute))) = (
        client,
        guard.limit_for(request.method(), request.uri().path()),
    ) {
        let taken = guard
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take((client, kind), per_minute, Instant::now());
        if let Err(wait) = taken {
            let seconds = wait.as_secs().saturating_add(1);
            tracing::warn!(%client, ?kind, "a client is over its limit");
            let mut response = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests",
                format!("Please wait {seconds} s before trying again."),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> AllowedHosts {
        AllowedHosts::for_listener("127.0.0.1:3000".parse().unwrap(), &[])
    }

    #[test]
    fn a_runtime_on_loopback_answers_only_loopback_names() {
        let hosts = loopback();
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "LOCALHOST",
            "[::1]:3000",
            "127.0.0.1",
        ] {
            assert!(hosts.allows(host), "{host}");
        }
        for host in [
            "evil.example:3000",
            "evil.example",
            "127.0.0.1.evil.example:3000",
            "[::2]:3000",
            "",
        ] {
            assert!(!hosts.allows(host), "{host}");
        }
    }

    #[test]
    fn elsewhere_the_configured_names_or_any() {
        let public: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        assert!(AllowedHosts::for_listener(public, &[]).allows("anything.example"));
        let named = AllowedHosts::for_listener(public, &["shop.example".into()]);
        assert!(named.allows("shop.example:3000"));
        assert!(!named.allows("other.example:3000"));
    }

    #[test]
    fn a_client_gets_its_burst_then_waits_while_others_go_on() {
        let mut buckets = Buckets::default();
        let start = Instant::now();
        let client: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..20 {
            assert!(buckets.take((client, Kind::Checkout), 20, start).is_ok());
        }
        let wait = buckets
            .take((client, Kind::Checkout), 20, start)
            .unwrap_err();
        assert!(
            wait <= Duration::from_secs(3) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(buckets.take((other, Kind::Checkout), 20, start).is_ok());
        assert!(
            buckets.take((client, Kind::SignIn), 20, start).is_ok(),
            "kinds count apart"
        );
        // Three seconds later one more order is allowed (20 a minute).
        assert!(buckets
            .take((client, Kind::Checkout), 20, start + Duration::from_secs(3))
            .is_ok());
        assert!(buckets
            .take((client, Kind::Checkout), 20, start + Duration::from_secs(3))
            .is_err());
    }

    #[test]
    fn memory_stays_bounded_whatever_the_number_of_clients() {
        let mut buckets = Buckets::default();
        let now = Instant::now();
        for i in 0..(MAX_CLIENTS as u32 * 3) {
            let client = IpAddr::from(i.to_be_bytes());
            let _ = buckets.take((client, Kind::Checkout), 20, now);
            assert!(buckets.by_client.len() <= MAX_CLIENTS);
        }
    }
}
