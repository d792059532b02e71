//! Kontor's domain: the rules of selling, free of I/O.
//!
//! Everything here is a pure function of its inputs. Time, identifiers and
//! random tokens are handed in by the caller, so every workflow can be tested
//! with fixed values and replayed exactly.
//!
//! - [`money`]: amounts in a currency, rounded to its minor unit.
//! - [`tax`]: VAT classes and rates; splitting a gross amount into net and tax.
//! - [`types`]: values parsed once at the edge (`Sku`, `Quantity`, `CountryCode`, `Email`, ids).
//! - [`product`]: the catalog entry with its stock and its selling links.
//! - [`pricing`]: pricing a cart: lines, shipping, tax breakdown, total.
//! - [`order`]: the order aggregate.
//! - [`placing`]: placing an order (the checkout, pure).
//! - [`returns`]: returns of shipped units, and the refunds for them.
//! - [`discount`]: discounts, and which of them a cart gets.
//! - [`promotions`]: the shop's rule sets, discounts and checkout offers as one document.
//! - [`rules`]: rules and rule sets: conditions on a cart and its customer, with a trace.
//! - [`search`]: what staff search orders by.
//! - [`adjustment`]: goodwill adjustments split over tax rates and lines.
//! - [`command`]: every later change to an order: commands, decisions, and
//!   the one place that applies them.
//! - [`actor`]: who changed an order, and the typed history actions.
//! - [`stored`]: the stored order document and its upgrades.
//! - [`customer`]: a signed-in shopper's record across orders.
//! - [`shipment`]: the parcels an order goes out in, and their way.
//! - [`carrier`]: carriers, tracking numbers and links, carriers' status codes.
//! - [`events`]: what the aggregates tell the rest of the system.
//! - [`access`]: guest order access tokens, kept only as hashes.

pub mod access;
pub mod actor;
pub mod adjustment;
pub mod carrier;
pub mod command;
pub mod customer;
pub mod discount;
pub mod events;
pub mod money;
pub mod order;
pub mod placing;
pub mod pricing;
pub mod product;
pub mod promotions;
pub mod returns;
pub mod rules;
pub mod search;
pub mod shipment;
pub mod stored;
pub mod tax;
pub mod types;

pub use money::{Currency, Money};
pub use types::{
    CountryCode, CustomerId, Email, EventId, LineId, NoteText, OrderId, OrderNumber, ParseError,
    Quantity, Sku, TextLine,
};
