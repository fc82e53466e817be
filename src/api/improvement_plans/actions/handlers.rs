//! The action endpoints: a plan's actions, and actions across plans.

use actix_web::{delete, get, patch, post, put, web, HttpRequest};

use super::dto::{
    ActionQuery, ActionTransition, NewPlanAction, NewPublication, PlanAction, PlanActionPatch,
};
use super::store;
use crate::api::shared::Lookup;
use crate::auth::{Permission, Principal};
use crate::domain::ids::{ActionId, PlanId};
use crate::error::ApiResult;
use crate::http::export::{self, Listing};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::preconditions::IfMatch;
use crate::http::respond::Answer;
use crate::state::AppState;

/// Add an action to a plan
///
/// To a draft or active plan. Managers, admins and integrations.
#[utoipa::path(
    tag = "improvement",
    request_body = NewPlanAction,
    params(
        ("plan_id" = Uuid, Path, description = "Plan id"),
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Added; `Location` names it", body = PlanAction),
    )
)]
#[post("/improvement-plans/{plan_id}/actions")]
pub async fn create_plan_action(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<PlanId>,
    key: IdempotencyKey,
    body: Json<NewPlanAction>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManagePlans)?;
    let new = body.parse()?;
    let keyed = key.for_caller(&principal, &req, &new)?;
    let plan_id = id.into_inner();
    idempotency::once(&state.db, keyed, move |conn| {
        let action = store::create(conn, &principal, plan_id, &new)?;
        Answer::created(
            format!("/v1/improvement-plans/{plan_id}/actions/{}", action.id),
            &action,
        )
    })
    .await
}

/// List a plan's actions
///
/// Oldest first; the same filters as `/v1/actions`, within the plan.
#[utoipa::path(
    tag = "improvement",
    params(("plan_id" = Uuid, Path, description = "Plan id"), ActionQuery, Lookup, PageQuery),
    responses(
        (status = 200, description = "A page of the plan's actions, oldest first", body = Paginated<PlanAction>),
    )
)]
#[get("/improvement-plans/{plan_id}/actions")]
pub async fn list_plan_actions(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    id: web::Path<PlanId>,
    query: Query<ActionQuery>,
) -> ApiResult<Listing> {
    actions(state, req, principal, Some(id.into_inner()), query).await
}

/// Read an action
#[utoipa::path(
    tag = "improvement",
    params(
        ("plan_id" = Uuid, Path, description = "Plan id"),
        ("action_id" = Uuid, Path, description = "Action id"),
    ),
    responses(
        (status = 200, description = "The action; `ETag` carries its version", body = PlanAction),
    )
)]
#[get("/improvement-plans/{plan_id}/actions/{action_id}")]
pub async fn get_plan_action(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(PlanId, ActionId)>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadPlans)?;
    let (plan_id, id) = path.into_inner();
    let action = state
        .db
        .run(move |conn| store::get(conn, &principal, plan_id, id))
        .await?;
    Answer::ok(&action)
}

/// Update an action, or record whether it worked
///
/// Description, owner and due date; and for a done action the effectiveness check
/// (`effective` or `not_effective`, with `checked_on` and `check_evidence`). A change found
/// not effective reopens the question: the plan lists it in `ineffective_action_ids`, and when a
/// manager or admin records the check a completed plan is active again (an integration's check
/// leaves the plan completed for a manager to decide). Managers, admins and integrations;
/// honours `If-Match`.
#[utoipa::path(
    tag = "improvement",
    request_body = PlanActionPatch,
    params(
        ("plan_id" = Uuid, Path, description = "Plan id"),
        ("action_id" = Uuid, Path, description = "Action id"),
        IfMatch,
    ),
    responses(
        (status = 200, description = "The updated action", body = PlanAction),
    )
)]
#[patch("/improvement-plans/{plan_id}/actions/{action_id}")]
pub async fn update_plan_action(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(PlanId, ActionId)>,
    if_match: IfMatch,
    body: Json<PlanActionPatch>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManagePlans)?;
    let patch = body.parse()?;
    let (plan_id, id) = path.into_inner();
    let action = state
        .db
        .write(move |conn| store::update(conn, &principal, (plan_id, id), &patch, &if_match))
        .await?;
    Answer::ok(&action)
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
        ("plan_id" = Uuid, Path, description = "Plan id"),
        ("action_id" = Uuid, Path, description = "Action id"),
        IfMatch,
        IdempotencyKey,
    ),
    responses(
        (status = 200, description = "The action in its new state", body = PlanAction),
    )
)]
#[post("/improvement-plans/{plan_id}/actions/{action_id}/transitions")]
pub async fn transition_plan_action(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<(PlanId, ActionId)>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<ActionTransition>,
) -> ApiResult<Answer> {
    principal.require(Permission::MoveActions)?;
    let request = body.parse()?;
    let keyed = key.for_caller(&principal, &req, &request)?;
    let (plan_id, id) = path.into_inner();
    idempotency::once(&state.db, keyed, move |conn| {
        let action = store::transition(conn, &principal, (plan_id, id), &request, &if_match)?;
        Answer::ok(&action)
    })
    .await
}

