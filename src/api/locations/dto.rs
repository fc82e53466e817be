use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::shared::{ExternalRef, Lookup};
use crate::domain::location::LocationKind;
use crate::http::respond::versioned;
use crate::http::validate::nullable;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-2222-7000-8000-000000000001",
    "name": "Meadowbank House",
    "kind": "care_home",
    "cqc_location_id": "1-2345678901",
    "external_ref": null,
    "version": 1,
    "created_at": "2026-01-05T10:00:00Z",
    "updated_at": "2026-01-05T10:00:00Z"
}))]
pub struct Location {
    pub id: Uuid,
    pub name: String,
    pub kind: LocationKind,
    /// CQC location id (`1-` and 5 to 12 digits).
    pub cqc_location_id: Option<String>,
    /// Its id in another system (a care record vendor's), unique per organisation.
    pub external_ref: Option<ExternalRef>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Meadowbank House", "kind": "care_home", "cqc_location_id": "1-2345678901"}))]
pub struct NewLocation {
    #[schema(max_length = 200, pattern = r"\S")]
    pub name: String,
    pub kind: LocationKind,
    /// CQC location id: `1-` and 5 to 12 digits.
    #[schema(pattern = r"^1-[0-9]{5,12}$")]
    pub cqc_location_id: Option<String>,
    /// Its id in another system; another location holding it is 409 naming it.
    pub external_ref: Option<ExternalRef>,
}

/// The fields to change; a field left out is kept, `null` clears `cqc_location_id`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Meadowbank House (nursing wing)"}))]
pub struct LocationPatch {
    #[schema(nullable = false, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    #[schema(nullable = false)]
    pub kind: Option<LocationKind>,
    /// CQC location id: `1-` and 5 to 12 digits.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, pattern = r"^1-[0-9]{5,12}$")]
    pub cqc_location_id: Option<Option<String>>,
    /// Set once: while the location has none; the one it has may be sent again.
    #[schema(nullable = false)]
    pub external_ref: Option<ExternalRef>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocationQuery {
    #[serde(flatten)]
    #[param(ignore)]
    pub lookup: Lookup,
    /// Only locations changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

versioned!(Location);
