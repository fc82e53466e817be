use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::shared::{reference_to, ExternalRef, LinkedRecord, Lookup, Person};
use crate::domain::improvement::{Approval, RecognitionKind};
use crate::domain::PersonRole;
use crate::error::ApiResult;
use crate::http::respond::versioned;
use crate::http::validate::Checks;

/// Who a recognition is for: a name or a team.
// The document's schema of an item of `recipients` (read as text): it states the rule.
#[derive(ToSchema)]
#[schema(max_length = 200, pattern = r"\S")]
pub struct Recipient(pub String);

reference_to!(
    /// A record a new recognition is about: a record of the organisation.
    RecognisedRecord,
    RecognisedKind {
        Concern => "concern",
        ImprovementPlan => "improvement_plan",
        Action => "action",
        Evidence => "evidence",
    }
);

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-aaaa-7000-8000-000000000001",
    "kind": "compliment",
    "title": "Thank you from Mrs B's daughter",
    "message": "The night team made Mum feel safe again.",
    "recipients": ["Night team"],
    "from": "relative",
    "from_name": null,
    "approval": "approved",
    "linked_records": [{"kind": "improvement_plan", "id": "0192f0c4-8888-7000-8000-000000000001"}],
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "occurred_on": "2026-12-10",
    "recorded_by": {"kind": "user", "sub": "manager-1", "name": null},
    "external_ref": null,
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
    pub from: PersonRole,
    /// The name its giver left, for a compliment through an intake point.
    pub from_name: Option<String>,
    /// `awaiting_approval` for a compliment through an intake point until a manager decides
    /// (`POST /v1/recognitions/{id}/approval`); only approved ones are shown to everyone and in
    /// the highlights.
    pub approval: Approval,
    pub linked_records: Vec<LinkedRecord>,
    pub location_id: Option<Uuid>,
    pub occurred_on: NaiveDate,
    pub recorded_by: Person,
    /// Its id in another system, unique per organisation.
    pub external_ref: Option<ExternalRef>,
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
    "linked_records": [{"kind": "improvement_plan", "id": "0192f0c4-8888-7000-8000-000000000001"}],
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "occurred_on": "2026-11-24"
}))]
pub struct NewRecognition {
    pub kind: RecognitionKind,
    #[schema(max_length = 200, pattern = r"\S")]
    pub title: String,
    #[schema(max_length = 10000, pattern = r"\S")]
    pub message: Option<String>,
    /// The names or teams recognised.
    #[schema(value_type = Vec<Recipient>, inline, min_items = 1, max_items = 50)]
    pub recipients: Vec<String>,
    pub from: PersonRole,
    /// Concerns, improvement plans, actions or evidence of the organisation it is about.
    #[serde(default)]
    #[schema(value_type = Vec<RecognisedRecord>, inline, max_items = 50)]
    pub linked_records: Vec<LinkedRecord>,
    /// One of the organisation's locations; a caller whose token limits them to some locations
    /// must name one of theirs.
    pub location_id: Option<Uuid>,
    /// The day it happened: not in the future.
    pub occurred_on: NaiveDate,
    /// Its id in another system; another recognition holding it is 409 naming it.
    pub external_ref: Option<ExternalRef>,
}

impl NewRecognition {
    /// The rule the document cannot state: the day has come.
    pub fn validate(&self) -> ApiResult<()> {
        Checks::new()
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
pub struct RecognitionQuery {
    #[serde(flatten)]
    #[param(ignore)]
    pub lookup: Lookup,
    /// Only recognitions of this kind (repeat the parameter for any of several).
    #[serde(default)]
    #[param(max_items = 20)]
    pub kind: Vec<RecognitionKind>,
    pub location_id: Option<Uuid>,
    /// Only recognitions awaiting approval, approved or declined (managers and admins see all
    /// three; everyone else only approved ones).
    pub approval: Option<Approval>,
    /// Only recognitions changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

versioned!(Recognition);

/// A manager's decision on a recognition awaiting approval.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "approved"}))]
pub struct ApprovalDecision {
    pub decision: Decision,
}

/// `approved` shows the recognition to everyone; `declined` keeps it for managers and admins.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Declined,
}

impl From<Decision> for Approval {
    fn from(decision: Decision) -> Self {
        match decision {
            Decision::Approved => Approval::Approved,
            Decision::Declined => Approval::Declined,
        }
    }
}
