use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dto::{Location, LocationPatch, LocationQuery, NewLocation};
use crate::api::organisation;
use crate::api::shared::ExternalRef;
use crate::auth::Principal;
use crate::db::{columns_of, schema::locations};
use crate::db::{exists, Backend, DbConnection, Exists};
use crate::domain::ids::LocationId;
use crate::domain::location::LocationKind;
use crate::domain::now;
use crate::domain::{AuditAction, AuditResource};
use crate::error::{ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::http::preconditions::IfMatch;
use crate::store::audit::{self, Actor, Change};
use crate::store::external_refs::{
    duplicate_external_ref, external_ref_holder, looked_up, set_once,
};
use crate::store::support::{save_if_unchanged, to_row, to_utc};

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = locations)]
struct LocationRow {
    id: LocationId,
    organisation_id: String,
    name: String,
    kind: LocationKind,
    cqc_location_id: Option<String>,
    external_system: Option<String>,
    external_id: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl LocationRow {
    fn into_dto(self) -> Location {
        Location {
            id: self.id.into(),
            kind: self.kind,
            name: self.name,
            cqc_location_id: self.cqc_location_id,
            external_ref: ExternalRef::from_columns(self.external_system, self.external_id),
            version: self.version,
            created_at: to_utc(self.created_at),
            updated_at: to_utc(self.updated_at),
        }
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = locations)]
struct LocationChanges {
    name: Option<String>,
    kind: Option<LocationKind>,
    cqc_location_id: Option<Option<String>>,
    external_system: Option<String>,
    external_id: Option<String>,
}

use crate::store::visibility::locations as visible;

fn find(conn: &mut DbConnection, principal: &Principal, id: LocationId) -> ApiResult<LocationRow> {
    visible(principal)
        .filter(locations::id.eq(id))
        .select(columns_of::<LocationRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("location"))
}

pub fn get(conn: &mut DbConnection, principal: &Principal, id: LocationId) -> ApiResult<Location> {
    Ok(find(conn, principal, id)?.into_dto())
}

/// Whether a location the caller names exists and is theirs to use: asked in SQL, so that
/// another read can ask it too (a new concern's, with its organisation's clocks).
pub fn usable(principal: &Principal, id: LocationId) -> Exists<LocationIds> {
    exists(
        visible(principal)
            .filter(locations::id.eq(id))
            .select(locations::id),
    )
}

type LocationIds = locations::BoxedQuery<'static, Backend, diesel::sql_types::Text>;

/// A location a request names must be the organisation's and within the caller's reach; a
/// caller limited to some locations must name one.
pub fn check_reference(
    conn: &mut DbConnection,
    principal: &Principal,
    location_id: Option<LocationId>,
) -> ApiResult<()> {
    let found = match location_id {
        Some(id) => diesel::select(usable(principal, id)).get_result(conn)?,
        None => false,
    };
    judge_reference(principal, location_id, found)
}

/// [`check_reference`]'s rule, given whether the location named was `found` [`usable`].
pub fn judge_reference(
    principal: &Principal,
    location_id: Option<LocationId>,
    found: bool,
) -> ApiResult<()> {
    match location_id {
        Some(_) if !found => Err(ApiError::field("location_id", "no such location")),
        None if principal.locations.is_some() => Err(ApiError::field(
            "location_id",
            "is required for a caller limited to some locations",
        )),
        _ => Ok(()),
    }
}

/// A location in the caller's reach, named, with when it was added.
pub struct Place {
    pub id: LocationId,
    pub name: String,
    pub added_at: NaiveDateTime,
}

/// The locations in the caller's reach by name: only the one a request names, when it names
/// one.
pub fn places(
    conn: &mut DbConnection,
    principal: &Principal,
    only: Option<LocationId>,
) -> ApiResult<Vec<Place>> {
    let mut query = visible(principal)
        .select((locations::id, locations::name, locations::created_at))
        .order(locations::name.asc());
    if let Some(location) = only {
        query = query.filter(locations::id.eq(location));
    }
    Ok(query
        .load::<(LocationId, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, name, added_at)| Place { id, name, added_at })
        .collect())
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &LocationQuery,
    page: &Page,
) -> ApiResult<Paginated<Location>> {
    let mut select = visible(principal)
        .select(columns_of::<LocationRow>())
        .order(locations::id.asc());
    select = looked_up!(select, locations, query.lookup);
    if let Some(since) = query.updated_since {
        select = select.filter(locations::updated_at.ge(to_row(since)));
    }
    if let Some(after) = &page.after {
        select = select.filter(locations::id.gt(after.clone()));
    }
    let rows = page.read(conn, select)?;
    page.finish(rows, |r| r.id.uuid(), |r| Ok(r.into_dto()))
}

