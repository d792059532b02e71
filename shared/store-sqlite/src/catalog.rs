//! The catalog: products, their stock and their versions.

use async_trait::async_trait;
use kontor_domain::product::Product;
use kontor_domain::Sku;
use kontor_platform::store::{CatalogStore, ProductQuery, StoreError};
use rusqlite::params;

use crate::{
    internal, read_products, read_products_by_sku, to_json, CachedStatements, SqliteStore,
};

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn list_products(&self, query: &ProductQuery) -> Result<Vec<Product>, StoreError> {
        let query = query.clone();
        self.run(move |connection| {
            let products = match &query.category {
                Some(category) => read_products(
                    connection,
                    "SELECT stock, version, doc FROM products WHERE category = ?1 ORDER BY sku",
                    params![category],
                )?,
                None => read_products(
                    connection,
                    "SELECT stock, version, doc FROM products ORDER BY sku",
                    [],
                )?,
            };
            Ok(match &query.text {
                Some(text) => products
                    .into_iter()
                    .filter(|p| p.matches_text(text))
                    .collect(),
                None => products,
            })
        })
        .await
    }

    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let sku = sku.clone();
        self.run(move |connection| {
            let mut products = read_products(
                connection,
                "SELECT stock, version, doc FROM products WHERE sku = ?1",
                params![sku.as_str()],
            )?;
            Ok(products.pop())
        })
        .await
    }

    async fn get_products(&self, skus: &[Sku]) -> Result<Vec<Product>, StoreError> {
        let skus: Vec<String> = skus.iter().map(|s| s.as_str().to_string()).collect();
        self.run(move |connection| read_products_by_sku(connection, &skus))
            .await
    }

    async fn put_product(
        &self,
        product: &Product,
        expected_version: Option<u64>,
    ) -> Result<Product, StoreError> {
        let mut stored = product.clone();
        stored.version = expected_version.map_or(1, |v| v + 1);
        let written = self.run(move |connection| {
            let doc = to_json(&stored)?;
            let changed = match expected_version {
                None => connection
                    .execute_cached(
                        "INSERT INTO products (sku, category, stock, version, doc) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (sku) DO NOTHING",
                        params![stored.sku.as_str(), stored.category, stored.stock, stored.version, doc],
                    )
                    .map_err(internal)?,
                Some(expected) => connection
                    .execute_cached(
                        "UPDATE products SET category = ?2, stock = ?3, version = ?4, doc = ?5
                         WHERE sku = ?1 AND version = ?6",
                        params![stored.sku.as_str(), stored.category, stored.stock, stored.version, doc, expected],
                    )
                    .map_err(internal)?,
            };
            match (changed, expected_version) {
                (1, _) => Ok(stored),
                (_, None) => Err(StoreError::AlreadyExists { entity: "product" }),
                (_, Some(expected)) => Err(StoreError::StaleVersion { entity: "product", expected }),
            }
        })
        .await;
        self.catalog_changed();
        written
    }

    fn catalog_stamp(&self) -> Option<u64> {
        Some(self.catalog_stamp_now())
    }
}
