//! The orders function: the read side of orders.
//!
//! `GET /orders/{id}` shows a shopper their order: lines, totals with the tax
//! breakdown, addresses and statuses. A guest opens it with the token from
//! the order's link; without the right token the order does not exist (404),
//! so ids cannot be probed.
//!
//! A signed-in customer lists their orders at `GET /me/orders` and opens one
//! at `GET /me/orders/{id}` (another customer's order is a 404 there too).
//! Staff search every order at `GET /admin/orders` and see one whole, with
//! its history, at `GET /admin/orders/{id}`.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use kontor_domain::actor::Actor;
use kontor_domain::order::{
    HistoryEntry, Order, OrderFilter, OrderLine, OrderStatus, PaymentMethod, PaymentStatus,
    ShippingStatus,
};
use kontor_domain::returns::{ReturnPolicy, ReturnStatus};
use kontor_domain::shipment::{ShipmentStatus, TrackingLinks};
use kontor_http::page::{OrderPageCursor, OrderPageQuery, Page, PageLimit};
use kontor_http::views::{money, AddressBody, NoteView, ReturnView, ShipmentView, TotalsView};
use kontor_http::{AppState, Problem, QueryParams, SignedIn, Staff};
use kontor_platform::OrderSearch;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_order))
        .routes(routes!(my_orders))
        .routes(routes!(my_order))
        .routes(routes!(admin_orders))
        .routes(routes!(admin_order))
        .routes(routes!(credit_notes))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderAccess {
    /// The guest's access token from the order's link.
    pub token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderLineView {
    /// The `line_id` that shipments and returns name.
    pub id: String,
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    /// Units that were not in stock and ship later.
    pub backordered: u32,
    pub unit_price: String,
    pub total: String,
    pub tax_rate: String,
    /// The VAT in what the line charges.
    pub tax: String,
    /// The line's share of the order's discounts.
    pub discount: String,
    /// The discount that gave this line away (a free item at 0).
    pub gift_of: Option<String>,
    /// The line's share of goodwill adjustments (signed).
    pub adjustment: String,
    /// What the line charges: its total less its discount, with its share
    /// of adjustments.
    pub charged: String,
}

impl From<&OrderLine> for OrderLineView {
    fn from(line: &OrderLine) -> Self {
        Self {
            id: line.id.to_string(),
            sku: line.sku.to_string(),
            name: line.name.clone(),
            quantity: line.quantity.get(),
            backordered: line.backordered,
            unit_price: money(line.unit_price),
            total: money(line.total),
            tax_rate: line.tax_rate.normalize().to_string(),
            tax: money(line.tax),
            discount: money(line.discount),
            gift_of: line.gift_of.clone(),
            adjustment: money(line.adjustment),
            charged: money(line.charged()),
        }
    }
}

/// An order as its shopper sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderView {
    pub id: String,
    pub number: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    pub email: String,
    pub currency: String,
    pub lines: Vec<OrderLineView>,
    #[serde(flatten)]
    pub totals: TotalsView,
    pub shipping_address: AddressBody,
    pub billing_address: AddressBody,
    #[schema(value_type = kontor_http::schemas::PaymentMethod, example = "invoice")]
    pub payment_method: PaymentMethod,
    #[schema(value_type = kontor_http::schemas::PaymentStatus, example = "pending")]
    pub payment_status: PaymentStatus,
    #[schema(value_type = kontor_http::schemas::OrderStatus, example = "open")]
    pub status: OrderStatus,
    #[schema(value_type = kontor_http::schemas::ShippingStatus, example = "not_shipped")]
    pub shipping_status: ShippingStatus,
    /// The parcels, with their items, status, history and tracking link.
    pub shipments: Vec<ShipmentView>,
    /// Whether the shopper may cancel it now (open, nothing packed yet).
    pub can_cancel: bool,
    /// The notes meant for the customer (internal ones are never here).
    pub notes: Vec<NoteView>,
    /// Returns, oldest first.
    pub returns: Vec<ReturnView>,
    /// Units of each line the customer may still send back, by line id
    /// (lines with none are left out).
    pub returnable: BTreeMap<String, u32>,
    /// What a return may give as its reason and ask for (shop settings).
    pub return_options: ReturnOptionsView,
}

