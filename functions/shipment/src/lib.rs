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
//! Every change is an order command, written by the order helper
//! (`AppState::change_order`): one versioned write of the order with its
//! stock, its tracking number claims and its events.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kontor_domain::command::OrderCommand;
use kontor_domain::shipment::{
    Carrier, NewShipment, ShipmentStatus, TrackingLinks, TrackingNumber,
};
use kontor_domain::{LineId, Quantity};
use kontor_http::order_writer::ChangedOrder;
use kontor_http::views::ShipmentView;
use kontor_http::{AppState, JsonBody, Problem, Staff};
use kontor_platform::settings::save_setting;
use kontor_platform::StoreError;
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentItemBody {
    #[schema(value_type = kontor_http::schemas::LineId, example = "L1")]
    pub line_id: LineId,
    #[schema(value_type = kontor_http::schemas::Quantity, example = 1)]
    pub quantity: Quantity,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShipmentBody {
    pub items: Vec<ShipmentItemBody>,
    /// `dhl`, `dpd`, `ups`, `gls`, `hermes` or `other` (default `other`).
    #[schema(value_type = Option<kontor_http::schemas::Carrier>, example = "dhl")]
    pub carrier: Option<Carrier>,
    #[schema(value_type = Option<kontor_http::schemas::TrackingNumber>, example = "00340434161094042557")]
    pub tracking_number: Option<TrackingNumber>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    #[schema(value_type = kontor_http::schemas::ShipmentStatus, example = "shipped")]
    pub status: ShipmentStatus,
    #[schema(value_type = Option<kontor_http::schemas::TrackingNumber>)]
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

/// The parcel after a change; the tracking links are read only for a
/// parcel with a number whose change did not read them already.
async fn answer(
    state: &AppState,
    changed: ChangedOrder,
    shipment_id: &str,
) -> Result<ShipmentAnswer, Problem> {
    let order = changed.order;
    let shipment = order
        .shipment(shipment_id)
        .ok_or_else(|| Problem::not_found("shipment"))?;
    let links = match changed.links {
        Some(links) => links,
        None if shipment.tracking_number.is_some() => state.tracking_links().await?,
        None => TrackingLinks(Default::default()),
    };
    Ok(ShipmentAnswer {
        order_id: order.id.to_string(),
        shipping_status: order.shipping_status,
        shipment: ShipmentView::new(shipment, &links),
    })
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
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The order is cancelled or completed (`order_status`), the backordered units are not in stock (names `sku` and `available`), or the tracking number is taken."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "An unknown line, or more than remains to ship (`remaining`)."),
    )
)]
async fn create_shipment(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    body: JsonBody<NewShipmentBody>,
) -> Result<(StatusCode, Json<ShipmentAnswer>), Problem> {
    let id = state.order_id(&id)?;
    let body = body.value;
    let command = OrderCommand::PackShipment(NewShipment {
        items: body
            .items
            .into_iter()
            .map(|i| (i.line_id, i.quantity))
            .collect(),
        carrier: body.carrier.unwrap_or(Carrier::Other),
        tracking_number: body.tracking_number,
    });
    let changed = state
        .change_order(&id, &staff.staff_actor(), &command)
        .await?;
    let shipment_id = changed
        .order
        .shipments
        .last()
        .map(|s| s.id.clone())
        .ok_or_else(|| Problem::not_found("shipment"))?;
    Ok((
        StatusCode::CREATED,
        Json(answer(&state, changed, &shipment_id).await?),
    ))
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
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The tracking number belongs to another parcel, or the order is closed."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A status the parcel cannot reach from where it is (`current`), or no tracking number for a parcel on its way."),
    )
)]
async fn set_status(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path((id, shipment_id)): Path<(String, String)>,
    body: JsonBody<StatusBody>,
) -> Result<Json<ShipmentAnswer>, Problem> {
    let id = state.order_id(&id)?;
    let body = body.value;
    let command = OrderCommand::MoveShipment {
        shipment_id: shipment_id.clone(),
        status: body.status,
        tracking_number: body.tracking_number,
        location: body.location,
        notify: body.notify,
    };
    let changed = state
        .change_order(&id, &staff.staff_actor(), &command)
        .await?;
    Ok(Json(answer(&state, changed, &shipment_id).await?))
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
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The order is closed."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "The parcel has no tracking number yet."),
    )
)]
async fn send_tracking(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path((id, shipment_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<ShipmentAnswer>), Problem> {
    let id = state.order_id(&id)?;
    let command = OrderCommand::SendTracking {
        shipment_id: shipment_id.clone(),
    };
    let changed = state
        .change_order(&id, &staff.staff_actor(), &command)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(answer(&state, changed, &shipment_id).await?),
    ))
}

/// A carrier and the link its parcels are followed by.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CarrierView {
    #[schema(value_type = kontor_http::schemas::Carrier, example = "dhl")]
    pub carrier: Carrier,
    pub name: String,
    /// The tracking page, `{tracking}` where the number goes; empty for none.
    pub url_template: String,
}

/// The carriers' links, and the version an edit of them names.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CarriersView {
    /// Send it back with a change; 0 while the deployment's defaults apply.
    pub version: u64,
    pub carriers: Vec<CarrierView>,
}

