use std::collections::BTreeMap;

use crate::http::respond::unversioned;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "cqc-saf-2024",
    "title": "CQC Single Assessment Framework (providers)",
    "regulator": "Care Quality Commission (England)",
    "status": "in force",
    "key_question_count": 5,
    "quality_statement_count": 34
}))]
pub struct FrameworkSummary {
    pub id: String,
    pub title: String,
    pub regulator: String,
    pub status: Option<String>,
    /// How many key questions it has.
    pub key_question_count: usize,
    /// How many quality statements it has.
    pub quality_statement_count: usize,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "safe.learning_culture",
    "code": "S1",
    "title": "Learning culture",
    "we_statement": "We have a proactive and positive culture of safety...",
    "key_question_id": "safe"
}))]
pub struct QualityStatementEntry {
    pub id: String,
    pub code: String,
    pub title: String,
    pub we_statement: Option<String>,
    pub key_question_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// One location's records; a caller limited to some locations must name one of theirs.
    pub location_id: Option<Uuid>,
    /// Count records from this time on, and flag statements with no evidence since.
    pub from: Option<DateTime<Utc>>,
}

/// How one quality statement is covered.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct StatementCoverage {
    pub quality_statement_id: String,
    pub code: String,
    pub title: String,
    pub key_question_id: String,
    /// Evidence items tagged with it (from `from`, when given).
    pub evidence_count: i64,
    /// The same, by evidence category.
    pub evidence_count_by_category: BTreeMap<String, i64>,
    pub learning_event_count: i64,
    pub concern_count: i64,
    /// The day (midnight UTC) of the newest evidence tagged with it, whenever that was. Every
    /// count and date here is of the records the caller may see, and no date is finer than the
    /// day, so coverage cannot date a single concern.
    pub newest_evidence_at: Option<DateTime<Utc>>,
    /// The day of the newest learning event tagged with it.
    pub newest_learning_event_at: Option<DateTime<Utc>>,
    /// The day of the newest concern tagged with it that the caller may see.
    pub newest_concern_at: Option<DateTime<Utc>>,
    /// No evidence since `from` (or none at all, without `from`).
    pub no_recent_evidence: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "framework_id": "cqc-saf-2024",
    "location_id": null,
    "from": "2026-01-01T00:00:00Z",
    "statements": [{
        "quality_statement_id": "safe.learning_culture", "code": "S1", "title": "Learning culture",
        "key_question_id": "safe", "evidence_count": 3, "evidence_count_by_category": {"processes": 2, "feedback_staff_leaders": 1},
        "learning_event_count": 2, "concern_count": 1, "newest_evidence_at": "2026-11-02T00:00:00Z",
        "newest_learning_event_at": "2026-11-20T00:00:00Z", "newest_concern_at": "2026-10-11T00:00:00Z",
        "no_recent_evidence": false
    }]
}))]
pub struct Coverage {
    pub framework_id: String,
    pub location_id: Option<Uuid>,
    /// The window's start the counts are from, as asked.
    pub from: Option<DateTime<Utc>>,
    pub statements: Vec<StatementCoverage>,
}

unversioned!(Coverage, crate::domain::framework::Framework);
