//! The problem body (RFC 9457) and how an [`ApiError`] becomes one.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, FieldError, PROBLEM_CODES};

/// The body of every error answer (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:careloop:problem:validation_failed",
    "title": "Invalid request",
    "status": 422,
    "detail": "title: must be at most 200 characters",
    "code": "validation_failed",
    "errors": [{"field": "title", "message": "must be at most 200 characters"}]
}))]
pub struct Problem {
    /// A URN naming the problem type: `urn:careloop:problem:{code}`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable code a client can branch on.
    pub code: String,
    /// The fields at fault, for `validation_failed` and `conflicts_with_record`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// For `illegal_transition`: the states the record may move to now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub allowed: Option<serde_json::Value>,
    /// For `duplicate_external_ref`: the record that already holds the reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub existing_id: Option<serde_json::Value>,
    /// For `open_actions`: the actions still open, which must be done or cancelled first.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    pub open_action_ids: Option<serde_json::Value>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Validation(_) | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) | Self::ReceiptRequired => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } | Self::ConflictsWithRecord(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::CursorExpired => StatusCode::GONE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        debug_assert!(
            PROBLEM_CODES
                .iter()
                .any(|(code, listed, _)| *code == self.code() && *listed == status.as_u16()),
            "problem code {} ({status}) is not in PROBLEM_CODES",
            self.code()
        );
        if let Self::Internal(cause) = self {
            log::error!("internal error: {cause:#}");
        }
        let mut problem = Problem {
            problem_type: format!("urn:careloop:problem:{}", self.code()),
            title: self.title().to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code().to_owned(),
            errors: None,
            allowed: None,
            existing_id: None,
            open_action_ids: None,
        };
        match self {
            Self::Validation(errors) | Self::ConflictsWithRecord(errors) => {
                problem.errors = Some(errors.clone())
            }
            Self::Conflict {
                extra: Some(extra), ..
            } => {
                problem.allowed = extra.get("allowed").cloned();
                problem.existing_id = extra.get("existing_id").cloned();
                problem.open_action_ids = extra.get("open_action_ids").cloned();
            }
            _ => {}
        }
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        match self {
            Self::Unauthorized(_) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    "Bearer realm=\"careloop\", error=\"invalid_token\"",
                ));
            }
            Self::ReceiptRequired => {
                response.insert_header((header::WWW_AUTHENTICATE, "Receipt realm=\"careloop\""));
            }
            Self::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::DatabaseUnavailable(_) => {
                response.insert_header((
                    header::RETRY_AFTER,
                    super::DATABASE_RETRY_AFTER_SECS.to_string(),
                ));
            }
            Self::MethodNotAllowed(allowed) => {
                let allowed: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
                response.insert_header((header::ALLOW, allowed.join(", ")));
            }
            _ => {}
        }
        response.json(problem)
    }
}
