use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::dto::{
    ActionQuery, ActionTransition, DueQuery, DueReview, ImprovementPlan, ImprovementPlanPatch,
    NewImprovementPlan, NewPlanAction, NewPlanReview, PlanAction, PlanActionPatch, PlanQuery,
    PlanReview, PlanTransition,
};
use super::{action_store, store};
use crate::api::common::{Answer, IfMatch, Page, Paginated};
use crate::api::concerns::dto::PageQuery;
use crate::api::docs::{CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::api::extract::{Json, Query};
use crate::api::idempotency::{self, IdempotencyKey};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
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
        CreateErrors,
    )
)]
#[post("/improvement-plans")]
pub async fn create_plan(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewImprovementPlan>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ManagePlans)?;
    let new = body.parse()?;
    new.validate(&state.catalogue)?;
    let keyed = key.bind(&principal.sub, &req, &new)?;
    idempotency::once(
        &state.db,
        principal.organisation_id.clone(),
        keyed,
        move |conn| {
            let plan = store::create(conn, &principal, &new)?;
            Answer::created(format!("/v1/improvement-plans/{}", plan.id), &plan)
        },
    )
    .await
}

/// List improvement plans
#[utoipa::path(
    tag = "improvement",
    params(PlanQuery),
    responses(
        (status = 200, description = "A page of plans, each with its actions and latest review", body = Paginated<ImprovementPlan>),
        ListErrors,
    )
)]
#[get("/improvement-plans")]
pub async fn list_plans(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<PlanQuery>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ReadPlans)?;
    let query = query.parse()?;
    let page = Page::new(query.limit, query.cursor.as_deref())?;
    let plans = state
        .db
        .run(move |conn| store::list(conn, &principal, &query, &page))
        .await?;
    Ok(Answer::ok(&plans)?.respond())
}

/// Read an improvement plan
///
/// With its actions and latest review, when its next review is due and whether that is past.
#[utoipa::path(
    tag = "improvement",
    params(("id" = Uuid, Path, description = "Plan id")),
    responses(
        (status = 200, description = "The plan; `ETag` carries its version", body = ImprovementPlan),
        ReadErrors,
    )
)]
#[get("/improvement-plans/{id}")]
pub async fn get_plan(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ReadPlans)?;
    let id = id.into_inner().to_string();
    let plan = state
        .db
        .run(move |conn| store::get(conn, &principal, &id))
        .await?;
    Ok(Answer::ok(&plan)?.respond())
}

/// Update an improvement plan
///
/// Managers, admins and integrations; honours `If-Match`. Changing the cadence of an active
/// plan moves its next review.
#[utoipa::path(
    tag = "improvement",
    request_body = ImprovementPlanPatch,
    params(
        ("id" = Uuid, Path, description = "Plan id"),
        IfMatch,
    ),
    responses(
        (status = 200, description = "The updated plan", body = ImprovementPlan),
        UpdateErrors,
    )
)]
#[patch("/improvement-plans/{id}")]
pub async fn update_plan(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<ImprovementPlanPatch>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ManagePlans)?;
    let patch = body.parse()?;
    patch.validate(&state.catalogue)?;
    let id = id.into_inner().to_string();
    let plan = state
        .db
        .write(move |conn| store::update(conn, &principal, &id, &patch, &if_match))
        .await?;
    Ok(Answer::ok(&plan)?.respond())
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
        ("id" = Uuid, Path, description = "Plan id"),
        IfMatch,
        IdempotencyKey,
    ),
    responses(
        (status = 200, description = "The plan in its new state", body = ImprovementPlan),
        UpdateErrors,
    )
)]
#[post("/improvement-plans/{id}/transitions")]
pub async fn transition_plan(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<PlanTransition>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::SignOffPlans)?;
    let request = body.parse()?;
    let keyed = key.bind(&principal.sub, &req, &request)?;
    let id = id.into_inner().to_string();
    idempotency::once(
        &state.db,
        principal.organisation_id.clone(),
        keyed,
        move |conn| {
            Answer::ok(&store::transition(
                conn, &principal, &id, &request, &if_match,
            )?)
        },
    )
    .await
}

