//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    pub status: &'static str,
}

/// Liveness: the process answers
#[utoipa::path(
    tag = "health",
    operation_id = "check_liveness",
    security(()),
    responses((status = 200, description = "Alive", body = Health))
)]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers a query
///
/// Answers within a second: 503 (`database_unavailable`) while the database cannot be reached,
/// so a load balancer sends traffic elsewhere; 200 again as soon as it can, with no restart.
#[utoipa::path(
    tag = "health",
    operation_id = "check_readiness",
    security(()),
    responses((status = 200, description = "Ready", body = Health))
)]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    state.db.ping().await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}
