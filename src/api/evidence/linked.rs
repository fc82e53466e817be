//! The records evidence links to: learning events and concerns, checked and linked.

use super::store::KIND;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::domain::ids::EvidenceId;
use crate::domain::RecordKind;
use crate::error::ApiResult;
use crate::store::links;

/// Checks the records evidence links to exist in the organisation.
pub(super) fn check_linked(
    conn: &mut DbConnection,
    principal: &Principal,
    learning: &[uuid::Uuid],
    concerns: &[uuid::Uuid],
) -> ApiResult<()> {
    links::check_exist(
        conn,
        principal,
        RecordKind::LearningEvent,
        "learning_event_ids",
        learning,
    )?;
    links::check_exist(
        conn,
        principal,
        RecordKind::Concern,
        "concern_ids",
        concerns,
    )
}

/// Replaces the links to learning events and to concerns, each when given.
pub(super) fn set_links(
    conn: &mut DbConnection,
    principal: &Principal,
    id: EvidenceId,
    learning: Option<&[uuid::Uuid]>,
    concerns: Option<&[uuid::Uuid]>,
) -> ApiResult<()> {
    if let Some(learning) = learning {
        links::set_links(
            conn,
            principal,
            (KIND, id.any()),
            RecordKind::LearningEvent,
            learning,
        )?;
    }
    if let Some(concerns) = concerns {
        links::set_links(
            conn,
            principal,
            (KIND, id.any()),
            RecordKind::Concern,
            concerns,
        )?;
    }
    Ok(())
}
