//! The e-mails about parcels: shipped (with the parcel's items, the carrier,
//! the tracking number and link), delivered, a failed delivery attempt, and
//! the tracking link sent again on request. German or English, by the
//! order's language.

use kontor_domain::events::ParcelNotice;
use kontor_domain::order::Language;
use kontor_domain::OrderId;
use kontor_platform::OutgoingMail;

use crate::{escape, sign_off, ShopDetails};

/// Which parcel e-mail to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParcelMail {
    Shipped,
    Delivered,
    FailedAttempt,
    /// The tracking link again, on the customer's or staff's request.
    Tracking,
}

struct ParcelWords {
    subject: &'static str,
    intro: &'static str,
    contents: &'static str,
    tracking: &'static str,
    follow: &'static str,
    order: &'static str,
    closing: &'static str,
}

fn words(mail: ParcelMail, language: Language) -> ParcelWords {
    let (subject, intro) = match (mail, language) {
        (ParcelMail::Shipped, Language::De) => (
            "Deine Bestellung {number} ist unterwegs",
            "ein Paket deiner Bestellung {number} ist mit {carrier} unterwegs zu dir.",
        ),
        (ParcelMail::Shipped, Language::En) => (
            "Your order {number} is on its way",
            "a parcel of your order {number} is on its way to you with {carrier}.",
        ),
        (ParcelMail::Delivered, Language::De) => (
            "Deine Bestellung {number} wurde zugestellt",
            "ein Paket deiner Bestellung {number} wurde zugestellt. Viel Freude damit!",
        ),
        (ParcelMail::Delivered, Language::En) => (
            "Your order {number} has been delivered",
            "a parcel of your order {number} has been delivered. Enjoy!",
        ),
        (ParcelMail::FailedAttempt, Language::De) => (
            "Zustellversuch für deine Bestellung {number}",
            "{carrier} hat versucht, ein Paket deiner Bestellung {number} zuzustellen, dich aber nicht angetroffen. Die Sendungsverfolgung zeigt, wie es weitergeht.",
        ),
        (ParcelMail::FailedAttempt, Language::En) => (
            "Delivery attempt for your order {number}",
            "{carrier} tried to deliver a parcel of your order {number} but could not reach you. The tracking page shows what happens next.",
        ),
        (ParcelMail::Tracking, Language::De) => (
            "Sendungsverfolgung für deine Bestellung {number}",
            "hier ist die Sendungsverfolgung für ein Paket deiner Bestellung {number}.",
        ),
        (ParcelMail::Tracking, Language::En) => (
            "Tracking for your order {number}",
            "here is the tracking for a parcel of your order {number}.",
        ),
    };
    match language {
        Language::De => ParcelWords {
            subject,
            intro,
            contents: "Im Paket",
            tracking: "Sendungsnummer ({carrier})",
            follow: "Sendung verfolgen",
            order: "Alle Pakete deiner Bestellung",
            closing: "Viele Grüße",
        },
        Language::En => ParcelWords {
            subject,
            intro,
            contents: "In the parcel",
            tracking: "Tracking number ({carrier})",
            follow: "Follow the parcel",
            order: "All parcels of your order",
            closing: "Kind regards",
        },
    }
}

/// The e-mail about a parcel of `order_id`.
pub fn parcel_mail(
    mail: ParcelMail,
    order_id: &OrderId,
    parcel: &ParcelNotice,
    shop: &ShopDetails,
) -> OutgoingMail {
    let w = words(mail, parcel.language);
    let greeting = match parcel.language {
        Language::De => "Hallo,",
        Language::En => "Hello,",
    };
    let fill = |template: &str| {
        template
            .replace("{number}", parcel.number.as_str())
            .replace("{carrier}", parcel.carrier.display_name())
    };
    let items: Vec<String> = parcel
        .items
        .iter()
        .map(|i| format!("{} × {} ({})", i.quantity, i.name, i.sku))
        .collect();
    let mut text = format!("{greeting}\n\n{}\n\n{}:\n", fill(w.intro), w.contents);
    for item in &items {
        text.push_str(&format!("  {item}\n"));
    }
    let mut html = format!(
        "<p>{greeting}</p><p>{}</p><p><strong>{}</strong></p><ul>{}</ul>",
        escape(&fill(w.intro)),
        w.contents,
        items
            .iter()
            .map(|i| format!("<li>{}</li>", escape(i)))
            .collect::<String>()
    );
    if let Some(number) = &parcel.tracking_number {
        text.push_str(&format!("\n{}: {number}\n", fill(w.tracking)));
        html.push_str(&format!(
            "<p>{}: <strong>{}</strong></p>",
            escape(&fill(w.tracking)),
            escape(number.as_str())
        ));
    }
    if let Some(url) = &parcel.tracking_url {
        text.push_str(&format!("{}: {url}\n", w.follow));
        html.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>",
            escape(url),
            w.follow
        ));
    }
    let order_url = shop.order_url(order_id, parcel.customer_id.as_ref());
    sign_off(&mut text, &mut html, (w.order, &order_url), w.closing, shop);
    OutgoingMail {
        to: parcel.email.clone(),
        subject: fill(w.subject),
        text,
        html,
        order_id: Some(order_id.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kontor_domain::events::ParcelItem;
    use kontor_domain::shipment::{Carrier, TrackingNumber};
    use kontor_domain::{Email, LineId, OrderNumber, Sku};

    fn parcel(language: Language) -> ParcelNotice {
        ParcelNotice {
            number: OrderNumber::parse("K-7F3K-9QXW").unwrap(),
            email: Email::parse("anna@example.de").unwrap(),
            language,
            shipment_id: "S2".into(),
            customer_id: None,
            carrier: Carrier::Dhl,
            tracking_number: Some(TrackingNumber::parse("00340434161094042557").unwrap()),
            tracking_url: Some(
                "https://www.dhl.de/verfolgen?piececode=00340434161094042557".into(),
            ),
            items: vec![ParcelItem {
                line_id: LineId::parse("L2").unwrap(),
                sku: Sku::parse("BE-LEATHER-BROWN").unwrap(),
                name: "Leather belt, brown".into(),
                quantity: 1,
            }],
        }
    }

    #[test]
    fn a_shipped_mail_names_the_parcel_the_carrier_and_the_link() {
        let order = OrderId::parse("o1").unwrap();
        let mail = parcel_mail(
            ParcelMail::Shipped,
            &order,
            &parcel(Language::De),
            &ShopDetails::default(),
        );
        assert_eq!(mail.subject, "Deine Bestellung K-7F3K-9QXW ist unterwegs");
        assert!(mail
            .text
            .contains("1 × Leather belt, brown (BE-LEATHER-BROWN)"));
        assert!(mail.text.contains("mit DHL unterwegs"));
        assert!(mail.text.contains("00340434161094042557"));
        assert!(mail
            .html
            .contains("href=\"https://www.dhl.de/verfolgen?piececode=00340434161094042557\""));
        // The development key's token for order `o1`, computed apart from
        // the code: printf 'kontor-order-link:o1' | openssl dgst -sha256
        // -hmac kontor-development-order-link-key, first 32 hex digits.
        let token = "7b19cdffaaf9859c91bbe43fbf38149f";
        assert!(
            mail.text.contains(&format!("#/order/o1?token={token}")),
            "the order's link"
        );
        let english = parcel_mail(
            ParcelMail::Delivered,
            &order,
            &parcel(Language::En),
            &ShopDetails::default(),
        );
        assert_eq!(english.subject, "Your order K-7F3K-9QXW has been delivered");
    }
}
