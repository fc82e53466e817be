use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::common::{nullable, Checks, ExternalRef};
use crate::api::concerns::dto::{TEXT_MAX, TITLE_MAX};
use crate::domain::framework::Catalogue;
use crate::domain::learning::{missing_reflections, LearningKind, ParticipantRole, SharedVia};
use crate::error::ApiResult;

const LESSON_MAX: usize = 1_000;
const LIST_MAX: usize = 100;

/// Someone who took part, by role; names are optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub role: ParticipantRole,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-5555-7000-8000-000000000001",
    "kind": "governance_review",
    "occurred_at": "2026-11-20T14:00:00Z",
    "title": "November governance meeting",
    "summary": "Monthly review of incidents, concerns and audits.",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "facilitator": "Alex Manager",
    "participants": [{"role": "manager", "name": "Alex Manager"}, {"role": "relative", "name": null}],
    "went_well": "Falls down a third since the sensor mats.",
    "did_not_go_well": "Night call-bell response times.",
    "to_change": "Second night carer on the first floor.",
    "lessons": ["Check call-bell logs weekly"],
    "shared_via": ["team_meeting", "newsletter"],
    "quality_statements": ["well_led.governance_management_sustainability"],
    "concern_ids": ["0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f"],
    "external_ref": null,
    "recorded_by": "manager-1",
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
    pub concern_ids: Vec<Uuid>,
    pub external_ref: Option<ExternalRef>,
    /// The `sub` of whoever recorded it.
    pub recorded_by: String,
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
    pub occurred_at: DateTime<Utc>,
    pub title: String,
    pub summary: Option<String>,
    pub location_id: Option<Uuid>,
    pub facilitator: Option<String>,
    #[serde(default)]
    pub participants: Vec<Participant>,
    /// Required, with the next two, for a governance review.
    pub went_well: Option<String>,
    pub did_not_go_well: Option<String>,
    pub to_change: Option<String>,
    #[serde(default)]
    pub lessons: Vec<String>,
    #[serde(default)]
    pub shared_via: Vec<SharedVia>,
    #[serde(default)]
    pub quality_statements: Vec<String>,
    /// Concerns of the organisation this learning came from.
    #[serde(default)]
    pub concern_ids: Vec<Uuid>,
    pub external_ref: Option<ExternalRef>,
}

/// The fields to change; lists given replace the stored ones, `null` clears an optional field.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"lessons": ["Check call-bell logs weekly", "Agency staff get the night induction"]}))]
pub struct LearningEventPatch {
    pub kind: Option<LearningKind>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub title: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
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
    #[schema(value_type = Option<String>)]
    pub facilitator: Option<Option<String>>,
    pub participants: Option<Vec<Participant>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub went_well: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub did_not_go_well: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub to_change: Option<Option<String>>,
    pub lessons: Option<Vec<String>>,
    pub shared_via: Option<Vec<SharedVia>>,
    pub quality_statements: Option<Vec<String>>,
    pub concern_ids: Option<Vec<Uuid>>,
}

/// The checks a new event and a patched one share.
fn check_fields(checks: &mut Checks, catalogue: &Catalogue, fields: Fields<'_>) {
    checks
        .optional_text("title", fields.title, TITLE_MAX)
        .optional_text("summary", fields.summary, TEXT_MAX)
        .optional_text("facilitator", fields.facilitator, TITLE_MAX)
        .optional_text("went_well", fields.went_well, TEXT_MAX)
        .optional_text("did_not_go_well", fields.did_not_go_well, TEXT_MAX)
        .optional_text("to_change", fields.to_change, TEXT_MAX)
        .texts("lessons", fields.lessons, LIST_MAX, LESSON_MAX)
        .not_future("occurred_at", fields.occurred_at)
        .quality_statements(catalogue, fields.quality_statements, false)
        .check(
            fields.participants.len() <= LIST_MAX,
            "participants",
            "must have at most 100 entries",
        )
        .check(
            fields.concern_ids.len() <= LIST_MAX,
            "concern_ids",
            "must have at most 100 entries",
        );
    for (index, participant) in fields.participants.iter().enumerate() {
        checks.optional_text(
            &format!("participants[{index}].name"),
            participant.name.as_deref(),
            TITLE_MAX,
        );
    }
}

struct Fields<'a> {
    title: Option<&'a str>,
    summary: Option<&'a str>,
    facilitator: Option<&'a str>,
    went_well: Option<&'a str>,
    did_not_go_well: Option<&'a str>,
    to_change: Option<&'a str>,
    lessons: &'a [String],
    occurred_at: Option<DateTime<Utc>>,
    quality_statements: &'a [String],
    participants: &'a [Participant],
    concern_ids: &'a [Uuid],
}

impl NewLearningEvent {
    pub fn validate(&self, catalogue: &Catalogue) -> ApiResult<()> {
        let mut checks = Checks::new();
        checks
            .text("title", &self.title, TITLE_MAX)
            .external_ref(self.external_ref.as_ref());
        check_fields(
            &mut checks,
            catalogue,
            Fields {
                title: None,
                summary: self.summary.as_deref(),
                facilitator: self.facilitator.as_deref(),
                went_well: self.went_well.as_deref(),
                did_not_go_well: self.did_not_go_well.as_deref(),
                to_change: self.to_change.as_deref(),
                lessons: &self.lessons,
                occurred_at: Some(self.occurred_at),
                quality_statements: &self.quality_statements,
                participants: &self.participants,
                concern_ids: &self.concern_ids,
            },
        );
        // Blank reflections are already named above; here only the absent ones.
        let present = |text: &Option<String>| text.as_ref().map(|_| "given");
        let given = [
            present(&self.went_well),
            present(&self.did_not_go_well),
            present(&self.to_change),
        ];
        for field in missing_reflections(self.kind, given) {
            checks.check(false, field, &format!("is required for a {}", self.kind));
        }
        checks.finish()
    }
}

/// A patched optional text: the new value, if one is given.
fn flat(field: &Option<Option<String>>) -> Option<&str> {
    field.as_ref().and_then(|v| v.as_deref())
}

impl LearningEventPatch {
    pub fn validate(&self, catalogue: &Catalogue) -> ApiResult<()> {
        let mut checks = Checks::new();
        check_fields(
            &mut checks,
            catalogue,
            Fields {
                title: self.title.as_deref(),
                summary: flat(&self.summary),
                facilitator: flat(&self.facilitator),
                went_well: flat(&self.went_well),
                did_not_go_well: flat(&self.did_not_go_well),
                to_change: flat(&self.to_change),
                lessons: self.lessons.as_deref().unwrap_or_default(),
                occurred_at: self.occurred_at,
                quality_statements: self.quality_statements.as_deref().unwrap_or_default(),
                participants: self.participants.as_deref().unwrap_or_default(),
                concern_ids: self.concern_ids.as_deref().unwrap_or_default(),
            },
        );
        checks.finish()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LearningEventQuery {
    pub kind: Option<LearningKind>,
    pub location_id: Option<Uuid>,
    /// Only events that occurred at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only events that occurred at or before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only events tagged with this quality statement id.
    pub quality_statement: Option<String>,
    /// Only events changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}
