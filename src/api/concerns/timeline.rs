//! A concern's timeline: notes, messages and transitions, for the team or the raiser too.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::dto::{ConcernUpdate, NewConcernUpdate};
use super::rows::{ConcernRow, UpdateRow};
use super::store::find;
use crate::api::shared::ChangedSince;
use crate::auth::{Principal, Role};
use crate::db::schema::{concern_updates, concerns};
use crate::db::{columns_of, Backend, DbConnection};
use crate::domain::concern::{ConcernStatus, UpdateKind, UpdateVisibility};
use crate::domain::ids::{ConcernId, ConcernUpdateId};
use crate::domain::receipt;
use crate::domain::{AuditAction, AuditResource};
use crate::error::{ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::store::audit::{self, Actor, Change};
use crate::store::support::to_row;

/// Whether the caller reads the team's internal timeline entries, or only what the raiser may.
fn sees_internal_updates(principal: &Principal) -> bool {
    principal.has_any_role(&[Role::Admin, Role::Manager, Role::Viewer, Role::Integration])
}

/// A timeline entry to write.
pub(super) struct Entry<'a> {
    pub(super) kind: UpdateKind,
    pub(super) visibility: UpdateVisibility,
    pub(super) body: Option<String>,
    pub(super) statuses: Option<(ConcernStatus, ConcernStatus)>,
    /// `None` for an anonymous raiser.
    pub(super) author: Option<&'a Principal>,
}

pub(super) fn insert_update(
    conn: &mut DbConnection,
    concern: &ConcernRow,
    entry: Entry<'_>,
) -> ApiResult<ConcernUpdate> {
    let by_raiser = match entry.author {
        None => true,
        Some(author) => concern.raised_by_sub.as_deref() == Some(author.sub.as_str()),
    };
    let actor = entry.author.map_or(Actor::Anonymous, Actor::Caller);
    let at = actor.moment();
    let row = UpdateRow {
        id: next_entry_id(conn, concern, actor, at)?,
        organisation_id: concern.organisation_id.clone(),
        concern_id: concern.id,
        kind: entry.kind,
        visibility: entry.visibility,
        body: entry.body,
        from_status: entry.statuses.map(|(from, _)| from),
        to_status: entry.statuses.map(|(_, to)| to),
        author_sub: entry.author.map(|a| a.sub.clone()),
        author_name: entry.author.and_then(|a| a.name.clone()),
        by_raiser,
        created_at: to_row(at),
    };
    diesel::insert_into(concern_updates::table)
        .values(&row)
        .execute(conn)?;
    let update = row.into_dto();
    audit::record(
        conn,
        &concern.organisation_id,
        actor,
        Change {
            action: AuditAction::Create,
            resource_type: AuditResource::ConcernUpdate,
            resource_id: update.id.to_string(),
            changed_fields: vec!["body".into(), "visibility".into()],
            detail: Some(json!({ "concern_id": concern.id, "kind": entry.kind })),
        },
    )?;
    Ok(update)
}

/// A timeline entry's id, which orders the timeline. An anonymous raiser's entry is dated to
/// the hour, so its id encodes the hour, or just after the entry before it if that is later:
/// the timeline stays in order, and the id says no more than that order already does.
fn next_entry_id(
    conn: &mut DbConnection,
    concern: &ConcernRow,
    actor: Actor<'_>,
    at: DateTime<Utc>,
) -> ApiResult<ConcernUpdateId> {
    if !matches!(actor, Actor::Anonymous) {
        return Ok(actor.new_id(at));
    }
    let last: Option<ConcernUpdateId> = concern_updates::table
        .filter(concern_updates::concern_id.eq(concern.id))
        .select(diesel::dsl::max(concern_updates::id))
        .first(conn)?;
    let after_last = last
        .and_then(ConcernUpdateId::moment)
        .map(|moment| moment + Duration::milliseconds(1));
    Ok(ConcernUpdateId::at(
        after_last.map_or(at, |after| after.max(at)),
    ))
}

