//! Deprecated operations, from one table: the document marks them `deprecated` and says what
//! replaces them, and every answer they give carries `Deprecation` (RFC 9745), `Sunset`
//! (RFC 8594) and a `Link` to the successor, so a client learns it from the wire as well.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, LINK};
use actix_web::middleware::Next;
use actix_web::Error;
use chrono::NaiveDate;

/// An operation kept, for now, at an old path.
pub struct Deprecated {
    pub method: &'static str,
    /// The old path template.
    pub path: &'static str,
    /// The template of the operation that replaces it (same parameter names).
    pub successor: &'static str,
}

/// The day the aliases below were deprecated.
pub const SINCE: &str = "2026-11-26";
/// The day after which they may be gone: they are kept until the next minor version, which
/// will not ship before this day.
pub const SUNSET: &str = "2027-05-31";

/// The paths renamed when every URL came to name its collections.
pub const DEPRECATED: &[Deprecated] = &[
    Deprecated {
        method: "GET",
        path: "/v1/self-assessments/{location_id}/{framework_id}",
        successor: "/v1/locations/{location_id}/self-assessments/{framework_id}",
    },
    Deprecated {
        method: "PUT",
        path: "/v1/self-assessments/{location_id}/{framework_id}/{quality_statement_id}",
        successor: "/v1/locations/{location_id}/self-assessments/{framework_id}/quality-statements/{quality_statement_id}",
    },
];

/// The `Deprecation` header's value: `@` and the Unix time of [`SINCE`] (RFC 9745).
pub fn deprecation_value() -> String {
    format!("@{}", midnight(SINCE).and_utc().timestamp())
}

/// The `Sunset` header's value: [`SUNSET`] as an HTTP date (RFC 8594).
pub fn sunset_value() -> String {
    midnight(SUNSET)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn midnight(day: &str) -> chrono::NaiveDateTime {
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .expect("the deprecation dates are ISO dates")
        .and_time(chrono::NaiveTime::MIN)
}

fn of(method: &str, pattern: &str) -> Option<&'static Deprecated> {
    DEPRECATED
        .iter()
        .find(|d| d.method == method && d.path == pattern)
}

/// Whether a request may be for a deprecated operation: its method and the fixed start of the
/// old path. Cheap, so only these requests pay for finding the pattern they matched (actix
/// matches the path against the routes again).
fn may_be_deprecated(method: &str, path: &str) -> bool {
    DEPRECATED.iter().any(|d| {
        let fixed = d.path.split('{').next().unwrap_or(d.path);
        d.method == method && path.starts_with(fixed)
    })
}

/// Adds the deprecation headers to every answer of a deprecated operation (a `HEAD` is
/// answered as its `GET`).
pub async fn announce(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut response = next.call(req).await?;
    let request = response.request();
    // The path as routed (re-quoted), so `%2D` for `-` is seen as the router saw it.
    if !may_be_deprecated(request.method().as_str(), request.match_info().as_str()) {
        return Ok(response);
    }
    let Some(deprecated) = request
        .match_pattern()
        .and_then(|pattern| of(request.method().as_str(), &pattern))
    else {
        return Ok(response);
    };
    let successor = request
        .match_info()
        .iter()
        .fold(deprecated.successor.to_owned(), |path, (name, value)| {
            path.replace(&format!("{{{name}}}"), value)
        });
    let headers = response.headers_mut();
    for (name, value) in [
        ("deprecation", deprecation_value()),
        ("sunset", sunset_value()),
        (
            LINK.as_str(),
            format!("<{successor}>; rel=\"successor-version\""),
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_in_their_rfc_forms() {
        assert_eq!(deprecation_value(), "@1795651200");
        assert_eq!(sunset_value(), "Mon, 31 May 2027 00:00:00 GMT");
    }

    #[test]
    fn only_an_old_path_and_its_method_may_be_deprecated() {
        let old = "/v1/self-assessments/0192f0c4-2222-7000-8000-000000000001/cqc-saf-2024";
        assert!(may_be_deprecated("GET", old));
        assert!(may_be_deprecated(
            "PUT",
            &format!("{old}/safe.safeguarding")
        ));
        assert!(!may_be_deprecated("POST", old));
        assert!(!may_be_deprecated("GET", "/v1/concerns"));
        assert!(!may_be_deprecated(
            "GET",
            "/v1/locations/0192f0c4-2222-7000-8000-000000000001/self-assessments/cqc-saf-2024"
        ));
    }
}
