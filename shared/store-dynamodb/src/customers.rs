//! Signed-in shoppers' records (written by the checkout).

use async_trait::async_trait;
use kontor_domain::customer::Customer;
use kontor_domain::CustomerId;
use kontor_platform::store::{CustomerStore, StoreError};

use crate::items::Keys;
use crate::DynamoStore;

#[async_trait]
impl CustomerStore for DynamoStore {
    async fn get_customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        self.get(Keys::customer(id))
            .await?
            .map(|item| item.customer())
            .transpose()
    }
}
