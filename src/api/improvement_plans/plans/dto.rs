//! Plans as the API shows them, and what a client sends to start, change, move or list them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::improvement_plans::actions::dto::PlanAction;
use crate::api::improvement_plans::reviews::dto::PlanReview;
use crate::api::shared::{
    reference_to, ExternalRef, LinkedRecord, Lookup, Participant, Person, PersonInput,
};
use crate::domain::framework::Catalogue;
use crate::domain::improvement::{PlanStatus, Priority, ReviewCadence};
use crate::error::ApiResult;
use crate::http::respond::versioned;
use crate::http::validate::{nullable, Checks};

reference_to!(
    /// A record a new plan comes from: a record of the organisation.
    PlanSourceRecord,
    PlanSourceKind {
        Concern => "concern",
        LearningEvent => "learning_event",
        Evidence => "evidence",
    }
);

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-8888-7000-8000-000000000001",
    "title": "Answer call bells at night within 5 minutes",
    "objective": "Every call bell on nights answered within 5 minutes by March.",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "owner": {"kind": "user", "sub": "manager-1", "name": "Alex Manager"},
    "priority": "high",
    "status": "active",
    "review_cadence": "monthly",
    "quality_statements": ["safe.safe_and_effective_staffing"],
    "sources": [{"kind": "concern", "id": "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f"}],
    "co_produced": true,
    "involved": [{"role": "relative", "name": null, "agreed_to_be_named": false}],
    "activated_at": "2026-11-21T10:00:00Z",
    "last_reviewed_on": null,
    "next_review_due_on": "2026-12-21",
    "review_overdue": false,
    "completed_at": null,
    "external_ref": null,
    "actions": [],
    "latest_review": null,
    "ineffective_action_ids": [],
    "created_by": {"kind": "user", "sub": "manager-1", "name": null},
    "version": 2,
    "created_at": "2026-11-21T10:00:00Z",
    "updated_at": "2026-11-21T10:05:00Z"
}))]
pub struct ImprovementPlan {
    pub id: Uuid,
    pub title: String,
    pub objective: String,
    pub location_id: Option<Uuid>,
    pub owner: Person,
    pub priority: Priority,
    pub status: PlanStatus,
    pub review_cadence: ReviewCadence,
    pub quality_statements: Vec<String>,
    pub sources: Vec<LinkedRecord>,
    /// Whether people using the service or their relatives helped write it.
    pub co_produced: bool,
    /// Who was involved, by role.
    pub involved: Vec<Participant>,
    pub activated_at: Option<DateTime<Utc>>,
    pub last_reviewed_on: Option<NaiveDate>,
    /// One cadence after the last review, or after activation; null unless active.
    #[serde(rename = "next_review_due_on")]
    pub next_review_due: Option<NaiveDate>,
    pub review_overdue: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub external_ref: Option<ExternalRef>,
    /// Its actions, oldest first.
    pub actions: Vec<PlanAction>,
    pub latest_review: Option<PlanReview>,
    /// Done actions whose check found they did not work: the question is open again.
    pub ineffective_action_ids: Vec<Uuid>,
    pub created_by: Person,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Answer call bells at night within 5 minutes",
    "objective": "Every call bell on nights answered within 5 minutes by March.",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "owner": {"sub": "manager-1", "name": "Alex Manager"},
    "priority": "high",
    "review_cadence": "monthly",
    "quality_statements": ["safe.safe_and_effective_staffing"],
    "sources": [{"kind": "concern", "id": "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f"}],
    "co_produced": true,
    "involved": [{"role": "relative"}]
}))]
pub struct NewImprovementPlan {
    #[schema(max_length = 200, pattern = r"\S")]
    pub title: String,
    /// What the plan is to achieve, and by when.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub objective: String,
    /// One of the organisation's locations; a caller whose token limits them to some locations
    /// must name one of theirs.
    pub location_id: Option<Uuid>,
    pub owner: PersonInput,
    pub priority: Priority,
    pub review_cadence: ReviewCadence,
    /// Each one of an assessment framework's quality statements.
    #[serde(default)]
    pub quality_statements: Vec<String>,
    /// The records it came from: at most 100 of all kinds together.
    #[serde(default)]
    #[schema(value_type = Vec<PlanSourceRecord>, max_items = 100)]
    pub sources: Vec<LinkedRecord>,
    /// Whether people using the service or their relatives helped write it.
    #[serde(default)]
    pub co_produced: bool,
    /// Who was involved, by role.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub involved: Vec<Participant>,
    pub external_ref: Option<ExternalRef>,
}

