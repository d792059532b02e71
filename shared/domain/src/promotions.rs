//! The shop's promotions: its named rule sets, its discounts and its
//! checkout offers, kept as one versioned document so that a checkout
//! reads all of them in the same round trip as its products.
//!
//! The document holds everything as staff wrote it ([`PromotionsDocument`]);
//! [`Promotions::load`] checks and parses it once (a process keeps the
//! result for as long as the document's version is current), and the edits
//! ([`Promotions::put_rule_set`] and the others) check a change against
//! everything else before it is saved: a reference to an unknown rule set,
//! a cycle, a coupon code two discounts share, or deleting a rule set
//! something still uses are refused.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::discount::{Discount, DiscountSpec, Skip, SpecError, Uses};
use crate::money::Currency;
use crate::rules::{CouponCode, Handle, Rule, RuleBook, RuleContext, RuleSet};
use crate::types::Sku;

/// The most rule sets, discounts and offers a shop keeps, each.
pub const MAX_ENTRIES: usize = 500;

/// The stored document, everything as staff wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PromotionsDocument {
    #[serde(default)]
    pub rule_sets: Vec<StoredRuleSet>,
    #[serde(default)]
    pub discounts: Vec<StoredDiscount>,
    #[serde(default)]
    pub offers: Vec<StoredOffer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRuleSet {
    pub id: String,
    pub name: String,
    pub rule: Value,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDiscount {
    #[serde(flatten)]
    pub spec: DiscountSpec,
    pub version: u64,
}

/// A checkout offer as written: a product suggested in the cart and at
/// checkout when its rule holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OfferSpec {
    pub id: String,
    pub sku: String,
    pub requirement: Option<Value>,
    #[serde(default)]
    pub priority: i32,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredOffer {
    #[serde(flatten)]
    pub spec: OfferSpec,
    pub version: u64,
}

/// A checked checkout offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub id: Handle,
    pub sku: Sku,
    pub requirement: Option<Rule>,
    pub priority: i32,
    pub active: bool,
    pub version: u64,
}

impl Offer {
    pub fn parse(
        spec: &OfferSpec,
        version: u64,
        currency: Currency,
        known: &dyn Fn(&Handle) -> bool,
    ) -> Result<Offer, SpecError> {
        Ok(Offer {
            id: Handle::parse(&spec.id).map_err(|e| SpecError::new("id", e.0))?,
            sku: Sku::parse(&spec.sku).map_err(|e| SpecError::new("sku", e.0))?,
            requirement: spec
                .requirement
                .as_ref()
                .filter(|r| !r.is_null())
                .map(|r| {
                    Rule::parse(r, currency, known)
                        .map_err(|e| SpecError::new(e.field("requirement"), e.message))
                })
                .transpose()?,
            priority: spec.priority,
            active: spec.active,
            version,
        })
    }

    pub fn spec(&self) -> OfferSpec {
        OfferSpec {
            id: self.id.to_string(),
            sku: self.sku.to_string(),
            requirement: self.requirement.as_ref().map(Rule::to_json),
            priority: self.priority,
            active: self.active,
        }
    }
}

