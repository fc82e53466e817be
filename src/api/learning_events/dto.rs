use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::shared::{reference_to, ExternalRef, LinkedRecord, Lookup, Participant, Person};
use crate::domain::framework::Catalogue;
use crate::domain::learning::{missing_reflections, LearningKind, SharedVia};
use crate::error::ApiResult;
use crate::http::respond::versioned;
use crate::http::validate::{nullable, Checks};

reference_to!(
    /// A concern a learning event came from: a record of the organisation.
    LearningSourceRecord,
    LearningSourceKind { Concern => "concern" }
);

/// A lesson the event taught, in a sentence or two.
// The document's schema of an item of `lessons` (read as text): it states the rule.
#[derive(ToSchema)]
#[schema(max_length = 1000, pattern = r"\S")]
pub struct Lesson(pub String);

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-5555-7000-8000-000000000001",
    "kind": "governance_review",
    "occurred_at": "2026-11-20T14:00:00Z",
    "title": "November governance meeting",
    "summary": "Monthly review of incidents, concerns and audits.",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "facilitator": "Alex Manager",
    "participants": [{"role": "manager", "name": "Alex Manager", "agreed_to_be_named": false},
                     {"role": "relative", "name": null, "agreed_to_be_named": false}],
    "went_well": "Falls down a third since the sensor mats.",
    "did_not_go_well": "Night call-bell response times.",
    "to_change": "Second night carer on the first floor.",
    "lessons": ["Check call-bell logs weekly"],
    "shared_via": ["team_meeting", "newsletter"],
    "quality_statements": ["well_led.governance_management_sustainability"],
    "linked_records": [{"kind": "concern", "id": "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f"}],
    "external_ref": null,
    "recorded_by": {"kind": "user", "sub": "manager-1", "name": null},
    "governance_month": null,
    "version": 1,
    "created_at": "2026-11-20T16:00:00Z",
    "updated_at": "2026-11-20T16:00:00Z"
}))]
pub struct LearningEvent {
    pub id: Uuid,
    pub kind: LearningKind,
    pub occurred_at: DateTime<Utc>,
    pub title: String,
    pub summary: Option<String>,
    pub location_id: Option<Uuid>,
    pub facilitator: Option<String>,
    pub participants: Vec<Participant>,
    pub went_well: Option<String>,
    pub did_not_go_well: Option<String>,
    pub to_change: Option<String>,
    pub lessons: Vec<String>,
    pub shared_via: Vec<SharedVia>,
    pub quality_statements: Vec<String>,
    /// The concerns this learning came from.
    pub linked_records: Vec<LinkedRecord>,
    pub external_ref: Option<ExternalRef>,
    /// The `sub` of whoever recorded it.
    pub recorded_by: Person,
    /// For a governance review recorded from a month's governance pack
    /// (`POST /v1/governance-packs/{month}/review`), that month.
    #[schema(pattern = r"^2[0-9]{3}-(0[1-9]|1[0-2])$")]
    pub governance_month: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "governance_review",
    "occurred_at": "2026-11-20T14:00:00Z",
    "title": "November governance meeting",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "participants": [{"role": "manager", "name": "Alex Manager"}],
    "went_well": "Falls down a third since the sensor mats.",
    "did_not_go_well": "Night call-bell response times.",
    "to_change": "Second night carer on the first floor.",
    "lessons": ["Check call-bell logs weekly"],
    "shared_via": ["team_meeting"],
    "quality_statements": ["well_led.governance_management_sustainability"]
}))]
pub struct NewLearningEvent {
    pub kind: LearningKind,
    /// When it took place: not in the future.
    pub occurred_at: DateTime<Utc>,
    #[schema(max_length = 200, pattern = r"\S")]
    pub title: String,
    #[schema(max_length = 10000, pattern = r"\S")]
    pub summary: Option<String>,
    /// One of the organisation's locations; a caller whose token limits them to some locations
    /// must name one of theirs.
    pub location_id: Option<Uuid>,
    #[schema(max_length = 200, pattern = r"\S")]
    pub facilitator: Option<String>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub participants: Vec<Participant>,
    /// What went well. Required, with the next two, when `kind` is `governance_review`.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub went_well: Option<String>,
    /// What did not go well; required for a governance review.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub did_not_go_well: Option<String>,
    /// What needs to change; required for a governance review.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub to_change: Option<String>,
    /// What the event taught.
    #[serde(default)]
    #[schema(value_type = Vec<Lesson>, inline, max_items = 100)]
    pub lessons: Vec<String>,
    #[serde(default)]
    pub shared_via: Vec<SharedVia>,
    /// Each one of an assessment framework's quality statements.
    #[serde(default)]
    pub quality_statements: Vec<String>,
    /// Concerns of the organisation this learning came from.
    #[serde(default)]
    #[schema(value_type = Vec<LearningSourceRecord>, max_items = 100)]
    pub linked_records: Vec<LinkedRecord>,
    pub external_ref: Option<ExternalRef>,
}

