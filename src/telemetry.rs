//! Request ids, the request log and its format, and the request metrics.

use std::io::Write;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How log lines are written (`CARELOOP_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per line: `time`, `level`, `target`, `message`, and for a request
    /// `request_id`, `method`, `route`, `status`, `duration_ms`.
    Json,
}

/// Starts the log at `RUST_LOG`'s level (info by default) in `format`.
pub fn init_logging(format: LogFormat) {
    let mut logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    match format {
        // A request's fields are in its message already.
        LogFormat::Text => logger.format_key_values(|_, _| Ok(())),
        LogFormat::Json => logger.format(|out, record| {
            let mut line = serde_json::Map::new();
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            line.insert("time".into(), now.into());
            line.insert("level".into(), record.level().as_str().into());
            line.insert("target".into(), record.target().into());
            line.insert("message".into(), record.args().to_string().into());
            let mut fields = Fields(&mut line);
            // Only this crate's own fields reach here; a failure leaves them out.
            let _ = record.key_values().visit(&mut fields);
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)
        }),
    };
    logger.init();
}

/// Collects a log record's key-value fields into its JSON line.
struct Fields<'a>(&'a mut serde_json::Map<String, serde_json::Value>);

impl<'kvs> log::kv::VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        let value = match value.to_u64() {
            Some(number) => number.into(),
            None => value.to_string().into(),
        };
        self.0.insert(key.as_str().to_owned(), value);
        Ok(())
    }
}

/// Put in a request's extensions by a handler serving an anonymous raiser: the request then
/// leaves no line in the log at all (a line, even without its request id, would date the raise
/// to the second).
pub struct Unlogged;

/// Gives every response an `x-request-id` (the client's, if it sent a sensible one), logs one
/// line per request and counts it in the metrics. Both name the route's pattern, never its
/// path, so ids and receipt codes in paths stay out; client addresses and callers are never
/// logged. An anonymous raiser's request is neither logged nor counted.
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
    let elapsed = started.elapsed();
    if !response.request().extensions().contains::<Unlogged>() {
        let id = request_id.to_str().unwrap_or_default();
        let millis = elapsed.as_millis() as u64;
        log::info!(
            request_id = id, method = method.as_str(), route = pattern.as_str(), status,
            duration_ms = millis;
            "{method} {pattern} {status} {millis}ms request_id={id}"
        );
        if crate::prometheus::installed() {
            record_metrics(&method, pattern, status, elapsed);
        }
    }
    response.headers_mut().insert(REQUEST_ID, request_id);
    Ok(response)
}

/// Counts a request and its time, by method, route pattern and status.
fn record_metrics(
    method: &actix_web::http::Method,
    pattern: String,
    status: u16,
    elapsed: std::time::Duration,
) {
    // Only the methods HTTP defines: any other word a client sends is "other", so no client
    // can grow the metrics without end.
    let method: &'static str = match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    metrics::counter!(
        crate::prometheus::REQUESTS,
        "method" => method, "route" => pattern.clone(), "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(
        crate::prometheus::REQUEST_SECONDS, "method" => method, "route" => pattern
    )
    .record(elapsed.as_secs_f64());
}
