//! The machine client store: registering, rotating and revoking clients, and checking a
//! client's credentials for `/oauth/token`.

use diesel::prelude::*;
use rand::Rng;
use sha2::{Digest, Sha256};

use super::dto::{ApiClient, ClientRole, NewApiClient};
use crate::api::locations;
use crate::auth::Principal;
use crate::db::schema::api_clients;
use crate::db::DbConnection;
use crate::db::{columns::JsonText, columns_of};
use crate::domain::ids::{ApiClientId, LocationId};
use crate::domain::{now, AuditAction, AuditResource};
use crate::error::{ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::store::audit::{self, Actor, Change};
use crate::store::support::{to_row, to_utc};
use crate::store::visibility::{managed, Reaching};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_clients)]
pub struct ClientRow {
    pub id: ApiClientId,
    pub organisation_id: String,
    pub name: String,
    pub roles: JsonText<Vec<ClientRole>>,
    pub locations: Option<JsonText<Vec<uuid::Uuid>>>,
    secret_hash: String,
    created_by: String,
    created_at: chrono::NaiveDateTime,
    secret_rotated_at: Option<chrono::NaiveDateTime>,
    revoked_at: Option<chrono::NaiveDateTime>,
    version: i64,
}

impl ClientRow {
    fn into_dto(self, client_secret: Option<String>) -> ApiClient {
        ApiClient {
            client_id: self.id.uuid(),
            name: self.name,
            roles: self.roles.0,
            locations: self.locations.map(|l| l.0),
            created_at: to_utc(self.created_at),
            secret_rotated_at: self.secret_rotated_at.map(to_utc),
            revoked_at: self.revoked_at.map(to_utc),
            version: self.version,
            client_secret,
        }
    }
}

/// A new secret: 256 bits from the operating system's CSPRNG, hex, with a prefix that says
/// what it is (so a secret scanner can find one pasted where it should not be).
fn new_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("cls_{}", hex::encode(bytes))
}

/// The stored form of a secret. A secret is 256 random bits, so one SHA-256 is enough: there
/// is nothing to guess that a slow hash would protect.
fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Reaching for ClientRow {
    fn reach(&self) -> Option<&[uuid::Uuid]> {
        self.locations.as_ref().map(|l| l.0.as_slice())
    }
}

fn find(conn: &mut DbConnection, principal: &Principal, id: ApiClientId) -> ApiResult<ClientRow> {
    managed!(find conn, principal, api_clients, ClientRow, id, "API client")
}

fn audit(
    conn: &mut DbConnection,
    principal: &Principal,
    action: AuditAction,
    row: &ClientRow,
    changed: &[&str],
) -> ApiResult<()> {
    audit::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change {
            action,
            resource_type: AuditResource::ApiClient,
            resource_id: row.id.to_string(),
            changed_fields: changed.iter().map(|f| f.to_string()).collect(),
            detail: None,
        },
    )
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    new: &NewApiClient,
) -> ApiResult<ApiClient> {
    if principal.locations.is_some() && new.locations.is_none() {
        return Err(ApiError::field(
            "locations",
            "is required for a caller limited to some locations",
        ));
    }
    for (index, location) in new.locations.iter().flatten().enumerate() {
        locations::store::check_reference(conn, principal, Some(LocationId::from(*location)))
            .map_err(|_| ApiError::field(format!("locations[{index}]"), "no such location"))?;
    }
    let secret = new_secret();
    let now = to_row(now());
    let row = ClientRow {
        id: ApiClientId::new(),
        organisation_id: principal.organisation_id.clone(),
        name: new.name.trim().to_owned(),
        roles: JsonText(new.roles.clone()),
        locations: new.locations.clone().map(JsonText),
        secret_hash: hash(&secret),
        created_by: principal.sub.clone(),
        created_at: now,
        secret_rotated_at: None,
        revoked_at: None,
        version: 1,
    };
    diesel::insert_into(api_clients::table)
        .values(&row)
        .execute(conn)?;
    audit(
        conn,
        principal,
        AuditAction::Create,
        &row,
        &["name", "roles", "locations"],
    )?;
    Ok(row.into_dto(Some(secret)))
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    page: &Page,
) -> ApiResult<Paginated<ApiClient>> {
    managed!(page conn, principal, page, api_clients, ClientRow, |row: ClientRow| row
        .into_dto(None))
}

pub fn get(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ApiClientId,
) -> ApiResult<ApiClient> {
    Ok(find(conn, principal, id)?.into_dto(None))
}

/// A new secret for the client; the old one stops working at once.
pub fn rotate_secret(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ApiClientId,
) -> ApiResult<ApiClient> {
    let row = find(conn, principal, id)?;
    if row.revoked_at.is_some() {
        return Err(ApiError::conflict("revoked", "the client is revoked"));
    }
    let secret = new_secret();
    let now = to_row(now());
    diesel::update(api_clients::table.find(id))
        .set((
            api_clients::secret_hash.eq(hash(&secret)),
            api_clients::secret_rotated_at.eq(now),
            api_clients::version.eq(row.version + 1),
        ))
        .execute(conn)?;
    audit(
        conn,
        principal,
        AuditAction::Update,
        &row,
        &["client_secret"],
    )?;
    let row = find(conn, principal, id)?;
    Ok(row.into_dto(Some(secret)))
}

/// Revokes the client: no more tokens, and the ones it holds stop working on every node within
/// a minute. Revoking a revoked client changes nothing.
pub fn revoke(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ApiClientId,
) -> ApiResult<ApiClient> {
    let row = find(conn, principal, id)?;
    if row.revoked_at.is_none() {
        diesel::update(api_clients::table.find(id))
            .set((
                api_clients::revoked_at.eq(to_row(now())),
                api_clients::version.eq(row.version + 1),
            ))
            .execute(conn)?;
        audit(conn, principal, AuditAction::Revoke, &row, &["revoked_at"])?;
    }
    get(conn, principal, id)
}

/// Whether a client exists and is not revoked (for the tokens issued to it).
pub fn is_active(conn: &mut DbConnection, client_id: &str) -> ApiResult<bool> {
    let Ok(id) = client_id.parse::<uuid::Uuid>() else {
        return Ok(false);
    };
    let found: i64 = api_clients::table
        .filter(api_clients::id.eq(ApiClientId::from(id)))
        .filter(api_clients::revoked_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

/// The active client these credentials are, if they are one.
pub fn authenticate(
    conn: &mut DbConnection,
    client_id: &str,
    secret: &str,
) -> ApiResult<Option<ClientRow>> {
    let Ok(id) = client_id.parse::<uuid::Uuid>() else {
        return Ok(None);
    };
    let row = api_clients::table
        .filter(api_clients::id.eq(ApiClientId::from(id)))
        .filter(api_clients::revoked_at.is_null())
        .select(columns_of::<ClientRow>())
        .first(conn)
        .optional()?;
    // Hashes of a 256-bit secret compared as equal-length digests: timing says nothing useful.
    Ok(row.filter(|row| row.secret_hash == hash(secret)))
}
