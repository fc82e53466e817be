//! A plan's actions as the API shows them, and what a client sends about them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::shared::{
    reference_to, EvidenceReference, ExternalRef, LinkedRecord, Lookup, Person, PersonInput,
};
use crate::domain::improvement::{ActionStatus, Effectiveness};
use crate::http::respond::versioned;
use crate::http::validate::nullable;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-7777-7000-8000-000000000001",
    "plan_id": "0192f0c4-8888-7000-8000-000000000001",
    "description": "Add a second carer to the first-floor night rota",
    "owner": {"kind": "user", "sub": "manager-1", "name": "Alex Manager"},
    "due_on": "2026-12-01",
    "status": "done",
    "completion_note": "Rota changed from 1 December",
    "cancel_reason": null,
    "effectiveness": "effective",
    "checked_on": "2027-01-05",
    "check_evidence": [{"kind": "evidence", "id": "0192f0c4-6666-7000-8000-000000000001"}],
    "came_from": [{"kind": "evidence", "id": "0192f0c4-6666-7000-8000-000000000009"}],
    "publication": {
        "you_said": "Nights on the first floor felt short-staffed.",
        "we_did": "A second carer now works the first floor every night.",
        "published_at": "2026-12-02T09:00:00Z"
    },
    "completed_at": "2026-12-01T09:00:00Z",
    "external_ref": null,
    "overdue": false,
    "version": 4,
    "created_at": "2026-11-21T10:00:00Z",
    "updated_at": "2027-01-05T10:00:00Z"
}))]
pub struct PlanAction {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub description: String,
    pub owner: Person,
    pub due_on: Option<NaiveDate>,
    pub status: ActionStatus,
    pub completion_note: Option<String>,
    pub cancel_reason: Option<String>,
    /// Whether the change was checked, and whether it worked.
    pub effectiveness: Effectiveness,
    pub checked_on: Option<NaiveDate>,
    /// Evidence from the check.
    pub check_evidence: Vec<LinkedRecord>,
    /// The feedback (evidence), compliments (recognitions) and concerns it came from.
    pub came_from: Vec<LinkedRecord>,
    /// Shown on the location's "you said, we did" pages, in a manager's words for the public,
    /// while the action is done; `null` when not published.
    pub publication: Option<Publication>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Its id in another system, unique per organisation.
    pub external_ref: Option<ExternalRef>,
    /// Still open after its due date.
    pub overdue: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "description": "Add a second carer to the first-floor night rota",
    "owner": {"sub": "manager-1", "name": "Alex Manager"},
    "due_on": "2026-12-01"
}))]
pub struct NewPlanAction {
    #[schema(max_length = 10000, pattern = r"\S")]
    pub description: String,
    pub owner: PersonInput,
    pub due_on: Option<NaiveDate>,
    /// Its id in another system; another action holding it is 409 naming it.
    pub external_ref: Option<ExternalRef>,
}

/// The fields to change. Setting `effectiveness` to `effective` or `not_effective` records the
/// check of a done action and needs `checked_on`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"effectiveness": "effective", "checked_on": "2026-11-24",
                          "check_evidence": [{"kind": "evidence", "id": "0192f0c4-6666-7000-8000-000000000001"}]}))]
pub struct PlanActionPatch {
    #[schema(nullable = false, max_length = 10000, pattern = r"\S")]
    pub description: Option<String>,
    #[schema(nullable = false)]
    pub owner: Option<PersonInput>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_on: Option<Option<NaiveDate>>,
    /// `effective` or `not_effective` only for a done action, and with `checked_on`.
    #[schema(nullable = false)]
    pub effectiveness: Option<Effectiveness>,
    /// The day of the check: not in the future, and only while `effectiveness` is `effective`
    /// or `not_effective`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<NaiveDate>)]
    pub checked_on: Option<Option<NaiveDate>>,
    /// Evidence of the organisation from the check.
    #[schema(nullable = false, value_type = Option<Vec<EvidenceReference>>, max_items = 100)]
    pub check_evidence: Option<Vec<LinkedRecord>>,
    /// The feedback (evidence), compliments (recognitions) and concerns of the organisation
    /// it came from: replaces the ones linked.
    #[schema(nullable = false, value_type = Option<Vec<OriginReference>>, max_items = 100)]
    pub came_from: Option<Vec<LinkedRecord>>,
    /// Set once: while the action has none; the one it has may be sent again.
    #[schema(nullable = false)]
    pub external_ref: Option<ExternalRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "done", "completion_note": "Rota changed from 1 December", "celebrate": true}))]
pub struct ActionTransition {
    /// Where to move; each status allows only some moves (409 `illegal_transition` lists them).
    /// Staff move only the actions they own.
    pub to: ActionStatus,
    /// Required to move to `done`: what was done.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub completion_note: Option<String>,
    /// Required to move to `cancelled`: why.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub cancel_reason: Option<String>,
    /// On moving to done: record an improvement milestone recognition too.
    #[serde(default)]
    pub celebrate: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionQuery {
    #[serde(flatten)]
    #[param(ignore)]
    pub lookup: Lookup,
    /// The owner's `sub`, or `me` for the caller.
    pub owner: Option<String>,
    /// Only actions in this status (repeat the parameter for any of several).
    #[serde(default)]
    #[param(max_items = 20)]
    pub status: Vec<ActionStatus>,
    /// Only actions due on or before this day.
    pub due_to: Option<NaiveDate>,
    /// Only actions changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

versioned!(PlanAction);

reference_to!(
    /// A record an action came from: feedback or other evidence, a compliment or other
    /// recognition, or a concern, of the organisation.
    OriginReference,
    OriginKind {
        Evidence => "evidence",
        Recognition => "recognition",
        Concern => "concern",
    }
);

/// An action as the public sees it on "you said, we did".
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Publication {
    pub you_said: String,
    pub we_did: String,
    pub published_at: DateTime<Utc>,
}

/// What to publish of a done action, in plain words written for the public: never what anyone
/// wrote, nothing that identifies anyone.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "you_said": "Nights on the first floor felt short-staffed.",
    "we_did": "A second carer now works the first floor every night."
}))]
pub struct NewPublication {
    /// The theme of what people told us, in a sentence.
    #[schema(max_length = 300, pattern = r"\S")]
    pub you_said: String,
    /// What changed.
    #[schema(max_length = 1000, pattern = r"\S")]
    pub we_did: String,
}