/// Why a change to the promotions cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromotionError {
    #[error(transparent)]
    Invalid(#[from] SpecError),
    #[error("no {entity} has the id '{id}'")]
    NotFound { entity: &'static str, id: String },
    #[error("the {entity} '{id}' exists already")]
    Exists { entity: &'static str, id: String },
    /// Somebody saved the entry since it was read.
    #[error("the {entity} '{id}' was changed by someone else (now at version {current})")]
    Stale {
        entity: &'static str,
        id: String,
        current: u64,
    },
    #[error("the rule set '{id}' is used by {users}")]
    InUse { id: String, users: String },
    #[error("the shop keeps at most {MAX_ENTRIES} {entity}s")]
    TooMany { entity: &'static str },
}

/// The promotions, checked and parsed; discounts and offers in the order
/// they are considered (highest priority first, then by id).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Promotions {
    pub book: RuleBook,
    pub discounts: Vec<Discount>,
    pub offers: Vec<Offer>,
}

/// A coupon a shopper entered that no discount can give now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CouponError {
    #[error("no discount has the code '{0}'")]
    Unknown(CouponCode),
    #[error("the code '{code}' is not valid now ({reason})", reason = reason.code())]
    NotUsable { code: CouponCode, reason: Skip },
}

impl Promotions {
    /// Checks and parses a stored document. A document that no longer
    /// checks (it was saved by a build with other rules) is an error for
    /// the caller to log; entries are checked as on saving.
    pub fn load(document: &PromotionsDocument, currency: Currency) -> Result<Self, PromotionError> {
        let ids: BTreeSet<Handle> = document
            .rule_sets
            .iter()
            .filter_map(|s| Handle::parse(&s.id).ok())
            .collect();
        let known = |id: &Handle| ids.contains(id);
        let mut sets = Vec::with_capacity(document.rule_sets.len());
        for stored in &document.rule_sets {
            sets.push(parse_rule_set(stored, currency, &known)?);
        }
        let book = RuleBook::new(sets).map_err(|e| SpecError::new("rule", e.to_string()))?;
        let mut discounts = document
            .discounts
            .iter()
            .map(|d| Discount::parse(&d.spec, d.version, currency, &known))
            .collect::<Result<Vec<_>, _>>()?;
        discounts.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.id.cmp(&b.id)));
        let mut offers = document
            .offers
            .iter()
            .map(|o| Offer::parse(&o.spec, o.version, currency, &known))
            .collect::<Result<Vec<_>, _>>()?;
        offers.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.id.cmp(&b.id)));
        Ok(Self {
            book,
            discounts,
            offers,
        }
        .indexed(currency))
    }

    /// Every discount indexed against the rule sets as they are now.
    fn indexed(mut self, currency: Currency) -> Self {
        for discount in &mut self.discounts {
            discount.index(&self.book, currency);
        }
        self
    }

    /// The document to store.
    pub fn document(&self) -> PromotionsDocument {
        PromotionsDocument {
            rule_sets: self
                .book
                .sets()
                .map(|s| StoredRuleSet {
                    id: s.id.to_string(),
                    name: s.name.clone(),
                    rule: s.rule.to_json(),
                    version: s.version,
                })
                .collect(),
            discounts: self
                .discounts
                .iter()
                .map(|d| StoredDiscount {
                    spec: d.spec(),
                    version: d.version,
                })
                .collect(),
            offers: self
                .offers
                .iter()
                .map(|o| StoredOffer {
                    spec: o.spec(),
                    version: o.version,
                })
                .collect(),
        }
    }

    /// The discount a coupon code names, if it can be used now (`uses`
    /// where known).
    pub fn coupon(
        &self,
        code: &CouponCode,
        now: OffsetDateTime,
        uses: Option<Uses>,
    ) -> Result<&Discount, CouponError> {
        let discount = self
            .discounts
            .iter()
            .find(|d| d.coupon.as_ref() == Some(code))
            .ok_or_else(|| CouponError::Unknown(code.clone()))?;
        discount
            .window(now)
            .map_err(|reason| CouponError::NotUsable {
                code: code.clone(),
                reason,
            })?;
        if let Some(uses) = uses {
            let used_up = discount.usage_limit.is_some_and(|l| uses.total >= l);
            let used_by_customer = matches!(
                (discount.per_customer_limit, uses.by_customer),
                (Some(limit), Some(used)) if used >= limit
            );
            if used_up || used_by_customer {
                return Err(CouponError::NotUsable {
                    code: code.clone(),
                    reason: if used_up {
                        Skip::UsedUp
                    } else {
                        Skip::UsedUpByCustomer
                    },
                });
            }
        }
        Ok(discount)
    }

    /// The products given away by free-item discounts: a checkout reads
    /// them with the cart's products.
    pub fn gift_skus(&self) -> Vec<Sku> {
        let mut skus: Vec<Sku> = self
            .discounts
            .iter()
            .filter_map(|d| match &d.kind {
                crate::discount::DiscountKind::FreeItem { sku, .. } => Some(sku.clone()),
                _ => None,
            })
            .collect();
        skus.sort();
        skus.dedup();
        skus
    }

    /// The offers whose requirement the context meets, best first.
    pub fn offers_for<'a>(&'a self, context: &RuleContext) -> impl Iterator<Item = &'a Offer> + 'a {
        let facts = context.facts();
        let holds: Vec<bool> = self
            .offers
            .iter()
            .map(|o| {
                o.active
                    && o.requirement
                        .as_ref()
                        .is_none_or(|r| r.evaluate(&self.book, &facts, None))
            })
            .collect();
        self.offers
            .iter()
            .zip(holds)
            .filter_map(|(o, holds)| holds.then_some(o))
    }

    fn known_sets(&self) -> impl Fn(&Handle) -> bool + '_ {
        move |id: &Handle| self.book.get(id).is_some()
    }

    /// Creates (`expected_version` 0) or replaces a rule set.
    pub fn put_rule_set(
        &self,
        id: &Handle,
        name: &str,
        rule: &Value,
        expected_version: u64,
        currency: Currency,
    ) -> Result<Promotions, PromotionError> {
        let current = self.book.get(id).map(|s| s.version);
        check_version("rule set", id, current, expected_version)?;
        if current.is_none() && self.book.sets().count() >= MAX_ENTRIES {
            return Err(PromotionError::TooMany { entity: "rule set" });
        }
        // The set may refer to itself only to be refused as a cycle.
        let known = |other: &Handle| other == id || self.book.get(other).is_some();
        let stored = StoredRuleSet {
            id: id.to_string(),
            name: name.to_string(),
            rule: rule.clone(),
            version: expected_version + 1,
        };
        let set = parse_rule_set(&stored, currency, &known)?;
        let sets = self
            .book
            .sets()
            .filter(|s| &s.id != id)
            .cloned()
            .chain([set]);
        let book = RuleBook::new(sets).map_err(|e| SpecError::new("rule", e.to_string()))?;
        Ok(Promotions {
            book,
            ..self.clone()
        }
        .indexed(currency))
    }

    /// Deletes a rule set nothing uses.
    pub fn delete_rule_set(
        &self,
        id: &Handle,
        expected_version: u64,
    ) -> Result<Promotions, PromotionError> {
        let current = self.book.get(id).map(|s| s.version);
        if current.is_none() {
            return Err(PromotionError::NotFound {
                entity: "rule set",
                id: id.to_string(),
            });
        }
        check_version("rule set", id, current, expected_version)?;
        let mut users: Vec<String> = self
            .book
            .referrers(id)
            .into_iter()
            .map(|s| format!("rule set '{s}'"))
            .collect();
        let refers = |rule: &Option<Rule>| {
            let mut refs = BTreeSet::new();
            if let Some(rule) = rule {
                rule.references(&mut refs);
            }
            refs.contains(id)
        };
        users.extend(
            self.discounts
                .iter()
                .filter(|d| refers(&d.requirement))
                .map(|d| format!("discount '{}'", d.id)),
        );
        users.extend(
            self.offers
                .iter()
                .filter(|o| refers(&o.requirement))
                .map(|o| format!("offer '{}'", o.id)),
        );
        if !users.is_empty() {
            return Err(PromotionError::InUse {
                id: id.to_string(),
                users: users.join(", "),
            });
        }
        let book = RuleBook::new(self.book.sets().filter(|s| &s.id != id).cloned())
            .map_err(|e| SpecError::new("rule", e.to_string()))?;
        Ok(Promotions {
            book,
            ..self.clone()
        })
    }

    /// Creates (`expected_version` 0) or replaces a discount.
    pub fn put_discount(
        &self,
        spec: &DiscountSpec,
        expected_version: u64,
        currency: Currency,
    ) -> Result<Promotions, PromotionError> {
        let discount = Discount::parse(spec, expected_version + 1, currency, &self.known_sets())?;
        let current = self
            .discounts
            .iter()
            .find(|d| d.id == discount.id)
            .map(|d| d.version);
        check_version("discount", &discount.id, current, expected_version)?;
        if current.is_none() && self.discounts.len() >= MAX_ENTRIES {
            return Err(PromotionError::TooMany { entity: "discount" });
        }
        if let Some(code) = &discount.coupon {
            if let Some(other) = self
                .discounts
                .iter()
                .find(|d| d.id != discount.id && d.coupon.as_ref() == Some(code))
            {
                return Err(SpecError::new(
                    "coupon",
                    format!("the discount '{}' has the code {code} already", other.id),
                )
                .into());
            }
        }
        let mut next = self.clone();
        next.discounts.retain(|d| d.id != discount.id);
        next.discounts.push(discount);
        next.discounts
            .sort_by(|a, b| b.priority.cmp(&a.priority).then(a.id.cmp(&b.id)));
        Ok(next.indexed(currency))
    }

    pub fn delete_discount(
        &self,
        id: &Handle,
        expected_version: u64,
    ) -> Result<Promotions, PromotionError> {
        let current = self
            .discounts
            .iter()
            .find(|d| &d.id == id)
            .map(|d| d.version);
        if current.is_none() {
            return Err(PromotionError::NotFound {
                entity: "discount",
                id: id.to_string(),
            });
        }
        check_version("discount", id, current, expected_version)?;
        let mut next = self.clone();
        next.discounts.retain(|d| &d.id != id);
        Ok(next)
    }

    /// Creates (`expected_version` 0) or replaces a checkout offer.
    pub fn put_offer(
        &self,
        spec: &OfferSpec,
        expected_version: u64,
        currency: Currency,
    ) -> Result<Promotions, PromotionError> {
        let offer = Offer::parse(spec, expected_version + 1, currency, &self.known_sets())?;
        let current = self
            .offers
            .iter()
            .find(|o| o.id == offer.id)
            .map(|o| o.version);
        check_version("offer", &offer.id, current, expected_version)?;
        if current.is_none() && self.offers.len() >= MAX_ENTRIES {
            return Err(PromotionError::TooMany { entity: "offer" });
        }
        let mut next = self.clone();
        next.offers.retain(|o| o.id != offer.id);
        next.offers.push(offer);
        next.offers
            .sort_by(|a, b| b.priority.cmp(&a.priority).then(a.id.cmp(&b.id)));
        Ok(next)
    }

    pub fn delete_offer(
        &self,
        id: &Handle,
        expected_version: u64,
    ) -> Result<Promotions, PromotionError> {
        let current = self.offers.iter().find(|o| &o.id == id).map(|o| o.version);
        if current.is_none() {
            return Err(PromotionError::NotFound {
                entity: "offer",
                id: id.to_string(),
            });
        }
        check_version("offer", id, current, expected_version)?;
        let mut next = self.clone();
        next.offers.retain(|o| &o.id != id);
        Ok(next)
    }
}

