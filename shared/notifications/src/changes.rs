//! The "your order was changed" e-mail: what staff changed (items added,
//! changed or removed, a goodwill adjustment, a new address) and the totals
//! after it, in the order's language. It is only rendered for an
//! announcement staff asked for; notes have their own e-mail.

use kontor_domain::events::{ChangeItem, OrderChangeAnnounced};
use kontor_domain::order::{Address, Language};
use kontor_domain::OrderId;
use kontor_platform::OutgoingMail;

use crate::{escape, format_money, sign_off, ShopDetails};

/// The e-mail telling the customer what changed in their order.
pub fn order_changed(
    order_id: &OrderId,
    notice: &OrderChangeAnnounced,
    shop: &ShopDetails,
) -> OutgoingMail {
    let number = notice.number.as_str();
    let language = notice.language;
    let currency = notice.currency.code();
    let amount = |value| format_money(value, currency, language);
    let de = language == Language::De;
    let (subject, greeting, intro, total, due, link, closing) = if de {
        (
            format!("Deine Bestellung {number} wurde geändert"),
            "Hallo,",
            format!("wir haben deine Bestellung {number} geändert:"),
            "Neuer Gesamtbetrag",
            "Noch zu zahlen",
            "Deine Bestellung",
            "Viele Grüße",
        )
    } else {
        (
            format!("Your order {number} was changed"),
            "Hello,",
            format!("we changed your order {number}:"),
            "New total",
            "Still to pay",
            "Your order",
            "Kind regards",
        )
    };
    let lines: Vec<String> = notice
        .changes
        .iter()
        .map(|change| match change {
            ChangeItem::ItemAdded {
                name,
                quantity,
                unit_price,
            } if unit_price.is_zero() => {
                if de {
                    format!("{quantity} × {name} dazu, kostenlos")
                } else {
                    format!("{quantity} × {name} added, free of charge")
                }
            }
            ChangeItem::ItemAdded {
                name,
                quantity,
                unit_price,
            } => {
                if de {
                    format!("{quantity} × {name} dazu, je {}", amount(*unit_price))
                } else {
                    format!("{quantity} × {name} added, {} each", amount(*unit_price))
                }
            }
            ChangeItem::ItemChanged {
                name,
                quantity_before,
                quantity,
                unit_price_before,
                unit_price,
            } => {
                let mut parts = Vec::new();
                if quantity_before != quantity {
                    parts.push(if de {
                        format!("Menge {quantity_before} → {quantity}")
                    } else {
                        format!("quantity {quantity_before} → {quantity}")
                    });
                }
                if unit_price_before != unit_price {
                    parts.push(if de {
                        format!(
                            "Preis {} → {}",
                            amount(*unit_price_before),
                            amount(*unit_price)
                        )
                    } else {
                        format!(
                            "price {} → {}",
                            amount(*unit_price_before),
                            amount(*unit_price)
                        )
                    });
                }
                format!("{name}: {}", parts.join(", "))
            }
            ChangeItem::ItemRemoved { name, quantity } => {
                if de {
                    format!("{quantity} × {name} entfernt")
                } else {
                    format!("{quantity} × {name} removed")
                }
            }
            ChangeItem::Adjusted { amount: value } if value.is_sign_negative() => {
                if de {
                    format!("Gutschrift: {}", amount(-*value))
                } else {
                    format!("Credit: {}", amount(-*value))
                }
            }
            ChangeItem::Adjusted { amount: value } => {
                if de {
                    format!("Aufschlag: {}", amount(*value))
                } else {
                    format!("Surcharge: {}", amount(*value))
                }
            }
            ChangeItem::ShippingAddressChanged { address } => {
                let label = if de {
                    "Neue Lieferadresse"
                } else {
                    "New shipping address"
                };
                format!("{label}: {}", one_line(address))
            }
            ChangeItem::BillingAddressChanged { address } => {
                let label = if de {
                    "Neue Rechnungsadresse"
                } else {
                    "New billing address"
                };
                format!("{label}: {}", one_line(address))
            }
        })
        .collect();
    let mut plain = format!("{greeting}\n\n{intro}\n\n");
    let mut html = format!("<p>{greeting}</p><p>{}</p><ul>", escape(&intro));
    for line in &lines {
        plain.push_str(&format!("- {line}\n"));
        html.push_str(&format!("<li>{}</li>", escape(line)));
    }
    html.push_str("</ul>");
    let total_line = format!("{total}: {}", amount(notice.total));
    let due_line = format!("{due}: {}", amount(notice.amount_due));
    plain.push_str(&format!("\n{total_line}\n{due_line}\n"));
    html.push_str(&format!(
        "<p><strong>{}</strong><br>{}</p>",
        escape(&total_line),
        escape(&due_line)
    ));
    let order_url = shop.order_url(order_id, notice.customer_id.as_ref());
    sign_off(&mut plain, &mut html, (link, &order_url), closing, shop);
    OutgoingMail {
        to: notice.email.clone(),
        subject,
        text: plain,
        html,
        order_id: Some(order_id.clone()),
    }
}

fn one_line(address: &Address) -> String {
    format!(
        "{}, {}, {} {}, {}",
        address.name, address.street, address.postal_code, address.city, address.country
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kontor_domain::money::Currency;
    use kontor_domain::{Email, OrderNumber};
    use rust_decimal_macros::dec;

    fn notice(language: Language) -> OrderChangeAnnounced {
        OrderChangeAnnounced {
            number: OrderNumber::parse("K-7F3K-9QXW").unwrap(),
            email: Email::parse("anna@example.de").unwrap(),
            customer_id: None,
            language,
            currency: Currency::Eur,
            changes: vec![
                ChangeItem::ItemAdded {
                    name: "Gürtel <Leder>".into(),
                    quantity: 1,
                    unit_price: dec!(0.00),
                },
                ChangeItem::Adjusted {
                    amount: dec!(-10.00),
                },
            ],
            total: dec!(89.80),
            amount_due: dec!(89.80),
        }
    }

    #[test]
    fn tells_what_changed_and_the_new_total_in_the_order_language() {
        let order = OrderId::parse("o1").unwrap();
        let shop = ShopDetails::default();
        let german = order_changed(&order, &notice(Language::De), &shop);
        assert_eq!(
            german.subject,
            "Deine Bestellung K-7F3K-9QXW wurde geändert"
        );
        assert!(
            german.text.contains("1 × Gürtel <Leder> dazu, kostenlos"),
            "{}",
            german.text
        );
        assert!(german.text.contains("Gutschrift: 10,00 €"));
        assert!(german.text.contains("Neuer Gesamtbetrag: 89,80 €"));
        assert!(german.html.contains("Gürtel &lt;Leder&gt;"));
        let english = order_changed(&order, &notice(Language::En), &shop);
        assert_eq!(english.subject, "Your order K-7F3K-9QXW was changed");
        assert!(english.text.contains("Credit: €10.00"));
        assert!(english.text.contains("New total: €89.80"));
        assert!(english.text.contains(&shop.url));
    }
}
