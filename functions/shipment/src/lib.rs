//! The shipment function: staff split an order into parcels and move them on.
//!
//! - `POST /admin/orders/{id}/shipments` packs a parcel of any units of any
//!   lines — never more than remain to ship; backordered units only if the
//!   stock is there now, and then it is taken in the same write.
//! - `POST /admin/orders/{id}/shipments/{sid}/status` moves a parcel on
//!   (forward only) and sets its tracking number; with `notify` the
//!   customer gets an e-mail (shipped, delivered, failed attempt).
//! - `POST /admin/orders/{id}/shipments/{sid}/send-tracking` e-mails the
//!   tracking link again.
//!
//! Every change is one versioned write of the order with its stock, its
//! tracking number claims and its events; a lost race is read again and
//! decided again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kontor_domain::events::{
    EventPayload, ShipmentCreated, ShipmentStatusChanged, StockChangeReason, StockChanged,
    TrackingSent,
};
use kontor_domain::order::{HistoryEntry, Order, StockTake};
use kontor_domain::shipment::{
    Carrier, NewShipment, ShipmentError, ShipmentStatus, ShipmentStep, TrackingLinks,
    TrackingNumber,
};
use kontor_domain::{LineId, Quantity, Sku};
use kontor_http::views::ShipmentView;
use kontor_http::{AppState, Claims, JsonBody, Problem, Staff};
use kontor_platform::{OrderChange, StoreError, TrackingClaim};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_shipment))
        .routes(routes!(set_status))
        .routes(routes!(send_tracking))
        .routes(routes!(carriers, save_carriers))
}

/// How often a change is decided again after losing a race.
const MAX_ATTEMPTS: u32 = 5;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentItemBody {
    #[schema(value_type = String, example = "L1")]
    pub line_id: LineId,
    #[schema(value_type = u32, example = 1)]
    pub quantity: Quantity,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShipmentBody {
    pub items: Vec<ShipmentItemBody>,
    /// `dhl`, `dpd`, `ups`, `gls`, `hermes` or `other` (default `other`).
    #[schema(value_type = Option<String>, example = "dhl")]
    pub carrier: Option<Carrier>,
    #[schema(value_type = Option<String>, example = "00340434161094042557")]
    pub tracking_number: Option<TrackingNumber>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    #[schema(value_type = String, example = "shipped")]
    pub status: ShipmentStatus,
    #[schema(value_type = Option<String>)]
    pub tracking_number: Option<TrackingNumber>,
    /// Where the parcel is, as the carrier says it (`Hamburg`).
    pub location: Option<String>,
    /// E-mail the customer about the change (default true).
    #[serde(default = "yes")]
    pub notify: bool,
}

fn yes() -> bool {
    true
}

/// A parcel with the order's shipping status after the change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ShipmentAnswer {
    pub order_id: String,
    #[schema(value_type = String, example = "partially_shipped")]
    pub shipping_status: kontor_domain::order::ShippingStatus,
    pub shipment: ShipmentView,
}

fn staff_name(claims: &Claims) -> String {
    let who = claims
        .email
        .as_ref()
        .map_or_else(|| claims.subject.to_string(), ToString::to_string);
    format!("staff {who}")
}

fn shipment_problem(error: ShipmentError) -> Problem {
    let detail = error.to_string();
    match error {
        ShipmentError::OrderCancelled => Problem::new(
            StatusCode::CONFLICT,
            "order-cancelled",
            "Order cancelled",
            detail,
        ),
        ShipmentError::NoItems => Problem::invalid_field("items", detail),
        ShipmentError::UnknownLine { index, .. } => {
            Problem::invalid_field(format!("items[{index}].line_id"), detail)
        }
        ShipmentError::MoreThanRemains {
            index, remaining, ..
        } => Problem::invalid_field(format!("items[{index}].quantity"), detail)
            .with("remaining", remaining),
        ShipmentError::NotInStock {
            index,
            sku,
            available,
        } => Problem::new(
            StatusCode::CONFLICT,
            "insufficient-stock",
            "Not in stock",
            detail,
        )
        .with_field(format!("items[{index}].quantity"))
        .with("sku", sku.as_str())
        .with("available", available),
        ShipmentError::UnknownShipment(_) => Problem::not_found("shipment"),
        ShipmentError::StatusJump { from, .. } => {
            Problem::invalid_field("status", detail).with("current", from.code())
        }
        ShipmentError::NoTrackingNumber(_) => Problem::invalid_field("tracking_number", detail),
    }
}

