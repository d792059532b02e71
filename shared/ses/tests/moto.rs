//! The SES mailer against moto: the message arrives with its subject, both
//! parts and the recipient (as moto recorded it).

use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
use kontor_domain::Email;
use kontor_platform::{MailError, Mailer, OutgoingMail};
use kontor_ses::SesMailer;
use kontor_testkit::moto::Moto;

fn client() -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(Moto::shared().endpoint())
            .region(Region::new("eu-central-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
            .build(),
    )
}

fn mail(subject: &str) -> OutgoingMail {
    OutgoingMail {
        to: Email::parse("anna@example.de").unwrap(),
        subject: subject.into(),
        text: "Hallo Anna".into(),
        html: "<p>Hallo Anna</p>".into(),
        order_id: None,
    }
}

#[tokio::test]
async fn sends_through_ses_from_a_verified_sender() {
    let client = client();
    client
        .create_email_identity()
        .email_identity("shop@kontor.example")
        .send()
        .await
        .unwrap();
    let mailer = SesMailer::new(client, "shop@kontor.example");
    mailer
        .send(&mail("Deine Bestellung K-0000-0001"))
        .await
        .unwrap();

    let sent = Moto::shared().sent_mail();
    let ours = sent
        .iter()
        .find(|m| m["subject"] == "Deine Bestellung K-0000-0001")
        .expect("the message was sent");
    assert_eq!(ours["source"], "shop@kontor.example");
    assert_eq!(ours["destinations"]["ToAddresses"][0], "anna@example.de");
}

#[tokio::test]
async fn an_unverified_sender_is_refused_for_good() {
    let mailer = SesMailer::new(client(), "nobody@unverified.example");
    assert!(matches!(
        mailer.send(&mail("x")).await,
        Err(MailError::Rejected(_))
    ));
}
