//! The plan endpoints: start, list, read, change and move improvement plans.

use actix_web::{get, patch, post, web, HttpRequest};

use super::dto::{
    ImprovementPlan, ImprovementPlanPatch, NewImprovementPlan, PlanQuery, PlanTransition,
};
use super::store;
use crate::api::shared::Lookup;
use crate::auth::{Permission, Principal};
use crate::domain::ids::PlanId;
use crate::error::ApiResult;
use crate::http::export::{self, Listing};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::preconditions::IfMatch;
use crate::http::respond::Answer;
use crate::state::AppState;

/// Start an improvement plan
///
/// A plan starts as a draft. Sources (concerns, evidence, learning events) must be records of
/// the organisation. Managers, admins and integrations.
#[utoipa::path(
    tag = "improvement",
    request_body = NewImprovementPlan,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created as a draft; `Location` names it", body = ImprovementPlan),
    )
)]
#[post("/improvement-plans")]
pub async fn create_plan(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewImprovementPlan>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManagePlans)?;
    let new = body.parse()?;
    new.validate(&state.catalogue)?;
    let keyed = key.for_caller(&principal, &req, &new)?;
    idempotency::once(&state.db, keyed, move |conn| {
        let plan = store::create(conn, &principal, &new)?;
        Answer::created(format!("/v1/improvement-plans/{}", plan.id), &plan)
    })
    .await
}

/// List improvement plans
#[utoipa::path(
    tag = "improvement",
    params(PlanQuery, Lookup, PageQuery),
    responses(
        (status = 200, description = "A page of plans, each with its actions and latest review", body = Paginated<ImprovementPlan>),
    )
)]
#[get("/improvement-plans")]
pub async fn list_plans(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<PlanQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadPlans)?;
    let (query, page) = query.parse_paged()?;
    export::list(&req, &state.db, page, move |conn, page| {
        store::list(conn, &principal, &query, page)
    })
    .await
}

/// Read an improvement plan
///
/// With its actions and latest review, when its next review is due and whether that is past.
#[utoipa::path(
    tag = "improvement",
    params(("plan_id" = Uuid, Path, description = "Plan id")),
    responses(
        (status = 200, description = "The plan; `ETag` carries its version", body = ImprovementPlan),
    )
)]
#[get("/improvement-plans/{plan_id}")]
pub async fn get_plan(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<PlanId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadPlans)?;
    let id = id.into_inner();
    let plan = state
        .db
        .run(move |conn| store::get(conn, &principal, id))
        .await?;
    Answer::ok(&plan)
}

/// Update an improvement plan
///
/// Managers, admins and integrations; honours `If-Match`. Changing the cadence of an active
/// plan moves its next review.
#[utoipa::path(
    tag = "improvement",
    request_body = ImprovementPlanPatch,
    params(
        ("plan_id" = Uuid, Path, description = "Plan id"),
        IfMatch,
    ),
    responses(
        (status = 200, description = "The updated plan", body = ImprovementPlan),
    )
)]
#[patch("/improvement-plans/{plan_id}")]
pub async fn update_plan(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<PlanId>,
    if_match: IfMatch,
    body: Json<ImprovementPlanPatch>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManagePlans)?;
    let patch = body.parse()?;
    patch.validate(&state.catalogue)?;
    let id = id.into_inner();
    let plan = state
        .db
        .write(move |conn| store::update(conn, &principal, id, &patch, &if_match))
        .await?;
    Answer::ok(&plan)
}

/// Move an improvement plan through its life
///
/// `draft → active → completed`, `archived` from any state, `completed → active` to reopen;
/// otherwise 409 listing the allowed moves. A plan cannot complete while an action is open
/// (409 naming them). Completing with `celebrate: true` records an improvement milestone.
/// Managers and admins; honours `If-Match` and `Idempotency-Key`.
#[utoipa::path(
    tag = "improvement",
    request_body = PlanTransition,
    params(
        ("plan_id" = Uuid, Path, description = "Plan id"),
        IfMatch,
        IdempotencyKey,
    ),
    responses(
        (status = 200, description = "The plan in its new state", body = ImprovementPlan),
    )
)]
#[post("/improvement-plans/{plan_id}/transitions")]
pub async fn transition_plan(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<PlanId>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<PlanTransition>,
) -> ApiResult<Answer> {
    principal.require(Permission::SignOffPlans)?;
    let request = body.parse()?;
    let keyed = key.for_caller(&principal, &req, &request)?;
    let id = id.into_inner();
    idempotency::once(&state.db, keyed, move |conn| {
        Answer::ok(&store::transition(
            conn, &principal, id, &request, &if_match,
        )?)
    })
    .await
}
