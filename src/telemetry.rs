//! Request ids and the request log.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Put in a request's extensions by a handler serving an anonymous raiser: the request then
/// leaves no line in the log at all (a line, even without its request id, would date the raise
/// to the second).
pub struct Unlogged;

/// Gives every response an `x-request-id` (the client's, if it sent a sensible one) and logs one
/// line per request. The line names the route's pattern, never its path, so ids and receipt
/// codes in paths stay out of the log; client addresses and callers are never logged.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .filter(|v| v.len() <= 128 && v.to_str().is_ok_and(|s| !s.is_empty()))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
                .expect("a UUID is a valid header value")
        });
    let method = req.method().clone();
    let mut response = next.call(req).await?;
    let pattern = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "(no route)".to_owned());
    let status = response.status().as_u16();
    let millis = started.elapsed().as_millis();
    if !response.request().extensions().contains::<Unlogged>() {
        log::info!(
            "{method} {pattern} {status} {millis}ms request_id={}",
            request_id.to_str().unwrap_or_default()
        );
    }
    response.headers_mut().insert(REQUEST_ID, request_id);
    Ok(response)
}
