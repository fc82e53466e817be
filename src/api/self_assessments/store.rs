use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::dto::{NewSelfAssessment, SelfAssessment, SelfAssessmentSummary, StatementScore};
use crate::api::locations;
use crate::api::shared::{ChangedSince, LinkedRecord, Person};
use crate::auth::Principal;
use crate::db::columns::JsonText;
use crate::db::schema::self_assessments;
use crate::db::{columns_of, Backend, DbConnection};
use crate::domain::framework::Framework;
use crate::domain::ids::{LocationId, RecordId, SelfAssessmentId};
use crate::domain::{now, RecordKind};
use crate::domain::{AuditAction, AuditResource};
use crate::error::{ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::http::preconditions::IfMatch;
use crate::store::audit::{self, Actor, Change};
use crate::store::support::{to_row, to_utc};
use crate::store::{links, visibility};
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = self_assessments)]
struct AssessmentRow {
    id: SelfAssessmentId,
    organisation_id: String,
    location_id: LocationId,
    framework_id: String,
    quality_statement_id: String,
    score: i32,
    rationale: String,
    evidence_ids: JsonText<Vec<Uuid>>,
    assessed_by: String,
    version: i64,
    created_at: NaiveDateTime,
}

impl AssessmentRow {
    /// The score as the API shows it, citing only the evidence the caller may see.
    fn into_dto(self, conn: &mut DbConnection, principal: &Principal) -> ApiResult<SelfAssessment> {
        let cited: Vec<RecordId> = self
            .evidence_ids
            .0
            .iter()
            .copied()
            .map(RecordId::from)
            .collect();
        let seen = visibility::visible_ids(conn, principal, RecordKind::Evidence, &cited)?;
        Ok(SelfAssessment {
            id: self.id.uuid(),
            location_id: self.location_id.into(),
            framework_id: self.framework_id,
            quality_statement_id: self.quality_statement_id,
            score: u8::try_from(self.score).map_err(ApiError::internal)?,
            rationale: self.rationale,
            evidence: LinkedRecord::to_all(
                RecordKind::Evidence,
                cited
                    .into_iter()
                    .filter(|id| seen.contains(id))
                    .map(RecordId::uuid),
            ),
            assessed_by: Person::user(self.assessed_by, None),
            version: self.version,
            assessed_at: to_utc(self.created_at),
        })
    }
}

fn check_location(
    conn: &mut DbConnection,
    principal: &Principal,
    location_id: LocationId,
) -> ApiResult<()> {
    // A location that is not the caller's is 404 here (it is in the path); a database failure
    // stays what it is.
    locations::store::check_reference(conn, principal, Some(location_id)).map_err(|error| {
        match error {
            ApiError::Validation(_) => ApiError::NotFound("location"),
            other => other,
        }
    })
}

/// Where a statement is scored: a location, a framework and one of its statements.
pub struct Statement<'a> {
    pub location_id: LocationId,
    pub framework: &'a Framework,
    pub id: &'a str,
}

impl Statement<'_> {
    /// Its scores, oldest first.
    fn scores(&self, organisation_id: &str) -> self_assessments::BoxedQuery<'_, Backend> {
        self_assessments::table
            .filter(self_assessments::organisation_id.eq(organisation_id.to_owned()))
            .filter(self_assessments::location_id.eq(self.location_id))
            .filter(self_assessments::framework_id.eq(&self.framework.id))
            .filter(self_assessments::quality_statement_id.eq(self.id))
            .order(self_assessments::id.asc())
            .into_boxed()
    }
}

/// What a PUT of a score did.
pub enum Scored {
    /// The statement's first score at this location.
    First,
    /// A new score replacing the previous one.
    Replaced,
    /// The score was already the current one: nothing was written.
    Unchanged,
}

fn latest_row(
    conn: &mut DbConnection,
    principal: &Principal,
    statement: &Statement,
) -> ApiResult<Option<AssessmentRow>> {
    Ok(statement
        .scores(&principal.organisation_id)
        .order(self_assessments::version.desc())
        .select(columns_of::<AssessmentRow>())
        .first(conn)
        .optional()?)
}

