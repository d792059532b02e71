//! The ports of Kontor: what the workflows need from the outside world.
//!
//! The domain crate is pure; this crate names the effects around it as
//! traits, so each function can run on the AWS adapters in Lambda and on the
//! embedded adapters locally without knowing which:
//!
//! - [`store`]: products, orders, idempotency records and the outbox.
//! - [`clock`] and [`ids`]: time and fresh identifiers, injected so tests fix them.
//! - [`links`]: the signed links that open a guest's order.
//! - [`consumer`]: an event consumer, fed by EventBridge or by the local bus.
//! - [`mailer`]: sends e-mail (SES in AWS, a mail outbox locally).
//! - [`publisher`]: puts committed events on the bus (EventBridge).
//! - [`payments`]: paying refunds back (offline today; a provider plugs in).
//! - [`settings`]: the shop's selling settings (currency, taxes, shipping).
//! - [`webhooks`]: carriers' signed webhook deliveries.
//! - [`secrets`]: the secrets a process needs, checked when it starts.

pub mod clock;
pub mod consumer;
pub mod ids;
pub mod links;
pub mod mailer;
pub mod payments;
pub mod publisher;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod webhooks;

pub use clock::{Clock, FixedClock, ShiftedClock, SystemClock};
pub use consumer::{ConsumeError, EventConsumer};
pub use ids::{IdSource, RandomIds, SequentialIds};
pub use links::OrderLinks;
pub use mailer::{MailError, Mailer, OutgoingMail};
pub use payments::{OfflinePayments, PayBack, PaymentError, PaymentProvider};
pub use publisher::{EventPublisher, PublishError, MAX_PUBLISH_BATCH};
pub use secrets::{Secret, SecretError};
pub use settings::ShopSettings;
pub use store::roles::*;
pub use store::{
    CheckoutRead, Claim, IdempotencyRecord, MailboxOrder, OrderCommit, OrderSearch, ProductQuery,
    StoreError, StoredSetting, TrackingClaim,
};
pub use webhooks::WebhookSecrets;
