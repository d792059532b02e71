//! Test support for Kontor's crates (a dev-dependency only).
//!
//! - [`fixtures`]: products, addresses and orders with sensible defaults.
//! - [`http`]: drives a function's router in-process with real requests.
//! - [`contract`]: the store contract suite; every store adapter runs it.
//! - [`moto`]: the AWS stand-in, started once per test process.
//! - [`faults`]: an AWS endpoint that fails every call, for fault tests.

pub mod contract;
pub mod faults;
pub mod fixtures;
pub mod http;
pub mod moto;
