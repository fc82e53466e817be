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
    /// No precondition: what a request without `If-Match` sends (an import's update).
    pub fn any() -> Self {
        Self(None)
    }

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
        let text = req
            .headers()
            .get(header::IF_MATCH)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .trim();
        let versions = if text == "*" {
            Ok(None)
        } else {
            entity_tags(text)
                .map(|tags| {
                    Some(
                        tags.into_iter()
                            .filter(|(weak, _)| !weak)
                            .filter_map(|(_, tag)| tag.parse().ok())
                            .collect(),
                    )
                })
                .ok_or_else(|| {
                    ApiError::field(
                        "If-Match",
                        "must be `*` or entity tags such as \"3\" (quoted), separated by commas",
                    )
                })
        };
        ready(versions.map(Self))
    }
}

/// An entity-tag list (RFC 9110 §8.8.3): each `"tag"` or `W/"tag"`, separated by commas and
/// optional white space, as `(weak, tag)`; `None` unless the whole text is such a list. (A tag
/// may hold a comma, so the list is read tag by tag; actix's list parser splits at every comma
/// and skips what it cannot read.)
fn entity_tags(text: &str) -> Option<Vec<(bool, &str)>> {
    let is_space = |c: char| c == ' ' || c == '\t';
    let mut tags = Vec::new();
    let mut rest = text.trim_matches(is_space);
    loop {
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(quoted) => (true, quoted),
            None => (false, rest),
        };
        let inner = quoted.strip_prefix('"')?;
        let end = inner.find('"')?;
        let tag = &inner[..end];
        if !tag.chars().all(|c| c == '!' || ('#'..='~').contains(&c)) {
            return None;
        }
        tags.push((weak, tag));
        rest = inner[end + 1..].trim_start_matches(is_space);
        if rest.is_empty() {
            return Some(tags);
        }
        rest = rest.strip_prefix(',')?.trim_start_matches(is_space);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tag_lists_are_read_tag_by_tag() {
        assert_eq!(entity_tags(r#""3""#), Some(vec![(false, "3")]));
        assert_eq!(
            entity_tags(r#"W/"3" , "4",	"a,b""#),
            Some(vec![(true, "3"), (false, "4"), (false, "a,b")])
        );
        assert_eq!(entity_tags(r#""""#), Some(vec![(false, "")]));
        for garbage in ["3", r#""3"#, "W/3", r#""3" "4""#, r#""3","#, "", r#""a"b""#] {
            assert_eq!(entity_tags(garbage), None, "{garbage}");
        }
    }
}
