use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::change::{ChangeAction, ChangeType};
use crate::http::respond::unversioned;

/// One committed change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "cursor": "000000000000002a",
    "type": "concern",
    "id": "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f",
    "action": "transitioned",
    "version": 2,
    "occurred_at": "2026-11-26T09:15:00Z",
    "record": null
}))]
pub struct FeedChange {
    /// The feed's position just after this change: resume from here to read what follows it.
    #[schema(pattern = "^[0-9a-f]{16}$")]
    pub cursor: String,
    #[serde(rename = "type")]
    pub record_type: ChangeType,
    /// The record's id.
    pub id: Uuid,
    pub action: ChangeAction,
    /// The record's version after this change (1 for records that never change: timeline
    /// entries, scores, reviews).
    pub version: i64,
    /// When the change was made; for an anonymous raiser's, the hour they acted in.
    pub occurred_at: DateTime<Utc>,
    /// The record as `GET` answers it for the caller now (it may be at a later version than
    /// this change's); `null` with `include=ids`.
    pub record: Option<FeedRecord>,
}

/// The record of a change, as `GET` answers it.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct FeedRecord(pub Value);

impl utoipa::ToSchema for FeedRecord {}

/// The schema of the record of a change: its `type`'s.
impl utoipa::PartialSchema for FeedRecord {
    fn schema() -> RefOr<Schema> {
        [
        "Organisation",
        "Location",
        "Concern",
        "ConcernUpdate",
        "LearningEvent",
        "Evidence",
        "SelfAssessment",
        "ImprovementPlan",
        "PlanAction",
        "PlanReview",
        "Recognition",
    ]
    .into_iter()
    .fold(AnyOfBuilder::new(), |any, name| {
        any.item(utoipa::openapi::Ref::from_schema_name(name))
    })
    .description(Some(
        "The record as `GET` answers it for the caller now, by `type`: organisation, location, \
         concern, concern_update, learning_event, evidence, self_assessment (a score), \
         improvement_plan, action, review, recognition.",
    ))
    .into()
    }
}

/// A page of the change feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    /// Oldest first.
    pub items: Vec<FeedChange>,
    /// Where to resume: pass it as `cursor` for the changes after this page. Always set; when
    /// `items` is empty the caller has read everything there is (it is then the cursor sent,
    /// or a later one when changes the caller may not see were passed over).
    #[schema(pattern = "^[0-9a-f]{16}$")]
    pub next_cursor: String,
}

/// The feed's current head.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"cursor": "000000000000002a"}))]
pub struct FeedHead {
    /// The position after the last change so far: read the feed from it to see only what
    /// changes next.
    #[schema(pattern = "^[0-9a-f]{16}$")]
    pub cursor: String,
}

unversioned!(ChangePage, FeedHead);

/// What to leave out of the feed's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedInclude {
    /// Only the change, without its record.
    Ids,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// Read the changes after this position: an item's `cursor`, a page's `next_cursor` or
    /// `GET /v1/changes/cursor`'s. Without it, the feed is read from its oldest kept change.
    #[param(pattern = "^[0-9a-f]{10,2000}$")]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Only changes to these kinds of record, comma-separated: `types=concern,evidence`.
    #[serde(default)]
    #[param(style = Form, explode = false, max_items = 11)]
    pub types: Vec<ChangeType>,
    /// Only changes to records at this location (an organisation's changes have none).
    pub location_id: Option<Uuid>,
    /// `ids`: leave each change's record out.
    #[param(inline)]
    pub include: Option<FeedInclude>,
    /// When there is nothing new, wait up to this many seconds for a change before answering
    /// (long polling). Default 0.
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u64>,
}
