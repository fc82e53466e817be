use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::shared::Person;
use crate::api::shared::{EvidenceReference, LinkedRecord};
use crate::domain::framework::{Framework, KeyQuestionRollup};
use crate::error::ApiResult;
use crate::http::respond::{unversioned, versioned};
use crate::http::validate::Checks;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "score": 3,
    "rationale": "Incidents are debriefed within a week and lessons shared at handover.",
    "evidence": [{"kind": "evidence", "id": "0192f0c4-6666-7000-8000-000000000001"}]
}))]
pub struct NewSelfAssessment {
    /// A score on the framework's own scale (its `score_scale`): 1 to 4 for the CQC framework;
    /// another framework's scale may be shorter.
    #[schema(minimum = 1, maximum = 4)]
    pub score: u8,
    #[schema(max_length = 10000, pattern = r"\S")]
    pub rationale: String,
    /// Evidence of the organisation that supports the score.
    #[serde(default)]
    #[schema(value_type = Vec<EvidenceReference>, max_items = 100)]
    pub evidence: Vec<LinkedRecord>,
}

impl NewSelfAssessment {
    /// The rule the document cannot state: each framework has its own scale.
    pub fn validate(&self, framework: &Framework) -> ApiResult<()> {
        Checks::new()
            .check(
                framework.score_scale.contains_key(&self.score.to_string()),
                "score",
                "is not on the framework's score scale",
            )
            .finish()
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-9999-7000-8000-000000000001",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "framework_id": "cqc-saf-2024",
    "quality_statement_id": "safe.learning_culture",
    "score": 3,
    "rationale": "Incidents are debriefed within a week and lessons shared at handover.",
    "evidence": [{"kind": "evidence", "id": "0192f0c4-6666-7000-8000-000000000001"}],
    "assessed_by": {"kind": "user", "sub": "manager-1", "name": null},
    "version": 2,
    "assessed_at": "2026-11-21T10:00:00Z"
}))]
/// One score of a quality statement at a location: the current one, or one of its history.
pub struct SelfAssessment {
    /// The score's own id (it is read at `.../scores/{score_id}`).
    pub id: Uuid,
    pub location_id: Uuid,
    pub framework_id: String,
    pub quality_statement_id: String,
    pub score: u8,
    pub rationale: String,
    pub evidence: Vec<LinkedRecord>,
    pub assessed_by: Person,
    /// This score's place in the statement's history at this location (1 for the first): the
    /// statement's version while this score is its current one.
    pub version: i64,
    pub assessed_at: DateTime<Utc>,
}

/// A quality statement and its latest score, if any.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementScore {
    pub quality_statement_id: String,
    pub code: String,
    pub title: String,
    pub key_question_id: String,
    pub latest: Option<SelfAssessment>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "framework_id": "cqc-saf-2024",
    "statements": [],
    "key_questions": [{
        "key_question_id": "safe", "title": "Safe", "statements_scored": 8, "statements_unscored": 0,
        "score_sum": 24, "percentage": 75.0, "rating": "good", "limiter_applied": null
    }]
}))]
pub struct SelfAssessmentSummary {
    pub location_id: Uuid,
    pub framework_id: String,
    pub statements: Vec<StatementScore>,
    pub key_questions: Vec<KeyQuestionRollup>,
}

versioned!(SelfAssessment);
unversioned!(SelfAssessmentSummary);
