//! The concern store: who sees which concerns; creating, listing, changing and moving them.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::dto::{Concern, ConcernPatch, ConcernQuery, NewConcern, TransitionRequest};
use super::rows::{ConcernChanges, ConcernRow};
use super::timeline::{insert_update, Entry};
use crate::api::shared::{Contact, ExternalRef};
use crate::api::{locations, organisation};
use crate::auth::{Permission, Principal};
use crate::db::columns::JsonText;
use crate::db::schema::concerns;
use crate::db::{columns_of, equal_to_any, insert_all, together, DbConnection};
use crate::domain::concern::{
    self as rules, ConcernStatus, TransitionDetails, TransitionError, UpdateKind, UpdateVisibility,
};
use crate::domain::ids::{ConcernId, LocationId};
use crate::domain::{now, receipt, RecordKind};
use crate::domain::{AuditAction, AuditResource};
use crate::error::{illegal_move, ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::http::preconditions::IfMatch;
use crate::store::audit::{self, Actor, Change};
use crate::store::changes::Described;
use crate::store::external_refs::{ensure_external_ref_free, external_ref_to_set, looked_up};
use crate::store::links;
use crate::store::support::{one_of, save_if_unchanged, to_row};

const KIND: RecordKind = RecordKind::Concern;

use crate::store::visibility::{concerns as visible, Rule};

pub fn find(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ConcernId,
) -> ApiResult<ConcernRow> {
    visible(principal)
        .filter(concerns::id.eq(id))
        .select(columns_of::<ConcernRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("concern"))
}

/// A row, which holds its tags, as the concern `principal` is shown at `now`.
fn as_concern(principal: &Principal, now: DateTime<Utc>, row: ConcernRow) -> Concern {
    row.into_dto(now, principal.may(Permission::ReadContactDetails))
}

pub fn get(conn: &mut DbConnection, principal: &Principal, id: ConcernId) -> ApiResult<Concern> {
    Ok(as_concern(principal, now(), find(conn, principal, id)?))
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    new: &NewConcern,
) -> ApiResult<Concern> {
    let location_id = new.location_id.map(LocationId::from);
    let settings = organisation::store::clock_settings(conn, principal, location_id)?;
    ensure_external_ref_free!(
        conn,
        principal,
        concerns,
        RecordKind::Concern,
        new.external_ref.as_ref()
    )?;
    // Of an anonymous concern careloop keeps only the hour it was raised in: its id, its
    // times, its deadlines and its audit event say no more.
    let actor = if new.anonymous {
        Actor::Anonymous
    } else {
        Actor::Caller(principal)
    };
    let now = actor.moment();
    let deadlines = rules::deadlines(now, settings);
    let receipt_code = new.anonymous.then(receipt::new_code);
    let (raised_by_sub, raised_by_name) = if new.anonymous {
        (None, None)
    } else {
        (Some(principal.sub.clone()), principal.name.clone())
    };
    let row = ConcernRow {
        id: actor.new_id(now),
        organisation_id: principal.organisation_id.clone(),
        location_id,
        title: new.title.trim().to_owned(),
        description: new.description.trim().to_owned(),
        category: new.category,
        risk: new.risk,
        status: ConcernStatus::Raised,
        confidential: new
            .confidential
            .unwrap_or_else(|| rules::confidential_by_default(new.category)),
        anonymous: new.anonymous,
        raised_by_sub,
        raised_by_name,
        receipt_hash: receipt_code.as_deref().and_then(receipt::hash),
        external_system: new.external_ref.as_ref().map(|r| r.system.clone()),
        external_id: new.external_ref.as_ref().map(|r| r.id.clone()),
        escalated_to: None,
        outcome: None,
        acknowledge_by: to_row(deadlines.acknowledge_due_at),
        feedback_by: to_row(deadlines.feedback_due_at),
        acknowledged_at: None,
        resolved_at: None,
        version: 1,
        created_at: to_row(now),
        updated_at: to_row(actor.changed_at()),
        contact: None,
        tags: links::Tags::kept(&new.quality_statements),
    };
    // The change feed's entry describes the row just written, without reading it back.
    let described = Described {
        version: row.version,
        location_id: row.location_id.map(|id| id.to_string()),
        state: Some(row.status.as_str().to_owned()),
    };
    let change = Change {
        action: AuditAction::Create,
        resource_type: AuditResource::Concern,
        resource_id: row.id.to_string(),
        changed_fields: [
            "title",
            "description",
            "category",
            "risk",
            "location_id",
            "confidential",
            "anonymous",
            "external_ref",
        ]
        .map(String::from)
        .to_vec(),
        detail: None,
    };
    // On PostgreSQL the row, its audit event, its change and a single tag go as one statement
    // (see `db::together`); two or more tags follow in a second.
    together(conn, |writes| {
        insert_all!(writes, concerns::table, std::slice::from_ref(&row));
        let organisation_id = &principal.organisation_id;
        audit::record_all(
            writes,
            organisation_id,
            actor,
            vec![(change, Some(described))],
        )?;
        links::add_tags_all(writes, organisation_id, KIND, &[(row.id.any(), &row.tags)])
    })?;
    let mut concern = as_concern(principal, crate::domain::now(), row);
    concern.receipt_code = receipt_code;
    Ok(concern)
}

/// Raises an anonymous concern that came in through an intake point (`door`), keeping the
/// contact details its raiser chose to leave; answers the receipt code, shown this once.
pub fn raise_from_intake(
    conn: &mut DbConnection,
    door: &Principal,
    new: &NewConcern,
    contact: Option<Contact>,
) -> ApiResult<String> {
    let concern = create(conn, door, new)?;
    if contact.is_some() {
        // Part of the concern's making, in the same transaction: not a change of its own.
        diesel::update(concerns::table.find(ConcernId::from(concern.id)))
            .set(concerns::contact.eq(contact.map(JsonText)))
            .execute(conn)?;
    }
    concern
        .receipt_code
        .ok_or_else(|| ApiError::internal("an anonymous concern without its receipt code"))
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &ConcernQuery,
    page: &Page,
) -> ApiResult<Paginated<Concern>> {
    let now = now();
    let mut select = visible(principal)
        .select(columns_of::<ConcernRow>())
        .order(concerns::id.asc());
    select = looked_up!(select, concerns, query.lookup);
    // `concerns_by_status` leads with the status, then the risk, and ends with the id.
    select = one_of!(select, concerns::status, query.status, equal_to_any);
    select = one_of!(select, concerns::category, query.category);
    select = one_of!(select, concerns::risk, query.risk, equal_to_any);
    if let Some(location) = query.location_id {
        select = select.filter(concerns::location_id.eq(location.to_string()));
    }
    if let Some(overdue) = query.overdue {
        // `rules::is_overdue`, in SQL, so the filter pages correctly.
        let past_a_deadline = overdue_at(to_row(now));
        select = if overdue {
            select.filter(past_a_deadline)
        } else {
            select.filter(diesel::dsl::not(past_a_deadline))
        };
    }
    if let Some(since) = query.updated_since {
        select = select.filter(concerns::updated_at.ge(to_row(since)));
    }
    if let Some(after) = &page.after {
        select = select.filter(concerns::id.gt(after.clone()));
    }
    let rows = page.read(conn, select)?;
    page.finish(
        rows,
        |r| r.id.uuid(),
        |row| Ok(as_concern(principal, now, row)),
    )
}

/// A concern past a deadline unmet at `at`: `domain::concern::is_overdue`, in SQL.
pub fn overdue_at(at: NaiveDateTime) -> Rule<concerns::table> {
    Box::new(
        concerns::acknowledged_at
            .is_null()
            .and(concerns::acknowledge_by.lt(at))
            .or(concerns::resolved_at
                .is_null()
                .and(concerns::feedback_by.lt(at)))
            .nullable(),
    )
}

/// Writes `changes` if the row is still at the version read, and reads the result back.
fn save(
    conn: &mut DbConnection,
    principal: &Principal,
    row: &ConcernRow,
    changes: &ConcernChanges,
    if_match: &IfMatch,
) -> ApiResult<Concern> {
    save_if_unchanged!(
        conn,
        concerns,
        (&row.id, row.version, not_before row.updated_at),
        changes,
        if_match
    )?;
    let saved = concerns::table
        .find(&row.id)
        .select(columns_of::<ConcernRow>())
        .first(conn)?;
    Ok(as_concern(principal, now(), saved))
}

pub fn update(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ConcernId,
    patch: &ConcernPatch,
    if_match: &IfMatch,
) -> ApiResult<Concern> {
    let row = find(conn, principal, id)?;
    if_match.check(row.version)?;
    let location_id = patch.location_id.map(|l| l.map(LocationId::from));
    if let Some(location_id) = location_id {
        locations::store::check_reference(conn, principal, location_id)?;
    }
    let external = external_ref_to_set!(
        conn,
        principal,
        concerns,
        KIND,
        ExternalRef::from_columns(row.external_system.clone(), row.external_id.clone()).as_ref(),
        patch.external_ref.as_ref()
    );
    let before = serde_json::to_value(as_concern(principal, now(), row.clone()))?;
    let changes = ConcernChanges {
        title: patch.title.as_ref().map(|t| t.trim().to_owned()),
        description: patch.description.as_ref().map(|d| d.trim().to_owned()),
        category: patch.category,
        risk: patch.risk,
        location_id,
        confidential: patch.confidential,
        external_system: external.as_ref().map(|r| r.system.clone()),
        external_id: external.map(|r| r.id),
        ..Default::default()
    };
    if let Some(statements) = &patch.quality_statements {
        links::set_tags(conn, &principal.organisation_id, KIND, id.any(), statements)?;
    }
    let after = save(conn, principal, &row, &changes, if_match)?;
    audit::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change::between(
            AuditAction::Update,
            AuditResource::Concern,
            id,
            &before,
            &after,
        )?,
    )?;
    Ok(after)
}

