//! The JSON shapes that more than one function sends or accepts.
//!
//! Money goes over the wire as a decimal string (`"19.99"`) with the currency
//! beside it, never as a float.

use kontor_domain::money::Money;
use kontor_domain::order::{Address, Note};
use kontor_domain::pricing::TaxLine;
use kontor_domain::product::Product;
use kontor_domain::shipment::{Carrier, Shipment, ShipmentStatus, TrackingLinks};
use kontor_domain::tax::TaxClass;
use kontor_domain::{CountryCode, TextLine};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A line of a cart, as the cart page and the checkout send it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CartLineBody {
    #[schema(value_type = crate::schemas::Sku)]
    pub sku: kontor_domain::Sku,
    /// 1 to 999.
    #[schema(value_type = crate::schemas::Quantity)]
    pub quantity: kontor_domain::Quantity,
}

impl From<&CartLineBody> for kontor_domain::order::CartLine {
    fn from(line: &CartLineBody) -> Self {
        Self {
            sku: line.sku.clone(),
            quantity: line.quantity,
            unit_price: None,
        }
    }
}

/// A coupon code as a shopper typed it: none when left empty, a 422
/// naming `coupon` when it cannot be a code.
pub fn coupon_code(
    typed: Option<&str>,
) -> Result<Option<kontor_domain::rules::CouponCode>, crate::Problem> {
    typed
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            kontor_domain::rules::CouponCode::parse(c)
                .map_err(|e| crate::Problem::invalid_field("coupon", e.0))
        })
        .transpose()
}

/// An amount as a decimal string in the currency's minor unit.
pub fn money(amount: Money) -> String {
    amount.rounded().amount().to_string()
}

/// A product as the catalog shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProductView {
    #[schema(example = "TR-CHINO-BEIGE")]
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    /// Gross unit price, VAT included.
    #[schema(example = "59.90")]
    pub price: String,
    #[schema(example = "EUR")]
    pub currency: String,
    #[schema(value_type = String, example = "standard")]
    pub tax_class: TaxClass,
    pub stock: u32,
    pub allow_backorder: bool,
    /// Whether it can be ordered now (in stock, or backorders allowed).
    pub available: bool,
    pub cross_sell: Vec<String>,
    pub checkout_sell: Vec<String>,
    pub image: Option<String>,
}

impl From<&Product> for ProductView {
    fn from(product: &Product) -> Self {
        Self {
            sku: product.sku.to_string(),
            name: product.name.clone(),
            description: product.description.clone(),
            category: product.category.clone(),
            price: money(product.price),
            currency: product.price.currency().to_string(),
            tax_class: product.tax_class,
            stock: product.stock,
            allow_backorder: product.allow_backorder,
            available: product.stock > 0 || product.allow_backorder,
            cross_sell: product.cross_sell.iter().map(ToString::to_string).collect(),
            checkout_sell: product
                .checkout_sell
                .iter()
                .map(ToString::to_string)
                .collect(),
            image: product.image.clone(),
        }
    }
}

/// A postal address. Every text field has 1 to 200 characters; `country`
/// is an ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AddressBody {
    #[schema(value_type = crate::schemas::TextLine, example = "Anna Muster")]
    pub name: TextLine,
    #[schema(value_type = crate::schemas::TextLine, example = "Hauptstraße 1")]
    pub street: TextLine,
    #[schema(value_type = crate::schemas::TextLine, example = "10115")]
    pub postal_code: TextLine,
    #[schema(value_type = crate::schemas::TextLine, example = "Berlin")]
    pub city: TextLine,
    #[schema(value_type = crate::schemas::CountryCode, example = "DE")]
    pub country: CountryCode,
}

impl From<AddressBody> for Address {
    fn from(body: AddressBody) -> Self {
        Address {
            name: body.name,
            street: body.street,
            postal_code: body.postal_code,
            city: body.city,
            country: body.country,
        }
    }
}

impl From<&Address> for AddressBody {
    fn from(address: &Address) -> Self {
        AddressBody {
            name: address.name.clone(),
            street: address.street.clone(),
            postal_code: address.postal_code.clone(),
            city: address.city.clone(),
            country: address.country.clone(),
        }
    }
}

