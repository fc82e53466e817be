//! The records evidence links to: learning events and concerns, checked and linked.

use super::store::KIND;
use crate::api::shared::LinkedRecord;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::domain::ids::EvidenceId;
use crate::domain::RecordKind;
use crate::error::ApiResult;
use crate::store::links;

/// The kinds of record evidence links to (the document's `EvidenceLinkKind`).
const LINKED_KINDS: [RecordKind; 2] = [RecordKind::LearningEvent, RecordKind::Concern];

/// Checks the records evidence links to exist in the organisation.
pub(super) fn check_linked(
    conn: &mut DbConnection,
    principal: &Principal,
    linked: &[LinkedRecord],
) -> ApiResult<()> {
    for kind in LINKED_KINDS {
        let ids = LinkedRecord::ids_of(linked, kind);
        links::check_exist(conn, principal, kind, "linked_records", &ids)?;
    }
    Ok(())
}

/// Replaces the links to learning events and to concerns, when given.
pub(super) fn set_links(
    conn: &mut DbConnection,
    principal: &Principal,
    id: EvidenceId,
    linked: Option<&[LinkedRecord]>,
) -> ApiResult<()> {
    let Some(linked) = linked else {
        return Ok(());
    };
    for kind in LINKED_KINDS {
        let ids = LinkedRecord::ids_of(linked, kind);
        links::set_links(conn, principal, (KIND, id.any()), kind, &ids)?;
    }
    Ok(())
}
