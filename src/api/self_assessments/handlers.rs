use actix_web::{get, put, web};
use uuid::Uuid;

use super::dto::{NewSelfAssessment, SelfAssessment, SelfAssessmentSummary};
use super::store;
use crate::api::frameworks::handlers::framework;
use crate::auth::{Permission, Principal};
use crate::domain::ids::LocationId;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::preconditions::IfMatch;
use crate::http::respond::Answer;
use crate::state::AppState;

/// Score a quality statement at a location
///
/// A score on the framework's scale with its rationale and supporting evidence. Every score is
/// kept; the latest counts. Managers and admins. `If-Match` takes the statement's version (its
/// number of scores so far), so two assessors cannot overwrite each other unseen.
#[utoipa::path(
    tag = "self-assessment",
    request_body = NewSelfAssessment,
    params(
        ("location_id" = Uuid, Path, description = "Location id"),
        ("framework_id" = String, Path, description = "Framework id"),
        ("quality_statement_id" = String, Path, description = "Quality statement id"),
        IfMatch,
    ),
    responses(
        (status = 201, description = "The statement's first score here", body = SelfAssessment),
        (status = 200, description = "A new score replacing the previous one", body = SelfAssessment),
    )
)]
#[put("/self-assessments/{location_id}/{framework_id}/{quality_statement_id}")]
pub async fn assess_statement(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, String, String)>,
    if_match: IfMatch,
    body: Json<NewSelfAssessment>,
) -> ApiResult<Answer> {
    principal.require(Permission::SelfAssess)?;
    let (location_id, framework_id, statement_id) = path.into_inner();
    let framework = framework(&state, &framework_id)?;
    if !framework.has_statement(&statement_id) {
        return Err(ApiError::NotFound("quality statement"));
    }
    let new = body.parse()?;
    new.validate(&framework)?;
    let (assessment, first) = state
        .db
        .write(move |conn| {
            store::assess(
                conn,
                &principal,
                &framework,
                (LocationId::from(location_id), &statement_id),
                &new,
                &if_match,
            )
        })
        .await?;
    if first {
        let location = format!(
            "/v1/self-assessments/{}/{}",
            assessment.location_id, assessment.framework_id
        );
        Answer::created(location, &assessment)
    } else {
        Answer::ok(&assessment)
    }
}

/// A location's self-assessment
///
/// Each statement's latest score, and per key question its percentage (sum of scores ÷
/// (statements scored × 4)), its rating by the framework's bands, any limiter applied, and how
/// many statements are unscored.
#[utoipa::path(
    tag = "self-assessment",
    params(
        ("location_id" = Uuid, Path, description = "Location id"),
        ("framework_id" = String, Path, description = "Framework id"),
    ),
    responses(
        (status = 200, description = "Scores and the roll-up", body = SelfAssessmentSummary),
    )
)]
#[get("/self-assessments/{location_id}/{framework_id}")]
pub async fn self_assessment_summary(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(Uuid, String)>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadSelfAssessments)?;
    let (location_id, framework_id) = path.into_inner();
    let framework = framework(&state, &framework_id)?;
    let summary = state
        .db
        .run(move |conn| store::summary(conn, &principal, &framework, location_id.into()))
        .await?;
    Answer::ok(&summary)
}
