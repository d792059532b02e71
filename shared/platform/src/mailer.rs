//! The mailer port: sends one e-mail. SES in AWS; locally a mail outbox that
//! keeps every message (readable as `.eml` files and, later, on the admin page).

use async_trait::async_trait;
use kontor_domain::{Email, OrderId};

/// A rendered e-mail, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The order it is about, for the outbox's listing.
    pub order_id: Option<OrderId>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Throttled or unreachable: worth another try later.
    #[error("the mail service is unavailable: {0}")]
    Unavailable(String),
    /// Refused for good (for example an address the service rejects).
    #[error("the mail service refused the message: {0}")]
    Rejected(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}