/// Add an action to a plan
///
/// To a draft or active plan. Managers, admins and integrations.
#[utoipa::path(
    tag = "improvement",
    request_body = NewPlanAction,
    params(
        ("id" = Uuid, Path, description = "Plan id"),
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Added; `Location` names it", body = PlanAction),
        CreateErrors,
        (status = 404, description = "No such plan for the caller", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/improvement-plans/{id}/actions")]
pub async fn create_action(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: Json<NewPlanAction>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ManagePlans)?;
    let new = body.parse()?;
    let keyed = key.bind(&principal.sub, &req, &new)?;
    let plan_id = id.into_inner().to_string();
    idempotency::once(
        &state.db,
        principal.organisation_id.clone(),
        keyed,
        move |conn| {
            let action = action_store::create(conn, &principal, &plan_id, &new)?;
            Answer::created(
                format!("/v1/improvement-plans/{plan_id}/actions/{}", action.id),
                &action,
            )
        },
    )
    .await
}

/// List a plan's actions
#[utoipa::path(
    tag = "improvement",
    params(("id" = Uuid, Path, description = "Plan id"), PageQuery),
    responses(
        (status = 200, description = "A page of the plan's actions, oldest first", body = Paginated<PlanAction>),
        ReadErrors,
        (status = 422, description = "Invalid page size", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/improvement-plans/{id}/actions")]
pub async fn list_plan_actions(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    query: Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ReadPlans)?;
    let query: PageQuery = query.parse()?;
    let page = Page::new(query.limit, query.cursor.as_deref())?;
    let plan_id = id.into_inner().to_string();
    let actions = state
        .db
        .run(move |conn| action_store::list_for_plan(conn, &principal, &plan_id, &page))
        .await?;
    Ok(Answer::ok(&actions)?.respond())
}

/// Read an action
#[utoipa::path(
    tag = "improvement",
    params(
        ("id" = Uuid, Path, description = "Plan id"),
        ("action_id" = Uuid, Path, description = "Action id"),
    ),
    responses(
        (status = 200, description = "The action; `ETag` carries its version", body = PlanAction),
        ReadErrors,
    )
)]
#[get("/improvement-plans/{id}/actions/{action_id}")]
pub async fn get_action(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ReadPlans)?;
    let (plan_id, id) = path.into_inner();
    let action = state
        .db
        .run(move |conn| action_store::get(conn, &principal, &plan_id.to_string(), &id.to_string()))
        .await?;
    Ok(Answer::ok(&action)?.respond())
}

/// Update an action, or record whether it worked
///
/// Description, owner and due date; and for a done action the effectiveness check
/// (`effective` or `not_effective`, with `checked_on` and `check_evidence_ids`). A change found
/// not effective reopens the question: the plan lists it, and a completed plan is active again.
/// Managers, admins and integrations; honours `If-Match`.
#[utoipa::path(
    tag = "improvement",
    request_body = PlanActionPatch,
    params(
        ("id" = Uuid, Path, description = "Plan id"),
        ("action_id" = Uuid, Path, description = "Action id"),
        IfMatch,
    ),
    responses(
        (status = 200, description = "The updated action", body = PlanAction),
        UpdateErrors,
    )
)]
#[patch("/improvement-plans/{id}/actions/{action_id}")]
pub async fn update_action(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    body: Json<PlanActionPatch>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ManagePlans)?;
    let patch = body.parse()?;
    let (plan_id, id) = path.into_inner();
    let action = state
        .db
        .write(move |conn| {
            action_store::update(
                conn,
                &principal,
                (&plan_id.to_string(), &id.to_string()),
                &patch,
                &if_match,
            )
        })
        .await?;
    Ok(Answer::ok(&action)?.respond())
}

