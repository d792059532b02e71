//! The e-mail carrying a note staff wrote to the customer ("your second
//! parcel leaves on Monday"), in the order's language. Internal notes have
//! no e-mail: their event carries no text to write one from.

use kontor_domain::events::NoteAdded;
use kontor_domain::order::Language;
use kontor_domain::OrderId;
use kontor_platform::OutgoingMail;

use crate::{escape, sign_off, ShopDetails};

/// The e-mail for a note to the customer; none for an internal note.
pub fn order_note(
    order_id: &OrderId,
    note: &NoteAdded,
    shop: &ShopDetails,
) -> Option<OutgoingMail> {
    let text = note.text.as_deref().filter(|_| note.visible_to_customer)?;
    let number = note.number.as_str();
    let (subject, greeting, intro, link, closing) = match note.language {
        Language::De => (
            format!("Eine Nachricht zu deiner Bestellung {number}"),
            "Hallo,",
            format!("wir haben eine Nachricht zu deiner Bestellung {number}:"),
            "Deine Bestellung",
            "Viele Grüße",
        ),
        Language::En => (
            format!("A message about your order {number}"),
            "Hello,",
            format!("we have a message about your order {number}:"),
            "Your order",
            "Kind regards",
        ),
    };
    let mut plain = format!("{greeting}\n\n{intro}\n\n{text}\n");
    let mut html = format!(
        "<p>{greeting}</p><p>{}</p><blockquote>{}</blockquote>",
        escape(&intro),
        escape(text).replace('\n', "<br>")
    );
    let order_url = shop.order_url(order_id, note.customer_id.as_ref());
    sign_off(&mut plain, &mut html, (link, &order_url), closing, shop);
    Some(OutgoingMail {
        to: note.email.clone(),
        subject,
        text: plain,
        html,
        order_id: Some(order_id.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kontor_domain::{Email, OrderNumber};

    fn note(visible: bool, text: Option<&str>) -> NoteAdded {
        NoteAdded {
            number: OrderNumber::parse("K-7F3K-9QXW").unwrap(),
            note_id: "N1".into(),
            visible_to_customer: visible,
            text: text.map(str::to_string),
            email: Email::parse("anna@example.de").unwrap(),
            customer_id: None,
            language: Language::De,
        }
    }

    #[test]
    fn a_note_to_the_customer_is_mailed_and_an_internal_one_is_not() {
        let order = OrderId::parse("o1").unwrap();
        let shop = ShopDetails::default();
        let mail = order_note(&order, &note(true, Some("Paket 2 <kommt> Montag")), &shop).unwrap();
        assert_eq!(
            mail.subject,
            "Eine Nachricht zu deiner Bestellung K-7F3K-9QXW"
        );
        assert!(mail.text.contains("Paket 2 <kommt> Montag"));
        assert!(mail.html.contains("Paket 2 &lt;kommt&gt; Montag"));
        assert!(order_note(&order, &note(false, None), &shop).is_none());
        // Even if an internal note's event carried a text, it is not mailed.
        assert!(order_note(&order, &note(false, Some("intern")), &shop).is_none());
    }
}
