//! The local runtime's settings, read from the environment with defaults
//! that make `cargo run` at the workspace root just work.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::guard::Limits;

/// Which adapters the runtime uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in the data folder, the in-process bus: no AWS needed.
    Embedded,
    /// DynamoDB and SES as configured by the AWS SDK's environment, for
    /// example moto at `AWS_ENDPOINT_URL`. Only in a build with the `aws`
    /// feature, so that `cargo run` compiles no AWS SDK.
    #[cfg(feature = "aws")]
    Aws,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `KONTOR_BACKEND`: `embedded` (default) or `aws`.
    pub backend: Backend,
    /// `KONTOR_CREATE_TABLE=true` creates the DynamoDB table on start (for a
    /// stand-in such as moto; in AWS the template creates it).
    pub create_table: bool,
    /// `KONTOR_ADDR`, default `127.0.0.1:3000`.
    pub addr: SocketAddr,
    /// `KONTOR_DATA`, default `./.kontor`.
    pub data_dir: PathBuf,
    /// `KONTOR_STOREFRONT`, default the `storefront/` folder of this checkout.
    pub storefront_dir: PathBuf,
    /// `KONTOR_CLOCK_OFFSET_DAYS` (0 to 3,650, default 0): runs the shop's
    /// clock that many days ahead, to see deadlines pass (an unpaid order
    /// expiring) without waiting. Local runtime only; carriers' signatures
    /// are checked against the shifted clock too.
    pub clock_offset_days: u16,
    /// `KONTOR_DEMO_DISCOUNTS=off` leaves a fresh shop without the demo
    /// discounts (tests that count on plain prices); on by default.
    pub demo_discounts: bool,
    /// `KONTOR_ALLOWED_HOSTS`: host names besides loopback's that the
    /// runtime answers (comma-separated); see [`crate::guard`].
    pub allowed_hosts: Vec<String>,
    /// `KONTOR_CHECKOUT_LIMIT` and `KONTOR_SIGN_IN_LIMIT`: orders and
    /// sign-ins per minute per client (1 to 10,000,000 — the top for load
    /// tests from one address; default 20 each).
    pub limits: Limits,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("KONTOR_ADDR must be an address such as 127.0.0.1:3000, not '{0}'")]
    Addr(String),
    #[error("KONTOR_BACKEND must be 'embedded' or 'aws', not '{0}'")]
    Backend(String),
    #[error("KONTOR_BACKEND=aws needs a build with the AWS adapters: cargo run --features aws")]
    AwsNotBuilt,
    #[error("KONTOR_CLOCK_OFFSET_DAYS must be a number of days from 0 to 3650, not '{0}'")]
    ClockOffset(String),
    #[error("{0} must be a number of requests per minute from 1 to 10000000, not '{1}'")]
    Limit(&'static str, String),
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let addr_text = std::env::var("KONTOR_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
        let addr = addr_text
            .parse()
            .map_err(|_| ConfigError::Addr(addr_text.clone()))?;
        let backend = match std::env::var("KONTOR_BACKEND").as_deref() {
            Err(_) | Ok("") | Ok("embedded") => Backend::Embedded,
            #[cfg(feature = "aws")]
            Ok("aws") => Backend::Aws,
            #[cfg(not(feature = "aws"))]
            Ok("aws") => return Err(ConfigError::AwsNotBuilt),
            Ok(other) => return Err(ConfigError::Backend(other.to_string())),
        };
        let create_table =
            std::env::var("KONTOR_CREATE_TABLE").is_ok_and(|v| v == "true" || v == "1");
        let data_dir = std::env::var_os("KONTOR_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".kontor"));
        let storefront_dir = std::env::var_os("KONTOR_STOREFRONT")
            .map(PathBuf::from)
            .unwrap_or_else(default_storefront);
        let clock_offset_days = match std::env::var("KONTOR_CLOCK_OFFSET_DAYS") {
            Err(_) => 0,
            Ok(text) => text
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|days| *days <= 3650)
                .ok_or(ConfigError::ClockOffset(text))?,
        };
        Ok(Self {
            backend,
            create_table,
            addr,
            data_dir,
            storefront_dir,
            clock_offset_days,
            demo_discounts: !std::env::var("KONTOR_DEMO_DISCOUNTS")
                .is_ok_and(|v| v == "off" || v == "0" || v == "false"),
            allowed_hosts: std::env::var("KONTOR_ALLOWED_HOSTS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_string)
                .collect(),
            limits: Limits {
                checkouts_per_minute: per_minute("KONTOR_CHECKOUT_LIMIT")?
                    .unwrap_or(Limits::default().checkouts_per_minute),
                sign_ins_per_minute: per_minute("KONTOR_SIGN_IN_LIMIT")?
                    .unwrap_or(Limits::default().sign_ins_per_minute),
            },
        })
    }
}

/// A limit per minute from the variable `name`, if set.
fn per_minute(name: &'static str) -> Result<Option<u32>, ConfigError> {
    match std::env::var(name) {
        Err(_) => Ok(None),
        Ok(text) => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=10_000_000).contains(n))
            .map(Some)
            .ok_or(ConfigError::Limit(name, text)),
    }
}

/// The storefront next to the sources this binary was built from, or
/// `./storefront` when the binary has been moved elsewhere.
fn default_storefront() -> PathBuf {
    let built_from = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/storefront"));
    if built_from.is_dir() {
        built_from
    } else {
        PathBuf::from("storefront")
    }
}
