//! The HTTP side that every function shares.
//!
//! Only `functions/*` know about HTTP: this crate turns requests into domain
//! values and errors into `application/problem+json` answers (RFC 9457), so
//! each function's handlers stay a few lines long.
//!
//! - [`problem`]: the problem document and the statuses of store failures.
//! - [`extract`]: JSON body and query extractors that name the bad field.
//! - [`state`]: the ports a handler can reach.
//! - [`order_writer`]: the one write path for placed orders (load, decide,
//!   commit, retry), and how an order's refusals are answered.
//! - [`order_placer`]: the one way a new order is placed, once per
//!   `Idempotency-Key` (the checkout, and staff's phone orders).
//! - [`views`]: the JSON shapes several functions share.
//! - [`page`]: cursor pagination of lists (the `next` link).
//! - [`identity`]: the caller's claims and the extractors that require them.
//! - [`openapi`]: the answers every operation may give, added to the document.
//! - [`schemas`]: the domain's parsing rules, stated in the document.

pub mod extract;
pub mod identity;
pub mod openapi;
pub mod order_placer;
pub mod order_writer;
pub mod page;
pub mod problem;
pub mod promotions;
pub mod schemas;
pub mod state;
pub mod validators;
pub mod views;

pub use extract::{JsonBody, QueryParams};
pub use identity::{Claims, MaybeSignedIn, SignedIn, Staff};
pub use order_placer::{IdempotencyKey, NewOrder, Owner};
pub use order_writer::{ChangeError, Expect, Preview};
pub use problem::Problem;
pub use state::AppState;
