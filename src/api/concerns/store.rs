use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};
use serde_json::json;

use super::dto::{
    Concern, ConcernPatch, ConcernQuery, ConcernUpdate, NewConcern, NewConcernUpdate, Person,
    TransitionRequest,
};
use crate::api::audit_events::{self, changed_fields, store::parse_id, Actor, Change};
use crate::api::common::{
    external_ref_free, external_ref_holder, guarded_update, illegal_move, in_callers_reach, only,
    stored, to_row, to_utc, ExternalRef, IfMatch, Page, Paginated,
};
use crate::api::{links, locations, organisation};
use crate::auth::{Principal, Role};
use crate::db::schema::{concern_updates, concerns};
use crate::db::{Backend, DbConnection};
use crate::domain::concern::{
    self as rules, ConcernCategory, ConcernStatus, Deadlines, Progress, RiskLevel,
    TransitionDetails, TransitionError, UpdateKind, UpdateVisibility,
};
use crate::domain::{new_id, now, receipt, RecordKind};
use crate::error::{ApiError, ApiResult};

const KIND: RecordKind = RecordKind::Concern;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = concerns)]
pub struct ConcernRow {
    pub id: String,
    pub organisation_id: String,
    pub location_id: Option<String>,
    pub title: String,
    pub description: String,
    pub category: String,
    pub risk: String,
    pub status: String,
    pub confidential: bool,
    pub anonymous: bool,
    pub raised_by_sub: Option<String>,
    pub raised_by_name: Option<String>,
    pub receipt_hash: Option<String>,
    pub external_system: Option<String>,
    pub external_id: Option<String>,
    pub escalated_to: Option<String>,
    pub outcome: Option<String>,
    pub acknowledge_by: NaiveDateTime,
    pub feedback_by: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ConcernRow {
    pub fn status(&self) -> ApiResult<ConcernStatus> {
        stored(
            ConcernStatus::parse(&self.status),
            "concern status",
            &self.status,
        )
    }

    pub fn progress(&self) -> ApiResult<Progress> {
        Ok(Progress {
            status: self.status()?,
            acknowledged_at: self.acknowledged_at.map(to_utc),
            resolved_at: self.resolved_at.map(to_utc),
        })
    }

    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            acknowledge_by: to_utc(self.acknowledge_by),
            feedback_by: to_utc(self.feedback_by),
        }
    }

    /// The concern as the API shows it, with its quality-statement tags.
    pub fn into_dto(
        self,
        now: DateTime<Utc>,
        quality_statements: Vec<String>,
    ) -> ApiResult<Concern> {
        let progress = self.progress()?;
        Ok(Concern {
            id: parse_id(&self.id)?,
            category: stored(
                ConcernCategory::parse(&self.category),
                "category",
                &self.category,
            )?,
            risk: stored(RiskLevel::parse(&self.risk), "risk", &self.risk)?,
            status: progress.status,
            location_id: self.location_id.as_deref().map(parse_id).transpose()?,
            confidential: self.confidential,
            anonymous: self.anonymous,
            raised_by: self.raised_by_sub.clone().map(|sub| Person {
                sub,
                name: self.raised_by_name.clone(),
            }),
            overdue: rules::is_overdue(self.deadlines(), progress, now),
            acknowledge_by: to_utc(self.acknowledge_by),
            feedback_by: to_utc(self.feedback_by),
            acknowledged_at: progress.acknowledged_at,
            resolved_at: progress.resolved_at,
            external_ref: ExternalRef::from_columns(self.external_system, self.external_id),
            title: self.title,
            description: self.description,
            escalated_to: self.escalated_to,
            outcome: self.outcome,
            version: self.version,
            created_at: to_utc(self.created_at),
            updated_at: to_utc(self.updated_at),
            quality_statements,
            receipt_code: None,
        })
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = concern_updates)]
pub struct UpdateRow {
    pub id: String,
    pub organisation_id: String,
    pub concern_id: String,
    pub kind: String,
    pub visibility: String,
    pub body: Option<String>,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub author_sub: Option<String>,
    pub author_name: Option<String>,
    pub by_raiser: bool,
    pub created_at: NaiveDateTime,
}

