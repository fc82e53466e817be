use actix_web::{get, patch, post, web, HttpRequest};

use super::dto::{IntakePoint, IntakePointPatch, NewIntakePoint};
use super::store;
use crate::auth::{Permission, Principal};
use crate::domain::ids::IntakePointId;
use crate::error::ApiResult;
use crate::http::export::{self, Listing};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::preconditions::IfMatch;
use crate::http::respond::Answer;
use crate::state::AppState;

/// The scheme and host the doors' addresses start with: `CARELOOP_PUBLIC_URL` when set, else
/// the address the request was made to.
pub fn public_base(state: &AppState, req: &HttpRequest) -> String {
    match &state.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

/// Open an intake point
///
/// A public door to one location: its page (`url`) takes the `kinds` asked for (feedback,
/// compliments, concerns) from anyone, without a token. Put the address on a QR code at
/// reception, in a relatives' newsletter or on the staff room poster; a location may have
/// several. Managers and admins.
#[utoipa::path(
    tag = "intake points",
    request_body = NewIntakePoint,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Opened; `Location` names it", body = IntakePoint),
    )
)]
#[post("/intake-points")]
pub async fn create_intake_point(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewIntakePoint>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageIntakePoints)?;
    let new = body.parse()?;
    let keyed = key.for_caller(&principal, &req, &new)?;
    let base = public_base(&state, &req);
    idempotency::once(&state.db, keyed, move |conn| {
        let point = store::create(conn, &principal, &base, &new)?;
        Answer::created(format!("/v1/intake-points/{}", point.id), &point)
    })
    .await
}

/// List intake points
///
/// The doors at the locations in the caller's reach. Managers and admins.
#[utoipa::path(
    tag = "intake points",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of intake points", body = Paginated<IntakePoint>),
    )
)]
#[get("/intake-points")]
pub async fn list_intake_points(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<PageQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ManageIntakePoints)?;
    let (_, page) = query.parse_paged()?;
    let base = public_base(&state, &req);
    export::list(&req, &state.db, page, move |conn, page| {
        store::list(conn, &principal, &base, page)
    })
    .await
}

/// Read an intake point
#[utoipa::path(
    tag = "intake points",
    params(("intake_point_id" = Uuid, Path, description = "Intake point id")),
    responses(
        (status = 200, description = "The intake point; `ETag` carries its version", body = IntakePoint),
    )
)]
#[get("/intake-points/{intake_point_id}")]
pub async fn get_intake_point(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    id: web::Path<IntakePointId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageIntakePoints)?;
    let (id, base) = (id.into_inner(), public_base(&state, &req));
    let point = state
        .db
        .run(move |conn| store::get(conn, &principal, &base, id))
        .await?;
    Answer::ok(&point)
}

/// Change an intake point
///
/// Its kinds, words, or whether it is open: a disabled door's page answers 404 at once, and
/// opens again, at the same address, when re-enabled. Honours `If-Match`.
#[utoipa::path(
    tag = "intake points",
    request_body = IntakePointPatch,
    params(("intake_point_id" = Uuid, Path, description = "Intake point id"), IfMatch),
    responses(
        (status = 200, description = "The intake point as changed", body = IntakePoint),
    )
)]
#[patch("/intake-points/{intake_point_id}")]
pub async fn update_intake_point(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    id: web::Path<IntakePointId>,
    if_match: IfMatch,
    body: Json<IntakePointPatch>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageIntakePoints)?;
    let patch = body.parse()?;
    let (id, base) = (id.into_inner(), public_base(&state, &req));
    let point = state
        .db
        .write(move |conn| store::update(conn, &principal, &base, id, &patch, &if_match))
        .await?;
    Answer::ok(&point)
}

/// Rotate an intake point's slug
///
/// A new public address; the old one answers 404 from this moment (a poster taken down, a link
/// shared too widely). Honours `If-Match`.
#[utoipa::path(
    tag = "intake points",
    params(("intake_point_id" = Uuid, Path, description = "Intake point id"), IfMatch),
    responses(
        (status = 200, description = "The intake point with its new slug and addresses", body = IntakePoint),
    )
)]
#[post("/intake-points/{intake_point_id}/slug")]
pub async fn rotate_intake_point_slug(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    id: web::Path<IntakePointId>,
    if_match: IfMatch,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageIntakePoints)?;
    let (id, base) = (id.into_inner(), public_base(&state, &req));
    let point = state
        .db
        .write(move |conn| store::rotate_slug(conn, &principal, &base, id, &if_match))
        .await?;
    Answer::ok(&point)
}
