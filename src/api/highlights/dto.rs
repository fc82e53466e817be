//! The highlights feed's query and items.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::shared::LinkedRecord;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HighlightQuery {
    /// From this time on (default: 30 days ago).
    pub from: Option<DateTime<Utc>>,
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
    "occurred_at": "2026-11-26T10:00:00Z",
    "title": "You said, we did: staffing",
    "text": "Second night carer on the first floor from 1 December",
    "record": {"kind": "concern", "id": "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f"},
    "location_id": "0192f0c4-2222-7000-8000-000000000001"
}))]
pub struct Highlight {
    pub kind: HighlightKind,
    #[serde(rename = "occurred_at")]
    pub at: DateTime<Utc>,
    pub title: String,
    pub text: Option<String>,
    pub record: LinkedRecord,
    pub location_id: Option<Uuid>,
}
