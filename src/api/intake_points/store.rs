//! The intake point store: doors made, changed and their slugs rotated, each change audited.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dto::{IntakePoint, IntakePointPatch, NewIntakePoint};
use crate::api::locations;
use crate::api::shared::Person;
use crate::auth::Principal;
use crate::db::schema::{intake_points, locations as location_rows, organisations};
use crate::db::DbConnection;
use crate::db::{columns::JsonText, columns_of};
use crate::domain::ids::{IntakePointId, LocationId};
use crate::domain::intake::{new_slug, IntakeKind};
use crate::domain::{now, AuditAction, AuditResource};
use crate::error::{ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::http::preconditions::IfMatch;
use crate::store::audit::{self, Actor, Change};
use crate::store::support::{save_if_unchanged, to_row, to_utc};
use crate::store::visibility::intake_points as visible;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = intake_points)]
pub struct IntakePointRow {
    pub id: IntakePointId,
    pub organisation_id: String,
    pub location_id: LocationId,
    pub slug: String,
    pub title: String,
    pub welcome: String,
    pub kinds: JsonText<Vec<IntakeKind>>,
    pub enabled: bool,
    pub created_by: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl IntakePointRow {
    /// The door as the API shows it, its addresses under `base` (scheme and host).
    fn into_dto(self, base: &str) -> IntakePoint {
        let url = format!("{base}/i/{}", self.slug);
        IntakePoint {
            id: self.id.uuid(),
            location_id: self.location_id.uuid(),
            kinds: self.kinds.0,
            title: self.title,
            welcome: self.welcome,
            enabled: self.enabled,
            you_said_we_did_url: format!("{url}/you-said-we-did"),
            url,
            slug: self.slug,
            created_by: Person::user(self.created_by, None),
            version: self.version,
            created_at: to_utc(self.created_at),
            updated_at: to_utc(self.updated_at),
        }
    }
}

/// The kinds in the order the page shows them, each once.
fn kinds_in_order(kinds: &[IntakeKind]) -> Vec<IntakeKind> {
    IntakeKind::ALL
        .iter()
        .copied()
        .filter(|kind| kinds.contains(kind))
        .collect()
}

fn find(
    conn: &mut DbConnection,
    principal: &Principal,
    id: IntakePointId,
) -> ApiResult<IntakePointRow> {
    visible(principal)
        .filter(intake_points::id.eq(id))
        .select(columns_of::<IntakePointRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("intake point"))
}

fn audit(
    conn: &mut DbConnection,
    principal: &Principal,
    action: AuditAction,
    id: IntakePointId,
    changed: Vec<String>,
) -> ApiResult<()> {
    audit::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change {
            action,
            resource_type: AuditResource::IntakePoint,
            resource_id: id.to_string(),
            changed_fields: changed,
            detail: None,
        },
    )
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    base: &str,
    new: &NewIntakePoint,
) -> ApiResult<IntakePoint> {
    let location_id = LocationId::from(new.location_id);
    locations::store::check_reference(conn, principal, Some(location_id))?;
    let now = to_row(now());
    let row = IntakePointRow {
        id: IntakePointId::new(),
        organisation_id: principal.organisation_id.clone(),
        location_id,
        slug: new_slug(),
        title: new.title.trim().to_owned(),
        welcome: new.welcome.trim().to_owned(),
        kinds: JsonText(kinds_in_order(&new.kinds)),
        enabled: new.enabled.unwrap_or(true),
        created_by: principal.sub.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(intake_points::table)
        .values(&row)
        .execute(conn)?;
    let changed = [
        "location_id",
        "kinds",
        "title",
        "welcome",
        "enabled",
        "slug",
    ];
    audit(
        conn,
        principal,
        AuditAction::Create,
        row.id,
        changed.map(String::from).to_vec(),
    )?;
    Ok(row.into_dto(base))
}

pub fn get(
    conn: &mut DbConnection,
    principal: &Principal,
    base: &str,
    id: IntakePointId,
) -> ApiResult<IntakePoint> {
    Ok(find(conn, principal, id)?.into_dto(base))
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    base: &str,
    page: &Page,
) -> ApiResult<Paginated<IntakePoint>> {
    let mut select = visible(principal)
        .select(columns_of::<IntakePointRow>())
        .order(intake_points::id.asc());
    if let Some(after) = &page.after {
        select = select.filter(intake_points::id.gt(after.clone()));
    }
    let rows = page.read(conn, select)?;
    page.finish(rows, |r| r.id.uuid(), |r| Ok(r.into_dto(base)))
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = intake_points)]
struct IntakePointChanges {
    kinds: Option<JsonText<Vec<IntakeKind>>>,
    title: Option<String>,
    welcome: Option<String>,
    enabled: Option<bool>,
    slug: Option<String>,
}

