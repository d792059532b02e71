//! One reading of AWS SDK errors for every AWS adapter.
//!
//! Throttling, server-side failures and network trouble are worth another
//! try later (the API answers 503 with `Retry-After`, a consumer is
//! redelivered); anything else is a refusal that a retry would not change.
//! Each adapter adds the codes its own service uses for "try again".

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Codes every AWS service uses for "not now".
const RETRYABLE: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalFailure",
    "InternalException",
    "ServiceUnavailable",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsFailure {
    /// Worth another try later.
    Retryable(String),
    /// A retry would fail the same way.
    Refused(String),
}

/// Classifies an SDK error; `also_retryable` names the service's own codes
/// for "try again" (DynamoDB's `ProvisionedThroughputExceededException`).
pub fn classify<E, R>(error: &SdkError<E, R>, also_retryable: &[&str]) -> AwsFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error {
        SdkError::ServiceError(context) => {
            let code = context.err().code().unwrap_or("unknown");
            let message = format!("{code}: {}", context.err().message().unwrap_or(""));
            if RETRYABLE.contains(&code) || also_retryable.contains(&code) {
                AwsFailure::Retryable(message)
            } else {
                AwsFailure::Refused(message)
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            AwsFailure::Retryable(format!("unreachable: {error:?}"))
        }
        _ => AwsFailure::Refused(format!("request failed: {error:?}")),
    }
}
