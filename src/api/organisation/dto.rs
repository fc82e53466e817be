use actix_web::http::Method;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::contract::contract;
use crate::error::{ApiError, ApiResult};
use crate::http::respond::versioned;
use crate::http::validate::nullable;

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
    /// CQC provider id (`1-` and 5 to 12 digits).
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
    #[schema(nullable = false, max_length = 200, pattern = r"\S")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// CQC provider id: `1-` and 5 to 12 digits.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, pattern = r"^1-[0-9]{5,12}$")]
    pub cqc_provider_id: Option<Option<String>>,
    /// NHS ODS code: 3 to 10 upper-case letters and digits.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, pattern = r"^[A-Z0-9]{3,10}$")]
    pub ods_code: Option<Option<String>>,
    /// Hours from raising a concern to acknowledging it.
    #[schema(nullable = false, minimum = 1, maximum = 720)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledge_within_hours: Option<i32>,
    /// Days from raising a concern to resolving it with feedback to the raiser.
    #[schema(nullable = false, minimum = 1, maximum = 365)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback_within_days: Option<i32>,
}

impl OrganisationPatch {
    /// The document's rules for this body (`PATCH /v1/organisation`), for the command line,
    /// which creates organisations without a request; a request has met them already.
    pub fn validate(&self) -> ApiResult<()> {
        let body = serde_json::to_value(self)?;
        let errors = contract().check_body(&Method::PATCH, "/v1/organisation", &body);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_fields(patch: OrganisationPatch) -> Vec<String> {
        match patch.validate() {
            Ok(()) => Vec::new(),
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn cqc_ids_are_1_dash_and_5_to_12_digits() {
        let with = |id: &str| OrganisationPatch {
            cqc_provider_id: Some(Some(id.to_owned())),
            ..Default::default()
        };
        for good in ["1-101234567", "1-12345", "1-123456789012"] {
            assert!(invalid_fields(with(good)).is_empty(), "{good}");
        }
        for bad in [
            "1-1234",
            "1-1234567890123",
            "2-101234567",
            "1-10123456a",
            " 1-101234567",
        ] {
            assert_eq!(invalid_fields(with(bad)), ["cqc_provider_id"], "{bad}");
        }
    }

    #[test]
    fn ods_codes_are_3_to_10_upper_case_letters_and_digits() {
        let with = |code: &str| OrganisationPatch {
            ods_code: Some(Some(code.to_owned())),
            ..Default::default()
        };
        for good in ["VNH12", "RX1", "ABCDE12345"] {
            assert!(invalid_fields(with(good)).is_empty(), "{good}");
        }
        for bad in ["rx1", "AB", "ABCDE123456", "RX-1"] {
            assert_eq!(invalid_fields(with(bad)), ["ods_code"], "{bad}");
        }
    }

    #[test]
    fn names_and_clocks_follow_the_document() {
        let patch = OrganisationPatch {
            name: Some(" ".into()),
            acknowledge_within_hours: Some(721),
            feedback_within_days: Some(0),
            ..Default::default()
        };
        assert_eq!(
            invalid_fields(patch),
            ["acknowledge_within_hours", "feedback_within_days", "name"]
        );
        let cleared = OrganisationPatch {
            cqc_provider_id: Some(None),
            ods_code: Some(None),
            ..Default::default()
        };
        assert!(invalid_fields(cleared).is_empty());
    }
}

versioned!(Organisation);
