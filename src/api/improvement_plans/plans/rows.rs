//! The plan row, read as the API shows it, its next review, and the changes written to a row.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::dto::ImprovementPlan;
use super::store::KIND;
use crate::api::improvement_plans::{actions, reviews};
use crate::api::shared::{ExternalRef, LinkedRecord, Participant, Person};
use crate::auth::Principal;
use crate::db::columns::JsonText;
use crate::db::schema::improvement_plans;
use crate::db::DbConnection;
use crate::domain::ids::{LocationId, PlanId, RecordId};
use crate::domain::improvement::{
    next_review_due, review_overdue, Effectiveness, PlanStatus, Priority, ReviewCadence,
};
use crate::domain::{now, RecordKind};
use crate::error::ApiResult;
use crate::store::links::{self, Tags};
use crate::store::support::{only, to_utc};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = improvement_plans)]
// A missing value is written as NULL (no optional column has another default): the insert is
// then kept prepared whatever is missing, alone or with others (`db::together`).
#[diesel(treat_none_as_default_value = false)]
pub struct PlanRow {
    pub id: PlanId,
    pub organisation_id: String,
    pub location_id: Option<LocationId>,
    pub title: String,
    pub objective: String,
    pub owner_sub: String,
    pub owner_name: Option<String>,
    pub priority: Priority,
    pub status: PlanStatus,
    pub review_cadence: ReviewCadence,
    pub co_produced: bool,
    pub involved: JsonText<Vec<Participant>>,
    pub activated_on: Option<NaiveDate>,
    pub activated_at: Option<NaiveDateTime>,
    pub last_reviewed_on: Option<NaiveDate>,
    pub next_review_due: Option<NaiveDate>,
    pub completed_at: Option<NaiveDateTime>,
    pub external_system: Option<String>,
    pub external_id: Option<String>,
    pub created_by: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub tags: Tags,
}

// The build fails if this row's insert may no longer be kept prepared.
const _: () = assert!(
    <<&'static PlanRow as Insertable<improvement_plans::table>>::Values as diesel::query_builder::QueryId>::HAS_STATIC_QUERY_ID
);

impl PlanRow {
    pub fn owner(&self) -> Person {
        Person::user(self.owner_sub.clone(), self.owner_name.clone())
    }
}

/// When an active plan is next reviewed: a cadence after its last review, or its activation.
pub fn review_due(
    status: PlanStatus,
    cadence: ReviewCadence,
    last_review: Option<NaiveDate>,
    activated: Option<NaiveDate>,
) -> Option<NaiveDate> {
    (status == PlanStatus::Active)
        .then(|| last_review.or(activated))
        .flatten()
        .map(|anchor| next_review_due(cadence, anchor))
}

/// Plans as the API shows them, with sources, actions and latest review read in a few
/// queries for the whole page.
pub fn into_dtos(
    conn: &mut DbConnection,
    principal: &Principal,
    rows: Vec<PlanRow>,
) -> ApiResult<Vec<ImprovementPlan>> {
    let plan_ids: Vec<PlanId> = rows.iter().map(|r| r.id).collect();
    let ids: Vec<RecordId> = rows.iter().map(|r| r.id.any()).collect();
    let mut concerns = links::links_of(conn, principal, KIND, &ids, RecordKind::Concern)?;
    let mut evidence = links::links_of(conn, principal, KIND, &ids, RecordKind::Evidence)?;
    let mut learning = links::links_of(conn, principal, KIND, &ids, RecordKind::LearningEvent)?;
    let mut actions = actions::store::actions_of(conn, principal, &plan_ids)?;
    let mut latest = reviews::store::latest_of(conn, &plan_ids)?;
    let today = now().date_naive();
    Ok(rows
        .into_iter()
        .map(|row| {
            let plan_actions = actions.remove(&row.id).unwrap_or_default();
            ImprovementPlan {
                id: row.id.into(),
                owner: row.owner(),
                priority: row.priority,
                status: row.status,
                review_cadence: row.review_cadence,
                location_id: row.location_id.map(Into::into),
                quality_statements: row.tags.into_statements(),
                sources: [
                    (RecordKind::Concern, &mut concerns),
                    (RecordKind::Evidence, &mut evidence),
                    (RecordKind::LearningEvent, &mut learning),
                ]
                .into_iter()
                .flat_map(|(kind, linked)| {
                    linked
                        .remove(&row.id.any())
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |id| LinkedRecord { kind, id })
                })
                .collect(),
                involved: row.involved.0,
                review_overdue: review_overdue(row.next_review_due, today),
                ineffective_action_ids: plan_actions
                    .iter()
                    .filter(|a| a.effectiveness == Effectiveness::NotEffective)
                    .map(|a| a.id)
                    .collect(),
                actions: plan_actions,
                latest_review: latest.remove(&row.id),
                external_ref: ExternalRef::from_columns(row.external_system, row.external_id),
                title: row.title,
                objective: row.objective,
                co_produced: row.co_produced,
                activated_at: row.activated_at.map(to_utc),
                last_reviewed_on: row.last_reviewed_on,
                next_review_due: row.next_review_due,
                completed_at: row.completed_at.map(to_utc),
                created_by: Person::user(row.created_by, None),
                version: row.version,
                created_at: to_utc(row.created_at),
                updated_at: to_utc(row.updated_at),
            }
        })
        .collect())
}

pub fn into_dto(
    conn: &mut DbConnection,
    principal: &Principal,
    row: PlanRow,
) -> ApiResult<ImprovementPlan> {
    only(into_dtos(conn, principal, vec![row])?)
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = improvement_plans)]
pub struct PlanChanges {
    pub location_id: Option<Option<LocationId>>,
    pub title: Option<String>,
    pub objective: Option<String>,
    pub owner_sub: Option<String>,
    pub owner_name: Option<Option<String>>,
    pub priority: Option<Priority>,
    pub status: Option<PlanStatus>,
    pub review_cadence: Option<ReviewCadence>,
    pub co_produced: Option<bool>,
    pub involved: Option<JsonText<Vec<Participant>>>,
    pub activated_on: Option<Option<NaiveDate>>,
    pub activated_at: Option<Option<NaiveDateTime>>,
    pub last_reviewed_on: Option<Option<NaiveDate>>,
    pub next_review_due: Option<Option<NaiveDate>>,
    pub completed_at: Option<Option<NaiveDateTime>>,
    pub external_system: Option<String>,
    pub external_id: Option<String>,
}