/// An order's money as everyone sees it: the goods, shipping, goodwill
/// adjustments, the VAT per rate, the total, what was paid and what is due.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotalsView {
    /// The goods, before discounts and adjustments.
    pub subtotal: String,
    /// The discounts the checkout gave (what each took off).
    pub discounts: Vec<OrderDiscountView>,
    /// The discounts together, on goods and shipping (`0.00` when none).
    pub discount_total: String,
    /// Shipping, before discounts and adjustments.
    pub shipping: String,
    /// Goodwill adjustments together (signed; `0.00` when there are none).
    pub adjustments: String,
    pub tax: String,
    pub taxes: Vec<TaxLineView>,
    pub total: String,
    /// Received so far.
    pub paid: String,
    /// Still to pay.
    pub amount_due: String,
    /// Taken off what was due by returns.
    pub credits: String,
    /// Paid back for returns.
    pub refunded: String,
}

impl From<&kontor_domain::order::Order> for TotalsView {
    fn from(order: &kontor_domain::order::Order) -> Self {
        Self {
            subtotal: money(order.totals.subtotal),
            discounts: order
                .discounts
                .iter()
                .map(|d| OrderDiscountView {
                    id: d.id.clone(),
                    name: d.name.clone(),
                    kind: d.kind.clone(),
                    coupon: d.coupon.clone(),
                    amount: money(d.amount),
                })
                .collect(),
            discount_total: money(order.totals.discounts),
            shipping: money(order.totals.shipping),
            adjustments: money(order.totals.adjustments),
            tax: money(order.totals.tax),
            taxes: order.totals.taxes.iter().map(TaxLineView::from).collect(),
            total: money(order.totals.total),
            paid: money(order.paid()),
            amount_due: money(order.amount_due()),
            credits: money(order.credits()),
            refunded: money(order.refunded_out()),
        }
    }
}

/// A discount an order got at checkout.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderDiscountView {
    pub id: String,
    pub name: String,
    /// `percent`, `fixed`, `free_shipping` or `free_item`.
    pub kind: String,
    pub coupon: Option<String>,
    /// What it took off (`0.00` for a free item).
    pub amount: String,
}

/// One row of a tax breakdown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaxLineView {
    /// The VAT rate in percent.
    #[schema(example = "19")]
    pub rate: String,
    pub net: String,
    pub tax: String,
    pub gross: String,
}

impl From<&TaxLine> for TaxLineView {
    fn from(line: &TaxLine) -> Self {
        Self {
            rate: line.rate.normalize().to_string(),
            net: money(line.net),
            tax: money(line.tax),
            gross: money(line.gross),
        }
    }
}

/// A parcel as shoppers and staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShipmentView {
    /// `S1`, `S2`, … within the order.
    pub id: String,
    #[schema(value_type = crate::schemas::Carrier, example = "dhl")]
    pub carrier: Carrier,
    /// The carrier's name for people (`DHL`).
    pub carrier_name: String,
    pub tracking_number: Option<String>,
    /// Where the customer follows the parcel, from the carrier's template.
    pub tracking_url: Option<String>,
    #[schema(value_type = crate::schemas::ShipmentStatus, example = "in_transit")]
    pub status: ShipmentStatus,
    pub items: Vec<ShipmentItemView>,
    pub history: Vec<ShipmentStepView>,
    /// Where it went, when the order's shipping address changed after it
    /// had left (none: the order's shipping address).
    pub ship_to: Option<AddressBody>,
    /// Returned to sender and taken back in by staff.
    pub received_back: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShipmentItemView {
    pub line_id: String,
    pub sku: String,
    pub name: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShipmentStepView {
    #[schema(value_type = crate::schemas::ShipmentStatus, example = "shipped")]
    pub status: ShipmentStatus,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: time::OffsetDateTime,
    pub location: Option<String>,
    /// `staff`, or the carrier's name.
    pub by: String,
    /// What a carrier or tracking service said that is none of Kontor's
    /// statuses (`AfterShip Exception · Exception_004 · Delayed (Customs
    /// clearance)`); the step keeps the parcel's status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported: Option<String>,
}

impl ShipmentView {
    pub fn new(shipment: &Shipment, links: &TrackingLinks) -> Self {
        Self {
            id: shipment.id.clone(),
            carrier: shipment.carrier,
            carrier_name: shipment.carrier.display_name().to_string(),
            tracking_number: shipment.tracking_number.as_ref().map(ToString::to_string),
            tracking_url: shipment
                .tracking_number
                .as_ref()
                .and_then(|n| links.link(shipment.carrier, n)),
            status: shipment.status,
            items: shipment
                .items
                .iter()
                .map(|i| ShipmentItemView {
                    line_id: i.line_id.to_string(),
                    sku: i.sku.to_string(),
                    name: i.name.clone(),
                    quantity: i.quantity.get(),
                })
                .collect(),
            history: shipment
                .history
                .iter()
                .map(|s| ShipmentStepView {
                    status: s.status,
                    at: s.at,
                    location: s.location.clone(),
                    // Shoppers see who moved a parcel, not which staff member.
                    by: s.actor.shopper_label(),
                    reported: s.reported.clone(),
                })
                .collect(),
            ship_to: shipment.ship_to.as_ref().map(AddressBody::from),
            received_back: shipment.received_back,
        }
    }
}

/// A note on an order. Shoppers get only the notes meant for them
/// (`Order::customer_notes`), and never the author.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NoteView {
    /// `N1`, `N2`, … within the order.
    pub id: String,
    pub text: String,
    pub visible_to_customer: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: time::OffsetDateTime,
    /// Who wrote it, for staff (`staff lena@…`); shoppers see "staff".
    pub by: String,
}

