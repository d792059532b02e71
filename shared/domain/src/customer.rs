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
    /// The groups staff gave the customer (`vip`, `wholesale`): rules see
    /// them together with the groups of the customer's sign-in token.
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
    /// version; the groups stay as staff set them.
    pub fn after_order(&self, order: &Order) -> Customer {
        Customer {
            id: self.id.clone(),
            email: order.email.clone(),
            groups: self.groups.clone(),
            order_count: self.order_count.saturating_add(1),
            first_order_at: Some(self.first_order_at.unwrap_or(order.created_at)),
            last_order_at: Some(order.created_at),
            default_shipping_address: Some(order.shipping_address.clone()),
            default_billing_address: Some(order.billing_address.clone()),
            version: self.version + 1,
        }
    }
}

/// The most groups a customer has, and the longest name of one.
pub const MAX_GROUPS: usize = 20;
pub const MAX_GROUP_NAME: usize = 64;

/// Why groups cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GroupsError(pub String);

impl Customer {
    /// The record with the groups staff set (trimmed, each once, sorted),
    /// at the next version.
    pub fn with_groups(&self, groups: &[String]) -> Result<Customer, GroupsError> {
        if groups.len() > MAX_GROUPS {
            return Err(GroupsError(format!(
                "a customer has at most {MAX_GROUPS} groups"
            )));
        }
        let mut clean: Vec<String> = Vec::with_capacity(groups.len());
        for group in groups {
            let group = group.trim();
            if group.is_empty()
                || group.chars().count() > MAX_GROUP_NAME
                || group.chars().any(char::is_control)
            {
                return Err(GroupsError(format!(
                    "a group's name has 1 to {MAX_GROUP_NAME} characters"
                )));
            }
            if !clean.iter().any(|g| g == group) {
                clean.push(group.to_string());
            }
        }
        clean.sort();
        Ok(Customer {
            groups: clean,
            version: self.version + 1,
            ..self.clone()
        })
    }
}
