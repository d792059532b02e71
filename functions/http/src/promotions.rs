//! The shop's promotions (rule sets, discounts, checkout offers) as the
//! handlers use them: the stored document parsed once per version and kept
//! for as long as that version is current (per process, so per Lambda
//! container), edits saved over the version they were made on, and what
//! rules may ask about the customer.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use kontor_domain::customer::Customer;
use kontor_domain::promotions::{PromotionError, Promotions, PromotionsDocument};
use kontor_domain::rules::CustomerFacts;
use kontor_domain::{Email, Sku};
use kontor_platform::settings::ShopSetting;
use kontor_platform::{StoreError, StoredSetting};

use crate::identity::Claims;
use crate::problem::Problem;
use crate::state::AppState;

/// How often a promotions edit is tried again when another edit saved the
/// document first (each try checks the entry's own version again).
const MAX_ATTEMPTS: usize = 5;

/// Promotions parsed from the document at a version.
type Parsed = (u64, Arc<Promotions>);

/// The last promotions document parsed, by version.
#[derive(Clone, Default)]
pub struct PromotionsCache(Arc<Mutex<Option<Parsed>>>);

impl PromotionsCache {
    fn get(&self, version: u64) -> Option<Arc<Promotions>> {
        let cached = self.0.lock().ok()?;
        cached
            .as_ref()
            .filter(|(at, _)| *at == version)
            .map(|(_, p)| p.clone())
    }

    fn put(&self, version: u64, promotions: Arc<Promotions>) {
        if let Ok(mut cached) = self.0.lock() {
            *cached = Some((version, promotions));
        }
    }

    /// The free items' products of the promotions last seen: a checkout
    /// reads them with the cart's products.
    pub fn gift_skus(&self) -> Vec<Sku> {
        self.0
            .lock()
            .ok()
            .and_then(|c| c.as_ref().map(|(_, p)| p.gift_skus()))
            .unwrap_or_default()
    }
}

impl AppState {
    /// The promotions of a stored document (none saved: none), parsed
    /// only when its version is new to this process.
    pub fn promotions_of(
        &self,
        stored: Option<&StoredSetting>,
    ) -> Result<Arc<Promotions>, Problem> {
        let Some(stored) = stored else {
            return Ok(Arc::new(Promotions::default()));
        };
        if let Some(cached) = self.promotions.get(stored.version) {
            return Ok(cached);
        }
        let document: PromotionsDocument = serde_json::from_value(stored.value.clone())
            .map_err(|e| StoreError::Internal(format!("unreadable promotions: {e}")))?;
        let promotions = Promotions::load(&document, self.settings.pricing.currency)
            .map_err(|e| StoreError::Internal(format!("stored promotions do not check: {e}")))?;
        let promotions = Arc::new(promotions);
        self.promotions.put(stored.version, promotions.clone());
        Ok(promotions)
    }

    /// The promotions as stored now, with the document's version.
    pub async fn promotions(&self) -> Result<(Arc<Promotions>, u64), Problem> {
        let stored = self.store.get_setting(PromotionsDocument::NAME).await?;
        let version = stored.as_ref().map_or(0, |s| s.version);
        Ok((self.promotions_of(stored.as_ref())?, version))
    }

    /// Applies an edit to the promotions and saves them over the version
    /// they were read at; when another edit saved first, the edit is made
    /// again on what that one left (the entry's own version still decides).
    pub async fn change_promotions(
        &self,
        edit: impl Fn(&Promotions) -> Result<Promotions, PromotionError>,
    ) -> Result<Arc<Promotions>, Problem> {
        for attempt in 1..=MAX_ATTEMPTS {
            let (current, version) = self.promotions().await?;
            let next = edit(&current).map_err(promotion_problem)?;
            let document = serde_json::to_value(next.document())
                .map_err(|e| StoreError::Internal(format!("promotions: {e}")))?;
            match self
                .store
                .put_setting(PromotionsDocument::NAME, &document, version)
                .await
            {
                Ok(saved) => {
                    let next = Arc::new(next);
                    self.promotions.put(saved, next.clone());
                    return Ok(next);
                }
                Err(StoreError::StaleVersion { .. }) => {
                    tracing::debug!(attempt, "promotions saved meanwhile; editing again");
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(StoreError::Unavailable("promotions edit contention".into()).into())
    }
}

/// What rules may ask about a customer: their earlier orders (by account
/// or by mailbox, whichever counts more), their groups (the token's and
/// those staff gave them) and their e-mail address.
pub fn customer_facts(
    claims: Option<&Claims>,
    record: Option<&Customer>,
    mailbox_orders: u32,
    email: Option<&Email>,
) -> CustomerFacts {
    let mut groups: Vec<String> = claims.map(|c| c.groups.clone()).unwrap_or_default();
    if let Some(record) = record {
        groups.extend(record.groups.iter().cloned());
    }
    let order_count = record.map_or(0, |r| r.order_count).max(mailbox_orders);
    CustomerFacts::new(order_count, &groups, email)
}

/// The problem for an edit of the promotions that cannot be saved.
pub fn promotion_problem(error: PromotionError) -> Problem {
    match &error {
        PromotionError::Invalid(spec) => {
            Problem::invalid_field(spec.field.clone(), spec.message.clone())
        }
        PromotionError::NotFound { entity, .. } => Problem::not_found(entity),
        PromotionError::Exists { .. } => Problem::new(
            StatusCode::CONFLICT,
            "exists",
            "Already exists",
            error.to_string(),
        )
        .with_field("id"),
        PromotionError::Stale { current, .. } => Problem::new(
            StatusCode::CONFLICT,
            "stale-version",
            "Changed by someone else",
            error.to_string(),
        )
        .with_field("version")
        .with("current_version", current),
        PromotionError::InUse { .. } => Problem::new(
            StatusCode::CONFLICT,
            "in-use",
            "Still in use",
            error.to_string(),
        ),
        PromotionError::TooMany { .. } => Problem::invalid_field("id", error.to_string()),
    }
}
