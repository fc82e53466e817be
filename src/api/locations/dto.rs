use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::common::{nullable, Checks};
use crate::domain::location::{is_cqc_id, LocationKind};
use crate::error::ApiResult;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-2222-7000-8000-000000000001",
    "name": "Meadowbank House",
    "kind": "care_home",
    "cqc_location_id": "1-2345678901",
    "version": 1,
    "created_at": "2026-01-05T10:00:00Z",
    "updated_at": "2026-01-05T10:00:00Z"
}))]
pub struct Location {
    pub id: Uuid,
    pub name: String,
    pub kind: LocationKind,
    /// CQC location id (`1-` and digits).
    pub cqc_location_id: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Meadowbank House", "kind": "care_home", "cqc_location_id": "1-2345678901"}))]
pub struct NewLocation {
    pub name: String,
    pub kind: LocationKind,
    pub cqc_location_id: Option<String>,
}

/// The fields to change; a field left out is kept, `null` clears `cqc_location_id`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Meadowbank House (nursing wing)"}))]
pub struct LocationPatch {
    pub name: Option<String>,
    pub kind: Option<LocationKind>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub cqc_location_id: Option<Option<String>>,
}

fn check_cqc_id(checks: &mut Checks, id: Option<&str>) {
    checks.check(
        id.is_none_or(is_cqc_id),
        "cqc_location_id",
        "must be a CQC id such as 1-2345678901",
    );
}

impl NewLocation {
    pub fn validate(&self) -> ApiResult<()> {
        let mut checks = Checks::new();
        checks.text("name", &self.name, 200);
        check_cqc_id(&mut checks, self.cqc_location_id.as_deref());
        checks.finish()
    }
}

impl LocationPatch {
    pub fn validate(&self) -> ApiResult<()> {
        let mut checks = Checks::new();
        checks.optional_text("name", self.name.as_deref(), 200);
        check_cqc_id(
            &mut checks,
            self.cqc_location_id.clone().flatten().as_deref(),
        );
        checks.finish()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LocationQuery {
    /// Only locations changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}