impl NewImprovementPlan {
    /// The rules the document cannot state: quality statements are the frameworks' data, and
    /// people using the service are named only with their agreement.
    pub fn validate(&self, catalogue: &Catalogue) -> ApiResult<()> {
        let mut checks = Checks::new();
        checks.quality_statements(catalogue, &self.quality_statements);
        Participant::check_all(&mut checks, "involved", &self.involved);
        checks.finish()
    }
}

/// The fields to change; lists and sources given replace the stored ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"priority": "urgent", "review_cadence": "monthly"}))]
pub struct ImprovementPlanPatch {
    #[schema(nullable = false, max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    #[schema(nullable = false, max_length = 10000, pattern = r"\S")]
    pub objective: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Uuid>)]
    pub location_id: Option<Option<Uuid>>,
    #[schema(nullable = false)]
    pub owner: Option<PersonInput>,
    #[schema(nullable = false)]
    pub priority: Option<Priority>,
    #[schema(nullable = false)]
    pub review_cadence: Option<ReviewCadence>,
    /// Each one of an assessment framework's quality statements.
    #[schema(nullable = false)]
    pub quality_statements: Option<Vec<String>>,
    /// At most 100 records of all kinds together.
    #[schema(nullable = false, value_type = Option<Vec<PlanSourceRecord>>, max_items = 100)]
    pub sources: Option<Vec<LinkedRecord>>,
    #[schema(nullable = false)]
    pub co_produced: Option<bool>,
    #[schema(nullable = false, max_items = 100)]
    pub involved: Option<Vec<Participant>>,
    /// Set once: while the record has none; the one it has may be sent again.
    #[schema(nullable = false)]
    pub external_ref: Option<ExternalRef>,
}

impl ImprovementPlanPatch {
    /// The rules the document cannot state, as for a new plan.
    pub fn validate(&self, catalogue: &Catalogue) -> ApiResult<()> {
        let mut checks = Checks::new();
        checks.quality_statements(
            catalogue,
            self.quality_statements.as_deref().unwrap_or_default(),
        );
        Participant::check_all(
            &mut checks,
            "involved",
            self.involved.as_deref().unwrap_or_default(),
        );
        checks.finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "completed", "celebrate": true}))]
pub struct PlanTransition {
    /// Where to move; each status allows only some moves (409 `illegal_transition` lists them),
    /// and a plan completes only once none of its actions is open.
    pub to: PlanStatus,
    /// Recorded in the audit trail.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub note: Option<String>,
    /// On completing: record an improvement milestone recognition too.
    #[serde(default)]
    pub celebrate: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    #[serde(flatten)]
    #[param(ignore)]
    pub lookup: Lookup,
    /// Only plans in this status (repeat the parameter for any of several).
    #[serde(default)]
    #[param(max_items = 20)]
    pub status: Vec<PlanStatus>,
    pub location_id: Option<Uuid>,
    /// The owner's `sub`, or `me`.
    pub owner: Option<String>,
    /// Only plans tagged with this quality statement.
    pub quality_statement_id: Option<String>,
    /// Only plans whose next review is due on or before this day.
    pub review_due_to: Option<NaiveDate>,
    /// Only plans changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

versioned!(ImprovementPlan);
