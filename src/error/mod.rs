//! The one error type of the API and its mapping to RFC 9457 `application/problem+json`.
//!
//! Every failure a handler, extractor or store can meet becomes an [`ApiError`]; this module alone
//! decides its status, stable `code` and body. A 500 carries no cause: the log does.

mod codes;
mod problem;

use serde::Serialize;
use utoipa::ToSchema;

pub use codes::PROBLEM_CODES;
pub use problem::Problem;

use crate::domain::IllegalMove;

pub type ApiResult<T> = Result<T, ApiError>;

/// The code of a unique value lost to a concurrent request (see `Db::write`, which retries).
pub const UNIQUE_RACE: &str = "conflict";

/// The `Retry-After` of a 503 `database_unavailable`: a database that comes back is used again
/// within half a second.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 2;

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
    /// The request's body could not be read at all (the connection lost it). Anything that
    /// arrived and is wrong, malformed JSON included, is `Validation`.
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// Parts of the request break the documented rules (a path id that is not a UUID, a query
    /// parameter, a header's value, a body that is not JSON, a body field that is missing,
    /// unknown, of a wrong type or value, a length, a range, a cursor not issued for this
    /// query): every one named.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// A PATCH valid in itself that would leave the record breaking its rules, given what is
    /// stored (an effectiveness check on an action not done, dates that no longer fit).
    #[error("the change does not fit the record as stored")]
    ConflictsWithRecord(Vec<FieldError>),
    #[error("{0}")]
    Unauthorized(String),
    /// A receipt endpoint called without `Authorization: Receipt <code>`.
    #[error("send the receipt code as `Authorization: Receipt <code>`")]
    ReceiptRequired,
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
    /// A change feed cursor older than the feed keeps.
    #[error(
        "this cursor is older than the changes careloop keeps; resynchronise with the lists' \
         `updated_since`, then read the feed from `GET /v1/changes/cursor`"
    )]
    CursorExpired,
    #[error("too many attempts; retry after {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database cannot be reached (stopped, restarting, failing over) or gave no connection
    /// in time. The cause is logged, never sent. The request's transaction did not commit
    /// (unless the connection broke during the commit itself).
    #[error("the database is unavailable: {0}")]
    DatabaseUnavailable(String),
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
            Self::Unauthorized(_) | Self::ReceiptRequired => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::PreconditionFailed => "precondition_failed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::CursorExpired => "cursor_expired",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::DatabaseUnavailable(_) => "database_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "Bad request",
            Self::Validation(_) => "Invalid request",
            Self::ConflictsWithRecord(_) => "Conflicts with the record",
            Self::Unauthorized(_) | Self::ReceiptRequired => "Authentication required",
            Self::Forbidden => "Forbidden",
            Self::NotFound(_) => "Not found",
            Self::Conflict { .. } => "Conflict",
            Self::MethodNotAllowed(_) => "Method not allowed",
            Self::PreconditionFailed => "Precondition failed",
            Self::PayloadTooLarge { .. } => "Payload too large",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::IdempotencyKeyReused => "Idempotency key reused",
            Self::CursorExpired => "Gone",
            Self::TooManyRequests { .. } => "Too many requests",
            Self::DatabaseUnavailable(_) => "Service unavailable",
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
            Self::DatabaseUnavailable(_) => format!(
                "careloop cannot reach its database at the moment; retry after \
                 {DATABASE_RETRY_AFTER_SECS} seconds (a create retried with the same \
                 Idempotency-Key is stored once)"
            ),
            other => other.to_string(),
        }
    }
}

/// 409 for a move a workflow does not allow, listing the moves it does.
pub fn illegal_move<S: Serialize + std::fmt::Display>(
    kind: &str,
    illegal: IllegalMove<S>,
) -> ApiError {
    let allowed = illegal
        .allowed
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>();
    ApiError::Conflict {
        code: "illegal_transition",
        detail: format!(
            "a {} {kind} cannot move to {}; allowed: {}",
            illegal.from,
            illegal.to,
            if allowed.is_empty() {
                "none".to_owned()
            } else {
                allowed.join(", ")
            }
        ),
        extra: Some(serde_json::json!({ "allowed": allowed })),
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
            // The server went away under the query (stopped, restarting, the connection cut),
            // or a failover left this connection on a standby that takes no writes.
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection
                | DatabaseErrorKind::UnableToSendCommand
                | DatabaseErrorKind::ReadOnlyTransaction,
                info,
            ) => Self::DatabaseUnavailable(info.message().to_owned()),
            // Only after a connection broke under a transaction, or its rollback failed.
            Error::BrokenTransactionManager => {
                Self::DatabaseUnavailable("the connection broke under a transaction".into())
            }
            Error::RollbackErrorOnCommit { commit_error, .. } => Self::from(*commit_error),
            other => Self::Internal(anyhow::Error::new(other).context("database")),
        }
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
/// went wrong. (Bodies and query strings are read by `http::extract`.)
pub mod extractors {
    use super::ApiError;
    use crate::api::contract::contract;
    use actix_web::error::PathError;
    use actix_web::HttpRequest;

    /// Each record id in the path that is not a UUID is named.
    pub fn path_handler(_: PathError, req: &HttpRequest) -> actix_web::Error {
        let errors = contract().check_path_ids(
            req.method(),
            &req.match_pattern().unwrap_or_default(),
            req.match_info().iter(),
        );
        ApiError::Validation(errors).into()
    }
}
