//! The customer e-mails, rendered from events.
//!
//! Rendering is pure: an event and the shop's details in, a subject with a
//! text and an HTML part out, in the order's language (German or English).
//! The same rendering feeds SES in AWS and the mail outbox locally.

mod changes;
mod lifecycle;
mod notes;
mod parcels;
mod returns;

pub use changes::order_changed;
pub use lifecycle::order_cancelled;
pub use notes::order_note;
pub use parcels::{parcel_mail, ParcelMail};
pub use returns::return_mail;

use kontor_domain::events::{OrderPlaced, PlacedLine};
use kontor_domain::order::{Language, PaymentMethod};
use kontor_domain::{CustomerId, OrderId};
use kontor_platform::{OrderLinks, OutgoingMail};
use rust_decimal::Decimal;

/// What the e-mails say about the shop.
#[derive(Debug, Clone)]
pub struct ShopDetails {
    pub name: String,
    /// The storefront's address, for links (`https://shop.example/`).
    pub url: String,
    /// Where prepayments go.
    pub bank_account: String,
    /// The key behind guests' order links (the checkout's).
    pub links: OrderLinks,
}

impl ShopDetails {
    /// Where the customer opens the order: a guest by the link with its
    /// token, a customer in their account.
    pub fn order_url(&self, order: &OrderId, customer: Option<&CustomerId>) -> String {
        match customer {
            Some(_) => format!("{}#/account/order/{order}", self.url),
            None => format!(
                "{}#/order/{order}?token={}",
                self.url,
                self.links.guest_token(order)
            ),
        }
    }
}

impl Default for ShopDetails {
    fn default() -> Self {
        Self {
            name: "Kontor Demo Shop".into(),
            url: "http://127.0.0.1:3000/".into(),
            bank_account: "IBAN DE02 1203 0000 0000 2020 51, BIC BYLADEM1001".into(),
            links: OrderLinks::default(),
        }
    }
}

/// Words that differ between the languages.
struct Words {
    subject: &'static str,
    greeting: &'static str,
    thanks: &'static str,
    quantity_sign: &'static str,
    subtotal: &'static str,
    discounts: &'static str,
    shipping: &'static str,
    free: &'static str,
    total: &'static str,
    vat_included: &'static str,
    backordered: &'static str,
    ships_to: &'static str,
    prepayment: &'static str,
    invoice: &'static str,
    cash_on_delivery: &'static str,
    reference: &'static str,
    closing: &'static str,
    follow: &'static str,
}

const GERMAN: Words = Words {
    subject: "Deine Bestellung {number} bei {shop}",
    greeting: "Hallo {name},",
    thanks: "vielen Dank für deine Bestellung {number}. Wir haben sie erhalten und packen sie für dich.",
    quantity_sign: "×",
    subtotal: "Zwischensumme",
    discounts: "Rabatt",
    shipping: "Versand",
    free: "kostenlos",
    total: "Gesamt",
    vat_included: "Darin enthaltene MwSt.",
    backordered: "{quantity} davon sind gerade nicht auf Lager und werden nachgeliefert, sobald sie eintreffen.",
    ships_to: "Lieferadresse",
    prepayment: "Bitte überweise den Gesamtbetrag auf folgendes Konto:",
    invoice: "Du zahlst bequem per Rechnung innerhalb von 14 Tagen nach Erhalt der Ware.",
    cash_on_delivery: "Du zahlst bei Lieferung an den Zusteller.",
    reference: "Verwendungszweck",
    closing: "Viele Grüße",
    follow: "Deine Bestellung und ihre Pakete jederzeit",
};

const ENGLISH: Words = Words {
    subject: "Your order {number} at {shop}",
    greeting: "Hello {name},",
    thanks: "thank you for your order {number}. We have received it and are packing it for you.",
    quantity_sign: "×",
    subtotal: "Subtotal",
    discounts: "Discount",
    shipping: "Shipping",
    free: "free",
    total: "Total",
    vat_included: "VAT included",
    backordered:
        "{quantity} of these are not in stock right now and will follow as soon as they arrive.",
    ships_to: "Shipping to",
    prepayment: "Please transfer the total to this account:",
    invoice: "You pay by invoice within 14 days of receiving the goods.",
    cash_on_delivery: "You pay the courier on delivery.",
    reference: "Reference",
    closing: "Kind regards",
    follow: "Your order and its parcels, any time",
};