impl From<&Note> for NoteView {
    fn from(note: &Note) -> Self {
        Self {
            id: note.id.clone(),
            text: note.text.to_string(),
            visible_to_customer: note.visible_to_customer,
            at: note.at,
            by: note.author.to_string(),
        }
    }
}

impl NoteView {
    /// The note as its shopper sees it.
    pub fn for_shopper(note: &Note) -> Self {
        Self {
            by: note.author.shopper_label(),
            ..Self::from(note)
        }
    }
}

/// A return as shoppers and staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReturnView {
    /// `R1`, `R2`, … within the order: the customer quotes it with the
    /// order number.
    pub id: String,
    /// `requested`, `approved`, `rejected`, `received`, `refunded`, `closed`.
    pub status: String,
    /// `refund`, `replacement` or `exchange`.
    pub requested_action: String,
    pub lines: Vec<ReturnLineView>,
    pub comment: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub requested_at: time::OffsetDateTime,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
    /// What arrived, once received.
    pub received: Vec<ReceivedLineView>,
    pub refund: Option<RefundView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReturnLineView {
    pub line_id: String,
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReceivedLineView {
    pub line_id: String,
    pub quantity: u32,
    pub restocked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefundView {
    pub credit_note: String,
    pub amount: String,
    /// Paid back.
    pub money_out: String,
    /// Taken off what was due.
    pub credit: String,
    /// The part of `amount` that is shipping.
    pub shipping: String,
    /// The VAT in `amount`, per rate.
    pub taxes: Vec<TaxLineView>,
}

impl From<&kontor_domain::returns::Return> for ReturnView {
    fn from(found: &kontor_domain::returns::Return) -> Self {
        Self {
            id: found.id.clone(),
            status: found.status.code().to_string(),
            requested_action: found.requested_action.code().to_string(),
            lines: found
                .lines
                .iter()
                .map(|l| ReturnLineView {
                    line_id: l.line_id.to_string(),
                    sku: l.sku.to_string(),
                    name: l.name.clone(),
                    quantity: l.quantity.get(),
                    reason: l.reason.clone(),
                })
                .collect(),
            comment: found.comment.clone(),
            requested_at: found.requested_at,
            rejection_reason: found.rejection_reason.clone(),
            received: found
                .received
                .iter()
                .map(|l| ReceivedLineView {
                    line_id: l.line_id.to_string(),
                    quantity: l.quantity,
                    restocked: l.restocked,
                })
                .collect(),
            refund: found.refund.as_ref().map(|r| RefundView {
                credit_note: r.credit_note.clone(),
                amount: money(r.amount),
                money_out: money(r.money_out),
                credit: money(r.credit),
                shipping: money(r.shipping),
                taxes: r.taxes.iter().map(TaxLineView::from).collect(),
            }),
        }
    }
}