/// Move an action
///
/// `open → in_progress → done` (with a `completion_note`), `cancelled` (with a `reason`) from
/// open or in progress, `done → in_progress` to reopen. Moving to done with `celebrate: true`
/// records an improvement milestone. Staff move the actions they own; managers and admins any.
#[utoipa::path(
    tag = "improvement",
    request_body = ActionTransition,
    params(
        ("id" = Uuid, Path, description = "Plan id"),
        ("action_id" = Uuid, Path, description = "Action id"),
        IfMatch,
        IdempotencyKey,
    ),
    responses(
        (status = 200, description = "The action in its new state", body = PlanAction),
        UpdateErrors,
    )
)]
#[post("/improvement-plans/{id}/actions/{action_id}/transitions")]
pub async fn transition_action(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<ActionTransition>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::MoveActions)?;
    let request = body.parse()?;
    let keyed = key.bind(&principal.sub, &req, &request)?;
    let (plan_id, id) = path.into_inner();
    let target = (plan_id.to_string(), id.to_string());
    idempotency::once(
        &state.db,
        principal.organisation_id.clone(),
        keyed,
        move |conn| {
            let action = action_store::transition(
                conn,
                &principal,
                (&target.0, &target.1),
                &request,
                &if_match,
            )?;
            Answer::ok(&action)
        },
    )
    .await
}

/// Review a plan
///
/// The monthly, quarterly or annual review: progress (red, amber, green), notes, and a new
/// priority if it changes. It sets the next review one cadence on. Managers and admins.
#[utoipa::path(
    tag = "improvement",
    request_body = NewPlanReview,
    params(
        ("id" = Uuid, Path, description = "Plan id"),
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Recorded; `Location` names the plan's reviews", body = PlanReview),
        CreateErrors,
        (status = 404, description = "No such plan for the caller", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/improvement-plans/{id}/reviews")]
pub async fn create_review(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: Json<NewPlanReview>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::SignOffPlans)?;
    let new = body.parse()?;
    new.validate()?;
    let keyed = key.bind(&principal.sub, &req, &new)?;
    let plan_id = id.into_inner().to_string();
    idempotency::once(
        &state.db,
        principal.organisation_id.clone(),
        keyed,
        move |conn| {
            let review = store::add_review(conn, &principal, &plan_id, &new)?;
            Answer::created(format!("/v1/improvement-plans/{plan_id}/reviews"), &review)
        },
    )
    .await
}

/// List a plan's reviews
#[utoipa::path(
    tag = "improvement",
    params(("id" = Uuid, Path, description = "Plan id"), PageQuery),
    responses(
        (status = 200, description = "A page of the plan's reviews, oldest first", body = Paginated<PlanReview>),
        ReadErrors,
        (status = 422, description = "Invalid page size", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/improvement-plans/{id}/reviews")]
pub async fn list_reviews(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    query: Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ReadPlans)?;
    let query: PageQuery = query.parse()?;
    let page = Page::new(query.limit, query.cursor.as_deref())?;
    let plan_id = id.into_inner().to_string();
    let reviews = state
        .db
        .run(move |conn| store::list_reviews(conn, &principal, &plan_id, &page))
        .await?;
    Ok(Answer::ok(&reviews)?.respond())
}

/// Actions across plans
///
/// `owner=me` gives the caller's own, for a staff member's phone; filter by `status` and
/// `due_before`.
#[utoipa::path(
    tag = "improvement",
    params(ActionQuery),
    responses(
        (status = 200, description = "A page of actions", body = Paginated<PlanAction>),
        ListErrors,
    )
)]
#[get("/actions")]
pub async fn list_actions(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<ActionQuery>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ReadPlans)?;
    let query = query.parse()?;
    let page = Page::new(query.limit, query.cursor.as_deref())?;
    let actions = state
        .db
        .run(move |conn| action_store::list(conn, &principal, &query, &page))
        .await?;
    Ok(Answer::ok(&actions)?.respond())
}

/// Reviews due
///
/// Active plans whose review is due within `within_days` (default 14) or overdue, soonest
/// first: the agenda of the monthly governance meeting.
#[utoipa::path(
    tag = "improvement",
    params(DueQuery),
    responses(
        (status = 200, description = "Plans due for review (one page)", body = Paginated<DueReview>),
        ListErrors,
    )
)]
#[get("/reviews/due")]
pub async fn reviews_due(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<DueQuery>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ReadPlans)?;
    let query = query.parse()?;
    if query
        .within_days
        .is_some_and(|days| !(0..=366).contains(&days))
    {
        return Err(ApiError::field("within_days", "must be between 0 and 366"));
    }
    let due = state
        .db
        .run(move |conn| store::due_reviews(conn, &principal, &query))
        .await?;
    Ok(Answer::ok(&due)?.respond())
}
