//! The notifier with the local mail outbox: one confirmation per order, in
//! the order's language, however often the event arrives.

use kontor_platform::store::roles::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use kontor_domain::events::Event;
use kontor_domain::order::Language;
use kontor_notifications::ShopDetails;
use kontor_notifier::{BridgeEvent, Notifier};
use kontor_platform::{Clock, ConsumeError, EventConsumer, MailError, Mailer, OutgoingMail};
use kontor_store_sqlite::SqliteStore;
use kontor_testkit::contract::placement;
use kontor_testkit::fixtures::product;

async fn placed_events(store: &SqliteStore, language: Language) -> Vec<Event> {
    store
        .put_product(&product("TR", "59.90", 5, false), None)
        .await
        .unwrap();
    store
        .put_product(&product("BE", "34.90", 0, true), None)
        .await
        .unwrap();
    let mut placement = placement(store, &[("TR", 1), ("BE", 2)], 1).await;
    placement.order.language = language;
    if let kontor_domain::events::EventPayload::OrderPlaced(placed) =
        &mut placement.events[0].payload
    {
        placed.language = language;
    }
    store.commit_order(&placement).await.unwrap();
    store.pending_events(10).await.unwrap()
}

#[tokio::test]
async fn sends_one_confirmation_per_order_however_often_it_arrives() {
    let store = SqliteStore::in_memory().unwrap();
    let outbox = store.mail_outbox(None);
    let notifier = Notifier::new(
        Arc::new(store.clone()),
        Arc::new(outbox.clone()),
        ShopDetails::default(),
    );
    let events = placed_events(&store, Language::De).await;
    for event in events.iter().chain(&events) {
        if notifier.subscribes_to().contains(&event.name()) {
            notifier.handle(event).await.unwrap();
        }
    }
    let mails = outbox.list(None, 10).await.unwrap();
    assert_eq!(mails.len(), 1, "a replayed event sends nothing");
    let mail = &mails[0];
    assert_eq!(mail.to, "anna@example.de");
    assert_eq!(
        mail.subject,
        "Deine Bestellung K-TEST-0001 bei Kontor Demo Shop"
    );
    assert!(
        mail.text.contains("1 × Product TR  59,90 €"),
        "{}",
        mail.text
    );
    assert!(
        mail.text.contains("nachgeliefert"),
        "the backorder is explained"
    );
    assert!(mail.text.contains("Gesamt: 129,70 €"), "{}", mail.text);
    assert!(mail.html.contains("<strong>129,70 €</strong>"));
    assert_eq!(mail.order_id.as_deref(), Some("order-1"));
}

#[tokio::test]
async fn writes_english_for_english_orders() {
    let store = SqliteStore::in_memory().unwrap();
    let outbox = store.mail_outbox(None);
    let notifier = Notifier::new(
        Arc::new(store.clone()),
        Arc::new(outbox.clone()),
        ShopDetails::default(),
    );
    let events = placed_events(&store, Language::En).await;
    notifier.handle(&events[0]).await.unwrap();
    let mail = &outbox.list(None, 10).await.unwrap()[0];
    assert_eq!(mail.subject, "Your order K-TEST-0001 at Kontor Demo Shop");
    assert!(mail.text.contains("Total: €129.70"), "{}", mail.text);
}

/// A mail service that is down the first `failures` times.
struct Flaky {
    failures: AtomicUsize,
    sent: AtomicUsize,
}

#[async_trait]
impl Mailer for Flaky {
    async fn send(&self, _: &OutgoingMail) -> Result<(), MailError> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(MailError::Unavailable("throttled".into()));
        }
        self.sent.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn a_failed_send_is_retried_not_forgotten() {
    let store = SqliteStore::in_memory().unwrap();
    let mailer = Arc::new(Flaky {
        failures: AtomicUsize::new(1),
        sent: AtomicUsize::new(0),
    });
    let notifier = Notifier::new(
        Arc::new(store.clone()),
        mailer.clone(),
        ShopDetails::default(),
    );
    let events = placed_events(&store, Language::De).await;
    assert!(matches!(
        notifier.handle(&events[0]).await,
        Err(ConsumeError::Retryable(_))
    ));
    assert!(!store
        .has_processed("notifier", &events[0].event_id)
        .await
        .unwrap());
    notifier.handle(&events[0]).await.unwrap();
    notifier.handle(&events[0]).await.unwrap();
    assert_eq!(mailer.sent.load(Ordering::SeqCst), 1);
}

/// A mail service that takes its time, counting what it sent.
struct Slow {
    sent: AtomicUsize,
}