fn answer(
    links: &TrackingLinks,
    order: &Order,
    shipment_id: &str,
) -> Result<ShipmentAnswer, Problem> {
    let shipment = order
        .shipment(shipment_id)
        .ok_or_else(|| Problem::not_found("shipment"))?;
    Ok(ShipmentAnswer {
        order_id: order.id.to_string(),
        shipping_status: order.shipping_status,
        shipment: ShipmentView::new(shipment, links),
    })
}

/// Writes a change; a race lost to another writer is `Ok(false)`, to be
/// decided again on a fresh read.
async fn save(state: &AppState, change: OrderChange) -> Result<bool, Problem> {
    match state.store.save_order_change(&change).await {
        Ok(()) => Ok(true),
        Err(StoreError::VersionConflict { .. }) => Ok(false),
        Err(StoreError::AlreadyExists {
            entity: "tracking number",
        }) => Err(Problem::new(
            StatusCode::CONFLICT,
            "tracking-number-taken",
            "Tracking number in use",
            "another parcel already has this tracking number",
        )
        .with_field("tracking_number")),
        Err(StoreError::InsufficientStock { sku, available }) => Err(Problem::new(
            StatusCode::CONFLICT,
            "insufficient-stock",
            "Not in stock",
            format!("only {available} of {sku} in stock for the backordered units"),
        )
        .with("sku", sku.as_str())
        .with("available", available)),
        Err(other) => Err(other.into()),
    }
}

fn lost_race() -> Problem {
    Problem::from(StoreError::Unavailable("the order keeps changing".into()))
}

/// Pack a parcel of part of an order (staff).
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/shipments",
    tag = "shipments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id")),
    request_body = NewShipmentBody,
    responses(
        (status = 201, body = ShipmentAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The order is cancelled, the backordered units are not in stock (names `sku` and `available`), or the tracking number is taken."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "An unknown line, or more than remains to ship (`remaining`)."),
    )
)]
async fn create_shipment(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    body: JsonBody<NewShipmentBody>,
) -> Result<(StatusCode, Json<ShipmentAnswer>), Problem> {
    let body = body.value;
    let request = NewShipment {
        items: body
            .items
            .into_iter()
            .map(|i| (i.line_id, i.quantity))
            .collect(),
        carrier: body.carrier.unwrap_or(Carrier::Other),
        tracking_number: body.tracking_number,
    };
    let links = state.tracking_links().await?;
    for _ in 0..MAX_ATTEMPTS {
        let mut order = state.order(&id).await?;
        let skus: Vec<Sku> = order
            .lines
            .iter()
            .filter(|l| l.backordered > 0)
            .map(|l| l.sku.clone())
            .collect();
        let products = state.store.get_products(&skus).await?;
        let stock_of = |sku: &Sku| {
            products
                .iter()
                .find(|p| &p.sku == sku)
                .map_or(0, |p| p.stock)
        };
        let packed = order
            .pack_shipment(&request, state.clock.now(), &staff_name(&staff), &stock_of)
            .map_err(shipment_problem)?;
        let notice = order
            .parcel_notice(&packed.shipment_id, &links)
            .expect("just packed");
        let mut events = vec![state.event(
            &order,
            EventPayload::ShipmentCreated(ShipmentCreated { parcel: notice }),
        )];
        for StockTake { sku, quantity } in &packed.stock_takes {
            let stock = stock_of(sku) - quantity;
            events.push(state.event(
                &order,
                EventPayload::StockChanged(StockChanged {
                    sku: sku.clone(),
                    change: -i64::from(*quantity),
                    stock,
                    reason: StockChangeReason::BackorderShipped,
                }),
            ));
        }
        let tracking = request
            .tracking_number
            .iter()
            .map(|number| TrackingClaim {
                number: number.clone(),
                order_id: order.id.clone(),
                shipment_id: packed.shipment_id.clone(),
            })
            .collect();
        let change = OrderChange {
            order: order.clone(),
            stock_takes: packed.stock_takes.clone(),
            tracking,
            events,
        };
        if save(&state, change).await? {
            tracing::info!(order_id = %order.id, shipment = %packed.shipment_id, "parcel packed");
            return Ok((
                StatusCode::CREATED,
                Json(answer(&links, &order, &packed.shipment_id)?),
            ));
        }
    }
    Err(lost_race())
}

