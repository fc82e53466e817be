//! Answers: a record or a page as JSON, with its `ETag` and, for a create, its `Location`.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde::Serialize;
use serde_json::Value;

use crate::error::ApiResult;

/// An answer to send: the first time, or replayed for a repeated `Idempotency-Key`.
/// A body with a `version` is sent with that version as its `ETag`.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: Value,
}

impl Answer {
    pub fn ok(body: &impl Serialize) -> ApiResult<Self> {
        Ok(Self {
            status: StatusCode::OK,
            location: None,
            body: serde_json::to_value(body)?,
        })
    }

    pub fn created(location: String, body: &impl Serialize) -> ApiResult<Self> {
        Ok(Self {
            status: StatusCode::CREATED,
            location: Some(location),
            body: serde_json::to_value(body)?,
        })
    }

    pub fn respond(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(location) = self.location {
            response.insert_header((header::LOCATION, location));
        }
        if let Some(version) = self.body.get("version").and_then(Value::as_i64) {
            response.insert_header((header::ETAG, etag(version)));
        }
        response.json(self.body)
    }
}

/// A record's ETag: its version, as a strong validator.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}
