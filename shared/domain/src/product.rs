//! A product of the catalog, with its stock and its selling links.

use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::tax::TaxClass;
use crate::types::{Quantity, Sku};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub sku: Sku,
    pub name: String,
    pub description: String,
    pub category: String,
    /// Gross unit price, VAT included.
    pub price: Money,
    pub tax_class: TaxClass,
    /// Units on hand and not reserved by an order.
    pub stock: u32,
    /// Whether an order may take more than is in stock; the rest is
    /// recorded on the order line as backordered and shipped later.
    pub allow_backorder: bool,
    /// Shown on the product page ("goes well with").
    pub cross_sell: Vec<Sku>,
    /// Suggested in the cart and at checkout.
    pub checkout_sell: Vec<Sku>,
    pub image: Option<String>,
    /// Bumped by every write; writes are conditional on it.
    pub version: u64,
}

/// How an order line's quantity is covered: from stock now, or later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub from_stock: u32,
    pub backordered: u32,
}

/// Not enough stock for a product that allows no backorder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortage {
    pub available: u32,
}

impl Product {
    /// Decides how `requested` units are covered given the current stock.
    pub fn allocate(&self, requested: Quantity) -> Result<Allocation, Shortage> {
        let requested = requested.get();
        let from_stock = requested.min(self.stock);
        let backordered = requested - from_stock;
        if backordered > 0 && !self.allow_backorder {
            return Err(Shortage {
                available: self.stock,
            });
        }
        Ok(Allocation {
            from_stock,
            backordered,
        })
    }

    pub fn matches_text(&self, query: &str) -> bool {
        let query = query.to_lowercase();
        query.split_whitespace().all(|word| {
            self.name.to_lowercase().contains(word)
                || self.description.to_lowercase().contains(word)
                || self.category.to_lowercase().contains(word)
                || self.sku.as_str().to_lowercase().contains(word)
        })
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::money::Currency;
    use rust_decimal::Decimal;

    pub fn product(sku: &str, price: &str, stock: u32, allow_backorder: bool) -> Product {
        Product {
            sku: Sku::parse(sku).unwrap(),
            name: format!("Product {sku}"),
            description: String::new(),
            category: "test".into(),
            price: Money::new(price.parse::<Decimal>().unwrap(), Currency::Eur),
            tax_class: TaxClass::Standard,
            stock,
            allow_backorder,
            cross_sell: vec![],
            checkout_sell: vec![],
            image: None,
            version: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::product;
    use super::*;

    #[test]
    fn allocation_takes_stock_first_then_backorders() {
        let q = |n| Quantity::new(n).unwrap();
        let scarce = product("A", "10", 3, false);
        assert_eq!(
            scarce.allocate(q(3)),
            Ok(Allocation {
                from_stock: 3,
                backordered: 0
            })
        );
        assert_eq!(scarce.allocate(q(4)), Err(Shortage { available: 3 }));
        let backorderable = product("B", "10", 3, true);
        assert_eq!(
            backorderable.allocate(q(5)),
            Ok(Allocation {
                from_stock: 3,
                backordered: 2
            })
        );
    }
}
