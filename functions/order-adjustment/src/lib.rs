//! The order-adjustment function: staff change placed orders after the
//! fact, as a shop's order desk does every day.
//!
//! - `POST /admin/orders/{id}/notes`: a note for colleagues (internal, the
//!   default: never shown to the shopper, never in a shopper's e-mail or
//!   an event's text) or for the customer (on the order page, e-mailed).
//! - `POST /admin/orders/{id}/lines`: a new line — a gift at 0 from
//!   leftover stock, or at a price — taking stock now or backordered.
//! - `PATCH` and `DELETE /admin/orders/{id}/lines/{line_id}`: change or
//!   remove what is not packed of a line; freed units go back to stock.
//! - `POST /admin/orders/{id}/adjustments`: a goodwill adjustment, split
//!   over the order's tax rates and spread over its lines.
//! - `PUT /admin/orders/{id}/addresses`: new shipping or billing address.
//! - `POST /admin/orders`: an order taken on the phone, once per
//!   `Idempotency-Key`, by the checkout's own placer (same stock rules),
//!   for the registered customer with that e-mail or else as a guest order.
//!
//! Every change is an order command through the order writer, answered
//! with the totals it produces; `?dry_run=true` answers the same without
//! writing (the forms' previews). `notify_customer` sends the customer one
//! "your order was changed" e-mail.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kontor_domain::command::OrderCommand;
use kontor_domain::order::Order;
use kontor_domain::order::{CartLine, CheckoutDetails, Language, PaymentMethod};
use kontor_domain::Email;
use kontor_domain::{LineId, NoteText, Quantity, Sku};
use kontor_http::order_placer::CheckoutResponse;
use kontor_http::views::{AddressBody, NoteView, TotalsView};
use kontor_http::{
    AppState, Expect, IdempotencyKey, JsonBody, NewOrder, Owner, Preview, Problem, QueryParams,
    Staff,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_note))
        .routes(routes!(add_line))
        .routes(routes!(change_line, remove_line))
        .routes(routes!(adjust))
        .routes(routes!(change_addresses))
        .routes(routes!(phone_order))
}

/// An order after an edit (or, for a dry run, as the edit would leave it).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EditAnswer {
    pub order_id: String,
    /// The order's version after the edit (for a dry run: what it would be).
    pub version: u64,
    /// Whether this is only a preview: nothing was written.
    pub dry_run: bool,
    /// The line added, for a new line.
    pub line_id: Option<String>,
    #[serde(flatten)]
    pub totals: TotalsView,
}

impl EditAnswer {
    fn new(order: &Order, dry_run: bool) -> Self {
        Self {
            order_id: order.id.to_string(),
            version: order.version,
            dry_run,
            line_id: None,
            totals: TotalsView::from(order),
        }
    }
}

