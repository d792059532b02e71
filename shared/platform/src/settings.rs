//! The shop's settings. One shop per deployment; values come from the
//! environment or the defaults of a German clothing shop.

use kontor_domain::money::{Currency, Money};
use kontor_domain::pricing::{PricingSettings, ShippingPolicy};
use kontor_domain::returns::ReturnPolicy;
use kontor_domain::shipment::{Carrier, TrackingLinks};
use kontor_domain::tax::TaxTable;
use kontor_domain::CountryCode;
use rust_decimal::Decimal;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::links::OrderLinks;
use crate::store::{SettingsStore, StoreError};
use crate::webhooks::WebhookSecrets;

#[derive(Debug, Clone)]
pub struct ShopSettings {
    pub name: String,
    pub country: CountryCode,
    pub pricing: PricingSettings,
    /// Where customers follow a parcel, per carrier.
    pub tracking_links: TrackingLinks,
    pub webhook_secrets: WebhookSecrets,
    /// The key behind guests' order links.
    pub order_links: OrderLinks,
    /// Days a prepayment order waits for its money before it is cancelled
    /// (`KONTOR_UNPAID_EXPIRY_DAYS`, default 14).
    pub unpaid_expiry_days: u32,
    /// Return reasons, actions, window (`KONTOR_RETURN_WINDOW_DAYS`, default
    /// 30) and whether shipping is refunded once all came back.
    pub returns: ReturnPolicy,
}

/// The default payment deadline of a prepayment order, in days.
pub const DEFAULT_UNPAID_EXPIRY_DAYS: u32 = 14;

impl ShopSettings {
    /// The defaults, with what the environment sets: the order link key
    /// (`KONTOR_LINK_KEY`), carriers' webhook secrets (see [`WebhookSecrets::from_env`]) and tracking link
    /// templates (`KONTOR_TRACKING_URL_<CARRIER>`, `{tracking}` where the
    /// number goes).
    pub fn from_env() -> Self {
        let mut settings = Self {
            webhook_secrets: WebhookSecrets::from_env(),
            order_links: OrderLinks::from_env().unwrap_or_default(),
            ..Self::default()
        };
        if let Some(days) = std::env::var("KONTOR_UNPAID_EXPIRY_DAYS")
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|days| (1..=365).contains(days))
        {
            settings.unpaid_expiry_days = days;
        }
        if let Some(days) = std::env::var("KONTOR_RETURN_WINDOW_DAYS")
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|days| (1..=3650).contains(days))
        {
            settings.returns.window_days = days;
        }
        for carrier in Carrier::ALL {
            let name = format!("KONTOR_TRACKING_URL_{}", carrier.code().to_uppercase());
            if let Ok(template) = std::env::var(name) {
                settings.tracking_links.0.insert(carrier, template);
            }
        }
        settings
    }
}

impl Default for ShopSettings {
    fn default() -> Self {
        let country = CountryCode::parse("DE").expect("static country");
        let tax_rates = TaxTable::default()
            .rates_for(&country)
            .expect("Germany is in the tax table");
        let currency = Currency::Eur;
        Self {
            name: "Kontor Demo Shop".into(),
            country,
            pricing: PricingSettings {
                currency,
                tax_rates,
                shipping: ShippingPolicy {
                    flat_rate: Money::new(Decimal::new(495, 2), currency),
                    free_from: Some(Money::new(Decimal::new(5000, 2), currency)),
                },
            },
            tracking_links: TrackingLinks::default(),
            webhook_secrets: WebhookSecrets::default(),
            order_links: OrderLinks::default(),
            unpaid_expiry_days: DEFAULT_UNPAID_EXPIRY_DAYS,
            returns: ReturnPolicy::default(),
        }
    }
}

/// A shop setting staff edit: stored as one versioned JSON document under
/// its name, read and written typed. An edit names the version it was made
/// on, so two people editing at once cannot overwrite each other.
pub trait ShopSetting: Serialize + DeserializeOwned + Send + Sync {
    const NAME: &'static str;
}

/// Carriers' tracking link templates.
impl ShopSetting for TrackingLinks {
    const NAME: &'static str = "carrier-links";
}

/// The shop's rule sets, discounts and checkout offers: the checkout reads
/// the document with its products ([`crate::CheckoutRead::promotions`]).
impl ShopSetting for kontor_domain::promotions::PromotionsDocument {
    const NAME: &'static str = "promotions";
}

/// A setting and the version it was read at.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    /// 0 while it was never saved.
    pub version: u64,
}

/// Reads setting `T`, if it was ever saved.
pub async fn read_setting<T: ShopSetting>(
    store: &dyn SettingsStore,
) -> Result<Option<Versioned<T>>, StoreError> {
    let Some(stored) = store.get_setting(T::NAME).await? else {
        return Ok(None);
    };
    let value = serde_json::from_value(stored.value)
        .map_err(|e| StoreError::Internal(format!("unreadable setting {}: {e}", T::NAME)))?;
    Ok(Some(Versioned {
        value,
        version: stored.version,
    }))
}

/// Saves setting `T` if it is still at `expected_version` (0: never saved);
/// answers the new version.
pub async fn save_setting<T: ShopSetting>(
    store: &dyn SettingsStore,
    value: &T,
    expected_version: u64,
) -> Result<u64, StoreError> {
    let document = serde_json::to_value(value)
        .map_err(|e| StoreError::Internal(format!("setting {}: {e}", T::NAME)))?;
    store
        .put_setting(T::NAME, &document, expected_version)
        .await
}
