//! Paying money back to a customer for a refund.
//!
//! Payment is offline today — prepayment, invoice, cash on delivery — so
//! staff transfer a refund themselves and the order records it
//! ([`OfflinePayments`] says so). A card or wallet provider plugs in here
//! with its refund call; the domain, which decides how much goes back and
//! under which credit note, does not change. A provider must treat the
//! credit note as its idempotency key: a retried call pays once.

use async_trait::async_trait;
use kontor_domain::money::Money;
use kontor_domain::order::PaymentMethod;
use kontor_domain::OrderId;

/// How the money of a refund goes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayBack {
    /// Staff transfer it (the offline payment methods).
    ByStaff,
    /// The provider paid it back, under its reference.
    Paid { reference: String },
}

impl PayBack {
    pub fn code(&self) -> &'static str {
        match self {
            PayBack::ByStaff => "by_staff",
            PayBack::Paid { .. } => "paid",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// The provider could not be reached or refused for now: try again.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the refund for good.
    #[error("the payment provider refused the refund: {0}")]
    Refused(String),
}

#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Pays `amount` of order `order` back, once per `credit_note`.
    async fn pay_back(
        &self,
        order: &OrderId,
        method: PaymentMethod,
        credit_note: &str,
        amount: Money,
    ) -> Result<PayBack, PaymentError>;
}

/// The offline payment methods: staff pay refunds back themselves.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflinePayments;

#[async_trait]
impl PaymentProvider for OfflinePayments {
    async fn pay_back(
        &self,
        _order: &OrderId,
        _method: PaymentMethod,
        _credit_note: &str,
        _amount: Money,
    ) -> Result<PayBack, PaymentError> {
        Ok(PayBack::ByStaff)
    }
}