/// The shop's return reasons and actions, and its window.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ReturnOptionsView {
    pub reasons: Vec<String>,
    /// `refund`, `replacement`, `exchange`.
    pub actions: Vec<String>,
    /// Days after delivery that shoppers may ask to return.
    pub window_days: u32,
}

impl From<&ReturnPolicy> for ReturnOptionsView {
    fn from(policy: &ReturnPolicy) -> Self {
        Self {
            reasons: policy.reasons.clone(),
            actions: policy
                .actions
                .iter()
                .map(|a| a.code().to_string())
                .collect(),
            window_days: policy.window_days,
        }
    }
}

impl OrderView {
    pub fn new(order: &Order, links: &TrackingLinks, returns: &ReturnPolicy) -> Self {
        let mut view = Self::from(order);
        view.return_options = ReturnOptionsView::from(returns);
        view.shipments = order
            .shipments
            .iter()
            .map(|s| ShipmentView::new(s, links))
            .collect();
        view
    }
}

impl From<&Order> for OrderView {
    fn from(order: &Order) -> Self {
        Self {
            id: order.id.to_string(),
            number: order.number.to_string(),
            created_at: order.created_at,
            email: order.email.to_string(),
            currency: order.currency.to_string(),
            lines: order.lines.iter().map(OrderLineView::from).collect(),
            totals: TotalsView::from(order),
            shipping_address: AddressBody::from(&order.shipping_address),
            billing_address: AddressBody::from(&order.billing_address),
            payment_method: order.payment_method,
            payment_status: order.payment_status,
            status: order.status,
            shipping_status: order.shipping_status,
            shipments: Vec::new(),
            can_cancel: order.shopper_may_cancel(),
            // The one place the shopper's view takes notes from: only those
            // meant for them.
            notes: order.customer_notes().map(NoteView::for_shopper).collect(),
            returns: order.returns.iter().map(ReturnView::from).collect(),
            returnable: order
                .lines
                .iter()
                .map(|l| (l.id.to_string(), order.units_returnable(&l.id)))
                .filter(|(_, units)| *units > 0 && order.status != OrderStatus::Cancelled)
                .collect(),
            return_options: ReturnOptionsView::default(),
        }
    }
}

/// The tracking link templates, read only for an order with parcels.
async fn links_for(state: &AppState, order: &Order) -> Result<TrackingLinks, Problem> {
    if order.shipments.is_empty() {
        return Ok(TrackingLinks::default());
    }
    Ok(state.tracking_links().await?)
}

/// A shopper's view of one order.
#[utoipa::path(
    get,
    path = "/orders/{id}",
    tag = "orders",
    params(("id" = String, Path, description = "The order's id"), OrderAccess),
    responses(
        (status = 200, body = OrderView),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order, or not yours to see."),
    )
)]
async fn get_order(
    State(state): State<AppState>,
    Path(id): Path<String>,
    QueryParams(access): QueryParams<OrderAccess>,
) -> Result<Json<OrderView>, Problem> {
    let not_found = || Problem::not_found("order");
    let token = access.token.ok_or_else(not_found)?;
    let order = state.order(&id).await?;
    if !order.opens_with(&token) {
        return Err(not_found());
    }
    Ok(Json(OrderView::new(
        &order,
        &links_for(&state, &order).await?,
        &state.settings.returns,
    )))
}

/// An order in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderSummaryView {
    pub id: String,
    pub number: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    pub email: String,
    /// The name on the shipping address.
    pub name: String,
    pub currency: String,
    pub total: String,
    /// Units ordered, over all lines.
    pub items: u32,
    #[schema(value_type = kontor_http::schemas::OrderStatus, example = "open")]
    pub status: OrderStatus,
    #[schema(value_type = kontor_http::schemas::PaymentStatus, example = "pending")]
    pub payment_status: PaymentStatus,
    #[schema(value_type = kontor_http::schemas::ShippingStatus, example = "not_shipped")]
    pub shipping_status: ShippingStatus,
    /// Returns still under way (not rejected, refunded or closed).
    pub open_returns: usize,
}

