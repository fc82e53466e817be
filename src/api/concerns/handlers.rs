use actix_web::{get, patch, post, web, HttpMessage, HttpRequest};

use super::dto::{
    Concern, ConcernPatch, ConcernQuery, ConcernUpdate, NewConcern, NewConcernUpdate,
    TransitionRequest,
};
use super::{store, timeline};
use crate::api::shared::ChangedSince;
use crate::api::shared::Lookup;
use crate::auth::{Permission, Principal};
use crate::domain::ids::{ConcernId, ConcernUpdateId};
use crate::error::ApiResult;
use crate::http::export::{self, Listing};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::preconditions::IfMatch;
use crate::http::respond::Answer;
use crate::state::AppState;
use crate::telemetry::Unlogged;

/// Raise a concern
///
/// Staff, managers, admins and integrations. With `anonymous: true` careloop keeps nothing
/// that identifies the raiser (no `sub`, name, address or request id, in the record, the audit
/// trail or the log) and answers once (`Cache-Control: no-store`) with a `receipt_code` for `/v1/receipt`. A second
/// create with the same `external_ref` is 409 naming the existing concern.
#[utoipa::path(
    tag = "concerns",
    request_body = NewConcern,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Raised; `Location` names it", body = Concern),
    )
)]
#[post("/concerns")]
pub async fn create_concern(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewConcern>,
) -> ApiResult<Answer> {
    principal.require(Permission::RaiseConcern)?;
    // Until the body says the raiser is named, the request may be an anonymous one: it stays out
    // of the log even when it fails.
    req.extensions_mut().insert(Unlogged);
    let new = body.parse()?;
    new.validate(&state.catalogue)?;
    let keyed = if new.anonymous {
        key.for_anonymous_raiser(&principal, &req, &new)?
    } else {
        req.extensions_mut().remove::<Unlogged>();
        key.for_caller(&principal, &req, &new)?
    };
    idempotency::once(&state.db, keyed, move |conn| {
        let concern = store::create(conn, &principal, &new)?;
        let answer = Answer::created(format!("/v1/concerns/{}", concern.id), &concern)?;
        // The receipt code is shown once: nothing may keep the answer that holds it.
        Ok(if concern.receipt_code.is_some() {
            answer.no_store()
        } else {
            answer
        })
    })
    .await
}

/// List concerns
///
/// The concerns the caller may see, oldest first: managers and admins all in their locations;
/// viewers and integrations all but confidential ones; staff those they raised.
#[utoipa::path(
    tag = "concerns",
    params(ConcernQuery, Lookup, PageQuery),
    responses(
        (status = 200, description = "A page of concerns", body = Paginated<Concern>),
    )
)]
#[get("/concerns")]
pub async fn list_concerns(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<ConcernQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadConcerns)?;
    let (query, page) = query.parse_paged()?;
    export::list(&req, &state.db, page, move |conn, page| {
        store::list(conn, &principal, &query, page)
    })
    .await
}

/// Read a concern
#[utoipa::path(
    tag = "concerns",
    params(("concern_id" = Uuid, Path, description = "Concern id")),
    responses(
        (status = 200, description = "The concern; `ETag` carries its version", body = Concern),
    )
)]
#[get("/concerns/{concern_id}")]
pub async fn get_concern(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<ConcernId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadConcerns)?;
    let id = id.into_inner();
    let concern = state
        .db
        .run(move |conn| store::get(conn, &principal, id))
        .await?;
    Answer::ok(&concern)
}

