//! Concern and timeline rows, read as the API shows them, and the changes written to a concern.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::query_builder::QueryId;

use super::dto::{Concern, ConcernUpdate};
use crate::api::shared::{Contact, ExternalRef, Person};
use crate::db::columns::{JsonText, MaybeMoment, Moment};
use crate::db::schema::{concern_updates, concerns};
use crate::domain::concern::{
    self as rules, ConcernCategory, ConcernStatus, Deadlines, Progress, RiskLevel, UpdateKind,
    UpdateVisibility,
};
use crate::domain::ids::{ConcernId, ConcernUpdateId, LocationId};
use crate::store::links::Tags;
use crate::store::support::to_utc;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = concerns)]
// A missing value is written as NULL (every optional column's default), so the insert's SQL
// is the same whatever is missing and diesel keeps the statement prepared by its type.
#[diesel(treat_none_as_default_value = false)]
pub struct ConcernRow {
    pub id: ConcernId,
    pub organisation_id: String,
    pub location_id: Option<LocationId>,
    pub title: String,
    pub description: String,
    pub category: ConcernCategory,
    pub risk: RiskLevel,
    pub status: ConcernStatus,
    pub confidential: bool,
    pub anonymous: bool,
    pub raised_by_sub: Option<String>,
    pub raised_by_name: Option<String>,
    pub receipt_hash: Option<String>,
    pub external_system: Option<String>,
    pub external_id: Option<String>,
    pub escalated_to: Option<String>,
    pub outcome: Option<String>,
    #[diesel(deserialize_as = Moment)]
    pub acknowledge_by: NaiveDateTime,
    #[diesel(deserialize_as = Moment)]
    pub feedback_by: NaiveDateTime,
    #[diesel(deserialize_as = MaybeMoment)]
    pub acknowledged_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeMoment)]
    pub resolved_at: Option<NaiveDateTime>,
    pub version: i64,
    #[diesel(deserialize_as = Moment)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Moment)]
    pub updated_at: NaiveDateTime,
    pub contact: Option<JsonText<Contact>>,
    pub tags: Tags,
}

// The build fails if raising a concern stops inserting its row by one statement kept by its
// type (diesel writes an insert's SQL afresh to look up its statement when a row leaves a
// column to its `DEFAULT`).
const _: () = assert!(
    <<&'static ConcernRow as Insertable<concerns::table>>::Values as QueryId>::HAS_STATIC_QUERY_ID
);

impl ConcernRow {
    pub fn progress(&self) -> Progress {
        Progress {
            status: self.status,
            acknowledged_at: self.acknowledged_at.map(to_utc),
            resolved_at: self.resolved_at.map(to_utc),
        }
    }

    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            acknowledge_due_at: to_utc(self.acknowledge_by),
            feedback_due_at: to_utc(self.feedback_by),
        }
    }

    /// The concern as the API shows it, with its quality-statement tags (and the raiser's
    /// contact details, to a reader who may see them).
    pub fn into_dto(self, now: DateTime<Utc>, sees_contact: bool) -> Concern {
        let (progress, deadlines) = (self.progress(), self.deadlines());
        Concern {
            id: self.id.into(),
            category: self.category,
            risk: self.risk,
            status: progress.status,
            location_id: self.location_id.map(Into::into),
            confidential: self.confidential,
            anonymous: self.anonymous,
            raised_by: match self.raised_by_sub {
                Some(sub) => Person::user(sub, self.raised_by_name),
                None => Person::anonymous(),
            },
            overdue: rules::is_overdue(deadlines, progress, now),
            acknowledge_due_at: to_utc(self.acknowledge_by),
            feedback_due_at: to_utc(self.feedback_by),
            acknowledged_at: progress.acknowledged_at,
            resolved_at: progress.resolved_at,
            external_ref: ExternalRef::from_columns(self.external_system, self.external_id),
            title: self.title,
            description: self.description,
            escalated_to: self.escalated_to,
            outcome: self.outcome,
            version: self.version,
            created_at: to_utc(self.created_at),
            updated_at: to_utc(self.updated_at),
            quality_statements: self.tags.into_statements(),
            contact: self.contact.filter(|_| sees_contact).map(|c| c.0),
            receipt_code: None,
        }
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = concern_updates)]
pub struct UpdateRow {
    pub id: ConcernUpdateId,
    pub organisation_id: String,
    pub concern_id: ConcernId,
    pub kind: UpdateKind,
    pub visibility: UpdateVisibility,
    pub body: Option<String>,
    pub from_status: Option<ConcernStatus>,
    pub to_status: Option<ConcernStatus>,
    pub author_sub: Option<String>,
    pub author_name: Option<String>,
    pub by_raiser: bool,
    pub created_at: NaiveDateTime,
}

impl UpdateRow {
    pub fn into_dto(self) -> ConcernUpdate {
        ConcernUpdate {
            id: self.id.into(),
            concern_id: self.concern_id.into(),
            kind: self.kind,
            visibility: self.visibility,
            body: self.body,
            from_status: self.from_status,
            to_status: self.to_status,
            // Only an anonymous raiser writes without a `sub`.
            author: match self.author_sub {
                Some(sub) => Person::user(sub, self.author_name),
                None => Person::anonymous(),
            },
            by_raiser: self.by_raiser,
            created_at: to_utc(self.created_at),
        }
    }
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = concerns)]
pub struct ConcernChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<ConcernCategory>,
    pub risk: Option<RiskLevel>,
    pub location_id: Option<Option<LocationId>>,
    pub confidential: Option<bool>,
    pub status: Option<ConcernStatus>,
    pub escalated_to: Option<String>,
    pub outcome: Option<String>,
    pub acknowledged_at: Option<Option<NaiveDateTime>>,
    pub resolved_at: Option<Option<NaiveDateTime>>,
    pub external_system: Option<String>,
    pub external_id: Option<String>,
}