/// The fields to change; lists given replace the stored ones, `null` clears an optional field.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"lessons": ["Check call-bell logs weekly", "Agency staff get the night induction"]}))]
pub struct LearningEventPatch {
    /// A governance review must have `went_well`, `did_not_go_well` and `to_change` after the
    /// change.
    #[schema(nullable = false)]
    pub kind: Option<LearningKind>,
    /// Not in the future.
    #[schema(nullable = false)]
    pub occurred_at: Option<DateTime<Utc>>,
    #[schema(nullable = false, max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 10000, pattern = r"\S")]
    pub summary: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Uuid>)]
    pub location_id: Option<Option<Uuid>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 200, pattern = r"\S")]
    pub facilitator: Option<Option<String>>,
    #[schema(nullable = false, max_items = 100)]
    pub participants: Option<Vec<Participant>>,
    /// Required for a governance review.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 10000, pattern = r"\S")]
    pub went_well: Option<Option<String>>,
    /// Required for a governance review.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 10000, pattern = r"\S")]
    pub did_not_go_well: Option<Option<String>>,
    /// Required for a governance review.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 10000, pattern = r"\S")]
    pub to_change: Option<Option<String>>,
    /// What the event taught.
    #[schema(nullable = false, value_type = Option<Vec<Lesson>>, inline, max_items = 100)]
    pub lessons: Option<Vec<String>>,
    #[schema(nullable = false)]
    pub shared_via: Option<Vec<SharedVia>>,
    /// Each one of an assessment framework's quality statements.
    #[schema(nullable = false)]
    pub quality_statements: Option<Vec<String>>,
    /// Concerns of the organisation this learning came from.
    #[schema(nullable = false, value_type = Option<Vec<LearningSourceRecord>>, max_items = 100)]
    pub linked_records: Option<Vec<LinkedRecord>>,
    /// Set once: while the record has none; the one it has may be sent again.
    #[schema(nullable = false)]
    pub external_ref: Option<ExternalRef>,
}

/// The rules a new event and a patched one share that the document cannot state.
fn check_fields(
    checks: &mut Checks,
    catalogue: &Catalogue,
    occurred_at: Option<DateTime<Utc>>,
    quality_statements: &[String],
) {
    checks
        .not_future("occurred_at", occurred_at)
        .quality_statements(catalogue, quality_statements);
}

impl NewLearningEvent {
    /// The rules the document cannot state: the event has happened, quality statements are the
    /// frameworks' data, and a governance review has its three reflections.
    pub fn validate(&self, catalogue: &Catalogue) -> ApiResult<()> {
        let mut checks = Checks::new();
        check_fields(
            &mut checks,
            catalogue,
            Some(self.occurred_at),
            &self.quality_statements,
        );
        Participant::check_all(&mut checks, "participants", &self.participants);
        let given = [&self.went_well, &self.did_not_go_well, &self.to_change];
        for field in missing_reflections(self.kind, given.map(Option::as_deref)) {
            checks.check(false, field, &format!("is required for a {}", self.kind));
        }
        checks.finish()
    }
}

impl LearningEventPatch {
    /// The rules the document cannot state; the store checks a governance review's reflections
    /// on the changed record.
    pub fn validate(&self, catalogue: &Catalogue) -> ApiResult<()> {
        let mut checks = Checks::new();
        check_fields(
            &mut checks,
            catalogue,
            self.occurred_at,
            self.quality_statements.as_deref().unwrap_or_default(),
        );
        Participant::check_all(
            &mut checks,
            "participants",
            self.participants.as_deref().unwrap_or_default(),
        );
        checks.finish()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LearningEventQuery {
    #[serde(flatten)]
    #[param(ignore)]
    pub lookup: Lookup,
    /// Only events of this kind (repeat the parameter for any of several).
    #[serde(default)]
    #[param(max_items = 20)]
    pub kind: Vec<LearningKind>,
    pub location_id: Option<Uuid>,
    /// Only events that occurred at or after this time; not after `to`.
    pub from: Option<DateTime<Utc>>,
    /// Only events that occurred at or before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only events tagged with this quality statement.
    pub quality_statement_id: Option<String>,
    /// Only events changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

versioned!(LearningEvent);
