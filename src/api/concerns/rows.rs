//! Concern and timeline rows, read as the API shows them, and the changes written to a concern.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::dto::{Concern, ConcernUpdate, Person};
use crate::api::shared::ExternalRef;
use crate::db::schema::{concern_updates, concerns};
use crate::domain::concern::{
    self as rules, ConcernCategory, ConcernStatus, Deadlines, Progress, RiskLevel, UpdateKind,
    UpdateVisibility,
};
use crate::error::ApiResult;
use crate::store::support::{parse_id, stored, to_utc};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = concerns)]
pub struct ConcernRow {
    pub id: String,
    pub organisation_id: String,
    pub location_id: Option<String>,
    pub title: String,
    pub description: String,
    pub category: String,
    pub risk: String,
    pub status: String,
    pub confidential: bool,
    pub anonymous: bool,
    pub raised_by_sub: Option<String>,
    pub raised_by_name: Option<String>,
    pub receipt_hash: Option<String>,
    pub external_system: Option<String>,
    pub external_id: Option<String>,
    pub escalated_to: Option<String>,
    pub outcome: Option<String>,
    pub acknowledge_by: NaiveDateTime,
    pub feedback_by: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ConcernRow {
    pub fn status(&self) -> ApiResult<ConcernStatus> {
        stored(
            ConcernStatus::parse(&self.status),
            "concern status",
            &self.status,
        )
    }

    pub fn progress(&self) -> ApiResult<Progress> {
        Ok(Progress {
            status: self.status()?,
            acknowledged_at: self.acknowledged_at.map(to_utc),
            resolved_at: self.resolved_at.map(to_utc),
        })
    }

    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            acknowledge_by: to_utc(self.acknowledge_by),
            feedback_by: to_utc(self.feedback_by),
        }
    }

    /// The concern as the API shows it, with its quality-statement tags.
    pub fn into_dto(
        self,
        now: DateTime<Utc>,
        quality_statements: Vec<String>,
    ) -> ApiResult<Concern> {
        let progress = self.progress()?;
        Ok(Concern {
            id: parse_id(&self.id)?,
            category: stored(
                ConcernCategory::parse(&self.category),
                "category",
                &self.category,
            )?,
            risk: stored(RiskLevel::parse(&self.risk), "risk", &self.risk)?,
            status: progress.status,
            location_id: self.location_id.as_deref().map(parse_id).transpose()?,
            confidential: self.confidential,
            anonymous: self.anonymous,
            raised_by: self.raised_by_sub.clone().map(|sub| Person {
                sub,
                name: self.raised_by_name.clone(),
            }),
            overdue: rules::is_overdue(self.deadlines(), progress, now),
            acknowledge_by: to_utc(self.acknowledge_by),
            feedback_by: to_utc(self.feedback_by),
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
            quality_statements,
            receipt_code: None,
        })
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = concern_updates)]
pub struct UpdateRow {
    pub id: String,
    pub organisation_id: String,
    pub concern_id: String,
    pub kind: String,
    pub visibility: String,
    pub body: Option<String>,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub author_sub: Option<String>,
    pub author_name: Option<String>,
    pub by_raiser: bool,
    pub created_at: NaiveDateTime,
}

impl UpdateRow {
    pub fn into_dto(self) -> ApiResult<ConcernUpdate> {
        let status = |text: Option<String>| {
            text.map(|t| stored(ConcernStatus::parse(&t), "status", &t))
                .transpose()
        };
        Ok(ConcernUpdate {
            id: parse_id(&self.id)?,
            concern_id: parse_id(&self.concern_id)?,
            kind: stored(UpdateKind::parse(&self.kind), "update kind", &self.kind)?,
            visibility: stored(
                UpdateVisibility::parse(&self.visibility),
                "visibility",
                &self.visibility,
            )?,
            body: self.body,
            from_status: status(self.from_status)?,
            to_status: status(self.to_status)?,
            author: self.author_sub.map(|sub| Person {
                sub,
                name: self.author_name,
            }),
            by_raiser: self.by_raiser,
            created_at: to_utc(self.created_at),
        })
    }
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = concerns)]
pub struct ConcernChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub risk: Option<String>,
    pub location_id: Option<Option<String>>,
    pub confidential: Option<bool>,
    pub status: Option<String>,
    pub escalated_to: Option<String>,
    pub outcome: Option<String>,
    pub acknowledged_at: Option<Option<NaiveDateTime>>,
    pub resolved_at: Option<Option<NaiveDateTime>>,
}
