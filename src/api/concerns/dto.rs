use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::shared::Contact;
use crate::api::shared::{ExternalRef, Lookup, Person};
use crate::domain::concern::{
    ConcernCategory, ConcernStatus, RiskLevel, UpdateKind, UpdateVisibility,
};
use crate::domain::framework::Catalogue;
use crate::error::ApiResult;
use crate::http::respond::{unversioned, versioned};
use crate::http::rfc3339;
use crate::http::validate::{nullable, Checks};

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f",
    "title": "Night shift left one carer for 14 residents",
    "description": "On 24 November the night shift ran with one carer from 02:00 to 06:00.",
    "category": "staffing",
    "risk": "high",
    "status": "acknowledged",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "confidential": false,
    "anonymous": false,
    "raised_by": {"kind": "user", "sub": "user-4821", "name": "Sam Carer"},
    "escalated_to": null,
    "outcome": null,
    "acknowledge_due_at": "2026-11-28T09:00:00Z",
    "feedback_due_at": "2027-02-24T09:00:00Z",
    "acknowledged_at": "2026-11-25T11:30:00Z",
    "resolved_at": null,
    "overdue": false,
    "external_ref": null,
    "quality_statements": ["safe.safe_and_effective_staffing"],
    "version": 2,
    "created_at": "2026-11-25T09:00:00Z",
    "updated_at": "2026-11-25T11:30:00Z",
    "contact": null,
    "receipt_code": null
}))]
pub struct Concern {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub category: ConcernCategory,
    pub risk: RiskLevel,
    pub status: ConcernStatus,
    pub location_id: Option<Uuid>,
    /// Seen only by managers, admins and the raiser.
    pub confidential: bool,
    /// Raised without identity: `raised_by` is an `anonymous` person, and who it was cannot be
    /// recovered.
    pub anonymous: bool,
    pub raised_by: Person,
    /// Who the concern was escalated to, once escalated.
    pub escalated_to: Option<String>,
    /// What changed as a result ("you said, we did"), once resolved.
    pub outcome: Option<String>,
    /// Acknowledge by this time (`acknowledge_within_hours` after raising).
    #[serde(serialize_with = "rfc3339::moment")]
    pub acknowledge_due_at: DateTime<Utc>,
    /// Resolve, with feedback to the raiser, by this time (`feedback_within_days` after raising).
    #[serde(serialize_with = "rfc3339::moment")]
    pub feedback_due_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::maybe")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339::maybe")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// Past a deadline without reaching its state; computed when read.
    pub overdue: bool,
    pub external_ref: Option<ExternalRef>,
    /// Quality statements the concern bears on.
    pub quality_statements: Vec<String>,
    /// How to reach the raiser, when a concern raised through a public intake point left
    /// contact details with consent to be contacted. Shown to managers and admins only: `null`
    /// for everyone else.
    pub contact: Option<Contact>,
    pub version: i64,
    #[serde(serialize_with = "rfc3339::moment")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::moment")]
    pub updated_at: DateTime<Utc>,
    /// Set only in the answer to creating an anonymous concern, and never again (`null`
    /// otherwise): the raiser's key to `GET /v1/receipt` (as `Authorization: Receipt <code>`). careloop keeps only its hash.
    pub receipt_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Night shift left one carer for 14 residents",
    "description": "On 24 November the night shift ran with one carer from 02:00 to 06:00.",
    "category": "staffing",
    "risk": "high",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "anonymous": false
}))]
pub struct NewConcern {
    #[schema(max_length = 200, pattern = r"\S")]
    pub title: String,
    /// What happened, and what worries the raiser.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub description: String,
    pub category: ConcernCategory,
    pub risk: RiskLevel,
    /// One of the organisation's locations; a caller whose token limits them to some locations
    /// must name one of theirs.
    pub location_id: Option<Uuid>,
    /// Defaults to true for safeguarding and whistleblowing, false otherwise.
    pub confidential: Option<bool>,
    /// Keep no identity at all; the answer carries a one-time `receipt_code`.
    #[serde(default)]
    pub anonymous: bool,
    pub external_ref: Option<ExternalRef>,
    /// Quality statements the concern bears on, by id: each one of an assessment framework's
    /// (`GET /v1/frameworks/{id}`).
    #[serde(default)]
    pub quality_statements: Vec<String>,
}

