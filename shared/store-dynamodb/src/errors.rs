//! Turning the SDK's errors into the store port's.
//!
//! Throttling, server errors and network failures are `Unavailable` (the
//! caller answers 503 with `Retry-After`); everything else unexpected is
//! `Internal`, a bug.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue;
use kontor_aws_errors::{classify, AwsFailure, HttpResponse};
use kontor_platform::store::StoreError;

/// DynamoDB's own codes for "try again", beyond those every service uses.
const RETRYABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "TransactionConflictException",
    "TransactionInProgressException",
];

pub fn service_error<E>(error: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match classify(&error, RETRYABLE_CODES) {
        AwsFailure::Retryable(message) => {
            tracing::warn!(%message, "DynamoDB asked us to back off");
            StoreError::Unavailable(message)
        }
        AwsFailure::Refused(message) => StoreError::Internal(message),
    }
}

pub fn build_error(error: BuildError) -> StoreError {
    StoreError::Internal(format!("malformed DynamoDB request: {error}"))
}

pub fn is_conditional_failure<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    matches!(error, SdkError::ServiceError(context) if context.err().code() == Some("ConditionalCheckFailedException"))
}

/// One item's reason in a cancelled transaction.
#[derive(Debug)]
pub struct Reason {
    code: String,
    old_item: Option<HashMap<String, AttributeValue>>,
}

impl Reason {
    pub fn is_conditional_failure(&self) -> bool {
        self.code == "ConditionalCheckFailed"
    }

    /// A number attribute of the item as it was when the condition failed.
    pub fn old_number<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        match self.old_item.as_ref()?.get(name)? {
            AttributeValue::N(value) => value.parse().ok(),
            _ => None,
        }
    }

    /// Whether the item had attribute `name` when the condition failed.
    pub fn old_has(&self, name: &str) -> bool {
        self.old_item
            .as_ref()
            .is_some_and(|item| item.contains_key(name))
    }
}

/// The per-item reasons of a cancelled transaction, if it was one.
pub fn cancellation_reasons<R>(
    error: &SdkError<TransactWriteItemsError, R>,
) -> Option<Vec<Reason>> {
    let SdkError::ServiceError(context) = error else {
        return None;
    };
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = context.err() else {
        return None;
    };
    let reasons = cancelled
        .cancellation_reasons()
        .iter()
        .map(|reason| Reason {
            code: reason.code().unwrap_or("None").to_string(),
            old_item: reason.item().cloned(),
        })
        .collect::<Vec<_>>();
    // A cancellation for throttling or a conflicting transaction is worth a retry,
    // not a conflict to report; it carries no failed condition.
    Some(reasons)
}

/// A cancelled transaction whose reasons name no failed condition: it was
/// throttled or collided with another transaction, so it is worth retrying.
pub fn unexplained(reasons: &[Reason]) -> StoreError {
    if reasons.iter().any(|r| r.code == "TransactionConflict") {
        return StoreError::TransactionConflict;
    }
    let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
    StoreError::Unavailable(format!("transaction cancelled: {codes:?}"))
}