fn created_or_previewed(dry_run: bool) -> StatusCode {
    if dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLineBody {
    #[schema(value_type = kontor_http::schemas::Sku, example = "BE-LEATHER-BROWN")]
    pub sku: Sku,
    /// 1 to 999 units.
    #[schema(value_type = kontor_http::schemas::Quantity, example = 1)]
    pub quantity: Quantity,
    /// The gross unit price staff sell at, as a decimal string ("0" for a
    /// gift); the product's price when left out.
    #[schema(value_type = Option<kontor_http::schemas::AmountOrEmpty>, example = "0")]
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub unit_price: Option<Decimal>,
    /// Why, for the history (at most 200 characters).
    pub reason: Option<String>,
    /// E-mail the customer what changed and the new totals.
    #[serde(default)]
    pub notify_customer: bool,
    /// The order's version the line was added on (from the order); a newer
    /// one is a 409.
    pub version: u64,
}

/// Add a line to a placed order (staff): always a new line, at the
/// product's price or the staff's own (0 for a gift), taking its stock now
/// or backordered when the product allows it.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/lines",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id"), Preview),
    request_body = NewLineBody,
    responses(
        (status = 201, body = EditAnswer),
        (status = 200, body = EditAnswer, description = "A dry run: what the line would make of the order."),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Not in stock and no backorders (`sku`, `available`), the order is closed (`order_status`), or it changed since `version` (`current_version`)."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "An unknown `sku`, a `quantity` outside 1–999, a negative or fractional-cent `unit_price`, a `reason` over 200 characters."),
    )
)]
async fn add_line(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    QueryParams(preview): QueryParams<Preview>,
    body: JsonBody<NewLineBody>,
) -> Result<(StatusCode, Json<EditAnswer>), Problem> {
    let id = state.order_id(&id)?;
    let body = body.value;
    let unit_price = body
        .unit_price
        .map(|p| state.typed_amount("unit_price", p))
        .transpose()?;
    let command = OrderCommand::AddLine {
        sku: body.sku,
        quantity: body.quantity,
        unit_price,
        reason: body.reason,
        notify_customer: body.notify_customer,
    };
    let order = state
        .edit_order(
            &id,
            &staff.staff_actor(),
            &command,
            body.version,
            preview.dry_run,
        )
        .await?;
    let mut answer = EditAnswer::new(&order, preview.dry_run);
    answer.line_id = order.lines.last().map(|l| l.id.to_string());
    Ok((created_or_previewed(preview.dry_run), Json(answer)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineChangeBody {
    /// The new quantity, 1 to 999, never below the units packed.
    #[schema(value_type = Option<kontor_http::schemas::Quantity>, example = 1)]
    pub quantity: Option<Quantity>,
    /// The new gross unit price (only while nothing of the line is packed).
    #[schema(value_type = Option<kontor_http::schemas::AmountOrEmpty>, example = "39.90")]
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub unit_price: Option<Decimal>,
    /// E-mail the customer what changed and the new totals.
    #[serde(default)]
    pub notify_customer: bool,
    /// The order's version the change was decided on.
    pub version: u64,
}

/// Change what is not packed of a line (staff): its quantity, or its unit
/// price while nothing of it is packed. Freed units go back to stock, more
/// units are taken from it, in the same write.
#[utoipa::path(
    patch,
    path = "/admin/orders/{id}/lines/{line_id}",
    tag = "orders",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The order's id"),
        ("line_id" = String, Path, description = "The line's id (`L1`, …)"),
        Preview,
    ),
    request_body = LineChangeBody,
    responses(
        (status = 200, body = EditAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order, or no such line."),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The units are packed (`packed`), not in stock (`sku`, `available`), nothing changes, the order is closed, or it changed since `version`."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A `quantity` outside 1–999, a negative or fractional-cent `unit_price`, or a change that would take the total below zero (`amount`)."),
    )
)]
async fn change_line(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path((id, line_id)): Path<(String, String)>,
    QueryParams(preview): QueryParams<Preview>,
    body: JsonBody<LineChangeBody>,
) -> Result<Json<EditAnswer>, Problem> {
    let id = state.order_id(&id)?;
    let line_id = LineId::parse(&line_id).map_err(|_| Problem::not_found("line"))?;
    let body = body.value;
    let unit_price = body
        .unit_price
        .map(|p| state.typed_amount("unit_price", p))
        .transpose()?;
    let command = OrderCommand::ChangeLine {
        line_id,
        quantity: body.quantity,
        unit_price,
        notify_customer: body.notify_customer,
    };
    let order = state
        .edit_order(
            &id,
            &staff.staff_actor(),
            &command,
            body.version,
            preview.dry_run,
        )
        .await?;
    Ok(Json(EditAnswer::new(&order, preview.dry_run)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemoveLineQuery {
    /// The order's version the removal was decided on.
    pub version: u64,
    /// E-mail the customer what changed and the new totals.
    #[serde(default)]
    pub notify_customer: bool,
    /// Answer what the removal would produce without making it.
    #[serde(default)]
    pub dry_run: bool,
}

/// Remove what is not packed of a line (staff): the whole line while
/// nothing of it is packed. Its units go back to stock in the same write.
#[utoipa::path(
    delete,
    path = "/admin/orders/{id}/lines/{line_id}",
    tag = "orders",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The order's id"),
        ("line_id" = String, Path, description = "The line's id (`L1`, …)"),
        RemoveLineQuery,
    ),
    responses(
        (status = 200, body = EditAnswer),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "No `version`."),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such order, or no such line."),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Every unit is packed (`packed`), the order is closed, or it changed since `version`."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "The removal would take the total below zero (`amount`)."),
    )
)]
async fn remove_line(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path((id, line_id)): Path<(String, String)>,
    QueryParams(query): QueryParams<RemoveLineQuery>,
) -> Result<Json<EditAnswer>, Problem> {
    let id = state.order_id(&id)?;
    let line_id = LineId::parse(&line_id).map_err(|_| Problem::not_found("line"))?;
    let command = OrderCommand::RemoveLine {
        line_id,
        notify_customer: query.notify_customer,
    };
    let order = state
        .edit_order(
            &id,
            &staff.staff_actor(),
            &command,
            query.version,
            query.dry_run,
        )
        .await?;
    Ok(Json(EditAnswer::new(&order, query.dry_run)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentBody {
    /// A signed gross amount as a decimal string: negative lowers the
    /// total ("-10.00"), positive raises it.
    #[schema(value_type = kontor_http::schemas::Amount, example = "-10.00")]
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Why, for staff (1 to 200 characters; never shown to the customer).
    #[schema(example = "Parcel arrived late")]
    pub reason: String,
    /// E-mail the customer the adjustment and the new totals.
    #[serde(default)]
    pub notify_customer: bool,
    /// The order's version the adjustment was decided on.
    pub version: u64,
}

/// Make a goodwill adjustment (staff): a signed gross amount, split over
/// the order's VAT rates in proportion to what it charges at each (shipping
/// included) and kept as its own entry with its author and reason. The
/// total never goes below zero.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/adjustments",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id"), Preview),
    request_body = AdjustmentBody,
    responses(
        (status = 201, body = EditAnswer),
        (status = 200, body = EditAnswer, description = "A dry run: what the adjustment would make of the order."),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The order charges nothing to adjust, it is closed, or it changed since `version`."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A zero or fractional-cent `amount`, one that would take the total below zero (`amount`, `total`), an empty or overlong `reason`."),
    )
)]
async fn adjust(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    QueryParams(preview): QueryParams<Preview>,
    body: JsonBody<AdjustmentBody>,
) -> Result<(StatusCode, Json<EditAnswer>), Problem> {
    let id = state.order_id(&id)?;
    let body = body.value;
    let command = OrderCommand::Adjust {
        amount: state.typed_amount("amount", body.amount)?,
        reason: body.reason,
        notify_customer: body.notify_customer,
    };
    let order = state
        .edit_order(
            &id,
            &staff.staff_actor(),
            &command,
            body.version,
            preview.dry_run,
        )
        .await?;
    Ok((
        created_or_previewed(preview.dry_run),
        Json(EditAnswer::new(&order, preview.dry_run)),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressesBody {
    /// The new shipping address: for the parcels that have not left yet.
    pub shipping_address: Option<AddressBody>,
    pub billing_address: Option<AddressBody>,
    /// E-mail the customer the new address.
    #[serde(default)]
    pub notify_customer: bool,
    /// The order's version the change was decided on.
    pub version: u64,
}

/// Change the order's addresses (staff). Parcels that have left keep the
/// address they went to; the history keeps before and after.
#[utoipa::path(
    put,
    path = "/admin/orders/{id}/addresses",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id"), Preview),
    request_body = AddressesBody,
    responses(
        (status = 200, body = EditAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Nothing changes, the order is closed, or it changed since `version`."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A field of an address is empty or too long, or its `country` is not an ISO 3166-1 code (`shipping_address.country`)."),
    )
)]
async fn change_addresses(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    QueryParams(preview): QueryParams<Preview>,
    body: JsonBody<AddressesBody>,
) -> Result<Json<EditAnswer>, Problem> {
    let id = state.order_id(&id)?;
    let body = body.value;
    let command = OrderCommand::ChangeAddresses {
        shipping_address: body.shipping_address.map(Into::into),
        billing_address: body.billing_address.map(Into::into),
        notify_customer: body.notify_customer,
    };
    let order = state
        .edit_order(
            &id,
            &staff.staff_actor(),
            &command,
            body.version,
            preview.dry_run,
        )
        .await?;
    Ok(Json(EditAnswer::new(&order, preview.dry_run)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// 1 to 5,000 characters; line breaks allowed.
    #[schema(value_type = kontor_http::schemas::NoteText, example = "Customer called: wants it before Friday.")]
    pub text: NoteText,
    /// Show it on the shopper's order page and e-mail it (default: an
    /// internal note, for staff only).
    #[serde(default)]
    pub visible_to_customer: bool,
    /// The order's version the note was written on; a newer one is a 409.
    pub version: Option<u64>,
}

/// The note as written, and the order's version after it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NoteAnswer {
    pub order_id: String,
    pub version: u64,
    pub note: NoteView,
}

/// Write a note on an order (staff).
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/notes",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id")),
    request_body = NoteBody,
    responses(
        (status = 201, body = NoteAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The order is closed (`order_status`), or it changed since `version` (`current_version`)."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "An empty text, one over 5,000 characters, or one with control characters (`text`)."),
    )
)]
async fn add_note(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    body: JsonBody<NoteBody>,
) -> Result<(StatusCode, Json<NoteAnswer>), Problem> {
    let id = state.order_id(&id)?;
    let body = body.value;
    let command = OrderCommand::AddNote {
        text: body.text,
        visible_to_customer: body.visible_to_customer,
    };
    let expect = Expect {
        version: body.version,
        visible: None,
    };
    let changed = state
        .change_order_if(&id, &staff.staff_actor(), &command, expect)
        .await?;
    let order = changed.order;
    let note = order
        .notes
        .last()
        .map(NoteView::from)
        .ok_or_else(|| Problem::not_found("note"))?;
    Ok((
        StatusCode::CREATED,
        Json(NoteAnswer {
            order_id: order.id.to_string(),
            version: order.version,
            note,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneLineBody {
    #[schema(value_type = kontor_http::schemas::Sku, example = "TR-CHINO-BEIGE")]
    pub sku: Sku,
    /// 1 to 999.
    #[schema(value_type = kontor_http::schemas::Quantity, example = 1)]
    pub quantity: Quantity,
    /// Staff's gross unit price ("0" for a gift); the catalog's when left
    /// out. Lines of one sku at different prices stay apart.
    #[schema(value_type = Option<kontor_http::schemas::AmountOrEmpty>, example = "49.00")]
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub unit_price: Option<Decimal>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneOrderBody {
    /// The customer's e-mail: the order is theirs when a customer record
    /// has it, else a guest order whose link the confirmation carries.
    #[schema(value_type = kontor_http::schemas::Email, example = "anna@example.de")]
    pub email: Email,
    pub shipping_address: AddressBody,
    /// Defaults to the shipping address.
    pub billing_address: Option<AddressBody>,
    pub lines: Vec<PhoneLineBody>,
    /// `prepayment`, `invoice` or `cash_on_delivery`.
    #[schema(value_type = kontor_http::schemas::PaymentMethod, example = "invoice")]
    pub payment_method: PaymentMethod,
    /// `de` (default) or `en`: the language of the order's e-mails.
    #[schema(value_type = Option<kontor_http::schemas::Language>, example = "de")]
    pub language: Option<Language>,
    /// E-mail the customer the confirmation (default: yes).
    #[serde(default = "yes")]
    pub send_confirmation: bool,
}

fn yes() -> bool {
    true
}

/// How many lines a phone order may have: far more than a call takes.
const MAX_PHONE_LINES: usize = 100;

/// Take an order on the phone (staff): the checkout's rules for stock and
/// prices, staff's own prices where given, once per `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/admin/orders",
    tag = "orders",
    security(("bearer" = [])),
    request_body = PhoneOrderBody,
    params(IdempotencyKey, Preview),
    responses(
        (status = 201, body = CheckoutResponse, description = "The order was placed (or this is a retry, marked `Idempotent-Replayed: true`); a guest order carries its `access_token`."),
        (status = 200, body = CheckoutResponse, description = "A dry run: the totals the order would have; nothing was written (its `id` and `number` are not taken)."),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "No or a bad `Idempotency-Key`."),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Not enough stock: names the `sku` and the quantity `available`."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A bad field, named: `lines[i].sku`, `lines[i].quantity`, `lines[i].unit_price`, an address field, `email`."),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn phone_order(
    State(state): State<AppState>,
    Staff(staff): Staff,
    IdempotencyKey(key): IdempotencyKey,
    QueryParams(preview): QueryParams<Preview>,
    body: JsonBody<PhoneOrderBody>,
) -> Result<Response, Problem> {
    let request = body.value;
    if request.lines.len() > MAX_PHONE_LINES {
        return Err(Problem::invalid_field(
            "lines",
            format!("an order has at most {MAX_PHONE_LINES} lines"),
        ));
    }
    let mut lines = Vec::with_capacity(request.lines.len());
    for (index, line) in request.lines.iter().enumerate() {
        let field = format!("lines[{index}].unit_price");
        lines.push(CartLine {
            sku: line.sku.clone(),
            quantity: line.quantity,
            unit_price: line
                .unit_price
                .map(|p| state.typed_amount(&field, p))
                .transpose()?,
        });
    }
    let details = CheckoutDetails {
        lines,
        email: request.email,
        shipping_address: request.shipping_address.into(),
        billing_address: request.billing_address.map(Into::into),
        payment_method: request.payment_method,
        language: request.language.unwrap_or_default(),
        send_confirmation: request.send_confirmation,
        // Staff set prices on the phone; the shop's discounts are for
        // shoppers' own checkouts.
        coupon: None,
    };
    if preview.dry_run {
        let order = state.preview_new_order(&details, &staff).await?;
        return Ok(Json(CheckoutResponse::new(&order, None)).into_response());
    }
    let owner = match state.store.find_customer_by_email(&details.email).await? {
        Some(customer) => Owner::Known(customer.id),
        None => Owner::Guest,
    };
    state
        .place_new_order(NewOrder {
            details,
            owner,
            taken_by: Some(staff),
            idempotency_key: key,
            body: body.document,
            expected_total: None,
        })
        .await
}
