//! The action row, read as the API shows it (check evidence too), and the changes to a row.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::dto::{PlanAction, Publication};
use super::store::KIND;
use crate::api::shared::{ExternalRef, LinkedRecord, Person};
use crate::auth::Principal;
use crate::db::schema::plan_actions;
use crate::db::DbConnection;
use crate::domain::ids::{ActionId, PlanId, RecordId};
use crate::domain::improvement::{ActionStatus, Effectiveness};
use crate::domain::{now, RecordKind};
use crate::error::ApiResult;
use crate::store::links::{self, Way};
use crate::store::support::{only, to_utc};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = plan_actions)]
pub(super) struct ActionRow {
    pub(super) id: ActionId,
    pub(super) organisation_id: String,
    pub(super) plan_id: PlanId,
    pub(super) description: String,
    pub(super) owner_sub: String,
    pub(super) owner_name: Option<String>,
    pub(super) due_on: Option<NaiveDate>,
    pub(super) status: ActionStatus,
    pub(super) completion_note: Option<String>,
    pub(super) cancel_reason: Option<String>,
    pub(super) effectiveness: Effectiveness,
    pub(super) checked_on: Option<NaiveDate>,
    pub(super) completed_at: Option<NaiveDateTime>,
    pub(super) external_system: Option<String>,
    pub(super) external_id: Option<String>,
    pub(super) version: i64,
    pub(super) created_at: NaiveDateTime,
    pub(super) updated_at: NaiveDateTime,
    pub(super) you_said: Option<String>,
    pub(super) we_did: Option<String>,
    pub(super) published_at: Option<NaiveDateTime>,
}

/// The kinds of record an action may come from, and which way their links are kept: in from
/// evidence and concerns (which link to no action otherwise), out to recognitions (whose own
/// links to an action, a milestone's among them, say something else).
pub(super) const ORIGINS: [(RecordKind, Way); 3] = [
    (RecordKind::Evidence, Way::In),
    (RecordKind::Recognition, Way::Out),
    (RecordKind::Concern, Way::In),
];

pub(super) fn into_dtos(
    conn: &mut DbConnection,
    principal: &Principal,
    rows: Vec<ActionRow>,
) -> ApiResult<Vec<PlanAction>> {
    let ids: Vec<RecordId> = rows.iter().map(|r| r.id.any()).collect();
    let mut checks = links::links_of(conn, principal, KIND, &ids, RecordKind::Evidence)?;
    let mut origins: Vec<_> = ORIGINS
        .into_iter()
        .map(|(kind, way)| {
            Ok((
                kind,
                links::links_way(conn, principal, way, KIND, &ids, kind)?,
            ))
        })
        .collect::<ApiResult<_>>()?;
    let today = now().date_naive();
    Ok(rows
        .into_iter()
        .map(|row| {
            let status = row.status;
            PlanAction {
                id: row.id.into(),
                plan_id: row.plan_id.into(),
                owner: Person::user(row.owner_sub.clone(), row.owner_name.clone()),
                effectiveness: row.effectiveness,
                overdue: status.is_open() && row.due_on.is_some_and(|due| due < today),
                status,
                check_evidence: LinkedRecord::to_all(
                    RecordKind::Evidence,
                    checks.remove(&row.id.any()).unwrap_or_default(),
                ),
                came_from: origins
                    .iter_mut()
                    .flat_map(|(kind, linked)| {
                        LinkedRecord::to_all(
                            *kind,
                            linked.remove(&row.id.any()).unwrap_or_default(),
                        )
                    })
                    .collect(),
                publication: match (row.you_said, row.we_did, row.published_at) {
                    (Some(you_said), Some(we_did), Some(at)) => Some(Publication {
                        you_said,
                        we_did,
                        published_at: to_utc(at),
                    }),
                    _ => None,
                },
                description: row.description,
                due_on: row.due_on,
                completion_note: row.completion_note,
                cancel_reason: row.cancel_reason,
                checked_on: row.checked_on,
                completed_at: row.completed_at.map(to_utc),
                external_ref: ExternalRef::from_columns(row.external_system, row.external_id),
                version: row.version,
                created_at: to_utc(row.created_at),
                updated_at: to_utc(row.updated_at),
            }
        })
        .collect())
}

pub(super) fn into_dto(
    conn: &mut DbConnection,
    principal: &Principal,
    row: ActionRow,
) -> ApiResult<PlanAction> {
    only(into_dtos(conn, principal, vec![row])?)
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = plan_actions)]
pub(super) struct ActionChanges {
    pub(super) description: Option<String>,
    pub(super) owner_sub: Option<String>,
    pub(super) owner_name: Option<Option<String>>,
    pub(super) due_on: Option<Option<NaiveDate>>,
    pub(super) status: Option<ActionStatus>,
    pub(super) completion_note: Option<Option<String>>,
    pub(super) cancel_reason: Option<Option<String>>,
    pub(super) effectiveness: Option<Effectiveness>,
    pub(super) checked_on: Option<Option<NaiveDate>>,
    pub(super) completed_at: Option<Option<NaiveDateTime>>,
    pub(super) external_system: Option<String>,
    pub(super) external_id: Option<String>,
    pub(super) you_said: Option<Option<String>>,
    pub(super) we_did: Option<Option<String>>,
    pub(super) published_at: Option<Option<NaiveDateTime>>,
}
