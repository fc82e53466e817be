use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::common::{nullable, Checks};
use crate::domain::location::is_cqc_id;
use crate::domain::location::is_ods_code;
use crate::error::ApiResult;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-1111-7000-8000-000000000001",
    "name": "Meadowbank Care Ltd",
    "cqc_provider_id": "1-101234567",
    "ods_code": "VNH12",
    "acknowledge_within_hours": 72,
    "feedback_within_days": 90,
    "version": 3,
    "created_at": "2026-01-05T10:00:00Z",
    "updated_at": "2026-11-20T14:30:00Z"
}))]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    /// CQC provider id (`1-` and digits).
    pub cqc_provider_id: Option<String>,
    /// NHS ODS code.
    pub ods_code: Option<String>,
    /// A concern must be acknowledged within this many hours of being raised.
    pub acknowledge_within_hours: i32,
    /// A concern must be resolved, with feedback to the raiser, within this many days.
    pub feedback_within_days: i32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields to change; a field left out is kept, `null` clears an optional one.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Meadowbank Care Ltd", "acknowledge_within_hours": 48}))]
pub struct OrganisationPatch {
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub cqc_provider_id: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub ods_code: Option<Option<String>>,
    /// 1 to 720 hours.
    pub acknowledge_within_hours: Option<i32>,
    /// 1 to 365 days.
    pub feedback_within_days: Option<i32>,
}

impl OrganisationPatch {
    pub fn validate(&self) -> ApiResult<()> {
        Checks::new()
            .optional_text("name", self.name.as_deref(), 200)
            .check(
                self.cqc_provider_id
                    .clone()
                    .flatten()
                    .is_none_or(|id| is_cqc_id(&id)),
                "cqc_provider_id",
                "must be a CQC id such as 1-101234567",
            )
            .check(
                self.ods_code
                    .clone()
                    .flatten()
                    .is_none_or(|code| is_ods_code(&code)),
                "ods_code",
                "must be 3 to 10 upper-case letters and digits",
            )
            .check(
                self.acknowledge_within_hours
                    .is_none_or(|h| (1..=720).contains(&h)),
                "acknowledge_within_hours",
                "must be between 1 and 720",
            )
            .check(
                self.feedback_within_days
                    .is_none_or(|d| (1..=365).contains(&d)),
                "feedback_within_days",
                "must be between 1 and 365",
            )
            .finish()
    }
}