/// Update a concern's description
///
/// Title, description, category, risk, location and the confidential flag; the workflow moves
/// only by transitions. Managers, admins and integrations; honours `If-Match`.
#[utoipa::path(
    tag = "concerns",
    request_body = ConcernPatch,
    params(
        ("concern_id" = Uuid, Path, description = "Concern id"),
        IfMatch,
    ),
    responses(
        (status = 200, description = "The updated concern", body = Concern),
    )
)]
#[patch("/concerns/{concern_id}")]
pub async fn update_concern(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<ConcernId>,
    if_match: IfMatch,
    body: Json<ConcernPatch>,
) -> ApiResult<Answer> {
    principal.require(Permission::EditConcern)?;
    let patch = body.parse()?;
    patch.validate(&state.catalogue)?;
    let id = id.into_inner();
    let concern = state
        .db
        .write(move |conn| store::update(conn, &principal, id, &patch, &if_match))
        .await?;
    Answer::ok(&concern)
}

/// Move a concern through its workflow
///
/// `raised → acknowledged → investigating → resolved → closed`; `escalated` (with
/// `escalated_to`) from any open state; `resolved → investigating` reopens. Resolving needs an
/// `outcome`. An illegal move is 409 with `allowed` listing the legal ones. Managers and admins;
/// honours `If-Match` and `Idempotency-Key`.
#[utoipa::path(
    tag = "concerns",
    request_body = TransitionRequest,
    params(
        ("concern_id" = Uuid, Path, description = "Concern id"),
        IfMatch,
        IdempotencyKey,
    ),
    responses(
        (status = 200, description = "The concern in its new state", body = Concern),
    )
)]
#[post("/concerns/{concern_id}/transitions")]
pub async fn transition_concern(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<ConcernId>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<TransitionRequest>,
) -> ApiResult<Answer> {
    principal.require(Permission::TriageConcern)?;
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

/// Add to a concern's timeline
///
/// The team adds notes, `internal` by default or `raiser` to share them; a raiser adds messages
/// the team and they can read.
#[utoipa::path(
    tag = "concerns",
    request_body = NewConcernUpdate,
    params(
        ("concern_id" = Uuid, Path, description = "Concern id"),
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Added; `Location` names it", body = ConcernUpdate),
    )
)]
#[post("/concerns/{concern_id}/updates")]
pub async fn add_concern_update(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<ConcernId>,
    key: IdempotencyKey,
    body: Json<NewConcernUpdate>,
) -> ApiResult<Answer> {
    principal.require(Permission::AddConcernUpdate)?;
    let new = body.parse()?;
    let keyed = key.for_caller(&principal, &req, &new)?;
    let id = id.into_inner();
    idempotency::once(&state.db, keyed, move |conn| {
        let update = timeline::add_update(conn, &principal, id, &new)?;
        Answer::created(format!("/v1/concerns/{id}/updates/{}", update.id), &update)
    })
    .await
}

/// Read a concern's timeline
///
/// Oldest first; transitions appear here too. A raiser sees only the entries shared with them.
#[utoipa::path(
    tag = "concerns",
    params(("concern_id" = Uuid, Path, description = "Concern id"), ChangedSince, PageQuery),
    responses(
        (status = 200, description = "A page of timeline entries", body = Paginated<ConcernUpdate>),
    )
)]
#[get("/concerns/{concern_id}/updates")]
pub async fn list_concern_updates(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    id: web::Path<ConcernId>,
    query: Query<ChangedSince>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadConcerns)?;
    let (query, page) = query.parse_paged()?;
    let id = id.into_inner();
    export::list(&req, &state.db, page, move |conn, page| {
        timeline::list_updates(conn, &principal, id, &query, page)
    })
    .await
}

/// Read one timeline entry
#[utoipa::path(
    tag = "concerns",
    params(
        ("concern_id" = Uuid, Path, description = "Concern id"),
        ("update_id" = Uuid, Path, description = "Timeline entry id"),
    ),
    responses(
        (status = 200, description = "The entry", body = ConcernUpdate),
    )
)]
#[get("/concerns/{concern_id}/updates/{update_id}")]
pub async fn get_concern_update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(ConcernId, ConcernUpdateId)>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadConcerns)?;
    let (id, update_id) = path.into_inner();
    let update = state
        .db
        .run(move |conn| timeline::get_update(conn, &principal, id, update_id))
        .await?;
    Answer::ok(&update)
}
