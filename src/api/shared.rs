//! The API shapes several resources share: external refs, linked records, owners, participants.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::learning::ParticipantRole;
use crate::domain::RecordKind;

/// A record's identity in another system, unique per organisation, so imports can upsert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"system": "care-records-vendor", "id": "INC-20931"}))]
pub struct ExternalRef {
    /// The system that owns the id.
    #[schema(max_length = 100, pattern = r"\S")]
    pub system: String,
    /// The record's id in that system.
    #[schema(max_length = 200, pattern = r"\S")]
    pub id: String,
}

impl ExternalRef {
    pub fn from_columns(system: Option<String>, id: Option<String>) -> Option<Self> {
        Some(Self {
            system: system?,
            id: id?,
        })
    }
}

/// A record a recognition is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkedRecord {
    /// `concern`, `improvement_plan`, `action` or `evidence`.
    pub kind: RecordKind,
    pub id: Uuid,
}

/// Who owns a plan or an action: the subject of their token, and a name to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sub": "manager-1", "name": "Alex Manager"}))]
pub struct Owner {
    #[schema(max_length = 200, pattern = r"\S")]
    pub sub: String,
    #[schema(max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
}

/// Someone who took part, by role; names are optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub role: ParticipantRole,
    #[schema(max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
}