/// Writes `changes` if the door is still at the version read, and audits the fields changed.
fn save(
    conn: &mut DbConnection,
    principal: &Principal,
    base: &str,
    before: IntakePointRow,
    changes: &IntakePointChanges,
    if_match: &IfMatch,
) -> ApiResult<IntakePoint> {
    let id = before.id;
    save_if_unchanged!(conn, intake_points, (id, before.version), changes, if_match)?;
    let before = serde_json::to_value(before.into_dto(base))?;
    let after = get(conn, principal, base, id)?;
    let changed = audit::changed_fields(&before, &serde_json::to_value(&after)?)
        .into_iter()
        .filter(|field| !field.ends_with("url"))
        .collect();
    audit(conn, principal, AuditAction::Update, id, changed)?;
    Ok(after)
}

pub fn update(
    conn: &mut DbConnection,
    principal: &Principal,
    base: &str,
    id: IntakePointId,
    patch: &IntakePointPatch,
    if_match: &IfMatch,
) -> ApiResult<IntakePoint> {
    let before = find(conn, principal, id)?;
    if_match.check(before.version)?;
    let changes = IntakePointChanges {
        kinds: patch.kinds.as_deref().map(|k| JsonText(kinds_in_order(k))),
        title: patch.title.as_ref().map(|t| t.trim().to_owned()),
        welcome: patch.welcome.as_ref().map(|w| w.trim().to_owned()),
        enabled: patch.enabled,
        slug: None,
    };
    save(conn, principal, base, before, &changes, if_match)
}

/// A new slug: the old address stops working at once (a poster taken down, a link leaked).
pub fn rotate_slug(
    conn: &mut DbConnection,
    principal: &Principal,
    base: &str,
    id: IntakePointId,
    if_match: &IfMatch,
) -> ApiResult<IntakePoint> {
    let before = find(conn, principal, id)?;
    if_match.check(before.version)?;
    let changes = IntakePointChanges {
        slug: Some(new_slug()),
        ..Default::default()
    };
    save(conn, principal, base, before, &changes, if_match)
}

/// An open door and what its page says of where it is.
pub struct Door {
    pub point: IntakePointRow,
    pub organisation_name: String,
    pub location_name: String,
}

/// The enabled intake point a slug names, with its organisation's and location's names; `None`
/// for an unknown or disabled one (the public cannot tell which).
pub fn open_door(conn: &mut DbConnection, slug: &str) -> ApiResult<Option<Door>> {
    let found = intake_points::table
        .inner_join(location_rows::table)
        .inner_join(organisations::table)
        .filter(intake_points::slug.eq(slug))
        .filter(intake_points::enabled.eq(true))
        .select((
            columns_of::<IntakePointRow>(),
            organisations::name,
            location_rows::name,
        ))
        .first::<(IntakePointRow, String, String)>(conn)
        .optional()?;
    Ok(found.map(|(point, organisation_name, location_name)| Door {
        point,
        organisation_name,
        location_name,
    }))
}
