use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dto::{LearningEvent, LearningEventPatch, LearningEventQuery, NewLearningEvent};
use crate::api::shared::{ExternalRef, LinkedRecord, Participant, Person};
use crate::api::{locations, organisation};
use crate::auth::{Principal, Role};
use crate::db::schema::learning_events;
use crate::db::{columns::JsonText, columns_of};
use crate::db::{insert_all, together, DbConnection};
use crate::domain::ids::{LearningEventId, LocationId, RecordId};
use crate::domain::learning::{missing_reflections, LearningKind, SharedVia};
use crate::domain::AuditAction;
use crate::domain::{now, RecordKind};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::paging::{Page, Paginated};
use crate::http::preconditions::IfMatch;
use crate::store::audit::{self, Actor, Change};
use crate::store::external_refs::{ensure_external_ref_free, external_ref_to_set, looked_up};
use crate::store::links::{self, Tags};
use crate::store::support::{one_of, only, save_if_unchanged, to_row, to_utc};

const KIND: RecordKind = RecordKind::LearningEvent;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = learning_events)]
// A missing value is written as NULL (no optional column has another default): the insert is
// then kept prepared whatever is missing, alone or with others (`db::together`).
#[diesel(treat_none_as_default_value = false)]
struct LearningEventRow {
    id: LearningEventId,
    organisation_id: String,
    location_id: Option<LocationId>,
    kind: LearningKind,
    occurred_at: NaiveDateTime,
    title: String,
    summary: Option<String>,
    facilitator: Option<String>,
    participants: JsonText<Vec<Participant>>,
    went_well: Option<String>,
    did_not_go_well: Option<String>,
    to_change: Option<String>,
    lessons: JsonText<Vec<String>>,
    shared_via: JsonText<Vec<SharedVia>>,
    external_system: Option<String>,
    external_id: Option<String>,
    recorded_by: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    governance_month: Option<String>,
    tags: Tags,
}

// The build fails if this row's insert may no longer be kept prepared.
const _: () = assert!(
    <<&'static LearningEventRow as Insertable<learning_events::table>>::Values as diesel::query_builder::QueryId>::HAS_STATIC_QUERY_ID
);

#[derive(AsChangeset)]
#[diesel(table_name = learning_events)]
struct LearningEventChanges {
    location_id: Option<Option<LocationId>>,
    kind: Option<LearningKind>,
    occurred_at: Option<NaiveDateTime>,
    title: Option<String>,
    summary: Option<Option<String>>,
    facilitator: Option<Option<String>>,
    participants: Option<JsonText<Vec<Participant>>>,
    went_well: Option<Option<String>>,
    did_not_go_well: Option<Option<String>>,
    to_change: Option<Option<String>>,
    lessons: Option<JsonText<Vec<String>>>,
    shared_via: Option<JsonText<Vec<SharedVia>>>,
    external_system: Option<String>,
    external_id: Option<String>,
}

/// A governance review must say what went well, what did not, and what needs to change.
fn check_reflections(kind: LearningKind, given: [Option<&str>; 3]) -> ApiResult<()> {
    let missing: Vec<FieldError> = missing_reflections(kind, given)
        .into_iter()
        .map(|field| FieldError::new(field, format!("is required for a {kind}")))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(missing))
    }
}

use crate::store::visibility::learning_events as visible;

fn find(
    conn: &mut DbConnection,
    principal: &Principal,
    id: LearningEventId,
) -> ApiResult<LearningEventRow> {
    visible(principal)
        .filter(learning_events::id.eq(id))
        .select(columns_of::<LearningEventRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("learning event"))
}

/// Turns rows into events, reading their links in one query.
fn into_dtos(
    conn: &mut DbConnection,
    principal: &Principal,
    rows: Vec<LearningEventRow>,
) -> ApiResult<Vec<LearningEvent>> {
    let ids: Vec<RecordId> = rows.iter().map(|r| r.id.any()).collect();
    let mut concerns = links::links_of(conn, principal, KIND, &ids, RecordKind::Concern)?;
    Ok(rows
        .into_iter()
        .map(|row| LearningEvent {
            id: row.id.into(),
            kind: row.kind,
            occurred_at: to_utc(row.occurred_at),
            location_id: row.location_id.map(Into::into),
            participants: row.participants.0,
            lessons: row.lessons.0,
            shared_via: row.shared_via.0,
            quality_statements: row.tags.into_statements(),
            linked_records: LinkedRecord::to_all(
                RecordKind::Concern,
                concerns.remove(&row.id.any()).unwrap_or_default(),
            ),
            external_ref: ExternalRef::from_columns(row.external_system, row.external_id),
            title: row.title,
            summary: row.summary,
            facilitator: row.facilitator,
            went_well: row.went_well,
            did_not_go_well: row.did_not_go_well,
            to_change: row.to_change,
            recorded_by: Person::user(row.recorded_by, None),
            governance_month: row.governance_month,
            version: row.version,
            created_at: to_utc(row.created_at),
            updated_at: to_utc(row.updated_at),
        })
        .collect())
}

