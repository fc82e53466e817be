//! The one error type of the API and its mapping to RFC 9457 `application/problem+json`.
//!
//! Every failure a handler, extractor or store can meet becomes an [`ApiError`]; this module alone
//! decides its status, stable `code` and body. A 500 carries no cause: the log does.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub type ApiResult<T> = Result<T, ApiError>;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name in the request (dotted for nested fields).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is not understood: malformed JSON, a bad query string or path, a bad cursor.
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// The request is understood but its fields break the rules.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The body is well-formed JSON of the wrong shape (a wrong type, an unknown enum value, an
    /// unknown or missing field).
    #[error("{}: {}", .0.field, .0.message)]
    InvalidBody(FieldError),
    #[error("{0}")]
    Unauthorized(String),
    #[error("your role does not allow this")]
    Forbidden,
    /// Also the answer for records of another organisation or outside the caller's locations.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        /// Extra members of the problem body (for example `allowed` or `existing_id`).
        extra: Option<serde_json::Value>,
    },
    #[error("the record has changed since it was read")]
    PreconditionFailed,
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    #[error("too many attempts; retry after {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    /// Anything unexpected. The cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
            extra: None,
        }
    }

    /// The stable machine-readable code of the problem.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } | Self::Conflict { code, .. } => code,
            Self::Validation(_) => "validation_failed",
            Self::InvalidBody(_) => "invalid_body",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::PreconditionFailed => "precondition_failed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "Bad request",
            Self::Validation(_) => "Invalid request",
            Self::InvalidBody(_) => "Invalid request body",
            Self::Unauthorized(_) => "Authentication required",
            Self::Forbidden => "Forbidden",
            Self::NotFound(_) => "Not found",
            Self::Conflict { .. } => "Conflict",
            Self::PreconditionFailed => "Precondition failed",
            Self::PayloadTooLarge { .. } => "Payload too large",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::IdempotencyKeyReused => "Idempotency key reused",
            Self::TooManyRequests { .. } => "Too many requests",
            Self::Internal(_) => "Internal server error",
        }
    }

    /// What a person reads: every invalid field for a validation failure, nothing of a 500's cause.
    pub fn detail(&self) -> String {
        match self {
            Self::Validation(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            Self::Internal(_) => "an unexpected error occurred; it has been logged".to_owned(),
            other => other.to_string(),
        }
    }
}

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
    /// The invalid fields, for `validation_failed`.
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
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Validation(_) | Self::InvalidBody(_) | Self::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let Self::Internal(cause) = self {
            log::error!("internal error: {cause}");
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
        };
        match self {
            Self::Validation(errors) => problem.errors = Some(errors.clone()),
            Self::InvalidBody(error) => problem.errors = Some(vec![error.clone()]),
            Self::Conflict {
                extra: Some(extra), ..
            } => {
                problem.allowed = extra.get("allowed").cloned();
                problem.existing_id = extra.get("existing_id").cloned();
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
            Self::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        response.json(problem)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        Self::internal(format!("database: {error}"))
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Self::internal(format!("database pool: {error}"))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::internal(format!("blocking pool: {error}"))
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(error: serde_json::Error) -> Self {
        Self::internal(format!("json: {error}"))
    }
}

/// Maps actix's own extractor errors (JSON body, query string, path) to problems, so a client
/// meets one error format whatever went wrong.
pub mod extractors {
    use super::ApiError;
    use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
    use actix_web::HttpRequest;

    pub fn json(error: JsonPayloadError, limit: usize) -> ApiError {
        match error {
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                ApiError::PayloadTooLarge { limit }
            }
            JsonPayloadError::ContentType => {
                ApiError::UnsupportedMediaType("the body must be application/json".to_owned())
            }
            JsonPayloadError::Deserialize(e) => {
                ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
            }
            other => ApiError::bad_request("malformed_json", other.to_string()),
        }
    }

    pub fn json_handler(
        limit: usize,
    ) -> impl Fn(JsonPayloadError, &HttpRequest) -> actix_web::Error {
        move |error, _| json(error, limit).into()
    }

    pub fn query_handler(error: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
        ApiError::bad_request("invalid_query", error.to_string()).into()
    }

    pub fn path_handler(error: PathError, _: &HttpRequest) -> actix_web::Error {
        ApiError::bad_request("invalid_path", error.to_string()).into()
    }
}
