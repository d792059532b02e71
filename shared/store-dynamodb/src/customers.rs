//! Signed-in shoppers' records (written by the checkout), and the lookup
//! from an e-mail address to its customer (written with the record).

use async_trait::async_trait;
use kontor_domain::customer::Customer;
use kontor_domain::{CustomerId, Email};
use kontor_platform::store::{CustomerStore, StoreError};

use crate::items::{Item, Keys};
use crate::{DynamoStore, TransactFailure};

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

    async fn save_customer(&self, customer: &Customer) -> Result<(), StoreError> {
        let write = self.put_versioned(Item::for_customer(customer)?, customer.version)?;
        match self.transact(vec![write]).await {
            Ok(()) => Ok(()),
            Err(TransactFailure::Store(error)) => Err(error),
            Err(TransactFailure::Cancelled(_)) => Err(StoreError::StaleVersion {
                entity: "customer",
                expected: customer.version.saturating_sub(1),
            }),
        }
    }
}