fn into_dto(
    conn: &mut DbConnection,
    principal: &Principal,
    row: LearningEventRow,
) -> ApiResult<LearningEvent> {
    only(into_dtos(conn, principal, vec![row])?)
}

pub fn get(
    conn: &mut DbConnection,
    principal: &Principal,
    id: LearningEventId,
) -> ApiResult<LearningEvent> {
    let row = find(conn, principal, id)?;
    into_dto(conn, principal, row)
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    new: &NewLearningEvent,
) -> ApiResult<LearningEvent> {
    create_for_month(conn, principal, new, None)
}

/// Records a learning event; a governance review may record the meeting of one month's pack
/// (`YYYY-MM`).
pub fn create_for_month(
    conn: &mut DbConnection,
    principal: &Principal,
    new: &NewLearningEvent,
    governance_month: Option<String>,
) -> ApiResult<LearningEvent> {
    let organisation_id = &principal.organisation_id;
    organisation::store::find(conn, organisation_id)?;
    let location_id = new.location_id.map(LocationId::from);
    locations::store::check_reference(conn, principal, location_id)?;
    let concern_ids = LinkedRecord::ids_of(&new.linked_records, RecordKind::Concern);
    links::check_exist(
        conn,
        principal,
        RecordKind::Concern,
        "linked_records",
        &concern_ids,
    )?;
    ensure_external_ref_free!(
        conn,
        principal,
        learning_events,
        RecordKind::LearningEvent,
        new.external_ref.as_ref()
    )?;
    let now = to_row(now());
    let trim = |text: &Option<String>| text.as_ref().map(|t| t.trim().to_owned());
    let row = LearningEventRow {
        id: LearningEventId::new(),
        organisation_id: organisation_id.clone(),
        location_id,
        kind: new.kind,
        occurred_at: to_row(new.occurred_at),
        title: new.title.trim().to_owned(),
        summary: trim(&new.summary),
        facilitator: trim(&new.facilitator),
        participants: JsonText(new.participants.clone()),
        went_well: trim(&new.went_well),
        did_not_go_well: trim(&new.did_not_go_well),
        to_change: trim(&new.to_change),
        lessons: JsonText(new.lessons.clone()),
        shared_via: JsonText(new.shared_via.clone()),
        external_system: new.external_ref.as_ref().map(|r| r.system.clone()),
        external_id: new.external_ref.as_ref().map(|r| r.id.clone()),
        recorded_by: principal.sub.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
        governance_month,
        tags: Tags::kept(&new.quality_statements),
    };
    together(conn, |writes| {
        insert_all!(writes, learning_events::table, std::slice::from_ref(&row));
        links::add_tags_all(writes, organisation_id, KIND, &[(row.id.any(), &row.tags)])
    })?;
    links::set_links(
        conn,
        principal,
        (KIND, row.id.any()),
        RecordKind::Concern,
        &concern_ids,
    )?;
    let event = into_dto(conn, principal, row)?;
    audit::record(
        conn,
        organisation_id,
        Actor::Caller(principal),
        Change::created(KIND, event.id, &event)?,
    )?;
    Ok(event)
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &LearningEventQuery,
    page: &Page,
) -> ApiResult<Paginated<LearningEvent>> {
    let mut select = visible(principal)
        .select(columns_of::<LearningEventRow>())
        .order(learning_events::id.asc());
    select = looked_up!(select, learning_events, query.lookup);
    select = one_of!(select, learning_events::kind, query.kind);
    if let Some(location) = query.location_id {
        select = select.filter(learning_events::location_id.eq(LocationId::from(location)));
    }
    if let Some(from) = query.from {
        select = select.filter(learning_events::occurred_at.ge(to_row(from)));
    }
    if let Some(to) = query.to {
        select = select.filter(learning_events::occurred_at.le(to_row(to)));
    }
    if let Some(statement) = &query.quality_statement_id {
        select = select.filter(learning_events::id.eq_any(links::tagged(KIND, statement)));
    }
    if let Some(since) = query.updated_since {
        select = select.filter(learning_events::updated_at.ge(to_row(since)));
    }
    if let Some(after) = &page.after {
        select = select.filter(learning_events::id.gt(after.clone()));
    }
    let rows = page.read(conn, select)?;
    page.finish_all(
        rows,
        |r| r.id.uuid(),
        |rows| into_dtos(conn, principal, rows),
    )
}

