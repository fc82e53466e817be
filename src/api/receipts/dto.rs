use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::concerns::dto::ConcernUpdate;
use crate::domain::concern::{ConcernCategory, ConcernStatus};
use crate::http::respond::unversioned;

/// What the holder of a receipt code may see of their concern.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "title": "Staff shouting at residents at night",
    "category": "whistleblowing",
    "status": "resolved",
    "outcome": "Night staff retrained; the manager now does unannounced night checks.",
    "raised_at": "2026-11-20T22:00:00Z",
    "acknowledge_due_at": "2026-11-23T22:00:00Z",
    "feedback_due_at": "2027-02-18T22:00:00Z",
    "updated_at": "2026-11-25T10:00:00Z"
}))]
pub struct Receipt {
    pub title: String,
    pub category: ConcernCategory,
    pub status: ConcernStatus,
    /// What changed as a result, once resolved.
    pub outcome: Option<String>,
    pub raised_at: DateTime<Utc>,
    pub acknowledge_due_at: DateTime<Utc>,
    pub feedback_due_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A timeline entry as the anonymous raiser sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptUpdate {
    pub body: Option<String>,
    pub from_status: Option<ConcernStatus>,
    pub to_status: Option<ConcernStatus>,
    /// Written by the raiser (true) or the team (false).
    pub by_raiser: bool,
    pub created_at: DateTime<Utc>,
}

impl From<ConcernUpdate> for ReceiptUpdate {
    fn from(update: ConcernUpdate) -> Self {
        Self {
            body: update.body,
            from_status: update.from_status,
            to_status: update.to_status,
            by_raiser: update.by_raiser,
            created_at: update.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "It happened again on Tuesday night."}))]
pub struct NewReceiptMessage {
    #[schema(max_length = 10000, pattern = r"\S")]
    pub body: String,
}

unversioned!(Receipt, ReceiptUpdate);
