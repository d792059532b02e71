//! Signed-in shoppers' records (written by the checkout), and the lookup
//! from an e-mail address to its customer (written with the record).

use async_trait::async_trait;
use kontor_domain::customer::Customer;
use kontor_domain::{CustomerId, Email};
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

    async fn find_customer_by_email(&self, email: &Email) -> Result<Option<Customer>, StoreError> {
        let Some(lookup) = self.get(Keys::customer_email(email)).await? else {
            return Ok(None);
        };
        let customer = self.get_customer(&lookup.customer_id()?).await?;
        Ok(customer.filter(|c| c.email.normalized() == email.normalized()))
    }
}