pub fn update(
    conn: &mut DbConnection,
    principal: &Principal,
    id: LearningEventId,
    patch: &LearningEventPatch,
    if_match: &IfMatch,
) -> ApiResult<LearningEvent> {
    let row = find(conn, principal, id)?;
    // Staff may correct what they recorded; the team may correct anything.
    if !principal.has_any_role(&[Role::Admin, Role::Manager, Role::Integration])
        && row.recorded_by != principal.sub
    {
        return Err(ApiError::Forbidden);
    }
    if_match.check(row.version)?;
    let organisation_id = &principal.organisation_id;
    let kind = patch.kind.unwrap_or(row.kind);
    let merged = |patched: &Option<Option<String>>, stored: &Option<String>| match patched {
        Some(value) => value.clone(),
        None => stored.clone(),
    };
    check_reflections(
        kind,
        [
            merged(&patch.went_well, &row.went_well).as_deref(),
            merged(&patch.did_not_go_well, &row.did_not_go_well).as_deref(),
            merged(&patch.to_change, &row.to_change).as_deref(),
        ],
    )
    .map_err(ApiError::against_record)?;
    let location_id = patch.location_id.map(|l| l.map(LocationId::from));
    // The review of a month's pack stays that month's review of that pack's location.
    if row.governance_month.is_some() {
        let fixed = |field: &str| {
            ApiError::field(
                field,
                "is fixed for the review of a month's governance pack",
            )
            .against_record()
        };
        if kind != row.kind {
            return Err(fixed("kind"));
        }
        if location_id.is_some_and(|location| location != row.location_id) {
            return Err(fixed("location_id"));
        }
    }
    if let Some(location_id) = location_id {
        locations::store::check_reference(conn, principal, location_id)?;
    }
    let concern_ids = patch
        .linked_records
        .as_deref()
        .map(|linked| LinkedRecord::ids_of(linked, RecordKind::Concern));
    if let Some(concern_ids) = &concern_ids {
        links::check_exist(
            conn,
            principal,
            RecordKind::Concern,
            "linked_records",
            concern_ids,
        )?;
    }
    let external = external_ref_to_set!(
        conn,
        principal,
        learning_events,
        KIND,
        ExternalRef::from_columns(row.external_system.clone(), row.external_id.clone()).as_ref(),
        patch.external_ref.as_ref()
    );
    let before = serde_json::to_value(into_dto(conn, principal, row.clone())?)?;
    let trim = |text: &Option<Option<String>>| {
        text.as_ref()
            .map(|t| t.as_ref().map(|t| t.trim().to_owned()))
    };
    let changes = LearningEventChanges {
        location_id,
        kind: patch.kind,
        occurred_at: patch.occurred_at.map(to_row),
        title: patch.title.as_ref().map(|t| t.trim().to_owned()),
        summary: trim(&patch.summary),
        facilitator: trim(&patch.facilitator),
        participants: patch.participants.clone().map(JsonText),
        went_well: trim(&patch.went_well),
        did_not_go_well: trim(&patch.did_not_go_well),
        to_change: trim(&patch.to_change),
        lessons: patch.lessons.clone().map(JsonText),
        shared_via: patch.shared_via.clone().map(JsonText),
        external_system: external.as_ref().map(|r| r.system.clone()),
        external_id: external.map(|r| r.id),
    };
    save_if_unchanged!(conn, learning_events, (id, row.version), &changes, if_match)?;
    if let Some(statements) = &patch.quality_statements {
        links::set_tags(conn, organisation_id, KIND, id.any(), statements)?;
    }
    if let Some(concern_ids) = &concern_ids {
        links::set_links(
            conn,
            principal,
            (KIND, id.any()),
            RecordKind::Concern,
            concern_ids,
        )?;
    }
    let after = get(conn, principal, id)?;
    audit::record(
        conn,
        organisation_id,
        Actor::Caller(principal),
        Change::between(AuditAction::Update, KIND, id, &before, &after)?,
    )?;
    Ok(after)
}
