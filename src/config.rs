//! The local runtime's settings, read from the environment with defaults
//! that make `cargo run` at the workspace root just work.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    /// `KONTOR_ADDR`, default `127.0.0.1:3000`.
    pub addr: SocketAddr,
    /// `KONTOR_DATA`, default `./.kontor`.
    pub data_dir: PathBuf,
    /// `KONTOR_STOREFRONT`, default the `storefront/` folder of this checkout.
    pub storefront_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
#[error("KONTOR_ADDR must be an address such as 127.0.0.1:3000, not '{0}'")]
pub struct ConfigError(String);

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let addr_text = std::env::var("KONTOR_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
        let addr = addr_text.parse().map_err(|_| ConfigError(addr_text.clone()))?;
        let data_dir = std::env::var_os("KONTOR_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".kontor"));
        let storefront_dir = std::env::var_os("KONTOR_STOREFRONT")
            .map(PathBuf::from)
            .unwrap_or_else(default_storefront);
        Ok(Self { addr, data_dir, storefront_dir })
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
