//! The trail as the API shows it.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::shared::LinkedRecord;
use crate::domain::RecordKind;
use crate::http::respond::unversioned;

/// A record on the trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrailEntry {
    pub kind: RecordKind,
    pub id: Uuid,
    pub title: String,
    /// Its workflow state (or, for learning, evidence and recognition, its kind).
    pub status: Option<String>,
    /// How many links from the record asked about.
    pub depth: u32,
    /// The record it was reached from.
    pub via: LinkedRecord,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "record": {"kind": "concern", "id": "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f"},
    "items": [
        {"kind": "learning_event", "id": "0192f0c4-5555-7000-8000-000000000001", "title": "November governance meeting",
         "status": "governance_review", "depth": 1, "via": {"kind": "concern", "id": "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f"}},
        {"kind": "improvement_plan", "id": "0192f0c4-8888-7000-8000-000000000001", "title": "Answer call bells within 5 minutes",
         "status": "active", "depth": 2, "via": {"kind": "learning_event", "id": "0192f0c4-5555-7000-8000-000000000001"}}
    ],
    "truncated": false
}))]
pub struct Trail {
    pub record: LinkedRecord,
    /// Nearest first.
    pub items: Vec<TrailEntry>,
    /// `true` when the walk stopped at its bounds (500 records, or 6 links from the record)
    /// with links still to follow: the rest is read from the trails of the deepest records.
    pub truncated: bool,
}

unversioned!(Trail);