/// The evidence a score cites, each once and in order.
fn cited(new: &NewSelfAssessment) -> Vec<Uuid> {
    let mut evidence_ids = LinkedRecord::ids_of(&new.evidence, RecordKind::Evidence);
    evidence_ids.sort();
    evidence_ids.dedup();
    evidence_ids
}

/// Records a new score for the statement; answers it and whether it is the statement's first at
/// this location.
pub fn record(
    conn: &mut DbConnection,
    principal: &Principal,
    statement: &Statement,
    new: &NewSelfAssessment,
    if_match: &IfMatch,
) -> ApiResult<(SelfAssessment, bool)> {
    check_location(conn, principal, statement.location_id)?;
    let latest = latest_row(conn, principal, statement)?;
    insert(
        conn,
        principal,
        statement,
        latest.map_or(0, |row| row.version),
        new,
        if_match,
    )
}

/// Makes the body the statement's current score: idempotent, so a score that is already the
/// current one (same score, rationale and evidence) writes nothing and answers as it is, even
/// to a retry whose `If-Match` names the version before it (RFC 9110 §13.1.1).
pub fn set(
    conn: &mut DbConnection,
    principal: &Principal,
    statement: &Statement,
    new: &NewSelfAssessment,
    if_match: &IfMatch,
) -> ApiResult<(SelfAssessment, Scored)> {
    check_location(conn, principal, statement.location_id)?;
    let latest = latest_row(conn, principal, statement)?;
    if let Some(row) = latest.as_ref().filter(|row| {
        i32::from(new.score) == row.score
            && new.rationale.trim() == row.rationale
            && cited(new) == row.evidence_ids.0
    }) {
        return Ok((row.clone().into_dto(conn, principal)?, Scored::Unchanged));
    }
    let current = latest.map_or(0, |row| row.version);
    let (score, first) = insert(conn, principal, statement, current, new, if_match)?;
    Ok((
        score,
        if first {
            Scored::First
        } else {
            Scored::Replaced
        },
    ))
}

fn insert(
    conn: &mut DbConnection,
    principal: &Principal,
    statement: &Statement,
    current: i64,
    new: &NewSelfAssessment,
    if_match: &IfMatch,
) -> ApiResult<(SelfAssessment, bool)> {
    let organisation_id = &principal.organisation_id;
    links::check_exist(
        conn,
        principal,
        RecordKind::Evidence,
        "evidence",
        &cited(new),
    )?;
    // Two writers may both read `current` (on PostgreSQL; SQLite's write transaction excludes
    // the second). The unique version per statement fails the later insert, `Db::write` runs
    // this again, and the loser's If-Match then meets the winner's version: 412.
    if_match.check(current)?;
    let row = AssessmentRow {
        id: SelfAssessmentId::new(),
        organisation_id: organisation_id.clone(),
        location_id: statement.location_id,
        framework_id: statement.framework.id.clone(),
        quality_statement_id: statement.id.to_owned(),
        score: i32::from(new.score),
        rationale: new.rationale.trim().to_owned(),
        evidence_ids: JsonText(cited(new)),
        assessed_by: principal.sub.clone(),
        version: current + 1,
        created_at: to_row(now()),
    };
    diesel::insert_into(self_assessments::table)
        .values(&row)
        .execute(conn)?;
    audit::record(
        conn,
        organisation_id,
        Actor::Caller(principal),
        Change {
            action: AuditAction::Assess,
            resource_type: AuditResource::SelfAssessment,
            resource_id: row.id.to_string(),
            changed_fields: vec!["score".into(), "rationale".into(), "evidence".into()],
            detail: Some(json!({
                "location_id": statement.location_id,
                "framework_id": statement.framework.id,
                "quality_statement_id": statement.id,
                "score": new.score,
            })),
        },
    )?;
    Ok((row.into_dto(conn, principal)?, current == 0))
}

