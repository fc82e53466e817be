//! Answers: a record or a page as JSON, with its `ETag` and, for a create, its `Location`.

use actix_web::body::BoxBody;
use actix_web::http::header::{self, ContentType, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::http::paging::Paginated;

/// What an answer can carry. Every body type says whether it is a versioned record, whose
/// version the answer sends as its `ETag`, so a new record type cannot forget its ETag.
pub trait Representation: Serialize {
    fn version(&self) -> Option<i64>;
}

/// Records with a `version`: answered with it as their `ETag`.
macro_rules! versioned {
    ($($record:ty),+ $(,)?) => {$(
        impl $crate::http::respond::Representation for $record {
            fn version(&self) -> Option<i64> {
                Some(self.version)
            }
        }
    )+};
}
pub(crate) use versioned;

/// Bodies without a version (reports, timelines, catalogue entries): answered without an `ETag`.
macro_rules! unversioned {
    ($($body:ty),+ $(,)?) => {$(
        impl $crate::http::respond::Representation for $body {
            fn version(&self) -> Option<i64> {
                None
            }
        }
    )+};
}
pub(crate) use unversioned;

impl<T: Serialize + ToSchema> Representation for Paginated<T> {
    fn version(&self) -> Option<i64> {
        None
    }
}

/// An answer to send: the first time, or replayed for a repeated `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    /// The version of the record answered, sent as the `ETag`.
    pub version: Option<i64>,
    /// The body as sent: serialized once, straight from the record (no `Value` in between).
    pub body: Bytes,
    /// Whether this is a stored answer replayed for a repeated `Idempotency-Key`.
    pub replayed: bool,
    /// Sent with `Cache-Control: no-store`: it holds a receipt code or what one opens.
    pub no_store: bool,
}

impl Answer {
    pub fn ok(body: &impl Representation) -> ApiResult<Self> {
        Ok(Self {
            status: StatusCode::OK,
            location: None,
            version: body.version(),
            body: json(body)?.into(),
            replayed: false,
            no_store: false,
        })
    }

    /// The same answer, never to be kept by a browser or a proxy (a shared tablet keeps what
    /// it is allowed to).
    pub fn no_store(self) -> Self {
        Self {
            no_store: true,
            ..self
        }
    }

    /// The same answer with another success status (`202 Accepted` for work queued).
    pub fn with_status(self, status: StatusCode) -> Self {
        Self { status, ..self }
    }

    pub fn created(location: String, body: &impl Representation) -> ApiResult<Self> {
        Ok(Self {
            status: StatusCode::CREATED,
            location: Some(location),
            ..Self::ok(body)?
        })
    }
}

impl Responder for Answer {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(location) = self.location {
            response.insert_header((header::LOCATION, location));
        }
        if let Some(version) = self.version {
            response.insert_header((header::ETAG, etag(version)));
        }
        if self.no_store {
            response.insert_header((header::CACHE_CONTROL, "no-store"));
        }
        if self.replayed {
            response.insert_header((
                HeaderName::from_static("idempotent-replayed"),
                HeaderValue::from_static("true"),
            ));
        }
        response.content_type(ContentType::json()).body(self.body)
    }
}

/// A body as JSON, written into a buffer sized for a record, so that a record is written
/// without the buffer growing and a page of them with few regrowths.
fn json(body: &impl Serialize) -> serde_json::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(2048);
    serde_json::to_writer(&mut bytes, body)?;
    Ok(bytes)
}

/// A record's ETag: its version, as a strong validator.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}