fn words(language: Language) -> &'static Words {
    match language {
        Language::De => &GERMAN,
        Language::En => &ENGLISH,
    }
}

/// An amount as shoppers read it: `59,90 €` in German, `€59.90` in English.
pub fn format_money(amount: Decimal, currency: &str, language: Language) -> String {
    let symbol = if currency == "EUR" { "€" } else { currency };
    let mut fixed = amount.round_dp(2);
    fixed.rescale(2);
    match language {
        Language::De => format!("{} {symbol}", fixed.to_string().replace('.', ",")),
        Language::En => format!("{symbol}{fixed}"),
    }
}

/// Ends an e-mail: the link to the order, the closing and the shop.
fn sign_off(
    text: &mut String,
    html: &mut String,
    (label, order_url): (&str, &str),
    closing: &str,
    shop: &ShopDetails,
) {
    text.push_str(&format!("\n{label}: {order_url}\n"));
    html.push_str(&format!(
        "<p><a href=\"{}\">{}</a></p>",
        escape(order_url),
        escape(label)
    ));
    text.push_str(&format!("\n{closing}\n{}\n{}\n", shop.name, shop.url));
    html.push_str(&format!(
        "<p>{}<br>{}<br><a href=\"{}\">{}</a></p>",
        escape(closing),
        escape(&shop.name),
        escape(&shop.url),
        escape(&shop.url)
    ));
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The order confirmation for a placed order.
pub fn order_confirmation(
    order_id: &OrderId,
    order: &OrderPlaced,
    shop: &ShopDetails,
) -> OutgoingMail {
    let w = words(order.language);
    let currency = order.currency.code();
    let money = |amount: Decimal| format_money(amount, currency, order.language);
    let fill = |template: &str| {
        template
            .replace("{number}", order.number.as_str())
            .replace("{shop}", &shop.name)
            .replace("{name}", order.shipping_address.name.as_str())
    };
    let line_text = |line: &PlacedLine| {
        let mut text = format!(
            "{} {} {}  {}",
            line.quantity,
            w.quantity_sign,
            line.name,
            money(line.total)
        );
        if line.backordered > 0 {
            text.push_str(&format!(
                "\n    {}",
                w.backordered
                    .replace("{quantity}", &line.backordered.to_string())
            ));
        }
        text
    };
    let shipping = if order.shipping.is_zero() {
        w.free.to_string()
    } else {
        money(order.shipping)
    };
    let payment = match order.payment_method {
        PaymentMethod::Prepayment => format!(
            "{}\n{}\n{}: {}",
            w.prepayment, shop.bank_account, w.reference, order.number
        ),
        PaymentMethod::Invoice => w.invoice.to_string(),
        PaymentMethod::CashOnDelivery => w.cash_on_delivery.to_string(),
    };
    let address = &order.shipping_address;
    let address_lines = [
        address.name.as_str(),
        address.street.as_str(),
        &format!("{} {}", address.postal_code, address.city),
        address.country.as_str(),
    ]
    .join("\n");

    let order_url = shop.order_url(order_id, order.customer_id.as_ref());
    // Discounts show as a row of their own, only when there are any.
    let discount_text = if order.discounts.is_zero() {
        String::new()
    } else {
        format!("{}: -{}\n", w.discounts, money(order.discounts))
    };
    let discount_row = if order.discounts.is_zero() {
        String::new()
    } else {
        format!(
            "<tr><td>{}</td><td style=\"text-align:right\">-{}</td></tr>",
            w.discounts,
            escape(&money(order.discounts))
        )
    };
    let text = format!(
        "{greeting}\n\n{thanks}\n\n{lines}\n\n{subtotal_label}: {subtotal}\n{discount_text}{shipping_label}: {shipping}\n{total_label}: {total}\n{vat_label}: {tax}\n\n{payment}\n\n{ships_to}:\n{address_lines}\n\n{follow}: {order_url}\n\n{closing}\n{shop}\n{url}\n",
        follow = w.follow,
        order_url = order_url,
        greeting = fill(w.greeting),
        thanks = fill(w.thanks),
        lines = order.lines.iter().map(line_text).collect::<Vec<_>>().join("\n"),
        subtotal_label = w.subtotal,
        subtotal = money(order.subtotal),
        discount_text = discount_text,
        shipping_label = w.shipping,
        total_label = w.total,
        total = money(order.total),
        vat_label = w.vat_included,
        tax = money(order.tax),
        ships_to = w.ships_to,
        closing = w.closing,
        shop = shop.name,
        url = shop.url,
    );

    let rows: String = order
        .lines
        .iter()
        .map(|line| {
            let note = if line.backordered > 0 {
                format!(
                    "<br><small>{}</small>",
                    escape(
                        &w.backordered
                            .replace("{quantity}", &line.backordered.to_string())
                    )
                )
            } else {
                String::new()
            };
            format!(
                "<tr><td>{} {} {}{note}</td><td style=\"text-align:right\">{}</td></tr>",
                line.quantity,
                w.quantity_sign,
                escape(&line.name),
                escape(&money(line.total))
            )
        })
        .collect();
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><body style=\"font-family:sans-serif;color:#1f1d1a\">\
         <p>{greeting}</p><p>{thanks}</p>\
         <table style=\"border-collapse:collapse;min-width:320px\">{rows}\
         <tr><td>{subtotal_label}</td><td style=\"text-align:right\">{subtotal}</td></tr>{discount_row}\
         <tr><td>{shipping_label}</td><td style=\"text-align:right\">{shipping}</td></tr>\
         <tr><td><strong>{total_label}</strong></td><td style=\"text-align:right\"><strong>{total}</strong></td></tr>\
         <tr><td><small>{vat_label}</small></td><td style=\"text-align:right\"><small>{tax}</small></td></tr></table>\
         <p>{payment}</p><p><strong>{ships_to}</strong><br>{address}</p>\
         <p><a href=\"{order_url}\">{follow}</a></p>\
         <p>{closing}<br>{shop}<br><a href=\"{url}\">{url}</a></p></body></html>",
        lang = match order.language {
            Language::De => "de",
            Language::En => "en",
        },
        greeting = escape(&fill(w.greeting)),
        thanks = escape(&fill(w.thanks)),
        subtotal_label = w.subtotal,
        subtotal = escape(&money(order.subtotal)),
        discount_row = discount_row,
        shipping_label = w.shipping,
        shipping = escape(&shipping),
        total_label = w.total,
        total = escape(&money(order.total)),
        vat_label = w.vat_included,
        tax = escape(&money(order.tax)),
        payment = escape(&payment).replace('\n', "<br>"),
        ships_to = w.ships_to,
        address = escape(&address_lines).replace('\n', "<br>"),
        follow = w.follow,
        order_url = escape(&order_url),
        closing = w.closing,
        shop = escape(&shop.name),
        url = escape(&shop.url),
    );

    OutgoingMail {
        to: order.email.clone(),
        subject: fill(w.subject),
        text,
        html,
        order_id: Some(order_id.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_as_each_language_writes_it() {
        let cases = [
            ("59.9", Language::De, "59,90 €"),
            ("59.9", Language::En, "€59.90"),
            ("0", Language::De, "0,00 €"),
            ("1234.5", Language::En, "€1234.50"),
        ];
        for (amount, language, expected) in cases {
            assert_eq!(
                format_money(amount.parse().unwrap(), "EUR", language),
                expected
            );
        }
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<b>\"Tom & Jerry\"</b>"),
            "&lt;b&gt;&quot;Tom &amp; Jerry&quot;&lt;/b&gt;"
        );
    }
}
