//! A customer's record: what the shop knows about a signed-in shopper
//! across their orders, and what discount rules ask of them
//! (`customer.is_new`, `customer.order_count`, `customer.groups`).
//!
//! The record changes only in the checkout's own transaction (one more
//! order, the addresses used become the defaults), so it can never disagree
//! with the orders it counts.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::order::{Address, Order};
use crate::types::{CustomerId, Email};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// The identity provider's subject: stable while the e-mail may change.
    pub id: CustomerId,
    pub email: Email,
    /// The identity provider's groups (`staff`, or ones staff assign, such
    /// as `wholesale`), as of the last order.
    pub groups: Vec<String>,
    pub order_count: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_order_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_order_at: Option<OffsetDateTime>,
    pub default_shipping_address: Option<Address>,
    pub default_billing_address: Option<Address>,
    /// 0 while the record is not stored; every stored change bumps it.
    pub version: u64,
}

impl Customer {
    /// A customer who has not ordered yet.
    pub fn new(id: CustomerId, email: Email, groups: Vec<String>) -> Self {
        Self {
            id,
            email,
            groups,
            order_count: 0,
            first_order_at: None,
            last_order_at: None,
            default_shipping_address: None,
            default_billing_address: None,
            version: 0,
        }
    }

    /// Whether the customer has never ordered: rules for first orders ask this.
    pub fn is_new(&self) -> bool {
        self.order_count == 0
    }

    /// The record after `order` was placed by this customer, with the next
    /// version. `groups` are the caller's groups now.
    pub fn after_order(&self, order: &Order, groups: &[String]) -> Customer {
        Customer {
            id: self.id.clone(),
            email: order.email.clone(),
            groups: groups.to_vec(),
            order_count: self.order_count.saturating_add(1),
            first_order_at: Some(self.first_order_at.unwrap_or(order.created_at)),
            last_order_at: Some(order.created_at),
            default_shipping_address: Some(order.shipping_address.clone()),
            default_billing_address: Some(order.billing_address.clone()),
            version: self.version + 1,
        }
    }
}