pub fn transition(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ConcernId,
    request: &TransitionRequest,
    if_match: &IfMatch,
) -> ApiResult<Concern> {
    let row = find(conn, principal, id)?;
    if_match.check(row.version)?;
    let now = now();
    let from = row.status;
    let details = TransitionDetails {
        outcome: request.outcome.as_deref(),
        escalated_to: request.escalated_to.as_deref(),
    };
    let next =
        rules::transition(row.progress(), request.to, details, now).map_err(|e| match e {
            TransitionError::Illegal(illegal) => illegal_move("concern", illegal),
            TransitionError::Missing(field) => {
                ApiError::field(field, format!("is required to move to {}", request.to))
            }
        })?;
    let trimmed = |text: &Option<String>| text.as_ref().map(|t| t.trim().to_owned());
    let outcome = trimmed(&request.outcome).filter(|_| request.to == ConcernStatus::Resolved);
    let escalated_to =
        trimmed(&request.escalated_to).filter(|_| request.to == ConcernStatus::Escalated);
    let mut changed = vec!["status".to_owned()];
    changed.extend(outcome.as_ref().map(|_| "outcome".to_owned()));
    changed.extend(escalated_to.as_ref().map(|_| "escalated_to".to_owned()));
    let changes = ConcernChanges {
        status: Some(next.status),
        outcome,
        escalated_to,
        acknowledged_at: Some(next.acknowledged_at.map(to_row)),
        resolved_at: Some(next.resolved_at.map(to_row)),
        ..Default::default()
    };
    let concern = save(conn, principal, &row, &changes, if_match)?;
    insert_update(
        conn,
        &row,
        Entry {
            kind: UpdateKind::Transition,
            visibility: request.visibility.unwrap_or(UpdateVisibility::Internal),
            body: trimmed(&request.note),
            statuses: Some((from, next.status)),
            author: Some(principal),
        },
    )?;
    audit::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change {
            action: AuditAction::Transition,
            resource_type: AuditResource::Concern,
            resource_id: id.to_string(),
            changed_fields: changed,
            detail: Some(json!({ "from": from, "to": next.status })),
        },
    )?;
    Ok(concern)
}

/// The concern a receipt code opens, if any.
pub fn find_by_receipt(
    conn: &mut DbConnection,
    receipt_hash: &str,
) -> ApiResult<Option<ConcernRow>> {
    Ok(concerns::table
        .filter(concerns::receipt_hash.eq(receipt_hash))
        .select(columns_of::<ConcernRow>())
        .first(conn)
        .optional()?)
}
