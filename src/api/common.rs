//! What every resource shares: answers with ETags, If-Match, pagination, external references,
//! field validation and the conversions between rows and the API.

use std::future::{ready, Ready};

use actix_web::http::{header, StatusCode};
use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::{IntoParams, ToSchema};

use crate::domain::framework::Catalogue;
use crate::domain::IllegalMove;
use crate::error::{ApiError, ApiResult, FieldError};

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

/// Reads the outcome of an update guarded by the version it read: no row changed means another
/// writer got there first.
pub fn guarded_update(affected: usize, if_match: &IfMatch) -> ApiResult<()> {
    match affected {
        1 => Ok(()),
        _ if if_match.is_conditional() => Err(ApiError::PreconditionFailed),
        _ => Err(ApiError::conflict(
            "edit_conflict",
            "the record changed while this request was applied; read it again and retry",
        )),
    }
}

/// A page of a list, in creation order; pass `next_cursor` back as `cursor` for the next one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T: ToSchema> {
    pub items: Vec<T>,
    /// An opaque cursor: pass it back as `cursor` for the next page. `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Which page to read: at most `limit` records after the cursor's record.
#[derive(Debug, Clone)]
pub struct Page {
    pub limit: i64,
    pub after: Option<String>,
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

impl Page {
    pub fn new(limit: Option<i64>, cursor: Option<&str>) -> ApiResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = cursor
            .map(|c| {
                uuid::Uuid::parse_str(c)
                    .map(|id| id.hyphenated().to_string())
                    .map_err(|_| {
                        ApiError::bad_request(
                            "invalid_cursor",
                            "the cursor is not one careloop issued",
                        )
                    })
            })
            .transpose()?;
        Ok(Self { limit, after })
    }

    /// How many rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the fetched rows to the page and answers the cursor of the next page, if any.
    fn cursor_after<R>(&self, rows: &mut Vec<R>, id: impl Fn(&R) -> &str) -> Option<String> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        more.then(|| rows.last().map(|r| id(r).replace('-', "")))
            .flatten()
    }

    /// Like [`Page::finish`], converting the page's rows together (to read what they link to in
    /// one query per table).
    pub fn finish_all<R, T: ToSchema>(
        &self,
        mut rows: Vec<R>,
        id: impl Fn(&R) -> &str,
        convert: impl FnOnce(Vec<R>) -> ApiResult<Vec<T>>,
    ) -> ApiResult<Paginated<T>> {
        let next_cursor = self.cursor_after(&mut rows, id);
        Ok(Paginated {
            items: convert(rows)?,
            next_cursor,
        })
    }

    /// Cuts the fetched rows to the page and makes the cursor from its last record.
    pub fn finish<R, T: ToSchema>(
        &self,
        rows: Vec<R>,
        id: impl Fn(&R) -> &str,
        into: impl FnMut(R) -> ApiResult<T>,
    ) -> ApiResult<Paginated<T>> {
        self.finish_all(rows, id, |rows| rows.into_iter().map(into).collect())
    }
}

/// A record's identity in another system, unique per organisation, so imports can upsert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"system": "care-records-vendor", "id": "INC-20931"}))]
pub struct ExternalRef {
    /// The system that owns the id.
    #[schema(max_length = 100, pattern = r"\S")]
    pub system: String,
    /// The record's id in that system.
    #[schema(max_length = 200, pattern = r"\S")]
    pub id: String,
}

impl ExternalRef {
    pub fn from_columns(system: Option<String>, id: Option<String>) -> Option<Self> {
        Some(Self {
            system: system?,
            id: id?,
        })
    }
}

/// The rows of a table in the caller's reach, as a boxed query: their organisation's, narrowed to
/// their `locations` claim (on `$location`, the column naming a row's location).
macro_rules! in_callers_reach {
    ($table:ident, $location:ident, $principal:expr) => {{
        let mut query = $table::table
            .filter($table::organisation_id.eq($principal.organisation_id.clone()))
            .into_boxed();
        if let Some(allowed) = &$principal.locations {
            query = query.filter($table::$location.eq_any(allowed.clone()));
        }
        query
    }};
}
pub(crate) use in_callers_reach;

/// The one item a conversion of one row gives.
pub fn only<T>(mut items: Vec<T>) -> ApiResult<T> {
    match (items.pop(), items.is_empty()) {
        (Some(item), true) => Ok(item),
        _ => Err(ApiError::internal(
            "one row converted to other than one record",
        )),
    }
}