/// Actions across plans
///
/// Oldest first. `owner=me` gives the caller's own, for a staff member's phone; filter by
/// `status` and `due_to`.
#[utoipa::path(
    tag = "improvement",
    params(ActionQuery, Lookup, PageQuery),
    responses(
        (status = 200, description = "A page of actions", body = Paginated<PlanAction>),
    )
)]
#[get("/actions")]
pub async fn list_actions(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<ActionQuery>,
) -> ApiResult<Listing> {
    actions(state, req, principal, None, query).await
}

async fn actions(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    plan_id: Option<PlanId>,
    query: Query<ActionQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadPlans)?;
    let (query, page) = query.parse_paged()?;
    export::list(&req, &state.db, page, move |conn, page| {
        store::list(conn, &principal, plan_id, &query, page)
    })
    .await
}

/// Read an action by its id
///
/// The action, whichever plan it is in (its `plan_id` says which), as
/// `/v1/improvement-plans/{id}/actions/{action_id}` shows it. Every role, for actions of the
/// plans they may see.
#[utoipa::path(
    tag = "improvement",
    params(("action_id" = Uuid, Path, description = "Action id")),
    responses(
        (status = 200, description = "The action; `ETag` carries its version", body = PlanAction),
    )
)]
#[get("/actions/{action_id}")]
pub async fn get_action(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<ActionId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadPlans)?;
    let id = id.into_inner();
    let action = state
        .db
        .run(move |conn| store::get_by_id(conn, &principal, id))
        .await?;
    Answer::ok(&action)
}

/// Publish an action as "you said, we did"
///
/// Puts a done action on its location's public "you said, we did" pages (`/i/{slug}/you-said-we-did`
/// and `GET /v1/public/you-said-we-did`), in the words given: the theme of what people said and
/// what changed, written for the public, never what anyone wrote. Sending it again changes the
/// words. Only a done action (409 `not_done`). Managers and admins; honours `If-Match`.
#[utoipa::path(
    tag = "improvement",
    request_body = NewPublication,
    params(
        ("plan_id" = Uuid, Path, description = "Plan id"),
        ("action_id" = Uuid, Path, description = "Action id"),
        IfMatch,
    ),
    responses(
        (status = 200, description = "The action, published", body = PlanAction),
    )
)]
#[put("/improvement-plans/{plan_id}/actions/{action_id}/publication")]
pub async fn publish_plan_action(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(PlanId, ActionId)>,
    if_match: IfMatch,
    body: Json<NewPublication>,
) -> ApiResult<Answer> {
    principal.require(Permission::ModerateSubmissions)?;
    let publication = body.parse()?;
    let ids = path.into_inner();
    let action = state
        .db
        .write(move |conn| store::publish(conn, &principal, ids, Some(&publication), &if_match))
        .await?;
    Answer::ok(&action)
}

/// Take an action off "you said, we did"
///
/// The public pages stop showing it at once. Taking off an action that is not published
/// changes nothing. Managers and admins; honours `If-Match`.
#[utoipa::path(
    tag = "improvement",
    params(
        ("plan_id" = Uuid, Path, description = "Plan id"),
        ("action_id" = Uuid, Path, description = "Action id"),
        IfMatch,
    ),
    responses(
        (status = 200, description = "The action, not published", body = PlanAction),
    )
)]
#[delete("/improvement-plans/{plan_id}/actions/{action_id}/publication")]
pub async fn unpublish_plan_action(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(PlanId, ActionId)>,
    if_match: IfMatch,
) -> ApiResult<Answer> {
    principal.require(Permission::ModerateSubmissions)?;
    let ids = path.into_inner();
    let action = state
        .db
        .write(move |conn| store::publish(conn, &principal, ids, None, &if_match))
        .await?;
    Answer::ok(&action)
}