fn parse_rule_set(
    stored: &StoredRuleSet,
    currency: Currency,
    known: &dyn Fn(&Handle) -> bool,
) -> Result<RuleSet, PromotionError> {
    let id = Handle::parse(&stored.id).map_err(|e| SpecError::new("id", e.0))?;
    let name = stored.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(SpecError::new("name", "has 1 to 100 characters").into());
    }
    let rule = Rule::parse(&stored.rule, currency, known)
        .map_err(|e| SpecError::new(e.field("rule"), e.message))?;
    Ok(RuleSet {
        id,
        name: name.to_string(),
        rule,
        version: stored.version,
    })
}

/// A create must find no entry (`expected` 0); a replace must find the
/// entry at `expected`.
fn check_version(
    entity: &'static str,
    id: &Handle,
    current: Option<u64>,
    expected: u64,
) -> Result<(), PromotionError> {
    match (current, expected) {
        (None, 0) => Ok(()),
        (None, _) => Err(PromotionError::NotFound {
            entity,
            id: id.to_string(),
        }),
        (Some(_), 0) => Err(PromotionError::Exists {
            entity,
            id: id.to_string(),
        }),
        (Some(current), expected) if current != expected => Err(PromotionError::Stale {
            entity,
            id: id.to_string(),
            current,
        }),
        _ => Ok(()),
    }
}