/// Move a parcel on and set its tracking number (staff).
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/shipments/{sid}/status",
    tag = "shipments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id"), ("sid" = String, Path, description = "The parcel's id (`S1`)")),
    request_body = StatusBody,
    responses(
        (status = 200, body = ShipmentAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The tracking number belongs to another parcel."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A status the parcel cannot reach from where it is (`current`), or no tracking number for a parcel on its way."),
    )
)]
async fn set_status(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path((id, shipment_id)): Path<(String, String)>,
    body: JsonBody<StatusBody>,
) -> Result<Json<ShipmentAnswer>, Problem> {
    let body = body.value;
    let links = state.tracking_links().await?;
    for _ in 0..MAX_ATTEMPTS {
        let mut order = state.order(&id).await?;
        let previous_number = order
            .shipment(&shipment_id)
            .ok_or_else(|| Problem::not_found("shipment"))?
            .tracking_number
            .clone();
        let step = ShipmentStep {
            status: body.status,
            at: state.clock.now(),
            location: body.location.clone().filter(|l| !l.trim().is_empty()),
            by: staff_name(&staff),
            carrier_event_id: None,
        };
        let from = order
            .move_shipment(&shipment_id, step.clone(), body.tracking_number.clone())
            .map_err(shipment_problem)?;
        let notice = order
            .parcel_notice(&shipment_id, &links)
            .expect("the parcel exists");
        let tracking = notice
            .tracking_number
            .iter()
            .filter(|number| previous_number.as_ref() != Some(*number))
            .map(|number| TrackingClaim {
                number: number.clone(),
                order_id: order.id.clone(),
                shipment_id: shipment_id.clone(),
            })
            .collect();
        let changed = ShipmentStatusChanged {
            parcel: notice,
            from,
            to: body.status,
            location: step.location,
            by: "staff".into(),
            notify: body.notify,
            shipping_status: order.shipping_status,
        };
        let change = OrderChange {
            events: vec![state.event(&order, EventPayload::ShipmentStatusChanged(changed))],
            order: order.clone(),
            stock_takes: Vec::new(),
            tracking,
        };
        if save(&state, change).await? {
            tracing::info!(order_id = %order.id, shipment = %shipment_id, %from, to = %body.status, "parcel moved on");
            return Ok(Json(answer(&links, &order, &shipment_id)?));
        }
    }
    Err(lost_race())
}

