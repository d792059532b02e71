//! The in-process event bus: drains the outbox and hands each event to the
//! consumers subscribed to its type, as the EventBridge rules in `infra/` do
//! in AWS.
//!
//! Delivery is at least once: an event is marked published only after every
//! subscribed consumer has taken it, so a crash in between delivers it again
//! and the consumers' own idempotency (on the event id) absorbs the repeat.
//! A consumer that fails with a retryable error holds the event back for the
//! next round; a permanent failure is logged (the local stand-in for an
//! on-failure destination) and does not block the events behind it.

use std::sync::Arc;
use std::time::Duration;

use kontor_domain::events::Event;
use kontor_http::AppState;
use kontor_platform::{ConsumeError, EventConsumer, Mailer, Store, StoreError};

use crate::Config;
use tokio::sync::watch;

/// How often the outbox is polled; short enough that an e-mail follows an
/// order at once, long enough to cost nothing when idle.
const POLL_INTERVAL: Duration = Duration::from_millis(200);
const BATCH: usize = 100;

/// The consumers the local runtime runs; each subscribes to the same event
/// types as its Lambda function's EventBridge rule in `infra/`.
pub fn consumers(
    state: &AppState,
    mailer: Arc<dyn Mailer>,
    config: &Config,
) -> Vec<Arc<dyn EventConsumer>> {
    let mut shop = kontor_notifier::shop_from_env();
    if std::env::var_os("KONTOR_SHOP_URL").is_none() {
        shop.url = format!("http://{}/", config.addr);
    }
    // The checkout's key, so the links in e-mails open the orders.
    shop.links = state.settings.order_links.clone();
    vec![Arc::new(kontor_notifier::Notifier::new(
        state.store.clone(),
        mailer,
        shop,
    ))]
}

pub struct LocalBus {
    store: Arc<dyn Store>,
    consumers: Vec<Arc<dyn EventConsumer>>,
}

impl LocalBus {
    pub fn new(store: Arc<dyn Store>, consumers: Vec<Arc<dyn EventConsumer>>) -> Self {
        Self { store, consumers }
    }

    /// Delivers pending events until none are left or one must wait;
    /// returns how many were published.
    pub async fn relay_pending(&self) -> Result<usize, StoreError> {
        let mut published = 0;
        loop {
            let events = self.store.pending_events(BATCH).await?;
            if events.is_empty() {
                return Ok(published);
            }
            let mut delivered = Vec::with_capacity(events.len());
            for event in &events {
                if !self.deliver(event).await {
                    // Keep the order of events: the rest waits for the next round.
                    self.store.mark_published(&delivered).await?;
                    return Ok(published + delivered.len());
                }
                delivered.push(event.event_id.clone());
            }
            self.store.mark_published(&delivered).await?;
            published += delivered.len();
        }
    }

    /// True when every subscribed consumer took the event (or failed for good).
    async fn deliver(&self, event: &Event) -> bool {
        let mut all_taken = true;
        for consumer in &self.consumers {
            if !consumer.subscribes_to().contains(&event.name()) {
                continue;
            }
            match consumer.handle(event).await {
                Ok(()) => {
                    tracing::debug!(consumer = consumer.name(), event = event.name(), event_id = %event.event_id, "event delivered");
                }
                Err(ConsumeError::Retryable(reason)) => {
                    tracing::warn!(consumer = consumer.name(), event_id = %event.event_id, %reason, "event delivery will be retried");
                    all_taken = false;
                }
                Err(ConsumeError::Permanent(reason)) => {
                    tracing::error!(consumer = consumer.name(), event = event.name(), event_id = %event.event_id, %reason, "event could not be handled; dropped to the error log");
                }
            }
        }
        all_taken
    }

