use actix_web::{get, post, web, HttpRequest};

use super::dto::{ApprovalDecision, NewRecognition, Recognition, RecognitionQuery};
use super::store;
use crate::api::shared::Lookup;
use crate::auth::{Permission, Principal};
use crate::domain::ids::RecognitionId;
use crate::error::ApiResult;
use crate::http::export::{self, Listing};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::preconditions::IfMatch;
use crate::http::respond::Answer;
use crate::state::AppState;

/// Recognise someone
///
/// A compliment, staff award, improvement milestone or thanks. Everyone but viewers.
#[utoipa::path(
    tag = "recognition",
    request_body = NewRecognition,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Recorded; `Location` names it", body = Recognition),
    )
)]
#[post("/recognitions")]
pub async fn create_recognition(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewRecognition>,
) -> ApiResult<Answer> {
    principal.require(Permission::Recognise)?;
    let new = body.parse()?;
    new.validate()?;
    let keyed = key.for_caller(&principal, &req, &new)?;
    idempotency::once(&state.db, keyed, move |conn| {
        let recognition = store::create(conn, &principal, &new)?;
        Answer::created(format!("/v1/recognitions/{}", recognition.id), &recognition)
    })
    .await
}

/// List recognitions
#[utoipa::path(
    tag = "recognition",
    params(RecognitionQuery, Lookup, PageQuery),
    responses(
        (status = 200, description = "A page of recognitions", body = Paginated<Recognition>),
    )
)]
#[get("/recognitions")]
pub async fn list_recognitions(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<RecognitionQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadRecognitions)?;
    let (query, page) = query.parse_paged()?;
    export::list(&req, &state.db, page, move |conn, page| {
        store::list(conn, &principal, &query, page)
    })
    .await
}

/// Read a recognition
#[utoipa::path(
    tag = "recognition",
    params(("recognition_id" = Uuid, Path, description = "Recognition id")),
    responses(
        (status = 200, description = "The recognition", body = Recognition),
    )
)]
#[get("/recognitions/{recognition_id}")]
pub async fn get_recognition(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<RecognitionId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadRecognitions)?;
    let id = id.into_inner();
    let recognition = state
        .db
        .run(move |conn| store::get(conn, &principal, id))
        .await?;
    Answer::ok(&recognition)
}

/// Decide on a recognition awaiting approval
///
/// A compliment that came in through a public intake point waits (`approval:
/// awaiting_approval`) until a manager approves it (everyone then sees it, and it reaches the
/// highlights) or declines it (kept for managers and admins only). A decision may be changed;
/// the same decision again changes nothing. Managers and admins; honours `If-Match`.
#[utoipa::path(
    tag = "recognition",
    request_body = ApprovalDecision,
    params(
        ("recognition_id" = Uuid, Path, description = "Recognition id"),
        IfMatch,
    ),
    responses(
        (status = 200, description = "The recognition as decided", body = Recognition),
    )
)]
#[post("/recognitions/{recognition_id}/approval")]
pub async fn decide_recognition(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<RecognitionId>,
    if_match: IfMatch,
    body: Json<ApprovalDecision>,
) -> ApiResult<Answer> {
    principal.require(Permission::ModerateSubmissions)?;
    let decision = body.parse()?.decision.into();
    let id = id.into_inner();
    let recognition = state
        .db
        .write(move |conn| store::decide(conn, &principal, id, decision, &if_match))
        .await?;
    Answer::ok(&recognition)
}
