//! The request's body and query string, read the way the OpenAPI document describes them.
//!
//! Extraction only gathers what was sent; the handler reads it with `parse()` once it has
//! decided the caller may act at all. So a caller without the right to write learns that first,
//! whatever they sent, and one answer then names every field that breaks the documented rules.

use std::future::{ready, Future, Ready};
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::error::PayloadError;
use actix_web::http::Method;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::contract::contract;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::paging::{fingerprint, Page};

/// The largest body careloop reads, in bytes (`CARELOOP_BODY_LIMIT`).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Which operation a request is, as the document names it: its method and path template.
#[derive(Debug, Clone)]
struct Operation {
    method: Method,
    pattern: String,
}

impl Operation {
    fn of(req: &HttpRequest) -> Self {
        Self {
            method: req.method().clone(),
            pattern: req.match_pattern().unwrap_or_default(),
        }
    }
}

/// A JSON body of type `T`, read by [`Json::parse`].
pub struct Json<T> {
    sent: ApiResult<web::Bytes>,
    operation: Operation,
    record: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Json<T> {
    /// The body as `T`: 415 unless it is JSON, 413 when over the limit, 422 naming `body` when
    /// it is not well-formed JSON, or every field that breaks the operation's schema.
    pub fn parse(self) -> ApiResult<T> {
        let bytes = self.sent?;
        let value: Value = serde_json::from_slice(&bytes).map_err(malformed)?;
        let errors = contract().check_body(&self.operation.method, &self.operation.pattern, &value);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        typed(value)
    }
}

impl<T: 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let operation = Operation::of(req);
        let is_json = matches!(req.mime_type(), Ok(Some(mime))
            if mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON));
        let bytes = read_body(req, payload);
        Box::pin(async move {
            let sent = match bytes.await {
                _ if !is_json => Err(ApiError::UnsupportedMediaType(
                    "the body must be application/json".to_owned(),
                )),
                read => read,
            };
            Ok(Self {
                sent,
                operation,
                record: PhantomData,
            })
        })
    }
}

/// How a body came: as JSON (an app) or form-encoded (an HTML form in a browser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Form,
}

/// A body sent as JSON (an app) or as an HTML form (`application/x-www-form-urlencoded`), read
/// by [`JsonOrForm::read`] against the operation's one schema either way.
pub struct JsonOrForm {
    pub format: BodyFormat,
    sent: ApiResult<web::Bytes>,
    operation: Operation,
}

/// A body as read, and every field of it that breaks the operation's schema: a handler that
/// answers a form with the form again wants both (the person's answers, and what is wrong).
pub struct Sent {
    /// A JSON object; a form's fields each read as their declared type where they are one.
    pub value: Value,
    pub errors: Vec<FieldError>,
}

impl JsonOrForm {
    /// The body and its errors; `Err` only when it cannot be read at all (not JSON or a form,
    /// too large, malformed JSON).
    pub fn read(self) -> ApiResult<Sent> {
        let bytes = self.sent?;
        let (method, pattern) = (&self.operation.method, &self.operation.pattern);
        Ok(match self.format {
            BodyFormat::Json => {
                let value: Value = serde_json::from_slice(&bytes).map_err(malformed)?;
                let errors = contract().check_body(method, pattern, &value);
                Sent { value, errors }
            }
            BodyFormat::Form => {
                let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                    .map_err(|_| ApiError::field("body", "is not a form-encoded body"))?;
                let (value, errors) = contract().read_form(method, pattern, pairs);
                Sent { value, errors }
            }
        })
    }
}

impl FromRequest for JsonOrForm {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let operation = Operation::of(req);
        let format = match req.mime_type() {
            Ok(Some(mime)) if mime.subtype() == mime::WWW_FORM_URLENCODED => Some(BodyFormat::Form),
            Ok(Some(mime)) if mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON) => {
                Some(BodyFormat::Json)
            }
            _ => None,
        };
        let bytes = read_body(req, payload);
        Box::pin(async move {
            let sent = match format {
                None => Err(ApiError::UnsupportedMediaType(
                    "the body must be application/json or application/x-www-form-urlencoded"
                        .to_owned(),
                )),
                Some(_) => bytes.await,
            };
            Ok(Self {
                format: format.unwrap_or(BodyFormat::Json),
                sent,
                operation,
            })
        })
    }
}

/// The request's body, up to the body limit: 413 past it.
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = ApiResult<web::Bytes>> {
    let limit = req.app_data::<BodyLimit>().map_or(256 * 1024, |l| l.0);
    let bytes = web::Bytes::from_request(req, payload);
    async move {
        bytes
            .await
            .map_err(|error| match error.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => ApiError::PayloadTooLarge { limit },
                _ => ApiError::bad_request("unreadable_body", "the body could not be read"),
            })
    }
}

/// The query string as `T`, read by [`Query::parse`]: each declared parameter as its documented
/// type (an empty value counts as absent); an undeclared one is named as an error.
pub struct Query<T> {
    pairs: Option<Vec<(String, String)>>,
    path: String,
    operation: Operation,
    record: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Query<T> {
    /// 422 naming `query` when the query string is not form-encoded, or every invalid parameter.
    pub fn parse(self) -> ApiResult<T> {
        typed(self.read()?.0)
    }

    /// A list's query as `T`, and the page it asks for: its `limit`, and its `cursor` checked
    /// against this very query (the path and the other parameters).
    pub fn parse_paged(self) -> ApiResult<(T, Page)> {
        let (value, fingerprint) = self.read()?;
        let page = Page::new(
            value.get("limit").and_then(Value::as_i64),
            value.get("cursor").and_then(Value::as_str),
            fingerprint,
        )?;
        Ok((typed(value)?, page))
    }

    /// The parameters as the document reads them, and the query's fingerprint.
    fn read(self) -> ApiResult<(Value, [u8; 4])> {
        let pairs = self
            .pairs
            .ok_or_else(|| ApiError::field("query", "is not a form-encoded query string"))?;
        let fingerprint = fingerprint(&self.path, &pairs);
        let value = contract()
            .read_query(&self.operation.method, &self.operation.pattern, pairs)
            .map_err(ApiError::Validation)?;
        Ok((value, fingerprint))
    }
}

impl<T> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .ok()
            .map(web::Query::into_inner);
        ready(Ok(Self {
            pairs,
            path: req.path().to_owned(),
            operation: Operation::of(req),
            record: PhantomData,
        }))
    }
}

/// A checked value as its Rust type. The schema and the type agree, so a failure here is a gap
/// between the document and the code: logged, and still answered as the field's error.
pub(crate) fn typed<T: DeserializeOwned>(mut value: Value) -> ApiResult<T> {
    whole_numbers_as_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|error| {
        let field = match error.path().to_string() {
            root if root == "." => "body".to_owned(),
            path => path,
        };
        log::warn!("a request passed the OpenAPI schema but not its type at {field}: {error}");
        ApiError::Validation(vec![FieldError::new(field, error.inner().to_string())])
    })
}

/// JSON Schema counts `3.0` as the integer 3; serde would not read it as one.
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(whole) = number
                .as_f64()
                .filter(|n| n.fract() == 0.0 && n.abs() < 9.0e15)
            {
                *value = Value::from(whole as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// Malformed JSON, said in plain words with where it went wrong.
fn malformed(error: serde_json::Error) -> ApiError {
    let message = if error.is_eof() {
        "ends before its JSON is complete".to_owned()
    } else {
        format!(
            "is not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        )
    };
    ApiError::field("body", message)
}
