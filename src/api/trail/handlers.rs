//! The trail endpoints, one per kind of record a trail starts from.

use crate::domain::ids::{ConcernId, EvidenceId, Id, LearningEventId, PlanId};
use actix_web::{get, web};

use super::dto::Trail;
use super::walk::trail;
use crate::api::{concerns, evidence, improvement_plans, learning_events};
use crate::auth::{Permission, Principal};
use crate::db::DbConnection;
use crate::domain::RecordKind;
use crate::error::ApiResult;
use crate::http::respond::Answer;
use crate::state::AppState;

/// Checks the record is the caller's to see, then walks its trail.
async fn answer<K: 'static, F>(
    state: &AppState,
    principal: Principal,
    kind: RecordKind,
    id: Id<K>,
    check: F,
) -> ApiResult<Answer>
where
    F: FnOnce(&mut DbConnection, &Principal, Id<K>) -> ApiResult<()> + Send + 'static,
{
    let trail = state
        .db
        .run(move |conn| {
            check(conn, &principal, id)?;
            trail(conn, &principal, (kind, id.any()))
        })
        .await?;
    Answer::ok(&trail)
}

/// The trail of a concern
///
/// Every record linked to it, both ways and onwards (learning events, plans, actions, evidence,
/// recognitions), with kind, id, title and status.
#[utoipa::path(
    tag = "concerns",
    params(("concern_id" = Uuid, Path, description = "Concern id")),
    responses((status = 200, description = "The linked records, nearest first", body = Trail))
)]
#[get("/concerns/{concern_id}/trail")]
pub async fn get_concern_trail(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<ConcernId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadConcerns)?;
    answer(
        &state,
        principal,
        RecordKind::Concern,
        id.into_inner(),
        |conn, principal, id| concerns::store::find(conn, principal, id).map(|_| ()),
    )
    .await
}

/// The trail of evidence
#[utoipa::path(
    tag = "evidence",
    params(("evidence_id" = Uuid, Path, description = "Evidence id")),
    responses((status = 200, description = "The linked records, nearest first", body = Trail))
)]
#[get("/evidence/{evidence_id}/trail")]
pub async fn get_evidence_trail(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<EvidenceId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadEvidence)?;
    answer(
        &state,
        principal,
        RecordKind::Evidence,
        id.into_inner(),
        |conn, principal, id| evidence::store::get(conn, principal, id).map(|_| ()),
    )
    .await
}

/// The trail of a learning event
#[utoipa::path(
    tag = "learning",
    params(("learning_event_id" = Uuid, Path, description = "Learning event id")),
    responses((status = 200, description = "The linked records, nearest first", body = Trail))
)]
#[get("/learning-events/{learning_event_id}/trail")]
pub async fn get_learning_event_trail(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<LearningEventId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadLearning)?;
    answer(
        &state,
        principal,
        RecordKind::LearningEvent,
        id.into_inner(),
        |conn, principal, id| learning_events::store::get(conn, principal, id).map(|_| ()),
    )
    .await
}

/// The trail of an improvement plan
#[utoipa::path(
    tag = "improvement",
    params(("plan_id" = Uuid, Path, description = "Plan id")),
    responses((status = 200, description = "The linked records, nearest first", body = Trail))
)]
#[get("/improvement-plans/{plan_id}/trail")]
pub async fn get_plan_trail(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<PlanId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadPlans)?;
    answer(
        &state,
        principal,
        RecordKind::ImprovementPlan,
        id.into_inner(),
        |conn, principal, id| {
            improvement_plans::plans::store::find(conn, principal, id).map(|_| ())
        },
    )
    .await
}