impl From<&Order> for OrderSummaryView {
    fn from(order: &Order) -> Self {
        Self {
            id: order.id.to_string(),
            number: order.number.to_string(),
            created_at: order.created_at,
            email: order.email.to_string(),
            name: order.shipping_address.name.to_string(),
            currency: order.currency.to_string(),
            total: money(order.totals.total),
            items: order.lines.iter().map(|l| l.quantity.get()).sum(),
            status: order.status,
            payment_status: order.payment_status,
            shipping_status: order.shipping_status,
            open_returns: order
                .returns
                .iter()
                .filter(|r| !r.status.is_final())
                .count(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HistoryView {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// `placed`, `shipment_packed`, `shipment_moved`, `tracking_sent`,
    /// `cancelled`, `payment_recorded` or `completed`.
    pub action: String,
    /// Who, for people: `guest`, `customer <id>`, `staff <e-mail>`,
    /// `carrier DHL`, `system (<reason>)`.
    pub by: String,
    /// Who, typed: `{"kind": "staff", "email": …}` and so on.
    #[schema(value_type = Object)]
    pub actor: Actor,
    pub detail: String,
}

impl From<&HistoryEntry> for HistoryView {
    fn from(entry: &HistoryEntry) -> Self {
        Self {
            at: entry.at,
            action: entry.action.code().to_string(),
            by: entry.actor.to_string(),
            actor: entry.actor.clone(),
            detail: entry.detail.clone(),
        }
    }
}

/// An order as staff see it: everything the shopper sees, and more.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdminOrderView {
    #[serde(flatten)]
    pub order: OrderView,
    /// The customer who placed it; none for a guest order.
    pub customer_id: Option<String>,
    /// Whether a guest link opens it.
    pub guest_link: bool,
    pub version: u64,
    pub history: Vec<HistoryView>,
    /// Units of each line still to pack, by line id (lines with none left
    /// are left out): what the packing form offers.
    pub left_to_pack: BTreeMap<String, u32>,
    /// The statuses each parcel may move to now, by parcel id.
    #[schema(value_type = Object)]
    pub next_statuses: BTreeMap<String, Vec<ShipmentStatus>>,
    /// Whether staff may cancel it now (open, no parcel has left).
    pub staff_can_cancel: bool,
    pub payments: Vec<PaymentView>,
    /// Every note, internal ones included, with their authors.
    pub all_notes: Vec<NoteView>,
    /// Goodwill adjustments with their reasons and authors, oldest first
    /// (`adjustments` is their sum, among the totals).
    pub adjustment_entries: Vec<AdjustmentView>,
    /// Lines removed before any unit of them was packed.
    pub removed_lines: Vec<OrderLineView>,
    /// Units of each line in parcels, by line id: a line cannot go below
    /// them, and its price changes only while it has none.
    pub packed: BTreeMap<String, u32>,
}

/// A goodwill adjustment as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdjustmentView {
    /// `A1`, `A2`, … within the order.
    pub id: String,
    /// Signed: negative lowered the total.
    pub amount: String,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// Who made it, for people.
    pub by: String,
}

/// Money received, as staff recorded it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PaymentView {
    pub amount: String,
    /// The day it arrived (`YYYY-MM-DD`).
    pub date: String,
    pub reference: String,
    /// Who recorded it, for people.
    pub by: String,
}

impl AdminOrderView {
    fn new(order: &Order, links: &TrackingLinks, returns: &ReturnPolicy) -> Self {
        Self {
            order: OrderView::new(order, links, returns),
            customer_id: order.customer_id.as_ref().map(ToString::to_string),
            guest_link: order.access_token_hash.is_some(),
            version: order.version,
            history: order.history.iter().map(HistoryView::from).collect(),
            left_to_pack: order
                .lines
                .iter()
                .map(|l| (l.id.to_string(), order.units_left_to_pack(&l.id)))
                .filter(|(_, left)| *left > 0 && order.status == OrderStatus::Open)
                .collect(),
            next_statuses: order
                .shipments
                .iter()
                .map(|s| (s.id.clone(), s.next_statuses()))
                .collect(),
            staff_can_cancel: order.staff_may_cancel(),
            payments: order
                .payments
                .iter()
                .map(|p| PaymentView {
                    amount: money(p.amount),
                    date: p.date.to_string(),
                    reference: p.reference.clone(),
                    by: p.recorded_by.to_string(),
                })
                .collect(),
            all_notes: order.notes.iter().map(NoteView::from).collect(),
            adjustment_entries: order
                .adjustments
                .iter()
                .map(|a| AdjustmentView {
                    id: a.id.clone(),
                    amount: money(a.amount),
                    reason: a.reason.clone(),
                    at: a.at,
                    by: a.author.to_string(),
                })
                .collect(),
            removed_lines: order
                .removed_lines
                .iter()
                .map(OrderLineView::from)
                .collect(),
            packed: order
                .lines
                .iter()
                .map(|l| (l.id.to_string(), order.units_packed(&l.id)))
                .collect(),
        }
    }
}

/// The signed-in customer's orders, newest first.
#[utoipa::path(
    get,
    path = "/me/orders",
    tag = "orders",
    security(("bearer" = [])),
    params(OrderPageQuery),
    responses(
        (status = 200, body = [OrderSummaryView]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn my_orders(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    RawQuery(raw): RawQuery,
    QueryParams(query): QueryParams<OrderPageQuery>,
) -> Result<Page<OrderSummaryView>, Problem> {
    let limit = query.limit.unwrap_or_default();
    let after = query.cursor.map(|cursor| cursor.0);
    let orders = state
        .store
        .customer_orders(&caller.subject, after.as_ref(), limit.fetch())
        .await?;
    Ok(Page::of(orders, limit, order_cursor, raw).map(|order| OrderSummaryView::from(&order)))
}

/// One of the signed-in customer's orders.
#[utoipa::path(
    get,
    path = "/me/orders/{id}",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 200, body = OrderView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order, or not this customer's."),
    )
)]
async fn my_order(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, Problem> {
    let order = state.order(&id).await?;
    // Another customer's order, or a guest order placed with this
    // customer's e-mail, does not exist for them.
    if order.customer_id.as_ref() != Some(&caller.subject) {
        return Err(Problem::not_found("order"));
    }
    Ok(Json(OrderView::new(
        &order,
        &links_for(&state, &order).await?,
        &state.settings.returns,
    )))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminOrderQuery {
    /// An order number, an e-mail address, or words of a name.
    pub q: Option<String>,
    #[param(value_type = Option<kontor_http::schemas::OrderStatus>, example = "open")]
    pub status: Option<OrderStatus>,
    #[param(value_type = Option<kontor_http::schemas::PaymentStatus>, example = "pending")]
    pub payment_status: Option<PaymentStatus>,
    #[param(value_type = Option<kontor_http::schemas::ShippingStatus>, example = "not_shipped")]
    pub shipping_status: Option<ShippingStatus>,
    /// Orders with a return in this status (`requested`, `approved`,
    /// `received`, …).
    #[param(value_type = Option<kontor_http::schemas::ReturnStatus>, example = "requested")]
    pub return_status: Option<ReturnStatus>,
    /// How many (1 to 200, default 50), newest first.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<PageLimit>,
    /// Where to go on: the `cursor` of the `next` link of the page before.
    #[param(value_type = Option<kontor_http::page::OrderCursorText>, inline)]
    pub cursor: Option<OrderPageCursor>,
}

/// Search every order (staff).
#[utoipa::path(
    get,
    path = "/admin/orders",
    tag = "orders",
    security(("bearer" = [])),
    params(AdminOrderQuery),
    responses(
        (status = 200, body = [OrderSummaryView]),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn admin_orders(
    State(state): State<AppState>,
    Staff(_): Staff,
    RawQuery(raw): RawQuery,
    QueryParams(query): QueryParams<AdminOrderQuery>,
) -> Result<Page<OrderSummaryView>, Problem> {
    let limit = query.limit.unwrap_or_default();
    let search = OrderSearch {
        text: query.q,
        filter: OrderFilter {
            status: query.status,
            payment_status: query.payment_status,
            shipping_status: query.shipping_status,
            return_status: query.return_status,
        },
        after: query.cursor.map(|cursor| cursor.0),
        limit: limit.fetch(),
    };
    let orders = state.store.search_orders(&search).await?;
    Ok(Page::of(orders, limit, order_cursor, raw).map(|order| OrderSummaryView::from(&order)))
}

fn order_cursor(order: &Order) -> String {
    OrderPageCursor::after(order).to_string()
}

/// One order, whole, with its history (staff).
#[utoipa::path(
    get,
    path = "/admin/orders/{id}",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 200, body = AdminOrderView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn admin_order(
    State(state): State<AppState>,
    Staff(_): Staff,
    Path(id): Path<String>,
) -> Result<Json<AdminOrderView>, Problem> {
    let order = state.order(&id).await?;
    Ok(Json(AdminOrderView::new(
        &order,
        &links_for(&state, &order).await?,
        &state.settings.returns,
    )))
}

/// A credit note in the shop's ledger.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreditNoteView {
    pub credit_note: String,
    pub order_id: String,
    pub order_number: String,
    pub return_id: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub amount: String,
    /// Paid back.
    pub money_out: String,
    /// Taken off what was due.
    pub credit: String,
    pub taxes: Vec<kontor_http::views::TaxLineView>,
}

/// The shop's credit notes (staff): every refund with its number, order,
/// money and VAT per rate — the ledger the accountant reads. A page holds
/// the notes of up to `limit` orders with a refund, newest order first,
/// its notes newest first.
#[utoipa::path(
    get,
    path = "/admin/credit-notes",
    tag = "returns",
    security(("bearer" = [])),
    params(OrderPageQuery),
    responses(
        (status = 200, body = [CreditNoteView]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn credit_notes(
    State(state): State<AppState>,
    Staff(_): Staff,
    RawQuery(raw): RawQuery,
    QueryParams(query): QueryParams<OrderPageQuery>,
) -> Result<Page<CreditNoteView>, Problem> {
    let limit = query.limit.unwrap_or_default();
    let search = OrderSearch {
        text: None,
        filter: OrderFilter {
            return_status: Some(ReturnStatus::Refunded),
            ..OrderFilter::default()
        },
        after: query.cursor.map(|cursor| cursor.0),
        limit: limit.fetch(),
    };
    let orders = state.store.search_orders(&search).await?;
    let page = Page::of(orders, limit, order_cursor, raw);
    let mut notes: Vec<CreditNoteView> = page
        .items
        .iter()
        .flat_map(|order| {
            order.returns.iter().filter_map(move |r| {
                let refund = r.refund.as_ref()?;
                Some(CreditNoteView {
                    credit_note: refund.credit_note.clone(),
                    order_id: order.id.to_string(),
                    order_number: order.number.to_string(),
                    return_id: r.id.clone(),
                    at: refund.at,
                    amount: money(refund.amount),
                    money_out: money(refund.money_out),
                    credit: money(refund.credit),
                    taxes: refund
                        .taxes
                        .iter()
                        .map(kontor_http::views::TaxLineView::from)
                        .collect(),
                })
            })
        })
        .collect();
    // Numbers are zero-padded after the year: their text sorts as they
    // were issued.
    notes.sort_by(|a, b| b.credit_note.cmp(&a.credit_note));
    Ok(page.with_items(notes))
}
