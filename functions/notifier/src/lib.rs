//! The notifier: turns events into customer e-mails.
//!
//! It is an event consumer: EventBridge rules deliver to its Lambda in AWS,
//! the local bus calls it in-process. Delivery is at least once, and two
//! deliveries of one event may arrive at the same moment, so each e-mail is
//! claimed before it is sent (a conditional write with a lease: of two
//! deliveries at once, one sends and the other is told to come back) and
//! recorded as sent after. A failed send gives the claim up for the next
//! delivery. Only a crash between sending and recording sends a second
//! copy, once the lease has run out; losing an e-mail would be worse.
//! Messages about a parcel follow the order's versions: one older than a
//! message already sent about the same parcel is not sent.

use std::sync::Arc;

use async_trait::async_trait;
use kontor_domain::events::{Event, EventPayload};
use kontor_domain::shipment::ShipmentStatus;
use kontor_notifications::{
    order_cancelled, order_changed, order_confirmation, order_note, parcel_mail, return_mail,
    ParcelMail, ShopDetails,
};
use kontor_platform::{
    Claim, Clock, ConsumeError, ConsumerLedger, EventConsumer, MailError, Mailer, OrderLinks,
    OutgoingMail, SystemClock,
};
use serde::Deserialize;

pub const NAME: &str = "notifier";

/// How long a delivery holds an e-mail it is sending: far longer than a
/// send takes (SES answers within seconds; the Lambda times out sooner),
/// short enough that an e-mail whose sender crashed goes out soon after.
pub const SEND_LEASE_SECONDS: i64 = 5 * 60;

pub struct Notifier {
    /// What it has sent and is sending: the only part of the store it needs.
    ledger: Arc<dyn ConsumerLedger>,
    mailer: Arc<dyn Mailer>,
    shop: ShopDetails,
    /// For the claims' leases.
    clock: Arc<dyn Clock>,
}

