//! Shop settings staff edit: one item per name (`SETTING#<name>`), its JSON
//! document and its version, written only over the version it was read at.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use kontor_platform::store::{SettingsStore, StoreError, StoredSetting};

use crate::errors::{is_conditional_failure, service_error};
use crate::items::{Item, Keys};
use crate::DynamoStore;

/// The promotions document's name, which the checkout reads with its
/// products.
pub(crate) const PROMOTIONS: &str =
    <kontor_domain::promotions::PromotionsDocument as kontor_platform::settings::ShopSetting>::NAME;

#[async_trait]
impl SettingsStore for DynamoStore {
    async fn get_setting(&self, name: &str) -> Result<Option<StoredSetting>, StoreError> {
        self.get(Keys::setting(name))
            .await?
            .map(|item| item.setting())
            .transpose()
    }

    async fn put_setting(
        &self,
        name: &str,
        value: &serde_json::Value,
        expected_version: u64,
    ) -> Result<u64, StoreError> {
        let next = expected_version + 1;
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Item::for_setting(name, value, next)?.into_map()));
        request = match expected_version {
            0 => request.condition_expression("attribute_not_exists(PK)"),
            // Settings saved before they had versions count as version 1.
            1 => request
                .condition_expression(
                    "attribute_exists(PK) AND (version = :expected OR attribute_not_exists(version))",
                )
                .expression_attribute_values(":expected", AttributeValue::N("1".into())),
            expected => request
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(expected.to_string())),
        };
        match request.send().await {
            Ok(_) => Ok(next),
            Err(error) if is_conditional_failure(&error) => Err(StoreError::StaleVersion {
                entity: "setting",
                expected: expected_version,
            }),
            Err(error) => Err(service_error(error)),
        }
    }
}
