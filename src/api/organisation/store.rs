use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dto::{Organisation, OrganisationPatch};
use crate::api::locations;
use crate::auth::Principal;
use crate::db::schema::organisations;
use crate::db::DbConnection;
use crate::db::{columns::Moment, columns_of};
use crate::domain::concern::ClockSettings;
use crate::domain::ids::{LocationId, OrganisationId};
use crate::domain::now;
use crate::domain::{AuditAction, AuditResource};
use crate::error::{ApiError, ApiResult};
use crate::http::preconditions::IfMatch;
use crate::store::audit::{self, Actor, Change};
use crate::store::changes;
use crate::store::support::{save_if_unchanged, to_row, to_utc};

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = organisations)]
pub struct OrganisationRow {
    pub id: OrganisationId,
    pub name: String,
    pub cqc_provider_id: Option<String>,
    pub ods_code: Option<String>,
    pub acknowledge_within_hours: i32,
    pub feedback_within_days: i32,
    pub version: i64,
    #[diesel(deserialize_as = Moment)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Moment)]
    pub updated_at: NaiveDateTime,
}

impl OrganisationRow {
    fn into_dto(self) -> Organisation {
        Organisation {
            id: self.id.into(),
            name: self.name,
            cqc_provider_id: self.cqc_provider_id,
            ods_code: self.ods_code,
            acknowledge_within_hours: self.acknowledge_within_hours,
            feedback_within_days: self.feedback_within_days,
            version: self.version,
            created_at: to_utc(self.created_at),
            updated_at: to_utc(self.updated_at),
        }
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = organisations)]
struct OrganisationChanges {
    name: Option<String>,
    cqc_provider_id: Option<Option<String>>,
    ods_code: Option<Option<String>>,
    acknowledge_within_hours: Option<i32>,
    feedback_within_days: Option<i32>,
}

/// The organisation's row; 404 when the token names one that does not exist.
pub fn find(conn: &mut DbConnection, id: &str) -> ApiResult<OrganisationRow> {
    organisations::table
        .find(id)
        .select(columns_of::<OrganisationRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("organisation"))
}

/// The organisation's clocks for a new concern, read with the check of the location it names
/// (one round trip, not two): the two columns alone, since every concern raised reads them
/// inside the write (on SQLite, in the one writer's time).
pub fn clock_settings(
    conn: &mut DbConnection,
    principal: &Principal,
    location_id: Option<LocationId>,
) -> ApiResult<ClockSettings> {
    let clocks = organisations::table.find(&principal.organisation_id);
    let columns = (
        organisations::acknowledge_within_hours,
        organisations::feedback_within_days,
    );
    let (acknowledge_within_hours, feedback_within_days, found) = match location_id {
        Some(id) => clocks
            .select((
                columns.0,
                columns.1,
                locations::store::usable(principal, id),
            ))
            .first::<(i32, i32, bool)>(conn),
        None => clocks
            .select(columns)
            .first::<(i32, i32)>(conn)
            .map(|(hours, days)| (hours, days, false)),
    }
    .optional()?
    .ok_or(ApiError::NotFound("organisation"))?;
    locations::store::judge_reference(principal, location_id, found)?;
    Ok(ClockSettings {
        acknowledge_within_hours,
        feedback_within_days,
    })
}

/// Whether the organisation a token names exists.
pub fn exists(conn: &mut DbConnection, id: &str) -> ApiResult<bool> {
    Ok(organisations::table
        .find(id)
        .select(organisations::id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

pub fn get(conn: &mut DbConnection, id: &str) -> ApiResult<Organisation> {
    Ok(find(conn, id)?.into_dto())
}

pub fn update(
    conn: &mut DbConnection,
    actor: Actor<'_>,
    id: &str,
    patch: &OrganisationPatch,
    if_match: &IfMatch,
) -> ApiResult<Organisation> {
    let before = find(conn, id)?;
    if_match.check(before.version)?;
    let version = before.version;
    let before = serde_json::to_value(before.into_dto())?;
    let changes = OrganisationChanges {
        name: patch.name.as_ref().map(|n| n.trim().to_owned()),
        cqc_provider_id: patch.cqc_provider_id.clone(),
        ods_code: patch.ods_code.clone(),
        acknowledge_within_hours: patch.acknowledge_within_hours,
        feedback_within_days: patch.feedback_within_days,
    };
    save_if_unchanged!(conn, organisations, (id, version), &changes, if_match)?;
    let after = get(conn, id)?;
    audit::record(
        conn,
        id,
        actor,
        Change::between(
            AuditAction::Update,
            AuditResource::Organisation,
            id,
            &before,
            &after,
        )?,
    )?;
    Ok(after)
}

/// Creates an organisation with the default concern settings (command line and first run).
pub fn create(
    conn: &mut DbConnection,
    name: &str,
    cqc_provider_id: Option<String>,
    ods_code: Option<String>,
) -> ApiResult<Organisation> {
    let now = to_row(now());
    let defaults = ClockSettings::default();
    let row = OrganisationRow {
        id: OrganisationId::new(),
        name: name.to_owned(),
        cqc_provider_id,
        ods_code,
        acknowledge_within_hours: defaults.acknowledge_within_hours,
        feedback_within_days: defaults.feedback_within_days,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(organisations::table)
        .values(&row)
        .execute(conn)?;
    changes::start_log(conn, &row.id.to_string())?;
    audit::record(
        conn,
        &row.id.to_string(),
        Actor::System,
        Change {
            action: AuditAction::Create,
            resource_type: AuditResource::Organisation,
            resource_id: row.id.to_string(),
            changed_fields: vec!["name".into(), "cqc_provider_id".into(), "ods_code".into()],
            detail: None,
        },
    )?;
    Ok(row.into_dto())
}

pub fn count(conn: &mut DbConnection) -> ApiResult<i64> {
    Ok(organisations::table.count().get_result(conn)?)
}

/// The oldest organisation's id.
pub fn first_id(conn: &mut DbConnection) -> ApiResult<String> {
    Ok(organisations::table
        .select(organisations::id)
        .order(organisations::id.asc())
        .first(conn)?)
}