impl NewConcern {
    /// The rules the document cannot state: quality statements are the frameworks' data.
    pub fn validate(&self, catalogue: &Catalogue) -> ApiResult<()> {
        Checks::new()
            .quality_statements(catalogue, &self.quality_statements)
            .finish()
    }
}

/// The descriptive fields to change; the workflow moves only by transitions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"risk": "critical"}))]
pub struct ConcernPatch {
    #[schema(nullable = false, max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    #[schema(nullable = false, max_length = 10000, pattern = r"\S")]
    pub description: Option<String>,
    #[schema(nullable = false)]
    pub category: Option<ConcernCategory>,
    #[schema(nullable = false)]
    pub risk: Option<RiskLevel>,
    /// `null` detaches the concern from its location.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Uuid>)]
    pub location_id: Option<Option<Uuid>>,
    #[schema(nullable = false)]
    pub confidential: Option<bool>,
    /// Replaces the quality statements: each one of an assessment framework's.
    #[schema(nullable = false)]
    pub quality_statements: Option<Vec<String>>,
    /// Set once: while the record has none; the one it has may be sent again.
    #[schema(nullable = false)]
    pub external_ref: Option<ExternalRef>,
}

impl ConcernPatch {
    /// The rules the document cannot state: quality statements are the frameworks' data.
    pub fn validate(&self, catalogue: &Catalogue) -> ApiResult<()> {
        Checks::new()
            .quality_statements(
                catalogue,
                self.quality_statements.as_deref().unwrap_or_default(),
            )
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "to": "resolved",
    "note": "Agency cover booked for every night shift while we recruit.",
    "outcome": "Two night carers on every shift from 1 December; rota checked weekly.",
    "visibility": "raiser"
}))]
pub struct TransitionRequest {
    /// Where to move; each status allows only some moves (409 `illegal_transition` lists them).
    pub to: ConcernStatus,
    /// Recorded on the timeline.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub note: Option<String>,
    /// Required to move to `resolved`: what changed as a result.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub outcome: Option<String>,
    /// Required to move to `escalated`: to whom (for example the local authority safeguarding
    /// team).
    #[schema(max_length = 200, pattern = r"\S")]
    pub escalated_to: Option<String>,
    /// Who may read the timeline entry; internal by default.
    pub visibility: Option<UpdateVisibility>,
}

/// An entry of a concern's timeline.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-9999-7000-8000-000000000001",
    "concern_id": "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f",
    "kind": "transition",
    "visibility": "raiser",
    "body": "Thank you for raising this; we are looking at the rota.",
    "from_status": "raised",
    "to_status": "acknowledged",
    "author": {"kind": "user", "sub": "manager-17", "name": "Alex Manager"},
    "by_raiser": false,
    "created_at": "2026-11-25T11:30:00Z"
}))]
pub struct ConcernUpdate {
    pub id: Uuid,
    pub concern_id: Uuid,
    pub kind: UpdateKind,
    pub visibility: UpdateVisibility,
    pub body: Option<String>,
    pub from_status: Option<ConcernStatus>,
    pub to_status: Option<ConcernStatus>,
    /// Null for an anonymous raiser's messages.
    pub author: Person,
    /// Written by the concern's raiser.
    pub by_raiser: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "Rota for December shared with the team.", "visibility": "raiser"}))]
pub struct NewConcernUpdate {
    #[schema(max_length = 10000, pattern = r"\S")]
    pub body: String,
    /// `internal` (the team only) or `raiser` (the raiser too). Defaults to `internal` for the
    /// team and to `raiser` for a raiser, who can only add entries they can read: `internal`
    /// from the raiser is refused (422).
    pub visibility: Option<UpdateVisibility>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConcernQuery {
    #[serde(flatten)]
    #[param(ignore)]
    pub lookup: Lookup,
    /// Only concerns in this status (repeat the parameter for any of several).
    #[serde(default)]
    #[param(max_items = 20)]
    pub status: Vec<ConcernStatus>,
    /// Only concerns of this category (repeat the parameter for any of several).
    #[serde(default)]
    #[param(max_items = 20)]
    pub category: Vec<ConcernCategory>,
    /// Only concerns at this risk (repeat the parameter for any of several).
    #[serde(default)]
    #[param(max_items = 20)]
    pub risk: Vec<RiskLevel>,
    pub location_id: Option<Uuid>,
    /// Only concerns past (true) or within (false) their deadlines.
    pub overdue: Option<bool>,
    /// Only concerns changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

versioned!(Concern);
unversioned!(ConcernUpdate);
