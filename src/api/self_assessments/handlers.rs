//! A location's self-assessment against a framework, as resources: the assessment (each
//! statement's current score and the roll-up), each statement's current score (set by an
//! idempotent PUT), and its history of scores (added by POST).

use actix_web::{get, post, put, web, HttpRequest};
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{NewSelfAssessment, SelfAssessment, SelfAssessmentSummary};
use super::store::{self, Scored, Statement};
use crate::api::frameworks::handlers::framework;
use crate::api::shared::ChangedSince;
use crate::auth::{Permission, Principal};
use crate::domain::framework::Framework;
use crate::domain::ids::{LocationId, SelfAssessmentId};
use crate::error::{ApiError, ApiResult};
use crate::http::export::{self, Listing};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::preconditions::IfMatch;
use crate::http::respond::Answer;
use crate::state::AppState;

/// The path of a location's assessment against a framework.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AssessmentPath {
    /// Location id
    #[param(value_type = Uuid)]
    location_id: LocationId,
    /// Framework id, for example cqc-saf-2024
    framework_id: String,
}

/// The path of one quality statement's score at a location.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct StatementPath {
    /// Location id
    #[param(value_type = Uuid)]
    location_id: LocationId,
    /// Framework id, for example cqc-saf-2024
    framework_id: String,
    /// Quality statement id, for example safe.safeguarding
    quality_statement_id: String,
}

impl StatementPath {
    /// The framework, and 404 unless the statement is one of it.
    fn framework(&self, state: &AppState) -> ApiResult<std::sync::Arc<Framework>> {
        let framework = framework(state, &self.framework_id)?;
        if !framework.has_statement(&self.quality_statement_id) {
            return Err(ApiError::NotFound("quality statement"));
        }
        Ok(framework)
    }

    fn statement<'a>(&'a self, framework: &'a Framework) -> Statement<'a> {
        Statement {
            location_id: self.location_id,
            framework,
            id: &self.quality_statement_id,
        }
    }

    /// Where the statement's current score is read.
    fn url(&self) -> String {
        format!(
            "/v1/locations/{}/self-assessments/{}/quality-statements/{}",
            self.location_id, self.framework_id, self.quality_statement_id
        )
    }
}

/// The path of one score in a statement's history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ScorePath {
    /// Location id
    #[param(value_type = Uuid)]
    location_id: LocationId,
    /// Framework id, for example cqc-saf-2024
    framework_id: String,
    /// Quality statement id, for example safe.safeguarding
    quality_statement_id: String,
    /// Score id
    #[param(value_type = Uuid)]
    score_id: SelfAssessmentId,
}

/// Read a location's self-assessment
///
/// Each statement's current score, and per key question its percentage (sum of scores ÷
/// (statements scored × 4)), its rating by the framework's bands, any limiter applied, and how
/// many statements are unscored. Every role.
#[utoipa::path(
    tag = "self-assessment",
    params(
        AssessmentPath,
    ),
    responses(
        (status = 200, description = "Scores and the roll-up", body = SelfAssessmentSummary),
    )
)]
#[get("/locations/{location_id}/self-assessments/{framework_id}")]
pub async fn get_self_assessment(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<AssessmentPath>,
) -> ApiResult<Answer> {
    assessment(state, principal, path.into_inner()).await
}

/// Read a location's self-assessment (deprecated alias)
///
/// The same as `GET /v1/locations/{location_id}/self-assessments/{framework_id}`, at the path
/// it had before URLs named their collections.
#[utoipa::path(
    tag = "self-assessment",
    params(
        AssessmentPath,
    ),
    responses(
        (status = 200, description = "Scores and the roll-up", body = SelfAssessmentSummary),
    )
)]
#[get("/self-assessments/{location_id}/{framework_id}")]
pub async fn get_self_assessment_alias(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<AssessmentPath>,
) -> ApiResult<Answer> {
    assessment(state, principal, path.into_inner()).await
}

async fn assessment(
    state: web::Data<AppState>,
    principal: Principal,
    path: AssessmentPath,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadSelfAssessments)?;
    let framework = framework(&state, &path.framework_id)?;
    let summary = state
        .db
        .run(move |conn| store::summary(conn, &principal, &framework, path.location_id))
        .await?;
    Answer::ok(&summary)
}

/// Read a statement's current score
///
/// 404 while the statement has no score at the location. `ETag` is the statement's version
/// (its number of scores so far). Every role.
#[utoipa::path(
    tag = "self-assessment",
    params(
        StatementPath,
    ),
    responses(
        (status = 200, description = "The current score", body = SelfAssessment),
    )
)]
#[get("/locations/{location_id}/self-assessments/{framework_id}/quality-statements/{quality_statement_id}")]
pub async fn get_statement_score(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<StatementPath>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadSelfAssessments)?;
    let path = path.into_inner();
    let framework = path.framework(&state)?;
    let score = state
        .db
        .run(move |conn| store::current(conn, &principal, &path.statement(&framework)))
        .await?;
    Answer::ok(&score)
}

