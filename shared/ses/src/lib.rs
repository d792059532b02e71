//! The mailer on Amazon SES v2: one `SendEmail` per message, with a text and
//! an HTML part, from the sender `KONTOR_SENDER` (an identity SES may send
//! from; the SAM template declares it).

use async_trait::async_trait;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;
use kontor_aws_errors::{classify, AwsFailure};
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
        let config = aws_config::load_from_env().await;
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

/// SES's own code for "try again": the account's sending rate was exceeded.
const RETRYABLE_CODES: &[&str] = &["LimitExceededException"];

fn mail_error<E, R>(error: SdkError<E, R>) -> MailError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match classify(&error, RETRYABLE_CODES) {
        AwsFailure::Retryable(message) => MailError::Unavailable(message),
        AwsFailure::Refused(message) => MailError::Rejected(message),
    }
}
