//! The state every handler receives: the ports, built once per process
//! (per Lambda container, or once for the local runtime).

use std::sync::Arc;

use kontor_domain::order::Order;
use kontor_domain::shipment::TrackingLinks;
use kontor_domain::OrderId;
use kontor_platform::settings::{read_setting, Versioned};
use kontor_platform::{
    Clock, IdSource, OfflinePayments, PaymentProvider, RandomIds, ShopSettings, Store, StoreError,
    SystemClock,
};

use crate::problem::Problem;

/// The largest amount staff can type, either sign.
const MAX_TYPED_AMOUNT: rust_decimal::Decimal =
    rust_decimal::Decimal::from_parts(100_000_000, 0, 0, false, 0);

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub settings: Arc<ShopSettings>,
    /// Pays refunds back (offline today: staff transfer them).
    pub payments: Arc<dyn PaymentProvider>,
    /// The promotions last parsed, by the version of their document.
    pub promotions: crate::promotions::PromotionsCache,
}

impl AppState {
    /// The state over any store, with the real clock and random ids.
    pub fn with_store(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds),
            settings: Arc::new(ShopSettings::from_env()),
            payments: Arc::new(OfflinePayments),
            promotions: Default::default(),
        }
    }
}

impl AppState {
    /// The order a path names: a string that is no id, or an id of no
    /// order, is a 404 alike, so ids cannot be probed.
    pub async fn order(&self, id: &str) -> Result<Order, Problem> {
        let not_found = || Problem::not_found("order");
        let id = OrderId::parse(id).map_err(|_| not_found())?;
        self.store.get_order(&id).await?.ok_or_else(not_found)
    }

    /// An amount staff typed (a price, an adjustment, a refund), in the
    /// shop's currency: at most 100,000,000 either way, far above any order
    /// and small enough that no sum of them overflows.
    pub fn typed_amount(
        &self,
        field: &str,
        amount: rust_decimal::Decimal,
    ) -> Result<kontor_domain::Money, Problem> {
        if amount.abs() > MAX_TYPED_AMOUNT {
            return Err(Problem::invalid_field(
                field,
                "an amount is at most 100,000,000",
            ));
        }
        Ok(kontor_domain::Money::new(
            amount,
            self.settings.pricing.currency,
        ))
    }

    /// An order id from a path: one that cannot be an id is a 404, like an
    /// id of no order.
    pub fn order_id(&self, id: &str) -> Result<OrderId, Problem> {
        OrderId::parse(id).map_err(|_| Problem::not_found("order"))
    }
}

impl AppState {
    /// The carriers' tracking link templates: as staff last saved them, or
    /// the deployment's defaults.
    pub async fn tracking_links(&self) -> Result<TrackingLinks, StoreError> {
        Ok(self.tracking_links_versioned().await?.value)
    }

    /// The tracking link templates with the version staff edit them at
    /// (0 while the deployment's defaults apply).
    pub async fn tracking_links_versioned(&self) -> Result<Versioned<TrackingLinks>, StoreError> {
        Ok(read_setting::<TrackingLinks>(self.store.as_ref())
            .await?
            .unwrap_or_else(|| Versioned {
                value: self.settings.tracking_links.clone(),
                version: 0,
            }))
    }
}