impl UpdateRow {
    pub fn into_dto(self) -> ApiResult<ConcernUpdate> {
        let status = |text: Option<String>| {
            text.map(|t| stored(ConcernStatus::parse(&t), "status", &t))
                .transpose()
        };
        Ok(ConcernUpdate {
            id: parse_id(&self.id)?,
            concern_id: parse_id(&self.concern_id)?,
            kind: stored(UpdateKind::parse(&self.kind), "update kind", &self.kind)?,
            visibility: stored(
                UpdateVisibility::parse(&self.visibility),
                "visibility",
                &self.visibility,
            )?,
            body: self.body,
            from_status: status(self.from_status)?,
            to_status: status(self.to_status)?,
            author: self.author_sub.map(|sub| Person {
                sub,
                name: self.author_name,
            }),
            by_raiser: self.by_raiser,
            created_at: to_utc(self.created_at),
        })
    }
}

type Condition = Box<dyn BoxableExpression<concerns::table, Backend, SqlType = Nullable<Bool>>>;

/// The concerns the caller may see. Managers and admins: all in their locations. Viewers and
/// integrations: all but confidential ones. Staff: those they raised (never anonymous ones,
/// which nobody can tie to them). A caller with several roles sees the union.
fn visible(principal: &Principal) -> concerns::BoxedQuery<'static, Backend> {
    let query = in_callers_reach!(concerns, location_id, principal);
    if principal.has_any_role(&[Role::Admin, Role::Manager]) {
        return query;
    }
    let mut conditions: Vec<Condition> = Vec::new();
    if principal.has_any_role(&[Role::Viewer, Role::Integration]) {
        conditions.push(Box::new(concerns::confidential.eq(false).nullable()));
    }
    if principal.has_any_role(&[Role::Staff]) {
        conditions.push(Box::new(concerns::raised_by_sub.eq(principal.sub.clone())));
    }
    match conditions.into_iter().reduce(|a, b| Box::new(a.or(b))) {
        Some(condition) => query.filter(condition),
        None => query.filter(concerns::id.is_null()),
    }
}

/// Whether the caller reads the team's internal timeline entries, or only what the raiser may.
fn sees_internal_updates(principal: &Principal) -> bool {
    principal.has_any_role(&[Role::Admin, Role::Manager, Role::Viewer, Role::Integration])
}

/// Of `ids`, the concerns the caller may see.
pub fn visible_ids(
    conn: &mut DbConnection,
    principal: &Principal,
    ids: &[String],
) -> ApiResult<std::collections::HashSet<String>> {
    let found: Vec<String> = visible(principal)
        .filter(concerns::id.eq_any(ids.to_vec()))
        .select(concerns::id)
        .load(conn)?;
    Ok(found.into_iter().collect())
}

pub fn find(conn: &mut DbConnection, principal: &Principal, id: &str) -> ApiResult<ConcernRow> {
    visible(principal)
        .filter(concerns::id.eq(id.to_owned()))
        .select(ConcernRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("concern"))
}

/// Rows as concerns, reading their tags in one query.
fn into_dtos(conn: &mut DbConnection, rows: Vec<ConcernRow>) -> ApiResult<Vec<Concern>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut tags = links::tags_of(conn, KIND, &ids)?;
    let now = now();
    rows.into_iter()
        .map(|row| {
            let statements = tags.remove(&row.id).unwrap_or_default();
            row.into_dto(now, statements)
        })
        .collect()
}

fn into_dto(conn: &mut DbConnection, row: ConcernRow) -> ApiResult<Concern> {
    only(into_dtos(conn, vec![row])?)
}

