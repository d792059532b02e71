//! The e-mails of a return's way: asked for, approved (with what to do
//! next), rejected (with the shop's reason), received, and refunded (with
//! the credit note and what happens to the money). German or English, by
//! the order's language.

use kontor_domain::events::{CustomerContact, EventPayload};
use kontor_domain::order::Language;
use kontor_domain::OrderId;
use kontor_platform::OutgoingMail;

use crate::{escape, format_money, sign_off, ShopDetails};

/// The e-mail a return event asks for, if it is one.
pub fn return_mail(
    order_id: &OrderId,
    payload: &EventPayload,
    shop: &ShopDetails,
) -> Option<OutgoingMail> {
    let (contact, subject, paragraphs) = match payload {
        EventPayload::ReturnRequested(e) => {
            let de = e.customer.language == Language::De;
            let units: u32 = e.lines.iter().map(|l| l.quantity).sum();
            let items = e
                .lines
                .iter()
                .map(|l| format!("{} × {}", l.quantity, l.name))
                .collect::<Vec<_>>()
                .join(", ");
            let (subject, said) = if de {
                (
                    format!("Deine Rücksendung {} zu Bestellung {}", e.return_id, e.number),
                    format!("wir haben deine Rücksendung {} ({units} Artikel: {items}) erhalten und prüfen sie. Du hörst gleich wieder von uns.", e.return_id),
                )
            } else {
                (
                    format!("Your return {} for order {}", e.return_id, e.number),
                    format!("we have your return {} ({units} item(s): {items}) and are looking at it. You will hear from us shortly.", e.return_id),
                )
            };
            (&e.customer, subject, vec![said])
        }
        EventPayload::ReturnApproved(e) => {
            let de = e.customer.language == Language::De;
            let (subject, said) = if de {
                (
                    format!("Rücksendung {} genehmigt", e.return_id),
                    format!("deine Rücksendung {} zu Bestellung {} ist genehmigt. Bitte schick uns die Artikel und leg die Rücksendenummer {} bei.", e.return_id, e.number, e.return_id),
                )
            } else {
                (
                    format!("Return {} approved", e.return_id),
                    format!("your return {} for order {} is approved. Please send us the items with the return number {} inside.", e.return_id, e.number, e.return_id),
                )
            };
            (&e.customer, subject, vec![said])
        }
        EventPayload::ReturnRejected(e) => {
            let de = e.customer.language == Language::De;
            let reason = e.reason.clone().unwrap_or_default();
            let (subject, said, why) = if de {
                (
                    format!("Rücksendung {} abgelehnt", e.return_id),
                    format!(
                        "leider können wir deine Rücksendung {} zu Bestellung {} nicht annehmen.",
                        e.return_id, e.number
                    ),
                    format!("Grund: {reason}"),
                )
            } else {
                (
                    format!("Return {} declined", e.return_id),
                    format!(
                        "we are sorry: we cannot accept your return {} for order {}.",
                        e.return_id, e.number
                    ),
                    format!("Reason: {reason}"),
                )
            };
            (&e.customer, subject, vec![said, why])
        }
        EventPayload::ReturnReceived(e) => {
            let de = e.customer.language == Language::De;
            let units: u32 = e.lines.iter().map(|l| l.quantity).sum();
            let (subject, said) = if de {
                (
                    format!("Rücksendung {} ist angekommen", e.return_id),
                    format!("deine Rücksendung {} ({units} Artikel) ist bei uns angekommen. Wir kümmern uns jetzt um die Erstattung.", e.return_id),
                )
            } else {
                (
                    format!("Return {} arrived", e.return_id),
                    format!("your return {} ({units} item(s)) has arrived. We are now seeing to what you asked for.", e.return_id),
                )
            };
            (&e.customer, subject, vec![said])
        }
        EventPayload::RefundIssued(e) => {
            let language = e.customer.language;
            let de = language == Language::De;
            let amount = |value| format_money(value, e.currency.code(), language);
            let mut paragraphs = Vec::new();
            let vat: rust_decimal::Decimal = e.taxes.iter().map(|t| t.tax).sum();
            let subject = if de {
                paragraphs.push(format!(
                    "für deine Rücksendung {} erstatten wir dir {} inkl. {} MwSt. (Gutschrift {}).",
                    e.return_id,
                    amount(e.amount),
                    amount(vat),
                    e.credit_note
                ));
                if !e.money_out.is_zero() {
                    paragraphs.push(format!("{} zahlen wir dir zurück.", amount(e.money_out)));
                }
                if !e.credit.is_zero() {
                    paragraphs.push(format!(
                        "{} ziehen wir von deinem offenen Betrag ab; noch zu zahlen: {}.",
                        amount(e.credit),
                        amount(e.amount_due)
                    ));
                }
                format!("Erstattung zu Bestellung {} ({})", e.number, e.credit_note)
            } else {
                paragraphs.push(format!(
                    "for your return {} we refund {} including {} VAT (credit note {}).",
                    e.return_id,
                    amount(e.amount),
                    amount(vat),
                    e.credit_note
                ));
                if !e.money_out.is_zero() {
                    paragraphs.push(format!("We pay {} back to you.", amount(e.money_out)));
                }
                if !e.credit.is_zero() {
                    paragraphs.push(format!(
                        "{} comes off what you still owe; left to pay: {}.",
                        amount(e.credit),
                        amount(e.amount_due)
                    ));
                }
                format!("Refund for order {} ({})", e.number, e.credit_note)
            };
            (&e.customer, subject, paragraphs)
        }
        _ => return None,
    };
    Some(render(order_id, contact, subject, &paragraphs, shop))
}

