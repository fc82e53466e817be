use diesel::prelude::*;
use serde_json::Value;

use super::dto::{AuditEvent, AuditQuery};
use crate::api::common::{to_row, to_utc, Page, Paginated};
use crate::auth::Principal;
use crate::db::schema::audit_events;
use crate::db::DbConnection;
use crate::domain::{new_id, now};
use crate::error::{ApiError, ApiResult};

/// Who made a change.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Caller(&'a Principal),
    /// careloop itself: the command line and the first-run demo data.
    System,
    /// An anonymous raiser: nothing that could identify them is kept.
    Anonymous,
}

impl Actor<'_> {
    fn name(&self) -> &str {
        match self {
            Actor::Caller(principal) => &principal.sub,
            Actor::Anonymous => "anonymous",
            Actor::System => "careloop",
        }
    }
}

/// One change to record.
pub struct Change<'a> {
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    pub changed_fields: Vec<String>,
    pub detail: Option<Value>,
}

/// Appends an audit event, inside the transaction that makes the change.
pub fn record(
    conn: &mut DbConnection,
    organisation_id: &str,
    actor: Actor<'_>,
    change: Change<'_>,
) -> ApiResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(new_id().to_string()),
            audit_events::organisation_id.eq(organisation_id),
            audit_events::actor.eq(actor.name()),
            audit_events::action.eq(change.action),
            audit_events::resource_type.eq(change.resource_type),
            audit_events::resource_id.eq(change.resource_id),
            audit_events::changed_fields.eq(serde_json::to_string(&change.changed_fields)?),
            audit_events::detail.eq(change.detail.map(|d| d.to_string())),
            audit_events::created_at.eq(to_row(now())),
        ))
        .execute(conn)?;
    Ok(())
}

/// The top-level fields whose values differ between two JSON forms of a record (against `{}`
/// for a create), leaving out the bookkeeping careloop sets itself.
pub fn changed_fields(before: &Value, after: &Value) -> Vec<String> {
    let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else {
        return Vec::new();
    };
    after
        .iter()
        .filter(|(field, value)| {
            !matches!(
                field.as_str(),
                "id" | "version" | "created_at" | "updated_at" | "recorded_by"
            ) && before.get(*field) != Some(*value)
        })
        .map(|(field, _)| field.clone())
        .collect()
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct AuditRow {
    id: String,
    actor: String,
    action: String,
    resource_type: String,
    resource_id: String,
    changed_fields: String,
    detail: Option<String>,
    created_at: chrono::NaiveDateTime,
}

pub fn list(
    conn: &mut DbConnection,
    organisation_id: &str,
    query: &AuditQuery,
    page: &Page,
) -> ApiResult<Paginated<AuditEvent>> {
    let mut select = audit_events::table
        .filter(audit_events::organisation_id.eq(organisation_id))
        .select(AuditRow::as_select())
        .order(audit_events::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(kind) = &query.resource_type {
        select = select.filter(audit_events::resource_type.eq(kind.clone()));
    }
    if let Some(id) = query.resource_id {
        select = select.filter(audit_events::resource_id.eq(id.to_string()));
    }
    if let Some(from) = query.from {
        select = select.filter(audit_events::created_at.ge(to_row(from)));
    }
    if let Some(to) = query.to {
        select = select.filter(audit_events::created_at.le(to_row(to)));
    }
    if let Some(after) = &page.after {
        select = select.filter(audit_events::id.gt(after.clone()));
    }
    let rows = select.load(conn)?;
    page.finish(
        rows,
        |r| &r.id,
        |row| {
            Ok(AuditEvent {
                id: parse_id(&row.id)?,
                actor: row.actor,
                action: row.action,
                resource_type: row.resource_type,
                resource_id: parse_id(&row.resource_id)?,
                changed_fields: serde_json::from_str(&row.changed_fields)?,
                detail: row.detail.map(|d| serde_json::from_str(&d)).transpose()?,
                created_at: to_utc(row.created_at),
            })
        },
    )
}

/// Reads a stored id; text that is not a UUID is a bug, answered 500.
pub fn parse_id(text: &str) -> ApiResult<uuid::Uuid> {
    uuid::Uuid::parse_str(text)
        .map_err(|_| ApiError::internal(format!("stored id {text:?} is not a UUID")))
}