pub fn get(conn: &mut DbConnection, principal: &Principal, id: &str) -> ApiResult<Concern> {
    let row = find(conn, principal, id)?;
    into_dto(conn, row)
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    new: &NewConcern,
) -> ApiResult<Concern> {
    let settings = organisation::store::find(conn, &principal.organisation_id)?.clock_settings();
    let location_id = new.location_id.map(|id| id.to_string());
    locations::store::check_reference(conn, principal, location_id.as_deref())?;
    if let Some(external) = &new.external_ref {
        external_ref_free(
            external_ref_holder!(conn, concerns, &principal.organisation_id, external)?,
            "concern",
        )?;
    }
    let now = now();
    let deadlines = rules::deadlines(now, settings);
    let receipt_code = new.anonymous.then(receipt::new_code);
    let (raised_by_sub, raised_by_name) = if new.anonymous {
        (None, None)
    } else {
        (Some(principal.sub.clone()), principal.name.clone())
    };
    let row = ConcernRow {
        id: new_id().to_string(),
        organisation_id: principal.organisation_id.clone(),
        location_id,
        title: new.title.trim().to_owned(),
        description: new.description.trim().to_owned(),
        category: new.category.as_str().to_owned(),
        risk: new.risk.as_str().to_owned(),
        status: ConcernStatus::Raised.as_str().to_owned(),
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
        acknowledge_by: to_row(deadlines.acknowledge_by),
        feedback_by: to_row(deadlines.feedback_by),
        acknowledged_at: None,
        resolved_at: None,
        version: 1,
        created_at: to_row(now),
        updated_at: to_row(now),
    };
    diesel::insert_into(concerns::table)
        .values(&row)
        .execute(conn)?;
    let actor = if new.anonymous {
        Actor::Anonymous
    } else {
        Actor::Caller(principal)
    };
    audit_events::record(
        conn,
        &principal.organisation_id,
        actor,
        Change {
            action: "create",
            resource_type: "concern",
            resource_id: &row.id,
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
        },
    )?;
    links::set_tags(
        conn,
        &principal.organisation_id,
        KIND,
        &row.id,
        &new.quality_statements,
    )?;
    let mut concern = into_dto(conn, row)?;
    concern.receipt_code = receipt_code;
    Ok(concern)
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &ConcernQuery,
    page: &Page,
) -> ApiResult<Paginated<Concern>> {
    let now = now();
    let mut select = visible(principal)
        .select(ConcernRow::as_select())
        .order(concerns::id.asc())
        .limit(page.fetch());
    if let Some(status) = query.status {
        select = select.filter(concerns::status.eq(status.as_str()));
    }
    if let Some(category) = query.category {
        select = select.filter(concerns::category.eq(category.as_str()));
    }
    if let Some(risk) = query.risk {
        select = select.filter(concerns::risk.eq(risk.as_str()));
    }
    if let Some(location) = query.location_id {
        select = select.filter(concerns::location_id.eq(location.to_string()));
    }
    if let Some(overdue) = query.overdue {
        // `rules::is_overdue`, in SQL, so the filter pages correctly.
        let at = to_row(now);
        let past_a_deadline = concerns::acknowledged_at
            .is_null()
            .and(concerns::acknowledge_by.lt(at))
            .or(concerns::resolved_at
                .is_null()
                .and(concerns::feedback_by.lt(at)));
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
    let rows = select.load(conn)?;
    page.finish_all(rows, |r| &r.id, |rows| into_dtos(conn, rows))
}

#[derive(AsChangeset)]
#[diesel(table_name = concerns)]
struct ConcernChanges {
    title: Option<String>,
    description: Option<String>,
    category: Option<String>,
    risk: Option<String>,
    location_id: Option<Option<String>>,
    confidential: Option<bool>,
    status: Option<String>,
    escalated_to: Option<String>,
    outcome: Option<String>,
    acknowledged_at: Option<Option<NaiveDateTime>>,
    resolved_at: Option<Option<NaiveDateTime>>,
    version: i64,
    updated_at: NaiveDateTime,
}

impl ConcernChanges {
    fn next_version(row: &ConcernRow, now: DateTime<Utc>) -> Self {
        Self {
            title: None,
            description: None,
            category: None,
            risk: None,
            location_id: None,
            confidential: None,
            status: None,
            escalated_to: None,
            outcome: None,
            acknowledged_at: None,
            resolved_at: None,
            version: row.version + 1,
            updated_at: to_row(now),
        }
    }
}

/// Writes `changes` if the row is still at the version read, and reads the result back.
fn save(
    conn: &mut DbConnection,
    row: &ConcernRow,
    changes: &ConcernChanges,
    if_match: &IfMatch,
) -> ApiResult<Concern> {
    let affected = diesel::update(
        concerns::table
            .filter(concerns::id.eq(&row.id))
            .filter(concerns::version.eq(row.version)),
    )
    .set(changes)
    .execute(conn)?;
    guarded_update(affected, if_match)?;
    let saved = concerns::table
        .find(&row.id)
        .select(ConcernRow::as_select())
        .first(conn)?;
    into_dto(conn, saved)
}

pub fn update(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
    patch: &ConcernPatch,
    if_match: &IfMatch,
) -> ApiResult<Concern> {
    let row = find(conn, principal, id)?;
    if_match.check(row.version)?;
    let location_id = patch.location_id.map(|l| l.map(|id| id.to_string()));
    if let Some(location_id) = &location_id {
        locations::store::check_reference(conn, principal, location_id.as_deref())?;
    }
    let before = serde_json::to_value(into_dto(conn, row.clone())?)?;
    let changes = ConcernChanges {
        title: patch.title.as_ref().map(|t| t.trim().to_owned()),
        description: patch.description.as_ref().map(|d| d.trim().to_owned()),
        category: patch.category.map(|c| c.as_str().to_owned()),
        risk: patch.risk.map(|r| r.as_str().to_owned()),
        location_id,
        confidential: patch.confidential,
        ..ConcernChanges::next_version(&row, now())
    };
    if let Some(statements) = &patch.quality_statements {
        links::set_tags(conn, &principal.organisation_id, KIND, id, statements)?;
    }
    let after = save(conn, &row, &changes, if_match)?;
    audit_events::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change {
            action: "update",
            resource_type: "concern",
            resource_id: id,
            changed_fields: changed_fields(&before, &serde_json::to_value(&after)?),
            detail: None,
        },
    )?;
    Ok(after)
}