fn render(
    order_id: &OrderId,
    contact: &CustomerContact,
    subject: String,
    paragraphs: &[String],
    shop: &ShopDetails,
) -> OutgoingMail {
    let de = contact.language == Language::De;
    let (greeting, link, closing) = if de {
        ("Hallo,", "Deine Bestellung", "Viele Grüße")
    } else {
        ("Hello,", "Your order", "Kind regards")
    };
    let mut text = format!("{greeting}\n\n");
    let mut html = format!("<p>{greeting}</p>");
    for paragraph in paragraphs {
        text.push_str(&format!("{paragraph}\n"));
        html.push_str(&format!("<p>{}</p>", escape(paragraph)));
    }
    let order_url = shop.order_url(order_id, contact.customer_id.as_ref());
    sign_off(&mut text, &mut html, (link, &order_url), closing, shop);
    OutgoingMail {
        to: contact.email.clone(),
        subject,
        text,
        html,
        order_id: Some(order_id.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kontor_domain::events::{RefundIssued, ReturnDecided};
    use kontor_domain::money::Currency;
    use kontor_domain::order::PaymentStatus;
    use kontor_domain::{Email, OrderNumber};
    use rust_decimal_macros::dec;

    fn contact(language: Language) -> CustomerContact {
        CustomerContact {
            email: Email::parse("anna@example.de").unwrap(),
            customer_id: None,
            language,
        }
    }

    #[test]
    fn a_refund_says_what_comes_back_and_what_is_credited() {
        let order = OrderId::parse("o1").unwrap();
        let refund = EventPayload::RefundIssued(RefundIssued {
            number: OrderNumber::parse("K-7F3K-9QXW").unwrap(),
            return_id: "R1".into(),
            credit_note: "CN-2026-000001".into(),
            currency: Currency::Eur,
            amount: dec!(30.00),
            money_out: dec!(25.05),
            credit: dec!(4.95),
            amount_due: dec!(0.00),
            payment_status: PaymentStatus::PartiallyRefunded,
            taxes: vec![kontor_domain::events::RefundTax {
                rate: dec!(19),
                net: dec!(25.21),
                tax: dec!(4.79),
                gross: dec!(30.00),
            }],
            customer: contact(Language::De),
        });
        let mail = return_mail(&order, &refund, &ShopDetails::default()).unwrap();
        assert_eq!(
            mail.subject,
            "Erstattung zu Bestellung K-7F3K-9QXW (CN-2026-000001)"
        );
        assert!(
            mail.text.contains("30,00 €") && mail.text.contains("25,05 € zahlen wir dir zurück")
        );
        assert!(mail.text.contains("4,95 € ziehen wir"));
    }

    #[test]
    fn a_rejection_gives_the_reason_in_english_too() {
        let order = OrderId::parse("o1").unwrap();
        let rejected = EventPayload::ReturnRejected(ReturnDecided {
            number: OrderNumber::parse("K-7F3K-9QXW").unwrap(),
            return_id: "R2".into(),
            reason: Some("worn <outside>".into()),
            customer: contact(Language::En),
        });
        let mail = return_mail(&order, &rejected, &ShopDetails::default()).unwrap();
        assert_eq!(mail.subject, "Return R2 declined");
        assert!(mail.text.contains("Reason: worn <outside>"));
        assert!(mail.html.contains("worn &lt;outside&gt;"));
    }
}
