//! The one error type of the API and its mapping to RFC 9457 `application/problem+json`.
//!
//! Every failure a handler, extractor or store can meet becomes an [`ApiError`]; this module alone
//! decides its status, stable `code` and body. A 500 carries no cause: the log does.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub type ApiResult<T> = Result<T, ApiError>;

/// The code of a unique value lost to a concurrent request (see `Db::write`, which retries).
pub const UNIQUE_RACE: &str = "conflict";

/// Every problem `code` careloop sends, with its status and meaning: the OpenAPI document lists
/// them, and a debug build refuses to send one missing here.
pub const PROBLEM_CODES: &[(&str, u16, &str)] = &[
    ("malformed_json", 400, "the body is not well-formed JSON"),
    ("unreadable_body", 400, "the body could not be read"),
    ("invalid_query", 400, "the query string is not form-encoded"),
    ("invalid_path", 400, "a record id in the path is not a UUID"),
    (
        "invalid_cursor",
        400,
        "the `cursor` is not one careloop issued",
    ),
    (
        "invalid_if_match",
        400,
        "`If-Match` is not `*` or a list of entity tags",
    ),
    (
        "invalid_idempotency_key",
        400,
        "the `Idempotency-Key` is not 1 to 255 visible ASCII characters",
    ),
    (
        "unauthorized",
        401,
        "no bearer token, or one careloop does not accept; `detail` says why",
    ),
    ("forbidden", 403, "the caller's roles do not allow this"),
    (
        "not_found",
        404,
        "no such record in the caller's organisation and locations, or no such endpoint",
    ),
    (
        "method_not_allowed",
        405,
        "the path exists but not with this method; `Allow` lists its methods",
    ),
    (
        "illegal_transition",
        409,
        "the workflow does not allow this move now; `allowed` lists the moves it does",
    ),
    (
        "duplicate_external_ref",
        409,
        "another record holds this `external_ref`; `existing_id` names it",
    ),
    (
        "conflict",
        409,
        "another request stored the same unique value at the same moment; read and retry",
    ),
    (
        "edit_conflict",
        409,
        "the record changed while the request was applied; read it again and retry",
    ),
    (
        "idempotency_race",
        409,
        "a request with this `Idempotency-Key` is still in progress; retry",
    ),
    (
        "open_actions",
        409,
        "a plan cannot complete while an action is open",
    ),
    (
        "plan_closed",
        409,
        "the plan is completed or archived, so its actions do not move",
    ),
    (
        "plan_not_reviewable",
        409,
        "the plan is not active, so it cannot be reviewed",
    ),
    ("archived", 409, "the record is archived and cannot change"),
    (
        "conflicts_with_record",
        409,
        "the change is valid in itself but not for the record as stored; `errors` names the fields",
    ),
    (
        "precondition_failed",
        412,
        "`If-Match` does not match the record's current `ETag`",
    ),
    ("payload_too_large", 413, "the body is over the size limit"),
    (
        "unsupported_media_type",
        415,
        "the body is not `application/json`",
    ),
    (
        "validation_failed",
        422,
        "fields of the body or query break the rules; `errors` names every one",
    ),
    (
        "idempotency_key_reused",
        422,
        "this `Idempotency-Key` was used with a different request",
    ),
    (
        "too_many_requests",
        429,
        "too many attempts; wait `Retry-After` seconds",
    ),
    (
        "internal_error",
        500,
        "an unexpected error; the answer says nothing of its cause",
    ),
];

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
    /// The request is understood but fields of its body or query break the documented rules
    /// (a missing or unknown field, a wrong type or value, a length, a range): every one named.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// A PATCH valid in itself that would leave the record breaking its rules, given what is
    /// stored (an effectiveness check on an action not done, dates that no longer fit).
    #[error("the change does not fit the record as stored")]
    ConflictsWithRecord(Vec<FieldError>),
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
    /// A known path, a method it does not have: the allowed ones go in `Allow`.
    #[error("this path allows {}", .0.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", "))]
    MethodNotAllowed(Vec<actix_web::http::Method>),
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
    /// Anything unexpected. The cause, with its chain, is logged, never sent.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl ApiError {
    /// An unexpected failure described in words (the cause chain, when there is one, comes
    /// through the `From` conversions below).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(anyhow::anyhow!("{cause}"))
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The same problems, judged against the stored record rather than the request alone.
    pub fn against_record(self) -> Self {
        match self {
            Self::Validation(errors) => Self::ConflictsWithRecord(errors),
            other => other,
        }
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
            Self::ConflictsWithRecord(_) => "conflicts_with_record",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
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
            Self::ConflictsWithRecord(_) => "Conflicts with the record",
            Self::Unauthorized(_) => "Authentication required",
            Self::Forbidden => "Forbidden",
            Self::NotFound(_) => "Not found",
            Self::Conflict { .. } => "Conflict",
            Self::MethodNotAllowed(_) => "Method not allowed",
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
            Self::Validation(errors) | Self::ConflictsWithRecord(errors) => errors
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
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Validation(_) | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } | Self::ConflictsWithRecord(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
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
            Self::MethodNotAllowed(allowed) => {
                let allowed: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
                response.insert_header((header::ALLOW, allowed.join(", ")));
            }
            _ => {}
        }
        response.json(problem)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            // Two requests raced for one unique value and this one lost: its checks ran before
            // the winner committed. Not a fault of the service, and not the caller's either.
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Self::conflict(
                UNIQUE_RACE,
                "another request stored the same unique value at the same moment; read the \
                 record and retry",
            ),
            other => Self::Internal(anyhow::Error::new(other).context("database")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Self::Internal(anyhow::Error::new(error).context("database pool"))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::Internal(anyhow::Error::new(error).context("blocking pool"))
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(error: serde_json::Error) -> Self {
        Self::Internal(anyhow::Error::new(error).context("json"))
    }
}

/// Maps actix's path extractor errors to a problem, so a client meets one error format whatever
/// went wrong. (Bodies and query strings are read by `api::extract`.)
pub mod extractors {
    use super::ApiError;
    use actix_web::error::PathError;
    use actix_web::HttpRequest;

    pub fn path_handler(_: PathError, _: &HttpRequest) -> actix_web::Error {
        ApiError::bad_request(
            "invalid_path",
            "a record id in the path is not valid: ids are UUIDs",
        )
        .into()
    }
}
