use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::api_clients::dto::ClientRole;
use crate::api::changes::dto::FeedChange;
use crate::domain::text_enum;
use crate::http::respond::{unversioned, versioned};
use crate::http::validate::nullable;

text_enum!(
    /// Why careloop disabled an endpoint.
    DisabledReason {
        /// Every delivery failed for `CARELOOP_WEBHOOK_DISABLE_AFTER_HOURS`.
        Failing => "failing",
    }
);

text_enum!(
    /// Where a delivery stands.
    DeliveryStatus {
        /// Waiting for its next attempt (`next_attempt_at`).
        Pending => "pending",
        /// The endpoint answered 2xx.
        Succeeded => "succeeded",
        /// Every attempt failed; `POST …/retry` sends it again.
        Failed => "failed",
        /// Not sent: when its turn came, the endpoint's scope could no longer read the record
        /// (or the change was past the feed's retention).
        Withdrawn => "withdrawn",
    }
);

/// An endpoint careloop sends the changes it subscribed to, signed as Standard Webhooks says.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-6666-7000-8000-000000000001",
    "url": "https://vendor.example/careloop/events",
    "description": "Acme care records",
    "event_types": ["concern.created", "action.completed"],
    "location_ids": null,
    "scope": ["integration"],
    "enabled": true,
    "disabled_reason": null,
    "version": 1,
    "created_at": "2026-11-26T09:00:00Z",
    "updated_at": "2026-11-26T09:00:00Z",
    "secret": null
}))]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// The events sent: `*`, `{type}.*`, `{type}.{action}` (`concern.created`), or a transition's
    /// new state (`concern.acknowledged`, `action.completed`).
    pub event_types: Vec<String>,
    /// When set, only changes to records at these locations (and the endpoint reads as a token
    /// limited to them).
    pub location_ids: Option<Vec<Uuid>>,
    /// The roles the endpoint reads with, as a token's: it receives only what those roles may
    /// read (an `integration` endpoint never a confidential concern).
    pub scope: Vec<ClientRole>,
    pub enabled: bool,
    /// Set when careloop disabled the endpoint; enabling it again clears it.
    pub disabled_reason: Option<DisabledReason>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The signing secret (`whsec_…`), only in the answer that made it (creation or rotation;
    /// `null` in a replay and everywhere else). Keep it to verify signatures.
    #[schema(min_length = 40, max_length = 100)]
    pub secret: Option<String>,
}

versioned!(Webhook);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://vendor.example/careloop/events", "event_types": ["concern.created"], "scope": ["integration"]}))]
pub struct NewWebhook {
    /// `https://` (plain `http://` and private addresses only where the service allows them,
    /// for local testing).
    #[schema(max_length = 2000, pattern = r"^https?://[^\s]+$")]
    pub url: String,
    #[schema(min_items = 1, max_items = 50)]
    pub event_types: Vec<EventType>,
    #[schema(min_items = 1, max_items = 100)]
    pub location_ids: Option<Vec<Uuid>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Default `true`.
    pub enabled: Option<bool>,
    #[schema(min_items = 1, max_items = 4)]
    pub scope: Vec<ClientRole>,
}

/// An event type to subscribe to: `*`, `{type}.*`, `{type}.{action}` or `{type}.{state}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, pattern = r"^(\*|[a-z_]+\.(\*|[a-z_]+))$", max_length = 100)]
pub struct EventType(pub String);

/// The fields to change; a field left out is kept, `null` clears `description` and
/// `location_ids`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
pub struct WebhookPatch {
    #[schema(nullable = false, max_length = 2000, pattern = r"^https?://[^\s]+$")]
    pub url: Option<String>,
    #[schema(nullable = false, min_items = 1, max_items = 50)]
    pub event_types: Option<Vec<EventType>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Vec<Uuid>>, min_items = 1, max_items = 100)]
    pub location_ids: Option<Option<Vec<Uuid>>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Option<Option<String>>,
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
    #[schema(nullable = false, min_items = 1, max_items = 4)]
    pub scope: Option<Vec<ClientRole>>,
}

/// One message to an endpoint and how its attempts went.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-7777-7000-8000-000000000001",
    "event_type": "concern.created",
    "status": "pending",
    "attempt": 2,
    "response_status": 503,
    "duration_ms": 112,
    "error": null,
    "last_attempt_at": "2026-11-26T09:00:05Z",
    "next_attempt_at": "2026-11-26T09:05:05Z",
    "created_at": "2026-11-26T09:00:00Z"
}))]
pub struct Delivery {
    /// Also the message's `webhook-id`, the same on every attempt.
    pub id: Uuid,
    pub event_type: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempt: i32,
    /// The status code of the last attempt's answer, if one came.
    pub response_status: Option<i32>,
    /// How long the last attempt took.
    pub duration_ms: Option<i64>,
    /// Why the last attempt failed without an answer (a timeout, a refused address).
    pub error: Option<String>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the next attempt is due; `null` unless `pending`.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

unversioned!(Delivery);

/// What an endpoint receives: a change of the feed (the record as the endpoint's scope reads
/// it), signed with `webhook-id`, `webhook-timestamp` and `webhook-signature`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeEvent {
    /// `{type}.{action}` (`concern.created`), or the transition's state event the endpoint
    /// subscribed to by name (`action.completed`).
    #[serde(rename = "type")]
    pub event_type: String,
    /// When careloop queued the message.
    pub timestamp: DateTime<Utc>,
    pub data: FeedChange,
}

/// What `POST /v1/webhooks/{webhook_id}/test` sends.
#[derive(Debug, Serialize, ToSchema)]
pub struct PingEvent {
    /// `ping`.
    #[serde(rename = "type")]
    #[schema(pattern = "^ping$")]
    pub event_type: String,
    pub timestamp: DateTime<Utc>,
    pub data: PingData,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PingData {
    pub webhook_id: Uuid,
}