/// E-mail the customer the parcel's tracking link again (staff).
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/shipments/{sid}/send-tracking",
    tag = "shipments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's id"), ("sid" = String, Path, description = "The parcel's id (`S1`)")),
    responses(
        (status = 202, body = ShipmentAnswer, description = "The e-mail is on its way."),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "The parcel has no tracking number yet."),
    )
)]
async fn send_tracking(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path((id, shipment_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<ShipmentAnswer>), Problem> {
    let links = state.tracking_links().await?;
    for _ in 0..MAX_ATTEMPTS {
        let mut order = state.order(&id).await?;
        let notice = order
            .parcel_notice(&shipment_id, &links)
            .ok_or_else(|| Problem::not_found("shipment"))?;
        let Some(number) = notice.tracking_number.clone() else {
            return Err(Problem::invalid_field(
                "tracking_number",
                "the parcel has no tracking number yet",
            ));
        };
        // Noted in the order's history, which makes it a versioned change
        // whose event the outbox carries to the notifier.
        order.history.push(HistoryEntry {
            at: state.clock.now(),
            action: "tracking_sent".into(),
            by: staff_name(&staff),
            detail: format!(
                "Tracking {number} for parcel {shipment_id} e-mailed to {}",
                order.email
            ),
        });
        order.version += 1;
        let change = OrderChange {
            events: vec![state.event(
                &order,
                EventPayload::TrackingSent(TrackingSent { parcel: notice }),
            )],
            order: order.clone(),
            stock_takes: Vec::new(),
            tracking: Vec::new(),
        };
        if save(&state, change).await? {
            return Ok((
                StatusCode::ACCEPTED,
                Json(answer(&links, &order, &shipment_id)?),
            ));
        }
    }
    Err(lost_race())
}

/// A carrier and the link its parcels are followed by.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CarrierView {
    #[schema(value_type = String, example = "dhl")]
    pub carrier: Carrier,
    pub name: String,
    /// The tracking page, `{tracking}` where the number goes; empty for none.
    pub url_template: String,
}

fn carrier_views(links: &TrackingLinks) -> Vec<CarrierView> {
    Carrier::ALL
        .into_iter()
        .map(|carrier| CarrierView {
            carrier,
            name: carrier.display_name().to_string(),
            url_template: links.0.get(&carrier).cloned().unwrap_or_default(),
        })
        .collect()
}

/// The carriers and their tracking link templates (staff).
#[utoipa::path(
    get,
    path = "/admin/carriers",
    tag = "shipments",
    security(("bearer" = [])),
    responses(
        (status = 200, body = [CarrierView]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn carriers(
    State(state): State<AppState>,
    Staff(_): Staff,
) -> Result<Json<Vec<CarrierView>>, Problem> {
    Ok(Json(carrier_views(&state.tracking_links().await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarrierLinksBody {
    /// Per carrier (`dhl`, …): an `https://` URL with `{tracking}` in it, or
    /// an empty string for no link. Carriers left out keep theirs.
    #[schema(value_type = Object, example = json!({"dhl": "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={tracking}"}))]
    pub templates: std::collections::BTreeMap<Carrier, String>,
}

/// Change carriers' tracking link templates (staff). New links apply to
/// every parcel shown or e-mailed from now on.
#[utoipa::path(
    put,
    path = "/admin/carriers",
    tag = "shipments",
    security(("bearer" = [])),
    request_body = CarrierLinksBody,
    responses(
        (status = 200, body = [CarrierView]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A template is not an https URL with `{tracking}`; `field` names the carrier."),
    )
)]
async fn save_carriers(
    State(state): State<AppState>,
    Staff(staff): Staff,
    body: JsonBody<CarrierLinksBody>,
) -> Result<Json<Vec<CarrierView>>, Problem> {
    let mut links = state.tracking_links().await?;
    for (carrier, template) in body.value.templates {
        let template = template.trim().to_string();
        let field = || format!("templates.{}", carrier.code());
        let usable = template.starts_with("https://")
            && template.contains("{tracking}")
            && template.chars().all(|c| c.is_ascii_graphic());
        if !(template.is_empty() || usable) {
            return Err(Problem::invalid_field(
                field(),
                "a tracking link is an https:// URL without spaces, with {tracking} where the number goes",
            ));
        }
        links.0.insert(carrier, template);
    }
    let value = serde_json::to_value(&links)
        .map_err(|e| Problem::from(StoreError::Internal(e.to_string())))?;
    state
        .store
        .put_setting(kontor_http::state::CARRIER_LINKS_SETTING, &value)
        .await?;
    tracing::info!(by = %staff_name(&staff), "carrier links changed");
    Ok(Json(carrier_views(&links)))
}