pub fn create(
    conn: &mut DbConnection,
    actor: Actor<'_>,
    organisation_id: &str,
    new: &NewLocation,
) -> ApiResult<Location> {
    organisation::store::find(conn, organisation_id)?;
    if let Some(external) = &new.external_ref {
        external_ref_free(conn, &actor, organisation_id, external)?;
    }
    let now = to_row(now());
    let row = LocationRow {
        id: LocationId::new(),
        organisation_id: organisation_id.to_owned(),
        name: new.name.trim().to_owned(),
        kind: new.kind,
        cqc_location_id: new.cqc_location_id.clone(),
        external_system: new.external_ref.as_ref().map(|r| r.system.clone()),
        external_id: new.external_ref.as_ref().map(|r| r.id.clone()),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(locations::table)
        .values(&row)
        .execute(conn)?;
    let location = row.into_dto();
    audit::record(
        conn,
        organisation_id,
        actor,
        Change {
            action: AuditAction::Create,
            resource_type: AuditResource::Location,
            resource_id: location.id.to_string(),
            changed_fields: ["name", "kind", "cqc_location_id", "external_ref"]
                .map(String::from)
                .to_vec(),
            detail: None,
        },
    )?;
    Ok(location)
}

/// 409 when another location holds the external reference, naming it to a caller who may see it.
fn external_ref_free(
    conn: &mut DbConnection,
    actor: &Actor<'_>,
    organisation_id: &str,
    external: &ExternalRef,
) -> ApiResult<()> {
    let Some(existing) = external_ref_holder!(conn, locations, organisation_id, external)? else {
        return Ok(());
    };
    let seen = match actor {
        Actor::Caller(principal) => {
            diesel::select(usable(principal, LocationId::from(existing.uuid()))).get_result(conn)?
        }
        _ => true,
    };
    Err(duplicate_external_ref("location", existing, seen))
}

pub fn update(
    conn: &mut DbConnection,
    principal: &Principal,
    id: LocationId,
    patch: &LocationPatch,
    if_match: &IfMatch,
) -> ApiResult<Location> {
    let before = find(conn, principal, id)?;
    if_match.check(before.version)?;
    let version = before.version;
    let before = before.into_dto();
    let external = set_once(before.external_ref.as_ref(), patch.external_ref.as_ref())?;
    if let Some(external) = &external {
        external_ref_free(
            conn,
            &Actor::Caller(principal),
            &principal.organisation_id,
            external,
        )?;
    }
    let before = serde_json::to_value(before)?;
    let changes = LocationChanges {
        name: patch.name.as_ref().map(|n| n.trim().to_owned()),
        kind: patch.kind,
        cqc_location_id: patch.cqc_location_id.clone(),
        external_system: external.as_ref().map(|r| r.system.clone()),
        external_id: external.map(|r| r.id),
    };
    save_if_unchanged!(conn, locations, (id, version), &changes, if_match)?;
    let after = get(conn, principal, id)?;
    audit::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change::between(
            AuditAction::Update,
            AuditResource::Location,
            id,
            &before,
            &after,
        )?,
    )?;
    Ok(after)
}
