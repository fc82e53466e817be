use diesel::prelude::*;

use super::dto::{AuditEvent, AuditQuery};
use crate::api::shared::Person;
use crate::auth::Principal;
use crate::db::schema::audit_events;
use crate::db::DbConnection;
use crate::db::{columns::JsonText, columns_of};
use crate::domain::ids::{AuditEventId, RecordId};
use crate::domain::PersonKind;
use crate::error::ApiResult;
use crate::http::paging::{Page, Paginated};
use crate::store::support::{one_of, to_row, to_utc};
use crate::store::visibility;

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct AuditRow {
    id: AuditEventId,
    actor: String,
    actor_kind: PersonKind,
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
            actor: match self.actor_kind {
                PersonKind::User | PersonKind::IntakePoint => Person::recorder(self.actor),
                PersonKind::Anonymous => Person::anonymous(),
                PersonKind::System => Person::system(),
            },
            action: self.action,
            resource_type: self.resource_type,
            resource_id: self.resource_id.into(),
            changed_fields: self.changed_fields.0,
            detail: self.detail.map(|detail| detail.0),
            created_at: to_utc(self.created_at),
        }
    }
}

/// The audit events the caller may see, oldest first: an event about a record only when they
/// may see the record (see [`visibility::visible_audit_subjects`]).
pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &AuditQuery,
    page: &Page,
) -> ApiResult<Paginated<AuditEvent>> {
    page.read_kept(
        conn,
        |conn, after, limit| {
            let mut select = audit_events::table
                .filter(audit_events::organisation_id.eq(principal.organisation_id.clone()))
                .select(columns_of::<AuditRow>())
                .order(audit_events::id.asc())
                .limit(limit)
                .into_boxed();
            let actions: Vec<&str> = query.action.iter().map(|a| a.as_str()).collect();
            select = one_of!(select, audit_events::action, actions);
            let kinds: Vec<&str> = query.resource_type.iter().map(|k| k.as_str()).collect();
            select = one_of!(select, audit_events::resource_type, kinds);
            if let Some(id) = query.resource_id {
                select = select.filter(audit_events::resource_id.eq(RecordId::from(id)));
            }
            if let Some(from) = query.from {
                select = select.filter(audit_events::created_at.ge(to_row(from)));
            }
            if let Some(to) = query.to {
                select = select.filter(audit_events::created_at.le(to_row(to)));
            }
            if let Some(after) = after {
                select = select.filter(audit_events::id.gt(after));
            }
            Ok(select.load(conn)?)
        },
        |row| row.id.uuid(),
        |conn, rows| {
            let subjects: Vec<(String, RecordId)> = rows
                .iter()
                .map(|row| (row.resource_type.clone(), row.resource_id))
                .collect();
            let seen = visibility::visible_audit_subjects(conn, principal, &subjects)?;
            Ok(rows
                .into_iter()
                .filter(|row| seen.contains(&(row.resource_type.clone(), row.resource_id)))
                .collect())
        },
        AuditRow::into_dto,
    )
}
