//! The AWS SDK configuration every AWS adapter loads (DynamoDB, SES,
//! EventBridge), once per process.
//!
//! The SDK's default HTTPS client reads and parses the system's whole
//! certificate store when it is built: on Debian the bundle and every file
//! of `/etc/ssl/certs`, most of what a Lambda function spent before it
//! could take its first request (docs/figures.md, "Cold starts of the
//! functions"). Kontor only ever talks to AWS's own endpoints, whose
//! certificates chain to Amazon Trust Services' roots, so the client trusts
//! those five roots, compiled in, and nothing else. The configuration is
//! loaded once and shared, so a function with two adapters (the notifier:
//! DynamoDB and SES) builds one client.

use aws_config::SdkConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::HttpClientError;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use tokio::sync::OnceCell;

/// Amazon Root CA 1–4 and the Starfield Services root that cross-signs
/// them (Amazon Trust Services), in PEM, as Debian's `ca-certificates`
/// ships them; they expire in 2037–2040.
pub const AMAZON_ROOTS: &str = include_str!("amazon-roots.pem");

static CONFIG: OnceCell<SdkConfig> = OnceCell::const_new();

/// The SDK's configuration from the environment (region, credentials,
/// `AWS_ENDPOINT_URL` for a stand-in such as moto), with the HTTPS client
/// of [`https_client`]; loaded on the first call, shared after.
pub async fn sdk_config() -> SdkConfig {
    CONFIG
        .get_or_init(|| async {
            let loader = aws_config::from_env();
            match https_client() {
                Ok(client) => loader.http_client(client).load().await,
                Err(error) => {
                    // Not expected (the roots are compiled in and tested);
                    // the SDK's own client still works, only slower to build.
                    tracing::warn!(%error, "the AWS HTTPS client could not be built; using the SDK's default");
                    loader.load().await
                }
            }
        })
        .await
        .clone()
}

/// An HTTPS client (rustls with aws-lc) that trusts [`AMAZON_ROOTS`] only.
pub fn https_client() -> Result<SharedHttpClient, HttpClientError> {
    let context = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(AMAZON_ROOTS.as_bytes()))
        .build()?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client parses the roots when it first connects (a bad PEM would
    /// panic there): a call to a closed HTTPS port gets that far and fails
    /// as a connection error.
    #[tokio::test]
    async fn the_five_amazon_roots_are_compiled_in_and_the_client_connects_with_them() {
        assert_eq!(
            AMAZON_ROOTS.matches("-----BEGIN CERTIFICATE-----").count(),
            5
        );
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("eu-central-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .endpoint_url("https://127.0.0.1:9")
            .http_client(https_client().expect("the client builds"))
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build();
        let error = aws_sdk_dynamodb::Client::from_conf(config)
            .list_tables()
            .send()
            .await
            .expect_err("nothing listens there");
        assert!(
            matches!(error, aws_sdk_dynamodb::error::SdkError::DispatchFailure(_)),
            "{error:?}"
        );
    }
}