    /// Relays until `stop` turns true, then drains once more.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if let Err(error) = self.relay_pending().await {
                tracing::error!(%error, "outbox relay failed; retrying");
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
                _ = stop.changed() => break,
            }
        }
        if let Err(error) = self.relay_pending().await {
            tracing::error!(%error, "final outbox relay failed; events stay pending for the next start");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use async_trait::async_trait;
    use kontor_store_sqlite::SqliteStore;
    use kontor_testkit::contract::placement;
    use kontor_testkit::fixtures::product;

    use super::*;

    /// Records what it handled, applying each event id once, and can be told
    /// to fail its first deliveries. `calls` counts every delivery the bus
    /// made, repeats included, so the tests see what the bus did and not
    /// only what the consumer's own idempotency kept.
    struct Recorder {
        store: Arc<dyn Store>,
        handled: Mutex<Vec<String>>,
        failures_left: AtomicUsize,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl EventConsumer for Recorder {
        fn name(&self) -> &'static str {
            "recorder"
        }
        fn subscribes_to(&self) -> &'static [&'static str] {
            &["OrderPlaced"]
        }
        async fn handle(&self, event: &Event) -> Result<(), ConsumeError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(ConsumeError::Retryable("mail server down".into()));
            }
            if self
                .store
                .record_processed(self.name(), &event.event_id)
                .await
                .map_err(|e| ConsumeError::Retryable(e.to_string()))?
            {
                self.handled
                    .lock()
                    .unwrap()
                    .push(event.event_id.to_string());
            }
            Ok(())
        }
    }

    async fn store_with_two_orders() -> Arc<dyn Store> {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
        store
            .put_product(&product("A", "10.00", 10, false), None)
            .await
            .unwrap();
        for n in 1..=2 {
            let placement = placement(store.as_ref(), &[("A", 1)], n).await;
            store.commit_order(&placement).await.unwrap();
        }
        store
    }

    fn recorder(store: &Arc<dyn Store>, failures: usize) -> Arc<Recorder> {
        Arc::new(Recorder {
            store: Arc::clone(store),
            handled: Mutex::new(Vec::new()),
            failures_left: AtomicUsize::new(failures),
            calls: AtomicUsize::new(0),
        })
    }

    #[tokio::test]
    async fn delivers_subscribed_events_once_and_marks_all_published() {
        let store = store_with_two_orders().await;
        let consumer = recorder(&store, 0);
        let bus = LocalBus::new(Arc::clone(&store), vec![consumer.clone()]);
        assert_eq!(
            bus.relay_pending().await.unwrap(),
            4,
            "2 OrderPlaced + 2 StockChanged"
        );
        assert_eq!(
            *consumer.handled.lock().unwrap(),
            ["event-1-1", "event-2-1"]
        );
        assert_eq!(
            consumer.calls.load(Ordering::SeqCst),
            2,
            "each subscribed event delivered once, the others not at all"
        );
        assert!(store.pending_events(10).await.unwrap().is_empty());
        assert_eq!(bus.relay_pending().await.unwrap(), 0);
        assert_eq!(consumer.calls.load(Ordering::SeqCst), 2, "nothing again");
    }

    #[tokio::test]
    async fn a_retryable_failure_holds_the_event_for_the_next_round() {
        let store = store_with_two_orders().await;
        let consumer = recorder(&store, 1);
        let bus = LocalBus::new(Arc::clone(&store), vec![consumer.clone()]);
        assert_eq!(
            bus.relay_pending().await.unwrap(),
            0,
            "the first event waits"
        );
        assert_eq!(
            store.pending_events(10).await.unwrap().len(),
            4,
            "nothing is lost"
        );
        assert_eq!(bus.relay_pending().await.unwrap(), 4);
        assert_eq!(
            *consumer.handled.lock().unwrap(),
            ["event-1-1", "event-2-1"]
        );
        assert_eq!(
            consumer.calls.load(Ordering::SeqCst),
            3,
            "the failed delivery, then each event once"
        );
    }

    #[tokio::test]
    async fn a_redelivery_is_absorbed_by_the_consumer() {
        let store = store_with_two_orders().await;
        let consumer = recorder(&store, 0);
        let events = store.pending_events(10).await.unwrap();
        for event in events.iter().filter(|e| e.name() == "OrderPlaced") {
            consumer.handle(event).await.unwrap();
        }
        // The relay crashed before marking them: they come again.
        let bus = LocalBus::new(Arc::clone(&store), vec![consumer.clone()]);
        bus.relay_pending().await.unwrap();
        assert_eq!(
            consumer.calls.load(Ordering::SeqCst),
            4,
            "the bus delivered each again, once"
        );
        assert_eq!(
            consumer.handled.lock().unwrap().len(),
            2,
            "and the consumer applied each once"
        );
    }
}
