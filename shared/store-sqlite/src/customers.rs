//! Signed-in shoppers' records (written by the checkout), found by id or
//! by e-mail address.

use async_trait::async_trait;
use kontor_domain::customer::Customer;
use kontor_domain::{CustomerId, Email};
use kontor_platform::store::{CustomerStore, StoreError};

use crate::{read_customer, read_customer_by_email, write_customer, SqliteStore};

#[async_trait]
impl CustomerStore for SqliteStore {
    async fn get_customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        let id = id.clone();
        self.run(move |connection| read_customer(connection, &id))
            .await
    }

    async fn find_customer_by_email(&self, email: &Email) -> Result<Option<Customer>, StoreError> {
        let email = email.clone();
        self.run(move |connection| read_customer_by_email(connection, &email))
            .await
    }

    async fn save_customer(&self, customer: &Customer) -> Result<(), StoreError> {
        let customer = customer.clone();
        self.run(move |connection| write_customer(connection, &customer))
            .await
    }
}
