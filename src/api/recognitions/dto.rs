use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::common::Checks;
use crate::api::concerns::dto::{TEXT_MAX, TITLE_MAX};
use crate::domain::improvement::{RecognitionFrom, RecognitionKind};
use crate::domain::RecordKind;
use crate::error::ApiResult;

/// A record a recognition is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkedRecord {
    /// `concern`, `improvement_plan`, `action` or `evidence`.
    pub kind: RecordKind,
    pub id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-aaaa-7000-8000-000000000001",
    "kind": "compliment",
    "title": "Thank you from Mrs B's daughter",
    "message": "The night team made Mum feel safe again.",
    "recipients": ["Night team"],
    "from": "relative",
    "linked_records": [{"kind": "improvement_plan", "id": "0192f0c4-8888-7000-8000-000000000001"}],
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "occurred_on": "2026-12-10",
    "recorded_by": "manager-1",
    "version": 1,
    "created_at": "2026-12-10T09:00:00Z",
    "updated_at": "2026-12-10T09:00:00Z"
}))]
pub struct Recognition {
    pub id: Uuid,
    pub kind: RecognitionKind,
    pub title: String,
    pub message: Option<String>,
    /// Names or teams.
    pub recipients: Vec<String>,
    /// Who it comes from.
    pub from: RecognitionFrom,
    pub linked_records: Vec<LinkedRecord>,
    pub location_id: Option<Uuid>,
    pub occurred_on: NaiveDate,
    pub recorded_by: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "compliment",
    "title": "Thank you from Mrs B's daughter",
    "message": "The night team made Mum feel safe again.",
    "recipients": ["Night team"],
    "from": "relative",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "occurred_on": "2026-12-10"
}))]
pub struct NewRecognition {
    pub kind: RecognitionKind,
    pub title: String,
    pub message: Option<String>,
    /// At least one name or team.
    pub recipients: Vec<String>,
    pub from: RecognitionFrom,
    #[serde(default)]
    pub linked_records: Vec<LinkedRecord>,
    pub location_id: Option<Uuid>,
    pub occurred_on: NaiveDate,
}

impl NewRecognition {
    pub fn validate(&self) -> ApiResult<()> {
        let linkable = [
            RecordKind::Concern,
            RecordKind::ImprovementPlan,
            RecordKind::Action,
            RecordKind::Evidence,
        ];
        Checks::new()
            .text("title", &self.title, TITLE_MAX)
            .optional_text("message", self.message.as_deref(), TEXT_MAX)
            .check(
                !self.recipients.is_empty(),
                "recipients",
                "must name at least one person or team",
            )
            .texts("recipients", &self.recipients, 50, TITLE_MAX)
            .check(
                self.linked_records.len() <= 50,
                "linked_records",
                "must have at most 50 entries",
            )
            .check(
                self.linked_records
                    .iter()
                    .all(|l| linkable.contains(&l.kind)),
                "linked_records",
                "may link concerns, improvement plans, actions and evidence",
            )
            .check(
                self.occurred_on <= crate::domain::now().date_naive(),
                "occurred_on",
                "must not be in the future",
            )
            .finish()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecognitionQuery {
    pub kind: Option<RecognitionKind>,
    pub location_id: Option<Uuid>,
    /// Only recognitions changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HighlightQuery {
    /// From this time on (default: 30 days ago).
    pub since: Option<DateTime<Utc>>,
    pub location_id: Option<Uuid>,
}

/// What a highlight is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HighlightKind {
    Recognition,
    ActionCompleted,
    PlanCompleted,
    Lessons,
    /// A resolved concern's outcome: "you said, we did".
    YouSaidWeDid,
}

/// One thing worth sharing.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "kind": "you_said_we_did",
    "at": "2026-11-26T10:00:00Z",
    "title": "You said, we did: staffing",
    "text": "Second night carer on the first floor from 1 December",
    "record": {"kind": "concern", "id": "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f"},
    "location_id": "0192f0c4-2222-7000-8000-000000000001"
}))]
pub struct Highlight {
    pub kind: HighlightKind,
    pub at: DateTime<Utc>,
    pub title: String,
    pub text: Option<String>,
    pub record: LinkedRecord,
    pub location_id: Option<Uuid>,
}