/// Set a statement's current score
///
/// Makes the body the statement's current score at the location: 201 for its first score, 200
/// for a new one replacing the last, and 200 with nothing written when the body is the current
/// score already (same score, rationale and evidence), so a retried PUT is harmless. Every
/// score is kept in the statement's history. `If-Match` takes the statement's version, so two
/// assessors cannot overwrite each other unseen. Managers and admins.
#[utoipa::path(
    tag = "self-assessment",
    request_body = NewSelfAssessment,
    params(
        StatementPath,
        IfMatch,
    ),
    responses(
        (status = 201, description = "The statement's first score here", body = SelfAssessment),
        (status = 200, description = "The current score: new, or unchanged when it was already", body = SelfAssessment),
    )
)]
#[put("/locations/{location_id}/self-assessments/{framework_id}/quality-statements/{quality_statement_id}")]
pub async fn set_statement_score(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<StatementPath>,
    if_match: IfMatch,
    body: Json<NewSelfAssessment>,
) -> ApiResult<Answer> {
    put_score(state, principal, path.into_inner(), if_match, body).await
}

/// Score a quality statement at a location (deprecated alias)
///
/// The same as `PUT /v1/locations/{location_id}/self-assessments/{framework_id}/quality-statements/{quality_statement_id}`,
/// at the path it had before URLs named their collections.
#[utoipa::path(
    tag = "self-assessment",
    request_body = NewSelfAssessment,
    params(
        StatementPath,
        IfMatch,
    ),
    responses(
        (status = 201, description = "The statement's first score here", body = SelfAssessment),
        (status = 200, description = "The current score: new, or unchanged when it was already", body = SelfAssessment),
    )
)]
#[put("/self-assessments/{location_id}/{framework_id}/{quality_statement_id}")]
pub async fn set_statement_score_alias(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<StatementPath>,
    if_match: IfMatch,
    body: Json<NewSelfAssessment>,
) -> ApiResult<Answer> {
    put_score(state, principal, path.into_inner(), if_match, body).await
}

async fn put_score(
    state: web::Data<AppState>,
    principal: Principal,
    path: StatementPath,
    if_match: IfMatch,
    body: Json<NewSelfAssessment>,
) -> ApiResult<Answer> {
    principal.require(Permission::SelfAssess)?;
    let framework = path.framework(&state)?;
    let new = body.parse()?;
    new.validate(&framework)?;
    let url = path.url();
    let (score, scored) = state
        .db
        .write(move |conn| {
            store::set(
                conn,
                &principal,
                &path.statement(&framework),
                &new,
                &if_match,
            )
        })
        .await?;
    match scored {
        Scored::First => Answer::created(url, &score),
        Scored::Replaced | Scored::Unchanged => Answer::ok(&score),
    }
}

/// Record a score for a statement
///
/// Adds a score to the statement's history; it becomes the current one. `Idempotency-Key`
/// makes a retry safe; `If-Match` takes the statement's version. `Location` names the score.
/// Managers and admins.
#[utoipa::path(
    tag = "self-assessment",
    request_body = NewSelfAssessment,
    params(
        StatementPath,
        IfMatch,
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Recorded; `Location` names the score", body = SelfAssessment),
    )
)]
#[post("/locations/{location_id}/self-assessments/{framework_id}/quality-statements/{quality_statement_id}/scores")]
pub async fn record_score(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<StatementPath>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: Json<NewSelfAssessment>,
) -> ApiResult<Answer> {
    principal.require(Permission::SelfAssess)?;
    let path = path.into_inner();
    let framework = path.framework(&state)?;
    let new = body.parse()?;
    new.validate(&framework)?;
    let keyed = key.for_caller(&principal, &req, &new)?;
    idempotency::once(&state.db, keyed, move |conn| {
        let (score, _) = store::record(
            conn,
            &principal,
            &path.statement(&framework),
            &new,
            &if_match,
        )?;
        Answer::created(format!("{}/scores/{}", path.url(), score.id), &score)
    })
    .await
}

/// List a statement's scores
///
/// The statement's history at the location, oldest first; the last is the current score.
/// Every role.
#[utoipa::path(
    tag = "self-assessment",
    params(
        StatementPath,
        ChangedSince,
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of scores", body = Paginated<SelfAssessment>),
    )
)]
#[get("/locations/{location_id}/self-assessments/{framework_id}/quality-statements/{quality_statement_id}/scores")]
pub async fn list_scores(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<StatementPath>,
    query: Query<ChangedSince>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadSelfAssessments)?;
    let path = path.into_inner();
    let framework = path.framework(&state)?;
    let (since, page) = query.parse_paged()?;
    export::list(&req, &state.db, page, move |conn, page| {
        store::history(conn, &principal, &path.statement(&framework), &since, page)
    })
    .await
}

/// Read a score
///
/// One score of the statement's history. Every role.
#[utoipa::path(
    tag = "self-assessment",
    params(
        ScorePath,
    ),
    responses(
        (status = 200, description = "The score", body = SelfAssessment),
    )
)]
#[get("/locations/{location_id}/self-assessments/{framework_id}/quality-statements/{quality_statement_id}/scores/{score_id}")]
pub async fn get_score(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ScorePath>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadSelfAssessments)?;
    let ScorePath {
        location_id,
        framework_id,
        quality_statement_id,
        score_id,
    } = path.into_inner();
    let path = StatementPath {
        location_id,
        framework_id,
        quality_statement_id,
    };
    let framework = path.framework(&state)?;
    let score = state
        .db
        .run(move |conn| store::score(conn, &principal, &path.statement(&framework), score_id))
        .await?;
    Answer::ok(&score)
}