pub fn transition(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
    request: &TransitionRequest,
    if_match: &IfMatch,
) -> ApiResult<Concern> {
    let row = find(conn, principal, id)?;
    if_match.check(row.version)?;
    let now = now();
    let from = row.status()?;
    let details = TransitionDetails {
        outcome: request.outcome.as_deref(),
        escalated_to: request.escalated_to.as_deref(),
    };
    let next =
        rules::transition(row.progress()?, request.to, details, now).map_err(|e| match e {
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
        status: Some(next.status.as_str().to_owned()),
        outcome,
        escalated_to,
        acknowledged_at: Some(next.acknowledged_at.map(to_row)),
        resolved_at: Some(next.resolved_at.map(to_row)),
        ..ConcernChanges::next_version(&row, now)
    };
    let concern = save(conn, &row, &changes, if_match)?;
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
    audit_events::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change {
            action: "transition",
            resource_type: "concern",
            resource_id: id,
            changed_fields: changed,
            detail: Some(json!({ "from": from, "to": next.status })),
        },
    )?;
    Ok(concern)
}

/// A timeline entry to write.
struct Entry<'a> {
    kind: UpdateKind,
    visibility: UpdateVisibility,
    body: Option<String>,
    statuses: Option<(ConcernStatus, ConcernStatus)>,
    /// `None` for an anonymous raiser.
    author: Option<&'a Principal>,
}

