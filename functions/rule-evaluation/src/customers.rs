//! Staff find a customer by e-mail and set the groups rules ask about
//! (`customer.groups`): a customer in group `vip` gets what rules give VIPs
//! from their next cart on.

use axum::extract::{Path, State};
use axum::Json;
use kontor_domain::{CustomerId, Email};
use kontor_http::{AppState, JsonBody, Problem, QueryParams, Staff};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A customer's record as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CustomerView {
    pub id: String,
    pub email: String,
    /// The groups staff gave them.
    pub groups: Vec<String>,
    pub order_count: u32,
    pub version: u64,
}

impl From<&kontor_domain::customer::Customer> for CustomerView {
    fn from(customer: &kontor_domain::customer::Customer) -> Self {
        Self {
            id: customer.id.to_string(),
            email: customer.email.to_string(),
            groups: customer.groups.clone(),
            order_count: customer.order_count,
            version: customer.version,
        }
    }
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// The customer's e-mail address (any case).
    #[param(value_type = kontor_http::schemas::Email, example = "anna@example.de")]
    pub email: Email,
}

/// Finds a registered customer by e-mail.
#[utoipa::path(get, path = "/admin/customers", tag = "rules", security(("bearer" = [])),
    params(CustomerQuery),
    responses(
        (status = 200, body = CustomerView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No registered customer with this address has ordered yet (records start with the first order placed signed in)."),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn find_customer(
    State(state): State<AppState>,
    Staff(_): Staff,
    QueryParams(query): QueryParams<CustomerQuery>,
) -> Result<Json<CustomerView>, Problem> {
    let customer = state
        .store
        .find_customer_by_email(&query.email)
        .await?
        .ok_or_else(|| Problem::not_found("customer"))?;
    Ok(Json(CustomerView::from(&customer)))
}

/// A customer's groups, over the version they were read at.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupsBody {
    /// At most 20 names of 1 to 64 characters.
    #[schema(example = json!(["vip"]))]
    pub groups: Vec<String>,
    pub version: u64,
}

/// Sets a customer's groups.
#[utoipa::path(put, path = "/admin/customers/{id}/groups", tag = "rules", security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer's id")),
    request_body = GroupsBody,
    responses(
        (status = 200, body = CustomerView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The record changed since `version` (an order, or another edit)."),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Too many `groups`, or an empty or overlong name."),
    ))]
pub(crate) async fn set_groups(
    State(state): State<AppState>,
    Staff(staff): Staff,
    Path(id): Path<String>,
    body: JsonBody<GroupsBody>,
) -> Result<Json<CustomerView>, Problem> {
    let id = CustomerId::parse(&id).map_err(|_| Problem::not_found("customer"))?;
    let body = body.value;
    let customer = state
        .store
        .get_customer(&id)
        .await?
        .ok_or_else(|| Problem::not_found("customer"))?;
    if customer.version != body.version {
        return Err(Problem::new(
            axum::http::StatusCode::CONFLICT,
            "stale-version",
            "Changed by someone else",
            "the customer's record changed since it was read; reload it",
        )
        .with_field("version")
        .with("current_version", customer.version));
    }
    let changed = customer
        .with_groups(&body.groups)
        .map_err(|e| Problem::invalid_field("groups", e.0))?;
    state.store.save_customer(&changed).await?;
    tracing::info!(customer = %id, groups = ?changed.groups, by = %staff.staff_actor(), "customer groups set");
    Ok(Json(CustomerView::from(&changed)))
}