/// The statement's current score (404 while it has none).
pub fn current(
    conn: &mut DbConnection,
    principal: &Principal,
    statement: &Statement,
) -> ApiResult<SelfAssessment> {
    check_location(conn, principal, statement.location_id)?;
    latest_row(conn, principal, statement)?
        .ok_or(ApiError::NotFound("score"))?
        .into_dto(conn, principal)
}

/// One score of the statement, current or past.
pub fn score(
    conn: &mut DbConnection,
    principal: &Principal,
    statement: &Statement,
    id: SelfAssessmentId,
) -> ApiResult<SelfAssessment> {
    check_location(conn, principal, statement.location_id)?;
    statement
        .scores(&principal.organisation_id)
        .filter(self_assessments::id.eq(id))
        .select(columns_of::<AssessmentRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("score"))?
        .into_dto(conn, principal)
}

/// One score by its id alone, at any location the caller may see (for the change feed).
pub fn get_by_id(
    conn: &mut DbConnection,
    principal: &Principal,
    id: SelfAssessmentId,
) -> ApiResult<SelfAssessment> {
    visibility::self_assessments(principal)
        .filter(self_assessments::id.eq(id))
        .select(columns_of::<AssessmentRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("score"))?
        .into_dto(conn, principal)
}

/// The statement's scores, oldest first: its history.
pub fn history(
    conn: &mut DbConnection,
    principal: &Principal,
    statement: &Statement,
    since: &ChangedSince,
    page: &Page,
) -> ApiResult<Paginated<SelfAssessment>> {
    check_location(conn, principal, statement.location_id)?;
    let mut query = statement.scores(&principal.organisation_id);
    if let Some(since) = since.updated_since {
        query = query.filter(self_assessments::created_at.ge(to_row(since)));
    }
    if let Some(after) = &page.after {
        query = query.filter(self_assessments::id.gt(after.clone()));
    }
    let rows: Vec<AssessmentRow> = page.read(conn, query.select(columns_of::<AssessmentRow>()))?;
    page.finish(
        rows,
        |row| row.id.uuid(),
        |row| row.into_dto(conn, principal),
    )
}

/// Each statement's latest score at a location, and the key questions rolled up.
pub fn summary(
    conn: &mut DbConnection,
    principal: &Principal,
    framework: &Framework,
    location_id: LocationId,
) -> ApiResult<SelfAssessmentSummary> {
    check_location(conn, principal, location_id)?;
    let rows: Vec<AssessmentRow> = self_assessments::table
        .filter(self_assessments::organisation_id.eq(&principal.organisation_id))
        .filter(self_assessments::location_id.eq(location_id))
        .filter(self_assessments::framework_id.eq(&framework.id))
        .select(columns_of::<AssessmentRow>())
        .order(self_assessments::id.asc())
        .load(conn)?;
    // Oldest first, so each statement ends with its latest score.
    let mut latest: HashMap<String, SelfAssessment> = HashMap::new();
    for row in rows {
        let assessment = row.into_dto(conn, principal)?;
        latest.insert(assessment.quality_statement_id.clone(), assessment);
    }
    let scores: HashMap<&str, u8> = latest
        .iter()
        .map(|(id, a)| (id.as_str(), a.score))
        .collect();
    let key_questions = framework.roll_up(&scores);
    let statements = framework
        .key_questions
        .iter()
        .flat_map(|question| {
            question
                .quality_statements
                .iter()
                .map(|s| (question.id.clone(), s))
        })
        .map(|(key_question_id, s)| StatementScore {
            quality_statement_id: s.id.clone(),
            code: s.code.clone(),
            title: s.title.clone(),
            key_question_id,
            latest: latest.remove(&s.id),
        })
        .collect();
    Ok(SelfAssessmentSummary {
        location_id: location_id.into(),
        framework_id: framework.id.clone(),
        statements,
        key_questions,
    })
}
