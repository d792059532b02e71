//! One reading of AWS SDK errors for every AWS adapter.
//!
//! Throttling, server-side failures and network trouble are worth another
//! try later (the API answers 503 with `Retry-After`, a consumer is
//! redelivered); anything else is a refusal that a retry would not change.
//! An answer's HTTP status decides first — every 5xx and 429 is "not now",
//! whatever its code, so a code a service adds later is not taken for a
//! refusal — then its code: the ones every service uses, and those each
//! adapter adds for its own service.

use aws_smithy_runtime_api::client::result::SdkError;
pub use aws_smithy_runtime_api::http::Response as HttpResponse;
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
pub fn classify<E>(error: &SdkError<E, HttpResponse>, also_retryable: &[&str]) -> AwsFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let code = context.err().code().unwrap_or("unknown");
            let message = format!(
                "{code} ({status}): {}",
                context.err().message().unwrap_or("")
            );
            if status >= 500
                || status == 429
                || RETRYABLE.contains(&code)
                || also_retryable.contains(&code)
            {
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
