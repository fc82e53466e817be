//! The evidence row, read as the API shows it (tags and links too), and the changes to a row.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dto::{Evidence, Metric};
use super::store::KIND;
use crate::api::shared::{Contact, ExternalRef, LinkedRecord, Person};
use crate::auth::{Permission, Principal};
use crate::db::columns::JsonText;
use crate::db::schema::evidence;
use crate::db::DbConnection;
use crate::domain::evidence::{EvidenceSource, MetricDirection, Verification};
use crate::domain::ids::{EvidenceId, LocationId, RecordId};
use crate::domain::PersonRole;
use crate::domain::RecordKind;
use crate::error::ApiResult;
use crate::store::links::{self, Tags};
use crate::store::support::{only, to_utc};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = evidence)]
// Absent values are NULLs, not DEFAULTs: SQLite then inserts a batch of rows in one statement.
#[diesel(treat_none_as_default_value = false)]
pub(super) struct EvidenceRow {
    pub(super) id: EvidenceId,
    pub(super) organisation_id: String,
    pub(super) location_id: Option<LocationId>,
    pub(super) source: EvidenceSource,
    pub(super) evidence_category: String,
    pub(super) title: String,
    pub(super) summary: Option<String>,
    pub(super) observed_at: Option<NaiveDateTime>,
    pub(super) period_start: Option<NaiveDateTime>,
    pub(super) period_end: Option<NaiveDateTime>,
    pub(super) dated_at: NaiveDateTime,
    pub(super) respondent: Option<PersonRole>,
    pub(super) metric_name: Option<String>,
    pub(super) metric_value: Option<f64>,
    pub(super) metric_unit: Option<String>,
    pub(super) metric_target: Option<f64>,
    pub(super) metric_direction: Option<MetricDirection>,
    pub(super) links: JsonText<Vec<String>>,
    pub(super) external_system: Option<String>,
    pub(super) external_id: Option<String>,
    pub(super) recorded_by: String,
    pub(super) archived_at: Option<NaiveDateTime>,
    pub(super) version: i64,
    pub(super) created_at: NaiveDateTime,
    pub(super) updated_at: NaiveDateTime,
    pub(super) verification: Verification,
    pub(super) contact: Option<JsonText<Contact>>,
    pub(super) tags: Tags,
}

impl EvidenceRow {
    pub(super) fn metric(&self) -> Option<Metric> {
        let (Some(name), Some(value)) = (&self.metric_name, self.metric_value) else {
            return None;
        };
        Some(Metric {
            name: name.clone(),
            value,
            unit: self.metric_unit.clone(),
            target: self.metric_target,
            direction: self.metric_direction,
        })
    }
}

/// The metric's columns, in the order of the table.
pub(super) type MetricColumns = (
    Option<String>,
    Option<f64>,
    Option<String>,
    Option<f64>,
    Option<MetricDirection>,
);

pub(super) fn metric_columns(metric: Option<&Metric>) -> MetricColumns {
    match metric {
        None => (None, None, None, None, None),
        Some(m) => (
            Some(m.name.trim().to_owned()),
            Some(m.value),
            m.unit.clone(),
            m.target,
            Some(m.direction.unwrap_or(MetricDirection::AtLeast)),
        ),
    }
}

pub(super) fn into_dtos(
    conn: &mut DbConnection,
    principal: &Principal,
    rows: Vec<EvidenceRow>,
) -> ApiResult<Vec<Evidence>> {
    let ids: Vec<RecordId> = rows.iter().map(|r| r.id.any()).collect();
    let mut learning = links::links_of(conn, principal, KIND, &ids, RecordKind::LearningEvent)?;
    let mut concerns = links::links_of(conn, principal, KIND, &ids, RecordKind::Concern)?;
    let sees_contact = principal.may(Permission::ReadContactDetails);
    Ok(rows
        .into_iter()
        .map(|row| Evidence {
            id: row.id.into(),
            metric: row.metric(),
            source: row.source,
            respondent: row.respondent,
            location_id: row.location_id.map(Into::into),
            quality_statements: row.tags.into_statements(),
            linked_records: [
                (RecordKind::LearningEvent, &mut learning),
                (RecordKind::Concern, &mut concerns),
            ]
            .into_iter()
            .flat_map(|(kind, linked)| {
                LinkedRecord::to_all(kind, linked.remove(&row.id.any()).unwrap_or_default())
            })
            .collect(),
            links: row.links.0,
            external_ref: ExternalRef::from_columns(row.external_system, row.external_id),
            evidence_category: row.evidence_category,
            title: row.title,
            summary: row.summary,
            observed_at: row.observed_at.map(to_utc),
            period_start: row.period_start.map(to_utc),
            period_end: row.period_end.map(to_utc),
            recorded_by: Person::recorder(row.recorded_by),
            verification: row.verification,
            contact: row.contact.filter(|_| sees_contact).map(|c| c.0),
            archived_at: row.archived_at.map(to_utc),
            version: row.version,
            created_at: to_utc(row.created_at),
            updated_at: to_utc(row.updated_at),
        })
        .collect())
}

pub(super) fn into_dto(
    conn: &mut DbConnection,
    principal: &Principal,
    row: EvidenceRow,
) -> ApiResult<Evidence> {
    only(into_dtos(conn, principal, vec![row])?)
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = evidence)]
pub(super) struct EvidenceChanges {
    pub(super) location_id: Option<Option<LocationId>>,
    pub(super) source: Option<EvidenceSource>,
    pub(super) evidence_category: Option<String>,
    pub(super) title: Option<String>,
    pub(super) summary: Option<Option<String>>,
    pub(super) observed_at: Option<Option<NaiveDateTime>>,
    pub(super) period_start: Option<Option<NaiveDateTime>>,
    pub(super) period_end: Option<Option<NaiveDateTime>>,
    pub(super) dated_at: Option<NaiveDateTime>,
    pub(super) respondent: Option<Option<PersonRole>>,
    pub(super) metric_name: Option<Option<String>>,
    pub(super) metric_value: Option<Option<f64>>,
    pub(super) metric_unit: Option<Option<String>>,
    pub(super) metric_target: Option<Option<f64>>,
    pub(super) metric_direction: Option<Option<MetricDirection>>,
    pub(super) links: Option<JsonText<Vec<String>>>,
    pub(super) archived_at: Option<Option<NaiveDateTime>>,
    pub(super) external_system: Option<String>,
    pub(super) external_id: Option<String>,
    pub(super) verification: Option<Verification>,
    pub(super) contact: Option<Option<JsonText<Contact>>>,
}
