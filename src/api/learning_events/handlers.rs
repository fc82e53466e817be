use actix_web::{get, patch, post, web, HttpRequest};

use super::dto::{LearningEvent, LearningEventPatch, LearningEventQuery, NewLearningEvent};
use super::store;
use crate::api::shared::Lookup;
use crate::auth::{Permission, Principal};
use crate::domain::ids::LearningEventId;
use crate::error::ApiResult;
use crate::http::export::{self, Listing};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::preconditions::IfMatch;
use crate::http::respond::Answer;
use crate::http::validate::check_range;
use crate::state::AppState;

/// Record a learning event
///
/// A debrief, review or reflective discussion: who took part, what went well, what did not, what
/// needs to change, the lessons and where they were shared. A governance review needs all three
/// reflections. Staff, managers, admins and integrations.
#[utoipa::path(
    tag = "learning",
    request_body = NewLearningEvent,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Recorded; `Location` names it", body = LearningEvent),
    )
)]
#[post("/learning-events")]
pub async fn create_learning_event(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewLearningEvent>,
) -> ApiResult<Answer> {
    principal.require(Permission::RecordLearning)?;
    let new = body.parse()?;
    new.validate(&state.catalogue)?;
    let keyed = key.for_caller(&principal, &req, &new)?;
    idempotency::once(&state.db, keyed, move |conn| {
        let event = store::create(conn, &principal, &new)?;
        Answer::created(format!("/v1/learning-events/{}", event.id), &event)
    })
    .await
}

/// List learning events
#[utoipa::path(
    tag = "learning",
    params(LearningEventQuery, Lookup, PageQuery),
    responses(
        (status = 200, description = "A page of learning events", body = Paginated<LearningEvent>),
    )
)]
#[get("/learning-events")]
pub async fn list_learning_events(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<LearningEventQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadLearning)?;
    let (query, page) = query.parse_paged()?;
    check_range(query.from, query.to, "from")?;
    export::list(&req, &state.db, page, move |conn, page| {
        store::list(conn, &principal, &query, page)
    })
    .await
}

/// Read a learning event
#[utoipa::path(
    tag = "learning",
    params(("learning_event_id" = Uuid, Path, description = "Learning event id")),
    responses(
        (status = 200, description = "The learning event; `ETag` carries its version", body = LearningEvent),
    )
)]
#[get("/learning-events/{learning_event_id}")]
pub async fn get_learning_event(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<LearningEventId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadLearning)?;
    let id = id.into_inner();
    let event = state
        .db
        .run(move |conn| store::get(conn, &principal, id))
        .await?;
    Answer::ok(&event)
}

/// Update a learning event
///
/// Managers, admins and integrations; staff may update the events they recorded. Lists given
/// replace the stored ones. Honours `If-Match`.
#[utoipa::path(
    tag = "learning",
    request_body = LearningEventPatch,
    params(
        ("learning_event_id" = Uuid, Path, description = "Learning event id"),
        IfMatch,
    ),
    responses(
        (status = 200, description = "The updated learning event", body = LearningEvent),
    )
)]
#[patch("/learning-events/{learning_event_id}")]
pub async fn update_learning_event(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<LearningEventId>,
    if_match: IfMatch,
    body: Json<LearningEventPatch>,
) -> ApiResult<Answer> {
    principal.require(Permission::RecordLearning)?;
    let patch = body.parse()?;
    patch.validate(&state.catalogue)?;
    let id = id.into_inner();
    let event = state
        .db
        .write(move |conn| store::update(conn, &principal, id, &patch, &if_match))
        .await?;
    Answer::ok(&event)
}
