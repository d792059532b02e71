//! The catalog: products in the `CATALOG` index, stock changed in place.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use kontor_domain::product::Product;
use kontor_domain::Sku;
use kontor_platform::store::{CatalogStore, ProductQuery, StoreError};

use crate::errors::{is_conditional_failure, service_error};
use crate::items::{self, Item, Keys};
use crate::{products_in_order, unique_skus, DynamoStore};

#[async_trait]
impl CatalogStore for DynamoStore {
    async fn list_products(&self, query: &ProductQuery) -> Result<Vec<Product>, StoreError> {
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("GSI1")
            .expression_attribute_values(":pk", AttributeValue::S(items::CATALOG.into()));
        request = match &query.category {
            Some(category) => request
                .key_condition_expression("GSI1PK = :pk AND begins_with(GSI1SK, :category)")
                .expression_attribute_values(
                    ":category",
                    AttributeValue::S(format!("{category}#")),
                ),
            None => request.key_condition_expression("GSI1PK = :pk"),
        };
        let mut pages = request.into_paginator().items().send();
        let mut products = Vec::new();
        while let Some(item) = pages.next().await {
            let product = Item::from(item.map_err(service_error)?).product()?;
            if query
                .text
                .as_ref()
                .is_none_or(|text| product.matches_text(text))
            {
                products.push(product);
            }
        }
        products.sort_by(|a, b| a.sku.cmp(&b.sku));
        Ok(products)
    }

    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        self.get(Keys::product(sku))
            .await?
            .map(|item| item.product())
            .transpose()
    }

    async fn get_products(&self, skus: &[Sku]) -> Result<Vec<Product>, StoreError> {
        let keys = unique_skus(skus)
            .into_iter()
            .map(|sku| Keys::product(sku).into_map())
            .collect();
        let items = self.batch_get(keys).await?;
        Ok(products_in_order(
            skus,
            items.iter().map(Item::product).collect::<Result<_, _>>()?,
        ))
    }

    async fn put_product(
        &self,
        product: &Product,
        expected_version: Option<u64>,
    ) -> Result<Product, StoreError> {
        let mut stored = product.clone();
        stored.version = expected_version.map_or(1, |v| v + 1);
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Item::for_product(&stored)?.into_map()));
        request = match expected_version {
            None => request.condition_expression("attribute_not_exists(PK)"),
            Some(expected) => request
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(expected.to_string())),
        };
        match request.send().await {
            Ok(_) => Ok(stored),
            Err(error) if is_conditional_failure(&error) => Err(match expected_version {
                None => StoreError::AlreadyExists { entity: "product" },
                Some(expected) => StoreError::StaleVersion {
                    entity: "product",
                    expected,
                },
            }),
            Err(error) => Err(service_error(error)),
        }
    }
}
