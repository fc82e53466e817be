use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::shared::Person;
use crate::domain::{AuditAction, AuditResource};

/// One change to one record.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-8d2e-7c43-9f0a-3b1d2e4f5a6b",
    "actor": {"kind": "user", "sub": "user-4821", "name": null},
    "action": "transition",
    "resource_type": "concern",
    "resource_id": "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f",
    "changed_fields": ["status"],
    "detail": {"from": "raised", "to": "acknowledged"},
    "created_at": "2026-11-26T09:15:00Z"
}))]
pub struct AuditEvent {
    pub id: Uuid,
    /// Who made the change: a user, an anonymous raiser (nothing says who) or careloop itself.
    pub actor: Person,
    #[schema(value_type = AuditAction)]
    pub action: String,
    #[schema(value_type = AuditResource)]
    pub resource_type: String,
    pub resource_id: Uuid,
    /// The names of the fields the change set.
    pub changed_fields: Vec<String>,
    /// More about the change, such as a transition's `from` and `to`.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only changes to this kind of record (repeat the parameter for any of several).
    #[serde(default)]
    #[param(max_items = 20)]
    pub resource_type: Vec<AuditResource>,
    /// Only changes of this kind (repeat the parameter for any of several).
    #[serde(default)]
    #[param(max_items = 20)]
    pub action: Vec<AuditAction>,
    /// Only changes to this record.
    pub resource_id: Option<Uuid>,
    /// Only changes at or after this time; not after `to`.
    pub from: Option<DateTime<Utc>>,
    /// Only changes at or before this time.
    pub to: Option<DateTime<Utc>>,
}
