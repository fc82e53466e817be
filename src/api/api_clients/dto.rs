use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Role;
use crate::domain::text_enum;
use crate::http::respond::versioned;

text_enum!(
    /// A role a machine client may hold: any but `admin`.
    ClientRole {
        Manager => "manager",
        Staff => "staff",
        Viewer => "viewer",
        Integration => "integration",
    }
);

impl From<ClientRole> for Role {
    fn from(role: ClientRole) -> Self {
        match role {
            ClientRole::Manager => Role::Manager,
            ClientRole::Staff => Role::Staff,
            ClientRole::Viewer => Role::Viewer,
            ClientRole::Integration => Role::Integration,
        }
    }
}

/// A machine client. Its secret is never shown again after creation or rotation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "client_id": "0192f0c4-5555-7000-8000-000000000001",
    "name": "Acme care records",
    "roles": ["integration"],
    "locations": null,
    "created_at": "2026-11-26T09:00:00Z",
    "secret_rotated_at": null,
    "revoked_at": null,
    "version": 1,
    "client_secret": null
}))]
pub struct ApiClient {
    /// The client's id: `client_id` at `/oauth/token`, and its tokens' `sub`.
    pub client_id: Uuid,
    pub name: String,
    /// The roles its tokens carry.
    pub roles: Vec<ClientRole>,
    /// When set, its tokens are limited to these locations.
    pub locations: Option<Vec<Uuid>>,
    pub created_at: DateTime<Utc>,
    pub secret_rotated_at: Option<DateTime<Utc>>,
    /// Once set, the client gets no tokens, and the ones it has stop working within a minute.
    pub revoked_at: Option<DateTime<Utc>>,
    pub version: i64,
    /// The secret, only in the answer that made it (creation or rotation; `null` when that
    /// answer is replayed for a repeated `Idempotency-Key`, and everywhere else). Keep it: only
    /// its hash is stored.
    #[schema(min_length = 40, max_length = 100)]
    pub client_secret: Option<String>,
}

versioned!(ApiClient);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Acme care records", "roles": ["integration"]}))]
pub struct NewApiClient {
    #[schema(max_length = 200, pattern = r"\S")]
    pub name: String,
    /// One or more roles (never `admin`).
    #[schema(min_items = 1, max_items = 4)]
    pub roles: Vec<ClientRole>,
    /// Limit its tokens to these locations of the organisation.
    #[schema(min_items = 1, max_items = 100)]
    pub locations: Option<Vec<Uuid>>,
}