fn carrier_views(links: &TrackingLinks, version: u64) -> CarriersView {
    CarriersView {
        version,
        carriers: Carrier::ALL
            .into_iter()
            .map(|carrier| CarrierView {
                carrier,
                name: carrier.display_name().to_string(),
                url_template: links.0.get(&carrier).cloned().unwrap_or_default(),
            })
            .collect(),
    }
}

/// The carriers and their tracking link templates (staff).
#[utoipa::path(
    get,
    path = "/admin/carriers",
    tag = "shipments",
    security(("bearer" = [])),
    responses(
        (status = 200, body = CarriersView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn carriers(
    State(state): State<AppState>,
    Staff(_): Staff,
) -> Result<Json<CarriersView>, Problem> {
    let links = state.tracking_links_versioned().await?;
    Ok(Json(carrier_views(&links.value, links.version)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarrierLinksBody {
    /// Per carrier (`dhl`, …): an `https://` URL with `{tracking}` in it, or
    /// an empty string for no link. Carriers left out keep theirs.
    #[schema(value_type = CarrierTemplates, example = json!({"dhl": "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={tracking}"}))]
    pub templates: std::collections::BTreeMap<Carrier, String>,
    /// The version the edit was made on (from `GET /admin/carriers`): a
    /// newer one means someone else saved meanwhile (409).
    pub version: u64,
}

/// What a tracking link template may be, as `change_carriers` checks it:
/// once trimmed, empty (no link) or an `https://` URL of visible ASCII
/// with `{tracking}` in it. The edges are the characters `trim` removes.
fn template_pattern() -> String {
    let trimmed = kontor_http::schemas::TRIMMED;
    format!(r"^[{trimmed}]*(?:https://[!-~]*\{{tracking\}}[!-~]*)?[{trimmed}]*$")
}

/// A trimmed template: empty, or an `https://` URL of visible ASCII with
/// `{tracking}` where the number goes.
fn template_is_usable(template: &str) -> bool {
    template.is_empty()
        || (template.starts_with("https://")
            && template.contains("{tracking}")
            && template.chars().all(|c| c.is_ascii_graphic()))
}

/// The templates of a carrier links edit: a property per carrier, no other.
pub struct CarrierTemplates;

impl utoipa::PartialSchema for CarrierTemplates {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, SchemaType, Type};
        let template = || {
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .pattern(Some(template_pattern()))
        };
        kontor_http::schemas::Carrier::variants()
            .into_iter()
            .fold(
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::Object))
                    .additional_properties(Some(AdditionalProperties::FreeForm(false))),
                |object, carrier| object.property(carrier.code(), template()),
            )
            .into()
    }
}

impl ToSchema for CarrierTemplates {}

/// Change carriers' tracking link templates (staff). New links apply to
/// every parcel shown or e-mailed from now on.
#[utoipa::path(
    put,
    path = "/admin/carriers",
    tag = "shipments",
    security(("bearer" = [])),
    request_body = CarrierLinksBody,
    responses(
        (status = 200, body = CarriersView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Someone saved the links since `version` (`current_version`); reload and edit again."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A template is not an https URL with `{tracking}`; `field` names the carrier."),
    )
)]
async fn save_carriers(
    State(state): State<AppState>,
    Staff(staff): Staff,
    body: JsonBody<CarrierLinksBody>,
) -> Result<Json<CarriersView>, Problem> {
    let saved = state.tracking_links_versioned().await?;
    let stale = || {
        Problem::new(
            StatusCode::CONFLICT,
            "stale-version",
            "Changed meanwhile",
            "someone saved the carriers' links meanwhile; reload them and edit again",
        )
        .with_field("version")
        .with("current_version", saved.version)
    };
    if body.value.version != saved.version {
        return Err(stale());
    }
    let mut links = saved.value.clone();
    for (carrier, template) in body.value.templates {
        let template = template.trim().to_string();
        let field = || format!("templates.{}", carrier.code());
        if !template_is_usable(&template) {
            return Err(Problem::invalid_field(
                field(),
                "a tracking link is an https:// URL without spaces, with {tracking} where the number goes",
            ));
        }
        links.0.insert(carrier, template);
    }
    let version = match save_setting(state.store.as_ref(), &links, saved.version).await {
        Ok(version) => version,
        Err(StoreError::StaleVersion { .. }) => return Err(stale()),
        Err(other) => return Err(other.into()),
    };
    tracing::info!(by = %staff.staff_actor(), version, "carrier links changed");
    Ok(Json(carrier_views(&links, version)))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The document's pattern takes exactly the templates the edit
        /// takes: trimmed, then empty or an https URL with `{tracking}`.
        #[test]
        fn the_template_pattern_is_the_rule(
            lead in "[ \t\u{3000}]{0,2}",
            body in prop_oneof![
                Just(String::new()),
                "https://[a-z./?=#]{0,12}\\{tracking\\}[a-z/]{0,4}",
                "(https?://)?[a-z {}é/]{0,16}(\\{tracking\\})?",
            ],
            tail in "[ \n\u{a0}]{0,2}",
        ) {
            let input = format!("{lead}{body}{tail}");
            let pattern = regex::Regex::new(&template_pattern()).expect("the pattern compiles");
            prop_assert_eq!(pattern.is_match(&input), template_is_usable(input.trim()), "{:?}", input);
        }
    }
}