/// Finds the record of a table that holds an external reference in an organisation.
macro_rules! external_ref_holder {
    ($conn:expr, $table:ident, $organisation_id:expr, $external:expr) => {
        $table::table
            .filter($table::organisation_id.eq($organisation_id))
            .filter($table::external_system.eq(&$external.system))
            .filter($table::external_id.eq(&$external.id))
            .select($table::id)
            .first::<String>($conn)
            .optional()
    };
}
pub(crate) use external_ref_holder;

/// 409 naming the record that already holds an external reference.
pub fn external_ref_free(holder: Option<String>, kind: &str) -> ApiResult<()> {
    match holder {
        None => Ok(()),
        Some(existing) => Err(ApiError::Conflict {
            code: "duplicate_external_ref",
            detail: format!("{kind} {existing} already has this external_ref"),
            extra: Some(serde_json::json!({ "existing_id": existing })),
        }),
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

/// Collects every invalid field of a request, so one answer names them all: the rules the
/// OpenAPI document cannot state (it states the rest, and the contract applies them first).
#[derive(Debug, Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn check(&mut self, ok: bool, field: &str, message: &str) -> &mut Self {
        if !ok {
            self.0.push(FieldError::new(field, message));
        }
        self
    }

    /// Quality-statement ids, each known to the catalogue.
    pub fn quality_statements(&mut self, catalogue: &Catalogue, ids: &[String]) -> &mut Self {
        let unknown: Vec<&str> = ids
            .iter()
            .filter(|id| !catalogue.has_statement(id))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            self.0.push(FieldError::new(
                "quality_statements",
                format!("unknown quality statement: {}", unknown.join(", ")),
            ));
        }
        self
    }

    /// A time that has already happened (allowing a few minutes of clock difference).
    pub fn not_future(&mut self, field: &str, at: Option<DateTime<Utc>>) -> &mut Self {
        if at.is_some_and(|at| at > crate::domain::now() + chrono::Duration::minutes(5)) {
            self.0
                .push(FieldError::new(field, "must not be in the future"));
        }
        self
    }

    pub fn finish(&mut self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(std::mem::take(&mut self.0)))
        }
    }
}

/// For PATCH bodies: tells a field set to `null` (`Some(None)`) from one left out (`None`).
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

pub fn to_utc(time: NaiveDateTime) -> DateTime<Utc> {
    time.and_utc()
}

pub fn to_row(time: DateTime<Utc>) -> NaiveDateTime {
    time.naive_utc()
}

/// Reads an enum column back; text the code never writes is a bug, answered 500.
pub fn stored<T>(parsed: Option<T>, column: &str, text: &str) -> ApiResult<T> {
    parsed
        .ok_or_else(|| ApiError::internal(format!("unexpected {column} {text:?} in the database")))
}

/// Checks a `*_since`/`from`/`to` style range is in order.
pub fn check_range(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    from_field: &str,
) -> ApiResult<()> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => {
            Err(ApiError::field(from_field, "must not be after `to`"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_limits() {
        assert_eq!(Page::new(None, None).unwrap().limit, 50);
        assert!(Page::new(Some(0), None).is_err());
        assert!(Page::new(Some(201), None).is_err());
        assert!(Page::new(Some(200), None).is_ok());
        assert!(Page::new(None, Some("nonsense")).is_err());
    }

    #[test]
    fn page_cursor_round_trips() {
        let page = Page::new(Some(2), None).unwrap();
        let ids = vec![
            "0190c0de-0000-7000-8000-000000000001".to_owned(),
            "0190c0de-0000-7000-8000-000000000002".to_owned(),
            "0190c0de-0000-7000-8000-000000000003".to_owned(),
        ];
        let paginated = page.finish(ids.clone(), |id| id.as_str(), Ok).unwrap();
        assert_eq!(paginated.items.len(), 2);
        let next = Page::new(Some(2), paginated.next_cursor.as_deref()).unwrap();
        assert_eq!(next.after.as_deref(), Some(ids[1].as_str()));
        let last = next
            .finish(vec![ids[2].clone()], |id| id.as_str(), Ok)
            .unwrap();
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn checks_collect_every_field() {
        let catalogue = Catalogue::load(None).unwrap();
        let error = Checks::new()
            .quality_statements(
                &catalogue,
                &["safe.learning_culture".into(), "safe.x".into()],
            )
            .check(false, "occurred_on", "must not be in the future")
            .check(true, "risk", "never")
            .finish()
            .unwrap_err();
        match error {
            ApiError::Validation(fields) => {
                assert_eq!(fields.len(), 2);
                assert_eq!(fields[0].field, "quality_statements");
                assert_eq!(fields[0].message, "unknown quality statement: safe.x");
                assert_eq!(fields[1].field, "occurred_on");
            }
            other => panic!("{other:?}"),
        }
        assert!(Checks::new().check(true, "risk", "never").finish().is_ok());
    }
}
