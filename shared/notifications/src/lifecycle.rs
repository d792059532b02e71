//! The e-mails about an order's lifecycle: its cancellation, whoever asked
//! for it (the shopper, staff, or the shop because a prepayment never
//! came). German or English, by the order's language.

use kontor_domain::events::{CancelledBy, OrderCancelled};
use kontor_domain::order::Language;
use kontor_domain::OrderId;
use kontor_platform::OutgoingMail;

use crate::{escape, sign_off, ShopDetails};

/// The e-mail telling the customer their order `order_id` was cancelled.
pub fn order_cancelled(
    order_id: &OrderId,
    cancelled: &OrderCancelled,
    shop: &ShopDetails,
) -> OutgoingMail {
    let de = cancelled.language == Language::De;
    let number = cancelled.number.as_str();
    let subject = if de {
        format!("Deine Bestellung {number} wurde storniert")
    } else {
        format!("Your order {number} has been cancelled")
    };
    let why = match (cancelled.cancelled_by, de) {
        (CancelledBy::Shopper, true) => {
            format!("wie gewünscht haben wir deine Bestellung {number} storniert.")
        }
        (CancelledBy::Shopper, false) => {
            format!("as you asked, we have cancelled your order {number}.")
        }
        (CancelledBy::Staff, true) => format!("wir mussten deine Bestellung {number} stornieren."),
        (CancelledBy::Staff, false) => format!("we had to cancel your order {number}."),
        (CancelledBy::Expiry, true) => format!(
            "für deine Bestellung {number} ist keine Zahlung bei uns eingegangen, deshalb haben wir sie storniert."
        ),
        (CancelledBy::Expiry, false) => format!(
            "we did not receive a payment for your order {number}, so we have cancelled it."
        ),
    };
    let reason = cancelled.reason.as_ref().filter(|_| {
        // The expiry's own reason repeats what the sentence already says.
        cancelled.cancelled_by == CancelledBy::Staff
    });
    let (greeting, reason_label, nothing_due, link, closing) = if de {
        (
            "Hallo,",
            "Grund",
            "Du musst nichts weiter tun; wenn du schon bezahlt hast, erstatten wir dir den Betrag.",
            "Deine Bestellung",
            "Viele Grüße",
        )
    } else {
        (
            "Hello,",
            "Reason",
            "There is nothing more for you to do; if you have paid already, we will refund you.",
            "Your order",
            "Kind regards",
        )
    };
    let mut text = format!("{greeting}\n\n{why}\n");
    let mut html = format!("<p>{greeting}</p><p>{}</p>", escape(&why));
    if let Some(reason) = reason {
        text.push_str(&format!("{reason_label}: {reason}\n"));
        html.push_str(&format!("<p>{reason_label}: {}</p>", escape(reason)));
    }
    text.push_str(&format!("\n{nothing_due}\n"));
    html.push_str(&format!("<p>{}</p>", escape(nothing_due)));
    let order_url = shop.order_url(order_id, cancelled.customer_id.as_ref());
    sign_off(&mut text, &mut html, (link, &order_url), closing, shop);
    OutgoingMail {
        to: cancelled.email.clone(),
        subject,
        text,
        html,
        order_id: Some(order_id.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kontor_domain::{Email, OrderNumber};

    fn cancelled(by: CancelledBy, language: Language) -> OrderCancelled {
        OrderCancelled {
            number: OrderNumber::parse("K-7F3K-9QXW").unwrap(),
            email: Email::parse("anna@example.de").unwrap(),
            customer_id: None,
            language,
            cancelled_by: by,
            reason: Some("Lieferant <liefert> nicht".into()),
            restocked: Vec::new(),
        }
    }

    #[test]
    fn the_customer_is_told_who_cancelled_and_why() {
        let order = OrderId::parse("o1").unwrap();
        let shop = ShopDetails::default();
        let staff = order_cancelled(&order, &cancelled(CancelledBy::Staff, Language::De), &shop);
        assert_eq!(
            staff.subject,
            "Deine Bestellung K-7F3K-9QXW wurde storniert"
        );
        assert!(staff.text.contains("wir mussten deine Bestellung"));
        assert!(staff.text.contains("Grund: Lieferant <liefert> nicht"));
        assert!(
            staff.html.contains("Lieferant &lt;liefert&gt; nicht"),
            "escaped"
        );
        // As openssl computes it for `o1` under the development key.
        let token = "7b19cdffaaf9859c91bbe43fbf38149f";
        assert!(staff.text.contains(&format!("#/order/o1?token={token}")));
        let expired = order_cancelled(&order, &cancelled(CancelledBy::Expiry, Language::En), &shop);
        assert_eq!(expired.subject, "Your order K-7F3K-9QXW has been cancelled");
        assert!(expired.text.contains("did not receive a payment"));
        assert!(!expired.text.contains("Reason"), "no second reason");
        let shopper = order_cancelled(
            &order,
            &cancelled(CancelledBy::Shopper, Language::En),
            &shop,
        );
        assert!(shopper.text.contains("as you asked"));
    }
}