#[async_trait]
impl Mailer for Slow {
    async fn send(&self, _: &OutgoingMail) -> Result<(), MailError> {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        self.sent.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Ten deliveries of one event at the same moment (EventBridge delivers at
/// least once, the relay may publish again): one sends, the others are
/// told to come back or find it sent, and coming back sends nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_at_the_same_moment_send_one_e_mail() {
    let store = SqliteStore::in_memory().unwrap();
    let mailer = Arc::new(Slow {
        sent: AtomicUsize::new(0),
    });
    let notifier = Arc::new(Notifier::new(
        Arc::new(store.clone()),
        mailer.clone(),
        ShopDetails::default(),
    ));
    let event = placed_events(&store, Language::De).await.remove(0);
    let deliveries: Vec<_> = (0..10)
        .map(|_| {
            let notifier = Arc::clone(&notifier);
            let event = event.clone();
            tokio::spawn(async move { notifier.handle(&event).await })
        })
        .collect();
    let mut told_to_come_back = 0;
    for delivery in deliveries {
        match delivery.await.unwrap() {
            Ok(()) => {}
            Err(ConsumeError::Retryable(_)) => told_to_come_back += 1,
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(mailer.sent.load(Ordering::SeqCst), 1, "one e-mail");
    assert!(told_to_come_back > 0, "the others were busy, not lost");
    for _ in 0..told_to_come_back {
        notifier.handle(&event).await.unwrap();
    }
    assert_eq!(
        mailer.sent.load(Ordering::SeqCst),
        1,
        "coming back sends nothing"
    );
}

/// A delivery that claimed the e-mail and vanished (its Lambda crashed)
/// holds it only until its lease runs out; then the next delivery sends.
#[tokio::test]
async fn an_e_mail_whose_sender_vanished_goes_out_after_the_lease() {
    use kontor_platform::FixedClock;
    let store = SqliteStore::in_memory().unwrap();
    let mailer = Arc::new(Slow {
        sent: AtomicUsize::new(0),
    });
    let clock = Arc::new(FixedClock::new(
        time::macros::datetime!(2026-11-29 10:00 UTC),
    ));
    let notifier = Notifier::new(
        Arc::new(store.clone()),
        mailer.clone(),
        ShopDetails::default(),
    )
    .with_clock(clock.clone());
    let event = placed_events(&store, Language::De).await.remove(0);
    let at = clock.now().unix_timestamp();
    store
        .claim(
            "notifier",
            &event.event_id,
            at,
            kontor_notifier::SEND_LEASE_SECONDS,
        )
        .await
        .unwrap();
    assert!(matches!(
        notifier.handle(&event).await,
        Err(ConsumeError::Retryable(_))
    ));
    assert_eq!(mailer.sent.load(Ordering::SeqCst), 0);
    clock.advance(time::Duration::seconds(kontor_notifier::SEND_LEASE_SECONDS));
    notifier.handle(&event).await.unwrap();
    assert_eq!(mailer.sent.load(Ordering::SeqCst), 1);
}

/// A parcel's messages arriving out of order: once "delivered" went out, a
/// late "shipped" of the same parcel is not sent; another parcel's is.
#[tokio::test]
async fn a_late_message_about_a_parcel_is_not_sent() {
    use kontor_domain::command::OrderCommand;
    use kontor_domain::shipment::{Carrier, NewShipment, ShipmentStatus, TrackingNumber};
    use kontor_domain::types::Quantity;
    use kontor_testkit::contract::commit_of;
    let store = SqliteStore::in_memory().unwrap();
    let mailer = Arc::new(Slow {
        sent: AtomicUsize::new(0),
    });
    let notifier = Notifier::new(
        Arc::new(store.clone()),
        mailer.clone(),
        ShopDetails::default(),
    );
    placed_events(&store, Language::De).await;
    let mut order = store
        .get_order(&kontor_domain::OrderId::parse("order-1").unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut events = Vec::new();
    let mut run = |order: &mut kontor_domain::order::Order, command: OrderCommand| {
        let commit = commit_of(order, &command, 5);
        events.extend(commit.events.clone());
        *order = commit.order;
    };
    for (line, number) in [(0, "00340434161094042557"), (1, "00340434161094042564")] {
        let line_id = order.lines[line].id.clone();
        run(
            &mut order,
            OrderCommand::PackShipment(NewShipment {
                items: vec![(line_id, Quantity::new(1).unwrap())],
                carrier: Carrier::Dhl,
                tracking_number: Some(TrackingNumber::parse(number).unwrap()),
            }),
        );
    }
    for (parcel, status) in [
        ("S1", ShipmentStatus::Shipped),
        ("S1", ShipmentStatus::Delivered),
        ("S2", ShipmentStatus::Shipped),
    ] {
        run(
            &mut order,
            OrderCommand::MoveShipment {
                shipment_id: parcel.into(),
                status,
                tracking_number: None,
                location: None,
                notify: true,
            },
        );
    }
    let moved: Vec<&Event> = events
        .iter()
        .filter(|e| e.name() == "ShipmentStatusChanged")
        .collect();
    let (shipped, delivered, other_parcel) = (moved[0], moved[1], moved[2]);
    notifier.handle(delivered).await.unwrap();
    notifier.handle(shipped).await.unwrap();
    assert_eq!(
        mailer.sent.load(Ordering::SeqCst),
        1,
        "the late 'shipped' is not sent"
    );
    assert!(store
        .has_processed("notifier", &shipped.event_id)
        .await
        .unwrap());
    notifier.handle(other_parcel).await.unwrap();
    assert_eq!(
        mailer.sent.load(Ordering::SeqCst),
        2,
        "another parcel's goes out"
    );
}

#[test]
fn reads_the_sample_eventbridge_event() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/samples/OrderPlaced.eventbridge.json"
    );
    let event: BridgeEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(event.detail_type, "OrderPlaced");
    assert_eq!(event.detail.name(), "OrderPlaced");
}
