use actix_web::{delete, get, patch, post, web, HttpRequest};

use super::dto::{Evidence, EvidencePatch, EvidenceQuery, MetricSeries, NewEvidence, SeriesQuery};
use super::{series, store};
use crate::api::shared::Lookup;
use crate::auth::{Permission, Principal};
use crate::domain::ids::EvidenceId;
use crate::error::ApiResult;
use crate::http::export::{self, Listing};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::preconditions::IfMatch;
use crate::http::respond::Answer;
use crate::http::validate::check_range;
use crate::state::AppState;

/// Add evidence
///
/// Tagged with one or more quality statements and one of the framework's evidence categories,
/// dated by `observed_at` or a period, with an optional metric. Managers, admins and
/// integrations; staff add feedback and observations.
#[utoipa::path(
    tag = "evidence",
    request_body = NewEvidence,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Added; `Location` names it", body = Evidence),
    )
)]
#[post("/evidence")]
pub async fn create_evidence(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewEvidence>,
) -> ApiResult<Answer> {
    principal.require(Permission::RecordEvidence)?;
    let new = body.parse()?;
    new.validate(&state.catalogue)?;
    let keyed = key.for_caller(&principal, &req, &new)?;
    idempotency::once(&state.db, keyed, move |conn| {
        let created = store::create(conn, &principal, &new)?;
        Answer::created(format!("/v1/evidence/{}", created.id), &created)
    })
    .await
}

/// List evidence
///
/// Archived evidence is left out unless `include_archived=true`.
#[utoipa::path(
    tag = "evidence",
    params(EvidenceQuery, Lookup, PageQuery),
    responses(
        (status = 200, description = "A page of evidence", body = Paginated<Evidence>),
    )
)]
#[get("/evidence")]
pub async fn list_evidence(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<EvidenceQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadEvidence)?;
    let (query, page) = query.parse_paged()?;
    check_range(query.from, query.to, "from")?;
    export::list(&req, &state.db, page, move |conn, page| {
        store::list(conn, &principal, &query, page)
    })
    .await
}

/// Read evidence
#[utoipa::path(
    tag = "evidence",
    params(("evidence_id" = Uuid, Path, description = "Evidence id")),
    responses(
        (status = 200, description = "The evidence; `ETag` carries its version", body = Evidence),
    )
)]
#[get("/evidence/{evidence_id}")]
pub async fn get_evidence(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<EvidenceId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadEvidence)?;
    let id = id.into_inner();
    let found = state
        .db
        .run(move |conn| store::get(conn, &principal, id))
        .await?;
    Answer::ok(&found)
}

/// Update evidence
///
/// Managers, admins and integrations. Lists given replace the stored ones; archived evidence
/// cannot change (409). Honours `If-Match`.
#[utoipa::path(
    tag = "evidence",
    request_body = EvidencePatch,
    params(
        ("evidence_id" = Uuid, Path, description = "Evidence id"),
        IfMatch,
    ),
    responses(
        (status = 200, description = "The updated evidence", body = Evidence),
    )
)]
#[patch("/evidence/{evidence_id}")]
pub async fn update_evidence(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<EvidenceId>,
    if_match: IfMatch,
    body: Json<EvidencePatch>,
) -> ApiResult<Answer> {
    principal.require(Permission::EditEvidence)?;
    let patch = body.parse()?;
    let id = id.into_inner();
    let app = state.clone();
    let updated = state
        .db
        .write(move |conn| store::update(conn, &app.catalogue, &principal, id, &patch, &if_match))
        .await?;
    Answer::ok(&updated)
}

/// Archive evidence
///
/// Evidence is a regulated record: it is archived, not deleted. It leaves lists (unless
/// `include_archived=true`) and its history stays in the audit trail. Managers, admins and
/// integrations; honours `If-Match`.
#[utoipa::path(
    tag = "evidence",
    params(
        ("evidence_id" = Uuid, Path, description = "Evidence id"),
        IfMatch,
    ),
    responses(
        (status = 200, description = "The archived evidence", body = Evidence),
    )
)]
#[delete("/evidence/{evidence_id}")]
pub async fn archive_evidence(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<EvidenceId>,
    if_match: IfMatch,
) -> ApiResult<Answer> {
    principal.require(Permission::EditEvidence)?;
    let id = id.into_inner();
    let archived = state
        .db
        .write(move |conn| store::archive(conn, &principal, id, &if_match))
        .await?;
    Answer::ok(&archived)
}

/// Verify feedback from an intake point
///
/// Marks that a manager has looked at evidence that came in through a public intake point
/// (`verification: unverified`); verifying verified evidence changes nothing. Managers and
/// admins; honours `If-Match`.
#[utoipa::path(
    tag = "evidence",
    params(
        ("evidence_id" = Uuid, Path, description = "Evidence id"),
        IfMatch,
    ),
    responses(
        (status = 200, description = "The verified evidence", body = Evidence),
    )
)]
#[post("/evidence/{evidence_id}/verification")]
pub async fn verify_evidence(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<EvidenceId>,
    if_match: IfMatch,
) -> ApiResult<Answer> {
    principal.require(Permission::ModerateSubmissions)?;
    let id = id.into_inner();
    let verified = state
        .db
        .write(move |conn| store::verify(conn, &principal, id, &if_match))
        .await?;
    Answer::ok(&verified)
}

/// A metric over time
///
/// For each month (or quarter, or year): how many values, their mean, minimum and maximum, and
/// how many met their target. Computed by the database.
#[utoipa::path(
    tag = "evidence",
    params(("metric_name" = String, Path, description = "Metric name"), SeriesQuery),
    responses(
        (status = 200, description = "The metric's series", body = MetricSeries),
    )
)]
#[get("/evidence/metrics/{metric_name}/series")]
pub async fn get_metric_series(
    state: web::Data<AppState>,
    principal: Principal,
    name: web::Path<String>,
    query: Query<SeriesQuery>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadEvidence)?;
    let query = query.parse()?;
    check_range(query.from, query.to, "from")?;
    let name = name.into_inner();
    let series = state
        .db
        .run(move |conn| series::series(conn, &principal, &name, &query))
        .await?;
    Answer::ok(&series)
}
