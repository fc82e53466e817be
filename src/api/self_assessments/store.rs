use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::dto::{NewSelfAssessment, SelfAssessment, SelfAssessmentSummary, StatementScore};
use crate::api::locations;
use crate::auth::Principal;
use crate::db::columns::JsonText;
use crate::db::schema::self_assessments;
use crate::db::DbConnection;
use crate::domain::framework::Framework;
use crate::domain::ids::{LocationId, RecordId, SelfAssessmentId};
use crate::domain::{now, RecordKind};
use crate::error::{ApiError, ApiResult};
use crate::http::preconditions::IfMatch;
use crate::store::audit::{self, Actor, Change};
use crate::store::support::{to_row, to_utc};
use crate::store::{links, visibility};
use uuid::Uuid;

#[derive(Debug, Queryable, Selectable, Insertable)]
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
            location_id: self.location_id.into(),
            framework_id: self.framework_id,
            quality_statement_id: self.quality_statement_id,
            score: u8::try_from(self.score).map_err(ApiError::internal)?,
            rationale: self.rationale,
            evidence_ids: cited
                .into_iter()
                .filter(|id| seen.contains(id))
                .map(RecordId::uuid)
                .collect(),
            assessed_by: self.assessed_by,
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

/// Records a score; answers it and whether it is the statement's first at this location.
pub fn assess(
    conn: &mut DbConnection,
    principal: &Principal,
    framework: &Framework,
    (location_id, statement_id): (LocationId, &str),
    new: &NewSelfAssessment,
    if_match: &IfMatch,
) -> ApiResult<(SelfAssessment, bool)> {
    check_location(conn, principal, location_id)?;
    let organisation_id = &principal.organisation_id;
    links::check_exist(
        conn,
        principal,
        RecordKind::Evidence,
        "evidence_ids",
        &new.evidence_ids,
    )?;
    let latest: Option<i64> = self_assessments::table
        .filter(self_assessments::organisation_id.eq(organisation_id))
        .filter(self_assessments::location_id.eq(location_id))
        .filter(self_assessments::framework_id.eq(&framework.id))
        .filter(self_assessments::quality_statement_id.eq(statement_id))
        .select(diesel::dsl::max(self_assessments::version))
        .first(conn)?;
    let current = latest.unwrap_or(0);
    // Two writers may both read `current` (on PostgreSQL; SQLite's write transaction excludes
    // the second). The unique version per statement fails the later insert, `Db::write` runs
    // this again, and the loser's If-Match then meets the winner's version: 412.
    if_match.check(current)?;
    let mut evidence_ids = new.evidence_ids.clone();
    evidence_ids.sort();
    evidence_ids.dedup();
    let row = AssessmentRow {
        id: SelfAssessmentId::new(),
        organisation_id: organisation_id.clone(),
        location_id,
        framework_id: framework.id.clone(),
        quality_statement_id: statement_id.to_owned(),
        score: i32::from(new.score),
        rationale: new.rationale.trim().to_owned(),
        evidence_ids: JsonText(evidence_ids),
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
            action: "assess",
            resource_type: "self_assessment",
            resource_id: row.id.to_string(),
            changed_fields: vec!["score".into(), "rationale".into(), "evidence_ids".into()],
            detail: Some(json!({
                "location_id": location_id,
                "framework_id": framework.id,
                "quality_statement_id": statement_id,
                "score": new.score,
            })),
        },
    )?;
    Ok((row.into_dto(conn, principal)?, current == 0))
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
        .select(AssessmentRow::as_select())
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