impl Notifier {
    pub fn new(
        ledger: Arc<dyn ConsumerLedger>,
        mailer: Arc<dyn Mailer>,
        shop: ShopDetails,
    ) -> Self {
        Self {
            ledger,
            mailer,
            shop,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same notifier reading the time from `clock` (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// The shop's details for e-mails from `KONTOR_SHOP_NAME`, `KONTOR_SHOP_URL`,
/// `KONTOR_BANK_ACCOUNT` and `KONTOR_LINK_KEY` (the checkout's, so guests'
/// links open their orders), with the demo shop's as defaults.
pub fn shop_from_env() -> ShopDetails {
    let defaults = ShopDetails::default();
    ShopDetails {
        name: std::env::var("KONTOR_SHOP_NAME").unwrap_or(defaults.name),
        url: std::env::var("KONTOR_SHOP_URL").unwrap_or(defaults.url),
        bank_account: std::env::var("KONTOR_BANK_ACCOUNT").unwrap_or(defaults.bank_account),
        links: OrderLinks::from_env().unwrap_or(defaults.links),
    }
}

fn retry(error: impl std::fmt::Display) -> ConsumeError {
    ConsumeError::Retryable(error.to_string())
}

impl Notifier {
    /// The e-mail an event asks for, if any: the order confirmation (unless
    /// staff taking it on the phone said not to); for a
    /// parcel the customer is to be told about, "shipped", "delivered" or
    /// "failed attempt" (other steps, such as "in transit", send nothing);
    /// the tracking link on request; the cancellation; a note to the
    /// customer (never an internal one).
    fn mail_for(&self, event: &Event) -> Option<OutgoingMail> {
        match &event.payload {
            EventPayload::OrderPlaced(placed) if placed.send_confirmation => {
                Some(order_confirmation(&event.order_id, placed, &self.shop))
            }
            EventPayload::ShipmentStatusChanged(changed) if changed.notify => {
                let kind = match changed.to {
                    ShipmentStatus::Shipped => ParcelMail::Shipped,
                    ShipmentStatus::Delivered => ParcelMail::Delivered,
                    ShipmentStatus::FailedAttempt => ParcelMail::FailedAttempt,
                    _ => return None,
                };
                Some(parcel_mail(
                    kind,
                    &event.order_id,
                    &changed.parcel,
                    &self.shop,
                ))
            }
            EventPayload::TrackingSent(sent) => Some(parcel_mail(
                ParcelMail::Tracking,
                &event.order_id,
                &sent.parcel,
                &self.shop,
            )),
            EventPayload::OrderCancelled(cancelled) => {
                Some(order_cancelled(&event.order_id, cancelled, &self.shop))
            }
            EventPayload::NoteAdded(note) => order_note(&event.order_id, note, &self.shop),
            EventPayload::OrderChangeAnnounced(notice) => {
                Some(order_changed(&event.order_id, notice, &self.shop))
            }
            EventPayload::ReturnRequested(_)
            | EventPayload::ReturnApproved(_)
            | EventPayload::ReturnRejected(_)
            | EventPayload::ReturnReceived(_)
            | EventPayload::RefundIssued(_) => {
                return_mail(&event.order_id, &event.payload, &self.shop)
            }
            _ => None,
        }
    }
}

#[async_trait]
impl EventConsumer for Notifier {
    fn name(&self) -> &'static str {
        NAME
    }

    fn subscribes_to(&self) -> &'static [&'static str] {
        &[
            "OrderPlaced",
            "ShipmentStatusChanged",
            "TrackingSent",
            "OrderCancelled",
            "NoteAdded",
            "OrderChangeAnnounced",
            "ReturnRequested",
            "ReturnApproved",
            "ReturnRejected",
            "ReturnReceived",
            "RefundIssued",
        ]
    }

    async fn handle(&self, event: &Event) -> Result<(), ConsumeError> {
        let Some(mail) = self.mail_for(event) else {
            return Ok(());
        };
        let now = self.clock.now().unix_timestamp();
        match self
            .ledger
            .claim(NAME, &event.event_id, now, SEND_LEASE_SECONDS)
            .await
            .map_err(retry)?
        {
            Claim::Claimed => {}
            Claim::Done => {
                tracing::info!(event_id = %event.event_id, "already sent; skipping the repeat");
                return Ok(());
            }
            // Another delivery is sending it: this one comes back later and
            // then finds it sent (or its claim lapsed).
            Claim::Busy => {
                tracing::info!(event_id = %event.event_id, "another delivery is sending this e-mail");
                return Err(ConsumeError::Retryable(
                    "another delivery of this event is sending its e-mail".into(),
                ));
            }
        }
        // A parcel's messages go out in the order's order: one about a
        // step the parcel has since passed (a "shipped" arriving after the
        // "delivered") is not sent.
        if let EventPayload::ShipmentStatusChanged(changed) = &event.payload {
            let parcel = format!("parcel#{}#{}", event.order_id, changed.parcel.shipment_id);
            let latest = self
                .ledger
                .advance(NAME, &parcel, event.order_version)
                .await;
            match latest {
                Ok(true) => {}
                Ok(false) => {
                    tracing::info!(event_id = %event.event_id, order_version = event.order_version, "a later message about this parcel went out; not sending this one");
                    self.ledger
                        .record_processed(NAME, &event.event_id)
                        .await
                        .map_err(retry)?;
                    return Ok(());
                }
                Err(error) => {
                    let _ = self.ledger.release(NAME, &event.event_id).await;
                    return Err(retry(error));
                }
            }
        }
        if let Err(error) = self.mailer.send(&mail).await {
            if let Err(release) = self.ledger.release(NAME, &event.event_id).await {
                // The claim then lapses with its lease.
                tracing::warn!(event_id = %event.event_id, error = %release, "could not give up the claim");
            }
            return Err(match error {
                MailError::Unavailable(reason) => ConsumeError::Retryable(reason),
                MailError::Rejected(reason) => ConsumeError::Permanent(reason),
            });
        }
        self.ledger
            .record_processed(NAME, &event.event_id)
            .await
            .map_err(retry)?;
        tracing::info!(event_id = %event.event_id, order_id = %event.order_id, kind = event.name(), "customer e-mail sent");
        Ok(())
    }
}

/// An event as an EventBridge rule delivers it to a Lambda function.
#[derive(Debug, Clone, Deserialize)]
pub struct BridgeEvent {
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub detail: Event,
}
