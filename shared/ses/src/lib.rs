//! The mailer on Amazon SES v2: one `SendEmail` per message, with a text and
//! an HTML part, from the sender `KONTOR_SENDER` (an identity SES may send
//! from; the SAM template declares it).

use async_trait::async_trait;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;
use kontor_aws_errors::{classify, AwsFailure, HttpResponse};
use kontor_platform::{MailError, Mailer, OutgoingMail};

#[derive(Clone)]
pub struct SesMailer {
    client: Client,
    sender: String,
}

impl SesMailer {
    pub fn new(client: Client, sender: impl Into<String>) -> Self {
        Self {
            client,
            sender: sender.into(),
        }
    }

    /// A mailer sending as `KONTOR_SENDER`, with the SDK configured from the
    /// environment.
    pub async fn from_env() -> Self {
        let config = kontor_aws_config::sdk_config().await;
        let sender = std::env::var("KONTOR_SENDER").unwrap_or_else(|_| "shop@example.com".into());
        Self::new(Client::new(&config), sender)
    }
}

fn utf8(text: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Rejected(e.to_string()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = Message::builder()
            .subject(utf8(&mail.subject)?)
            .body(
                Body::builder()
                    .text(utf8(&mail.text)?)
                    .html(utf8(&mail.html)?)
                    .build(),
            )
            .build();
        self.client
            .send_email()
            .from_email_address(&self.sender)
            .destination(
                Destination::builder()
                    .to_addresses(mail.to.as_str())
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map(|_| ())
            .map_err(mail_error)
    }
}

/// SES's own codes for "try again": the sending rate or quota was exceeded,
/// or sending is paused or the account suspended — states an operator
/// ends, after which the e-mail must still go out rather than be dropped.
const RETRYABLE_CODES: &[&str] = &[
    "LimitExceededException",
    "SendingPausedException",
    "AccountSuspendedException",
];

fn mail_error<E>(error: SdkError<E, HttpResponse>) -> MailError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match classify(&error, RETRYABLE_CODES) {
        AwsFailure::Retryable(message) => MailError::Unavailable(message),
        AwsFailure::Refused(message) => MailError::Rejected(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sesv2::error::ErrorMetadata;
    use aws_sdk_sesv2::operation::send_email::SendEmailError;
    use aws_smithy_types::body::SdkBody;

    fn answered(status: u16, code: &str) -> MailError {
        let error =
            SendEmailError::generic(ErrorMetadata::builder().code(code).message("m").build());
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        mail_error(SdkError::service_error(error, raw))
    }

    /// By HTTP status first (every 5xx and 429, whatever the code), then
    /// by code: throttling, pause and suspension are retried; a bad
    /// address is refused for good.
    #[test]
    fn ses_errors_are_retried_unless_a_retry_cannot_help() {
        for (status, code) in [
            (500, "InternalFailure"),
            (503, "SomethingNewException"),
            (502, "unknown"),
            (429, "TooManyRequestsException"),
            (429, "SomethingNewException"),
            (400, "LimitExceededException"),
            (400, "SendingPausedException"),
            (400, "AccountSuspendedException"),
            (400, "ThrottlingException"),
        ] {
            assert!(
                matches!(answered(status, code), MailError::Unavailable(_)),
                "{status} {code}"
            );
        }
        for (status, code) in [
            (400, "BadRequestException"),
            (400, "MessageRejected"),
            (404, "NotFoundException"),
        ] {
            assert!(
                matches!(answered(status, code), MailError::Rejected(_)),
                "{status} {code}"
            );
        }
    }
}