pub fn add_update(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ConcernId,
    new: &NewConcernUpdate,
) -> ApiResult<ConcernUpdate> {
    let concern = find(conn, principal, id)?;
    let team = sees_internal_updates(principal);
    let visibility = match (new.visibility, team) {
        (Some(UpdateVisibility::Internal), false) => {
            return Err(ApiError::field(
                "visibility",
                "a raiser can only add entries the raiser can read",
            ))
        }
        (Some(visibility), _) => visibility,
        (None, true) => UpdateVisibility::Internal,
        (None, false) => UpdateVisibility::Raiser,
    };
    let update = insert_update(
        conn,
        &concern,
        Entry {
            kind: if team {
                UpdateKind::Note
            } else {
                UpdateKind::Message
            },
            visibility,
            body: Some(new.body.trim().to_owned()),
            statuses: None,
            author: Some(principal),
        },
    )?;
    touch(conn, &concern, Actor::Caller(principal))?;
    Ok(update)
}

/// A new timeline entry changes the concern for anyone syncing by `updated_since` (an
/// anonymous raiser's to the end of the hour; never backwards).
fn touch(conn: &mut DbConnection, concern: &ConcernRow, actor: Actor<'_>) -> ApiResult<()> {
    let at = to_row(actor.changed_at());
    diesel::update(concerns::table.find(concern.id))
        .filter(concerns::updated_at.lt(at))
        .set(concerns::updated_at.eq(at))
        .execute(conn)?;
    Ok(())
}

fn updates_of(
    concern_id: ConcernId,
    raiser_view: bool,
) -> concern_updates::BoxedQuery<'static, Backend> {
    let mut query = concern_updates::table
        .filter(concern_updates::concern_id.eq(concern_id))
        .into_boxed();
    if raiser_view {
        query = query.filter(concern_updates::visibility.eq(UpdateVisibility::Raiser));
    }
    query
}

pub fn list_updates(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ConcernId,
    query: &ChangedSince,
    page: &Page,
) -> ApiResult<Paginated<ConcernUpdate>> {
    find(conn, principal, id)?;
    let mut select = updates_of(id, !sees_internal_updates(principal))
        .select(columns_of::<UpdateRow>())
        .order(concern_updates::id.asc());
    if let Some(since) = query.updated_since {
        select = select.filter(concern_updates::created_at.ge(to_row(since)));
    }
    if let Some(after) = &page.after {
        select = select.filter(concern_updates::id.gt(after.clone()));
    }
    let rows = page.read(conn, select)?;
    page.finish(rows, |r| r.id.uuid(), |r| Ok(r.into_dto()))
}

pub fn get_update(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ConcernId,
    update_id: ConcernUpdateId,
) -> ApiResult<ConcernUpdate> {
    find(conn, principal, id)?;
    Ok(updates_of(id, !sees_internal_updates(principal))
        .filter(concern_updates::id.eq(update_id))
        .select(columns_of::<UpdateRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("concern update"))?
        .into_dto())
}

/// A page of the timeline entries an anonymous raiser may read, oldest first.
pub fn raiser_updates(
    conn: &mut DbConnection,
    concern_id: ConcernId,
    page: &Page,
) -> ApiResult<Paginated<ConcernUpdate>> {
    let mut select = updates_of(concern_id, true)
        .select(columns_of::<UpdateRow>())
        .order(concern_updates::id.asc());
    if let Some(after) = &page.after {
        select = select.filter(concern_updates::id.gt(after.clone()));
    }
    let rows = page.read(conn, select)?;
    page.finish(rows, |r| r.id.uuid(), |r| Ok(r.into_dto()))
}

/// A message from an anonymous raiser, written with no identity at all. A receipt holder sends
/// at most [`receipt::MESSAGES_PER_DAY`] a day, so the channel cannot flood the team.
pub fn add_raiser_message(
    conn: &mut DbConnection,
    concern: &ConcernRow,
    body: &str,
) -> ApiResult<ConcernUpdate> {
    let day_ago = to_row(Actor::Anonymous.moment() - Duration::hours(24));
    let sent: i64 = concern_updates::table
        .filter(concern_updates::concern_id.eq(concern.id))
        .filter(concern_updates::by_raiser.eq(true))
        .filter(concern_updates::created_at.ge(day_ago))
        .count()
        .get_result(conn)?;
    if sent >= receipt::MESSAGES_PER_DAY {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: 3600,
        });
    }
    let update = insert_update(
        conn,
        concern,
        Entry {
            kind: UpdateKind::Message,
            visibility: UpdateVisibility::Raiser,
            body: Some(body.trim().to_owned()),
            statuses: None,
            author: None,
        },
    )?;
    touch(conn, concern, Actor::Anonymous)?;
    Ok(update)
}
