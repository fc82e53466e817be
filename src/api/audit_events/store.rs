use diesel::prelude::*;

use super::dto::{AuditEvent, AuditQuery};
use crate::db::columns::JsonText;
use crate::db::schema::audit_events;
use crate::db::DbConnection;
use crate::domain::ids::{AuditEventId, RecordId};
use crate::error::ApiResult;
use crate::http::paging::{Page, Paginated};
use crate::store::support::{to_row, to_utc};

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct AuditRow {
    id: AuditEventId,
    actor: String,
    action: String,
    resource_type: String,
    resource_id: RecordId,
    changed_fields: JsonText<Vec<String>>,
    detail: Option<JsonText<serde_json::Value>>,
    created_at: chrono::NaiveDateTime,
}

impl AuditRow {
    fn into_dto(self) -> AuditEvent {
        AuditEvent {
            id: self.id.into(),
            actor: self.actor,
            action: self.action,
            resource_type: self.resource_type,
            resource_id: self.resource_id.into(),
            changed_fields: self.changed_fields.0,
            detail: self.detail.map(|detail| detail.0),
            created_at: to_utc(self.created_at),
        }
    }
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
        select = select.filter(audit_events::resource_id.eq(RecordId::from(id)));
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
    page.finish(rows, |r| r.id.uuid(), |row| Ok(row.into_dto()))
}
