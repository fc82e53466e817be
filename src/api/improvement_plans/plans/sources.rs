//! A plan's sources (concerns, evidence, learning events), checked and linked.

use super::dto::PlanSources;
use super::store::KIND;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::domain::ids::PlanId;
use crate::domain::RecordKind;
use crate::error::ApiResult;
use crate::store::links;

/// 422 unless every source is a record of the organisation.
pub fn check_sources(
    conn: &mut DbConnection,
    principal: &Principal,
    sources: &PlanSources,
) -> ApiResult<()> {
    links::check_exist(
        conn,
        principal,
        RecordKind::Concern,
        "sources.concern_ids",
        &sources.concern_ids,
    )?;
    links::check_exist(
        conn,
        principal,
        RecordKind::Evidence,
        "sources.evidence_ids",
        &sources.evidence_ids,
    )?;
    links::check_exist(
        conn,
        principal,
        RecordKind::LearningEvent,
        "sources.learning_event_ids",
        &sources.learning_event_ids,
    )
}

/// Replaces the plan's links to its sources.
pub fn set_sources(
    conn: &mut DbConnection,
    principal: &Principal,
    id: PlanId,
    sources: &PlanSources,
) -> ApiResult<()> {
    links::set_links(
        conn,
        principal,
        (KIND, id.any()),
        RecordKind::Concern,
        &sources.concern_ids,
    )?;
    links::set_links(
        conn,
        principal,
        (KIND, id.any()),
        RecordKind::Evidence,
        &sources.evidence_ids,
    )?;
    links::set_links(
        conn,
        principal,
        (KIND, id.any()),
        RecordKind::LearningEvent,
        &sources.learning_event_ids,
    )
}
