//! `If-Match`: the versions a conditional change accepts, read from the header.

use std::future::{ready, Ready};

use actix_web::http::header;
use actix_web::{dev::Payload, FromRequest, HttpRequest};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};

/// The versions an `If-Match` header accepts, by strong comparison (RFC 9110): `None` when it is
/// absent or `*`. A weak tag, or one careloop never issued, matches nothing.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<Vec<i64>>);

impl IfMatch {
    /// 412 when none of the caller's tags is the stored version.
    pub fn check(&self, stored_version: i64) -> ApiResult<()> {
        match &self.0 {
            Some(versions) if !versions.contains(&stored_version) => {
                Err(ApiError::PreconditionFailed)
            }
            _ => Ok(()),
        }
    }

    /// Whether the request is conditional on a version.
    pub fn is_conditional(&self) -> bool {
        self.0.is_some()
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if !req.headers().contains_key(header::IF_MATCH) {
            return ready(Ok(Self(None)));
        }
        // Each entity tag by actix's own parser; one that does not parse makes the header bad
        // (actix's list parser would skip it, and the request would be judged on the rest).
        let text = req
            .headers()
            .get(header::IF_MATCH)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .trim();
        let versions = if text == "*" {
            Ok(None)
        } else {
            text.split(',')
                .map(|tag| tag.trim().parse::<header::EntityTag>())
                .collect::<Result<Vec<_>, _>>()
                .map(|tags| {
                    Some(
                        tags.iter()
                            .filter(|tag| !tag.weak)
                            .filter_map(|tag| tag.tag().parse().ok())
                            .collect(),
                    )
                })
                .map_err(|_| {
                    ApiError::bad_request(
                        "invalid_if_match",
                        "If-Match must be `*` or entity tags such as \"3\" (quoted), separated \
                         by commas",
                    )
                })
        };
        ready(versions.map(Self))
    }
}

/// `*`, or entity tags (`"3"`, `W/"3"`) separated by commas.
const IF_MATCH_PATTERN: &str = r#"^(\*|(W/)?"[!#-~]*"( *, *(W/)?"[!#-~]*")*)$"#;

impl IntoParams for IfMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![ParameterBuilder::new()
            .name("If-Match")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "The `ETag` last read (`\"3\"`; several, comma-separated, match if any does; `*` \
                 matches any version): the change is made only if the record is still at that \
                 version, else 412. Compared strongly: a weak tag (`W/\"3\"`) never matches. \
                 Anything else is 400.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(IF_MATCH_PATTERN)),
            ))
            .build()]
    }
}
