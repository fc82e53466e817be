//! A plan's sources (concerns, evidence, learning events), checked and linked.

use super::store::KIND;
use crate::api::shared::LinkedRecord;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::domain::ids::PlanId;
use crate::domain::RecordKind;
use crate::error::ApiResult;
use crate::store::links;

/// The kinds of record a plan comes from (the document's `PlanSourceKind`).
const SOURCE_KINDS: [RecordKind; 3] = [
    RecordKind::Concern,
    RecordKind::Evidence,
    RecordKind::LearningEvent,
];

/// 422 unless every source is a record of the organisation.
pub fn check_sources(
    conn: &mut DbConnection,
    principal: &Principal,
    sources: &[LinkedRecord],
) -> ApiResult<()> {
    for kind in SOURCE_KINDS {
        links::check_exist(
            conn,
            principal,
            kind,
            "sources",
            &LinkedRecord::ids_of(sources, kind),
        )?;
    }
    Ok(())
}

/// Replaces the plan's links to its sources.
pub fn set_sources(
    conn: &mut DbConnection,
    principal: &Principal,
    id: PlanId,
    sources: &[LinkedRecord],
) -> ApiResult<()> {
    for kind in SOURCE_KINDS {
        links::set_links(
            conn,
            principal,
            (KIND, id.any()),
            kind,
            &LinkedRecord::ids_of(sources, kind),
        )?;
    }
    Ok(())
}
