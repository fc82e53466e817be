//! `Idempotency-Key` on POST: the same key and body replay the first answer; the same key with
//! another body is 422. The check, the work and the stored answer share one transaction, so two
//! racing retries can never both do the work.

use std::future::{ready, Ready};

use actix_web::http::StatusCode;
use actix_web::{dev::Payload, FromRequest, HttpRequest};
use chrono::Duration;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::IntoParams;

use crate::auth::Principal;
use crate::db::schema::idempotency_keys;
use crate::db::{columns_of, Db, DbConnection};
use crate::domain::{end_of_hour, now};
use crate::error::{ApiError, ApiResult};
use crate::http::respond::Answer;
use crate::store::support::to_row;

/// The fields of answers that hold a secret shown once.
pub const ONE_TIME_SECRETS: &[&str] = &["receipt_code", "client_secret", "secret"];

/// How long a key is remembered.
const KEPT_FOR_HOURS: i64 = 24;

/// The `Idempotency-Key` header, if the client sent one. It is judged when the handler binds it,
/// after deciding the caller may act.
#[derive(Debug)]
pub struct IdempotencyKey(Option<String>);

/// What a key may be: 1 to 255 visible ASCII characters, no spaces (as the document says).
fn is_valid_key(key: &[u8]) -> bool {
    (1..=255).contains(&key.len()) && key.iter().all(|b| (b'!'..=b'~').contains(b))
}

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = req
            .headers()
            .get("Idempotency-Key")
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        ready(Ok(Self(key)))
    }
}

impl IntoParams for IdempotencyKey {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(255))
            .pattern(Some("^[!-~]+$"));
        vec![ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes a retry safe: the same key and body within 24 hours replay the first \
                 answer (with `Idempotent-Replayed: true`); the same key with another body is \
                 422. 1 to 255 visible ASCII characters, no spaces.",
            ))
            .schema(Some(schema))
            .build()]
    }
}

/// A keyed request: whose organisation, the scope it is kept under, its key (hashed with whoever
/// sent it, so a key is never stored as sent and two senders' keys never meet), and a
/// fingerprint of what it asked.
#[derive(Debug, Clone)]
pub struct Keyed {
    organisation_id: String,
    scope: String,
    key_hash: String,
    fingerprint: String,
    /// An anonymous raiser's key is kept with the hour it came in, like all they do.
    anonymous: bool,
}

impl IdempotencyKey {
    /// Binds the key to the caller and to this request's method, path and body.
    pub fn for_caller(
        self,
        principal: &Principal,
        req: &HttpRequest,
        body: &impl Serialize,
    ) -> ApiResult<Option<Keyed>> {
        let sender = (principal.sub.as_str(), principal.sub.as_str());
        self.bind(&principal.organisation_id, sender, false, req, body)
    }

    /// Binds the key of a caller raising a concern anonymously. It is kept under the
    /// organisation's one anonymous scope, hashed with the caller's `sub`: another raiser's
    /// key cannot replay it or collide with it, and the row names nobody (linking it to the
    /// caller would take the key they chose).
    pub fn for_anonymous_raiser(
        self,
        principal: &Principal,
        req: &HttpRequest,
        body: &impl Serialize,
    ) -> ApiResult<Option<Keyed>> {
        let sender = ("anonymous", principal.sub.as_str());
        self.bind(&principal.organisation_id, sender, true, req, body)
    }

    /// Binds the key of a receipt holder (no token), hashed with the receipt's hash.
    pub fn for_receipt(
        self,
        organisation_id: &str,
        receipt_hash: &str,
        req: &HttpRequest,
        body: &impl Serialize,
    ) -> ApiResult<Option<Keyed>> {
        self.bind(organisation_id, ("receipt", receipt_hash), true, req, body)
    }