fn insert_update(
    conn: &mut DbConnection,
    concern: &ConcernRow,
    entry: Entry<'_>,
) -> ApiResult<ConcernUpdate> {
    let by_raiser = match entry.author {
        None => true,
        Some(author) => concern.raised_by_sub.as_deref() == Some(author.sub.as_str()),
    };
    let row = UpdateRow {
        id: new_id().to_string(),
        organisation_id: concern.organisation_id.clone(),
        concern_id: concern.id.clone(),
        kind: entry.kind.as_str().to_owned(),
        visibility: entry.visibility.as_str().to_owned(),
        body: entry.body,
        from_status: entry.statuses.map(|(from, _)| from.as_str().to_owned()),
        to_status: entry.statuses.map(|(_, to)| to.as_str().to_owned()),
        author_sub: entry.author.map(|a| a.sub.clone()),
        author_name: entry.author.and_then(|a| a.name.clone()),
        by_raiser,
        created_at: to_row(now()),
    };
    diesel::insert_into(concern_updates::table)
        .values(&row)
        .execute(conn)?;
    let update = row.into_dto()?;
    audit_events::record(
        conn,
        &concern.organisation_id,
        entry.author.map_or(Actor::Anonymous, Actor::Caller),
        Change {
            action: "create",
            resource_type: "concern_update",
            resource_id: &update.id.to_string(),
            changed_fields: vec!["body".into(), "visibility".into()],
            detail: Some(json!({ "concern_id": concern.id, "kind": entry.kind })),
        },
    )?;
    Ok(update)
}

pub fn add_update(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
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
    touch(conn, &concern)?;
    Ok(update)
}

/// A new timeline entry changes the concern for anyone syncing by `updated_since`.
fn touch(conn: &mut DbConnection, concern: &ConcernRow) -> ApiResult<()> {
    diesel::update(concerns::table.find(&concern.id))
        .set(concerns::updated_at.eq(to_row(now())))
        .execute(conn)?;
    Ok(())
}

fn updates_of(
    concern_id: &str,
    raiser_view: bool,
) -> concern_updates::BoxedQuery<'static, Backend> {
    let mut query = concern_updates::table
        .filter(concern_updates::concern_id.eq(concern_id.to_owned()))
        .into_boxed();
    if raiser_view {
        query = query.filter(concern_updates::visibility.eq(UpdateVisibility::Raiser.as_str()));
    }
    query
}

pub fn list_updates(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
    page: &Page,
) -> ApiResult<Paginated<ConcernUpdate>> {
    find(conn, principal, id)?;
    let mut select = updates_of(id, !sees_internal_updates(principal))
        .select(UpdateRow::as_select())
        .order(concern_updates::id.asc())
        .limit(page.fetch());
    if let Some(after) = &page.after {
        select = select.filter(concern_updates::id.gt(after.clone()));
    }
    let rows = select.load(conn)?;
    page.finish(rows, |r| &r.id, UpdateRow::into_dto)
}

pub fn get_update(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
    update_id: &str,
) -> ApiResult<ConcernUpdate> {
    find(conn, principal, id)?;
    updates_of(id, !sees_internal_updates(principal))
        .filter(concern_updates::id.eq(update_id.to_owned()))
        .select(UpdateRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("concern update"))?
        .into_dto()
}

/// The concern a receipt code opens, if any.
pub fn find_by_receipt(
    conn: &mut DbConnection,
    receipt_hash: &str,
) -> ApiResult<Option<ConcernRow>> {
    Ok(concerns::table
        .filter(concerns::receipt_hash.eq(receipt_hash))
        .select(ConcernRow::as_select())
        .first(conn)
        .optional()?)
}

/// The timeline entries an anonymous raiser may read, oldest first.
pub fn raiser_updates(conn: &mut DbConnection, concern_id: &str) -> ApiResult<Vec<ConcernUpdate>> {
    updates_of(concern_id, true)
        .select(UpdateRow::as_select())
        .order(concern_updates::id.asc())
        .load(conn)?
        .into_iter()
        .map(UpdateRow::into_dto)
        .collect()
}

/// A message from an anonymous raiser, written with no identity at all.
pub fn add_raiser_message(
    conn: &mut DbConnection,
    concern: &ConcernRow,
    body: &str,
) -> ApiResult<ConcernUpdate> {
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
    touch(conn, concern)?;
    Ok(update)
}
