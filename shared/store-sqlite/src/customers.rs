//! Signed-in shoppers' records (written by the checkout).

use async_trait::async_trait;
use kontor_domain::customer::Customer;
use kontor_domain::CustomerId;
use kontor_platform::store::{CustomerStore, StoreError};

use crate::{read_customer, SqliteStore};

#[async_trait]
impl CustomerStore for SqliteStore {
    async fn get_customer(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        let id = id.clone();
        self.run(move |connection| read_customer(connection, &id))
            .await
    }
}
