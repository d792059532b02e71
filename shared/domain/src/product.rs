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

/// A staff member's change to a product; fields left `None` stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductEdit {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Money>,
    pub stock: Option<u32>,
    pub allow_backorder: Option<bool>,
    pub cross_sell: Option<Vec<Sku>>,
    pub checkout_sell: Option<Vec<Sku>>,
}

/// The highest gross unit price a product (or a price staff set on an
/// order) may have: far above anything a shop sells, low enough that no
/// line, cart or order total can overflow the decimal arithmetic.
pub const MAX_UNIT_PRICE: rust_decimal::Decimal =
    rust_decimal::Decimal::from_parts(100_000_000, 0, 0, false, 2);

/// Whether `price` may be a unit price: not above [`MAX_UNIT_PRICE`].
pub fn price_in_range(price: Money) -> bool {
    price.amount() <= MAX_UNIT_PRICE
}

/// Why an edit cannot be made; each names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductEditError {
    #[error("the name must not be empty")]
    EmptyName,
    #[error("a price must not be negative")]
    NegativePrice,
    #[error("a price is at most 1,000,000.00")]
    PriceTooHigh,
    #[error("prices are in {expected}")]
    WrongCurrency { expected: crate::money::Currency },
    #[error("no product has the sku {sku}")]
    UnknownLink {
        field: &'static str,
        index: usize,
        sku: Sku,
    },
    #[error("a product cannot suggest itself")]
    SelfLink { field: &'static str, index: usize },
}

impl ProductEditError {
    /// The request field at fault, as a path (`cross_sell[2]`).
    pub fn field(&self) -> String {
        match self {
            Self::EmptyName => "name".into(),
            Self::NegativePrice | Self::PriceTooHigh | Self::WrongCurrency { .. } => "price".into(),
            Self::UnknownLink { field, index, .. } | Self::SelfLink { field, index } => {
                format!("{field}[{index}]")
            }
        }
    }
}

impl Product {
    /// The product with `edit` applied. Linked skus must name products that
    /// exist (`exists`), and not this one; the version is left for the
    /// store to bump.
    pub fn edited(
        &self,
        edit: &ProductEdit,
        exists: &dyn Fn(&Sku) -> bool,
    ) -> Result<Product, ProductEditError> {
        let mut product = self.clone();
        if let Some(name) = &edit.name {
            let name = name.trim();
            if name.is_empty() {
                return Err(ProductEditError::EmptyName);
            }
            product.name = name.to_string();
        }
        if let Some(description) = &edit.description {
            product.description = description.trim().to_string();
        }
        if let Some(price) = edit.price {
            if price.currency() != self.price.currency() {
                return Err(ProductEditError::WrongCurrency {
                    expected: self.price.currency(),
                });
            }
            if price.is_negative() {
                return Err(ProductEditError::NegativePrice);
            }
            if !price_in_range(price) {
                return Err(ProductEditError::PriceTooHigh);
            }
            product.price = price.rounded();
        }
        if let Some(stock) = edit.stock {
            product.stock = stock;
        }
        if let Some(allow) = edit.allow_backorder {
            product.allow_backorder = allow;
        }
        for (field, links, target) in [
            ("cross_sell", &edit.cross_sell, &mut product.cross_sell),
            (
                "checkout_sell",
                &edit.checkout_sell,
                &mut product.checkout_sell,
            ),
        ] {
            let Some(links) = links else { continue };
            let mut kept: Vec<Sku> = Vec::with_capacity(links.len());
            for (index, sku) in links.iter().enumerate() {
                if sku == &self.sku {
                    return Err(ProductEditError::SelfLink { field, index });
                }
                if !exists(sku) {
                    return Err(ProductEditError::UnknownLink {
                        field,
                        index,
                        sku: sku.clone(),
                    });
                }
                if !kept.contains(sku) {
                    kept.push(sku.clone());
                }
            }
            *target = kept;
        }
        Ok(product)
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
    fn an_edit_changes_only_what_it_names() {
        let belt = product("BELT", "19.90", 5, false);
        let shirt = Sku::parse("SHIRT").unwrap();
        let edit = ProductEdit {
            stock: Some(12),
            cross_sell: Some(vec![shirt.clone(), shirt.clone()]),
            ..ProductEdit::default()
        };
        let edited = belt.edited(&edit, &|s| s == &shirt).unwrap();
        assert_eq!(edited.stock, 12);
        assert_eq!(edited.cross_sell, [shirt], "a link once");
        assert_eq!((edited.name, edited.price), (belt.name, belt.price));
    }

    #[test]
    fn bad_edits_name_their_field() {
        let belt = product("BELT", "19.90", 5, false);
        let nobody = |_: &Sku| false;
        let negative = ProductEdit {
            price: Some(Money::new(
                "-1".parse().unwrap(),
                crate::money::Currency::Eur,
            )),
            ..ProductEdit::default()
        };
        assert_eq!(
            belt.edited(&negative, &nobody).unwrap_err().field(),
            "price"
        );
        let unknown = ProductEdit {
            checkout_sell: Some(vec![Sku::parse("NOPE").unwrap()]),
            ..ProductEdit::default()
        };
        assert_eq!(
            belt.edited(&unknown, &nobody).unwrap_err().field(),
            "checkout_sell[0]"
        );
        let itself = ProductEdit {
            cross_sell: Some(vec![Sku::parse("BELT").unwrap()]),
            ..ProductEdit::default()
        };
        assert_eq!(
            belt.edited(&itself, &|_| true).unwrap_err().field(),
            "cross_sell[0]"
        );
        let blank = ProductEdit {
            name: Some("  ".into()),
            ..ProductEdit::default()
        };
        assert_eq!(
            belt.edited(&blank, &nobody).unwrap_err(),
            ProductEditError::EmptyName
        );
    }

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