    /// Binds the key to a scope and a sender (`(scope, sender)`) and to this request's method,
    /// path and body.
    fn bind(
        self,
        organisation_id: &str,
        (scope, sender): (&str, &str),
        anonymous: bool,
        req: &HttpRequest,
        body: &impl Serialize,
    ) -> ApiResult<Option<Keyed>> {
        let Some(key) = self.0 else { return Ok(None) };
        if !is_valid_key(key.as_bytes()) {
            return Err(ApiError::field(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters, without spaces",
            ));
        }
        let mut hasher = Sha256::new();
        hasher.update(req.method().as_str());
        hasher.update([0]);
        hasher.update(req.path());
        hasher.update([0]);
        hasher.update(serde_json::to_vec(body)?);
        let key_hash = Sha256::new()
            .chain_update(sender)
            .chain_update([0])
            .chain_update(&key)
            .finalize();
        Ok(Some(Keyed {
            organisation_id: organisation_id.to_owned(),
            scope: scope.to_owned(),
            key_hash: hex::encode(key_hash),
            fingerprint: hex::encode(hasher.finalize()),
            anonymous,
        }))
    }
}

/// Does `work` once per key in a write transaction and answers with its result, or replays the
/// answer stored for the key. Two racing retries cannot both do the work: the loser's insert of
/// the key breaks its uniqueness, and [`Db::write`] runs the loser again, when it replays the
/// winner's answer.
pub async fn once<F>(db: &Db, keyed: Option<Keyed>, work: F) -> ApiResult<Answer>
where
    F: Fn(&mut DbConnection) -> ApiResult<Answer> + Send + Sync + 'static,
{
    db.write(move |conn| replay_or_run(conn, keyed.as_ref(), &work))
        .await
}

fn replay_or_run(
    conn: &mut DbConnection,
    keyed: Option<&Keyed>,
    work: &dyn Fn(&mut DbConnection) -> ApiResult<Answer>,
) -> ApiResult<Answer> {
    let Some(keyed) = keyed else {
        return work(conn);
    };
    // Keys are kept 24 hours: every keyed request first forgets the expired ones (an indexed
    // delete), so the table holds one day of keys whatever the traffic.
    let now = now();
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::created_at.lt(to_row(now - Duration::hours(KEPT_FOR_HOURS)))),
    )
    .execute(conn)?;
    let stored: Option<StoredAnswer> = idempotency_keys::table
        .filter(idempotency_keys::organisation_id.eq(&keyed.organisation_id))
        .filter(idempotency_keys::scope.eq(&keyed.scope))
        .filter(idempotency_keys::idempotency_key.eq(&keyed.key_hash))
        .select(columns_of::<StoredAnswer>())
        .first(conn)
        .optional()?;
    match stored {
        Some(kept) if kept.request_hash != keyed.fingerprint => {
            return Err(ApiError::IdempotencyKeyReused)
        }
        Some(kept) => return kept.replay(),
        None => {}
    }
    let answer = work(conn)?;
    // An anonymous sender's key is dated by the end of the hour it came in: no finer, and
    // still kept a full day.
    let kept_from = if keyed.anonymous {
        end_of_hour(now)
    } else {
        now
    };
    let mut kept: Value = serde_json::from_slice(&answer.body)?;
    // A one-time secret (an anonymous raiser's receipt code, a client's or a webhook's secret)
    // is shown once and never stored: a replay answers `null` in its place.
    for secret in ONE_TIME_SECRETS {
        if let Some(value) = kept.get_mut(*secret) {
            *value = Value::Null;
        }
    }
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::organisation_id.eq(&keyed.organisation_id),
            idempotency_keys::scope.eq(&keyed.scope),
            idempotency_keys::idempotency_key.eq(&keyed.key_hash),
            idempotency_keys::request_hash.eq(&keyed.fingerprint),
            idempotency_keys::response_status.eq(i32::from(answer.status.as_u16())),
            idempotency_keys::response_location.eq(&answer.location),
            idempotency_keys::response_body.eq(serde_json::to_string(&kept)?),
            idempotency_keys::response_version.eq(answer.version),
            idempotency_keys::created_at.eq(to_row(kept_from)),
        ))
        .execute(conn)?;
    Ok(answer)
}

/// The answer kept for a key, with what the request that stored it asked.
#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct StoredAnswer {
    request_hash: String,
    response_status: i32,
    response_location: Option<String>,
    response_body: String,
    response_version: Option<i64>,
}

impl StoredAnswer {
    fn replay(self) -> ApiResult<Answer> {
        let status = u16::try_from(self.response_status).map_err(ApiError::internal)?;
        Ok(Answer {
            status: StatusCode::from_u16(status).map_err(ApiError::internal)?,
            location: self.response_location,
            version: self.response_version,
            body: self.response_body.into(),
            replayed: true,
            no_store: false,
        })
    }
}
