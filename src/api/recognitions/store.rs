use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::dto::{
    Highlight, HighlightKind, HighlightQuery, LinkedRecord, NewRecognition, Recognition,
    RecognitionQuery,
};
use crate::api::audit_events::{self, changed_fields, store::parse_id, Actor, Change};
use crate::api::common::{in_callers_reach, only, stored, to_row, to_utc, Page, Paginated};
use crate::api::improvement_plans::dto::Owner;
use crate::api::{links, locations, organisation};
use crate::auth::{Principal, Role};
use crate::db::schema::{
    concerns, improvement_plans, learning_events, plan_actions, recognitions, record_links,
};
use crate::db::{Backend, DbConnection};
use crate::domain::concern::{ConcernCategory, ConcernStatus};
use crate::domain::improvement::{ActionStatus, PlanStatus, RecognitionFrom, RecognitionKind};
use crate::domain::{new_id, now, RecordKind};
use crate::error::{ApiError, ApiResult};

const KIND: RecordKind = RecordKind::Recognition;
/// How many of each kind of highlight one answer carries at most.
const HIGHLIGHTS_PER_KIND: i64 = 100;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = recognitions)]
struct RecognitionRow {
    id: String,
    organisation_id: String,
    location_id: Option<String>,
    kind: String,
    title: String,
    message: Option<String>,
    recipients: String,
    from_role: String,
    occurred_on: NaiveDate,
    recorded_by: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn visible(principal: &Principal) -> recognitions::BoxedQuery<'static, Backend> {
    in_callers_reach!(recognitions, location_id, principal)
}

fn into_dtos(conn: &mut DbConnection, rows: Vec<RecognitionRow>) -> ApiResult<Vec<Recognition>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let linked: Vec<(String, String, String)> = record_links::table
        .filter(record_links::from_type.eq(KIND.as_str()))
        .filter(record_links::from_id.eq_any(&ids))
        .select((
            record_links::from_id,
            record_links::to_type,
            record_links::to_id,
        ))
        .order((
            record_links::from_id,
            record_links::to_type,
            record_links::to_id,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let linked_records = linked
                .iter()
                .filter(|(from, _, _)| *from == row.id)
                .map(|(_, kind, id)| {
                    Ok(LinkedRecord {
                        kind: stored(RecordKind::parse(kind), "record kind", kind)?,
                        id: parse_id(id)?,
                    })
                })
                .collect::<ApiResult<_>>()?;
            Ok(Recognition {
                id: parse_id(&row.id)?,
                kind: stored(
                    RecognitionKind::parse(&row.kind),
                    "recognition kind",
                    &row.kind,
                )?,
                from: stored(
                    RecognitionFrom::parse(&row.from_role),
                    "recognition from",
                    &row.from_role,
                )?,
                recipients: serde_json::from_str(&row.recipients)?,
                location_id: row.location_id.as_deref().map(parse_id).transpose()?,
                linked_records,
                title: row.title,
                message: row.message,
                occurred_on: row.occurred_on,
                recorded_by: row.recorded_by,
                version: row.version,
                created_at: to_utc(row.created_at),
                updated_at: to_utc(row.updated_at),
            })
        })
        .collect()
}

pub fn get(conn: &mut DbConnection, principal: &Principal, id: &str) -> ApiResult<Recognition> {
    let row = visible(principal)
        .filter(recognitions::id.eq(id.to_owned()))
        .select(RecognitionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("recognition"))?;
    only(into_dtos(conn, vec![row])?)
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    new: &NewRecognition,
) -> ApiResult<Recognition> {
    let organisation_id = &principal.organisation_id;
    organisation::store::find(conn, organisation_id)?;
    let location_id = new.location_id.map(|id| id.to_string());
    locations::store::check_reference(conn, principal, location_id.as_deref())?;
    for kind in [
        RecordKind::Concern,
        RecordKind::ImprovementPlan,
        RecordKind::Action,
        RecordKind::Evidence,
    ] {
        let ids: Vec<uuid::Uuid> = new
            .linked_records
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| l.id)
            .collect();
        links::check_exist(conn, organisation_id, kind, "linked_records", &ids)?;
    }
    let recipients: Vec<String> = new.recipients.iter().map(|r| r.trim().to_owned()).collect();
    let id = insert(
        conn,
        principal,
        RecognitionRow {
            id: new_id().to_string(),
            organisation_id: organisation_id.clone(),
            location_id,
            kind: new.kind.as_str().to_owned(),
            title: new.title.trim().to_owned(),
            message: new.message.as_ref().map(|m| m.trim().to_owned()),
            recipients: serde_json::to_string(&recipients)?,
            from_role: new.from.as_str().to_owned(),
            occurred_on: new.occurred_on,
            recorded_by: principal.sub.clone(),
            version: 1,
            created_at: to_row(now()),
            updated_at: to_row(now()),
        },
        &new.linked_records,
    )?;
    get(conn, principal, &id)
}

/// Stores a recognition with its links and audits it; answers its id.
fn insert(
    conn: &mut DbConnection,
    principal: &Principal,
    row: RecognitionRow,
    linked: &[LinkedRecord],
) -> ApiResult<String> {
    diesel::insert_into(recognitions::table)
        .values(&row)
        .execute(conn)?;
    // A record named twice is linked once.
    let mut seen = std::collections::HashSet::new();
    for link in linked.iter().filter(|l| seen.insert((l.kind, l.id))) {
        links::add_link(
            conn,
            &row.organisation_id,
            (KIND, &row.id),
            (link.kind, link.id),
        )?;
    }
    let id = row.id.clone();
    let recognition = only(into_dtos(conn, vec![row])?)?;
    audit_events::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change {
            action: "create",
            resource_type: KIND.as_str(),
            resource_id: &id,
            changed_fields: changed_fields(&json!({}), &serde_json::to_value(&recognition)?),
            detail: None,
        },
    )?;
    Ok(id)
}

/// Celebrates a completed action or plan, in the transaction that completes it.
pub fn record_milestone(
    conn: &mut DbConnection,
    principal: &Principal,
    title: &str,
    message: Option<String>,
    owner: &Owner,
    location_id: Option<&str>,
    (kind, record_id): (RecordKind, &str),
) -> ApiResult<()> {
    let recipient = owner.name.clone().unwrap_or_else(|| owner.sub.clone());
    let from = if principal.has_any_role(&[Role::Admin, Role::Manager]) {
        RecognitionFrom::Manager
    } else {
        RecognitionFrom::Staff
    };
    let now = now();
    let record = uuid::Uuid::parse_str(record_id).map_err(ApiError::internal)?;
    insert(
        conn,
        principal,
        RecognitionRow {
            id: new_id().to_string(),
            organisation_id: principal.organisation_id.clone(),
            location_id: location_id.map(str::to_owned),
            kind: RecognitionKind::ImprovementMilestone.as_str().to_owned(),
            title: title.chars().take(200).collect(),
            message,
            recipients: serde_json::to_string(&[recipient])?,
            from_role: from.as_str().to_owned(),
            occurred_on: now.date_naive(),
            recorded_by: principal.sub.clone(),
            version: 1,
            created_at: to_row(now),
            updated_at: to_row(now),
        },
        &[LinkedRecord { kind, id: record }],
    )?;
    Ok(())
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &RecognitionQuery,
    page: &Page,
) -> ApiResult<Paginated<Recognition>> {
    let mut select = visible(principal)
        .select(RecognitionRow::as_select())
        .order(recognitions::id.asc())
        .limit(page.fetch());
    if let Some(kind) = query.kind {
        select = select.filter(recognitions::kind.eq(kind.as_str()));
    }
    if let Some(location) = query.location_id {
        select = select.filter(recognitions::location_id.eq(location.to_string()));
    }
    if let Some(since) = query.updated_since {
        select = select.filter(recognitions::updated_at.ge(to_row(since)));
    }
    if let Some(after) = &page.after {
        select = select.filter(recognitions::id.gt(after.clone()));
    }
    let rows = select.load(conn)?;
    page.finish_all(rows, |r| &r.id, |rows| into_dtos(conn, rows))
}

fn highlight(
    kind: HighlightKind,
    at: DateTime<Utc>,
    title: String,
    text: Option<String>,
    record: (RecordKind, &str),
    location: Option<&str>,
) -> ApiResult<Highlight> {
    Ok(Highlight {
        kind,
        at,
        title,
        text,
        record: LinkedRecord {
            kind: record.0,
            id: parse_id(record.1)?,
        },
        location_id: location.map(parse_id).transpose()?,
    })
}

/// What is worth sharing since a time, newest first: recognitions, completed actions and plans,
/// lessons, and resolved concerns' outcomes. Never a confidential concern, and of a concern only
/// its category and outcome, so nothing can identify its raiser.
pub fn highlights(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &HighlightQuery,
) -> ApiResult<Paginated<Highlight>> {
    let since = query.since.unwrap_or_else(|| now() - Duration::days(30));
    let location = query.location_id.map(|id| id.to_string());
    if principal.locations.is_some() || location.is_some() {
        locations::store::check_reference(conn, principal, location.as_deref())?;
    }
    let organisation_id = principal.organisation_id.clone();
    let mut items = Vec::new();

    let mut recognised = recognitions::table
        .filter(recognitions::organisation_id.eq(organisation_id.clone()))
        .filter(recognitions::occurred_on.ge(since.date_naive()))
        .select((
            recognitions::id,
            recognitions::kind,
            recognitions::title,
            recognitions::message,
            recognitions::occurred_on,
            recognitions::location_id,
        ))
        .order(recognitions::id.desc())
        .limit(HIGHLIGHTS_PER_KIND)
        .into_boxed();
    if let Some(location) = &location {
        recognised = recognised.filter(recognitions::location_id.eq(location.clone()));
    }
    for (id, kind, title, message, on, location) in recognised.load::<(
        String,
        String,
        String,
        Option<String>,
        NaiveDate,
        Option<String>,
    )>(conn)?
    {
        let at = on
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or(since);
        let title = format!("{}: {title}", kind.replace('_', " "));
        items.push(highlight(
            HighlightKind::Recognition,
            at,
            title,
            message,
            (KIND, &id),
            location.as_deref(),
        )?);
    }

    let mut actions = plan_actions::table
        .inner_join(improvement_plans::table)
        .filter(plan_actions::organisation_id.eq(organisation_id.clone()))
        .filter(plan_actions::status.eq(ActionStatus::Done.as_str()))
        .filter(plan_actions::completed_at.ge(to_row(since)))
        .select((
            plan_actions::id,
            plan_actions::description,
            plan_actions::completion_note,
            plan_actions::completed_at,
            improvement_plans::location_id,
        ))
        .order(plan_actions::id.desc())
        .limit(HIGHLIGHTS_PER_KIND)
        .into_boxed();
    if let Some(location) = &location {
        actions = actions.filter(improvement_plans::location_id.eq(location.clone()));
    }
    for (id, description, note, done_at, location) in actions.load::<(
        String,
        String,
        Option<String>,
        Option<NaiveDateTime>,
        Option<String>,
    )>(conn)?
    {
        let at = done_at.map_or(since, to_utc);
        items.push(highlight(
            HighlightKind::ActionCompleted,
            at,
            description,
            note,
            (RecordKind::Action, &id),
            location.as_deref(),
        )?);
    }

    let mut plans = improvement_plans::table
        .filter(improvement_plans::organisation_id.eq(organisation_id.clone()))
        .filter(improvement_plans::status.eq(PlanStatus::Completed.as_str()))
        .filter(improvement_plans::completed_at.ge(to_row(since)))
        .select((
            improvement_plans::id,
            improvement_plans::title,
            improvement_plans::objective,
            improvement_plans::completed_at,
            improvement_plans::location_id,
        ))
        .order(improvement_plans::id.desc())
        .limit(HIGHLIGHTS_PER_KIND)
        .into_boxed();
    if let Some(location) = &location {
        plans = plans.filter(improvement_plans::location_id.eq(location.clone()));
    }
    for (id, title, objective, done_at, location) in plans.load::<(
        String,
        String,
        String,
        Option<NaiveDateTime>,
        Option<String>,
    )>(conn)?
    {
        let at = done_at.map_or(since, to_utc);
        items.push(highlight(
            HighlightKind::PlanCompleted,
            at,
            title,
            Some(objective),
            (RecordKind::ImprovementPlan, &id),
            location.as_deref(),
        )?);
    }

    let mut learning = learning_events::table
        .filter(learning_events::organisation_id.eq(organisation_id.clone()))
        .filter(learning_events::occurred_at.ge(to_row(since)))
        .select((
            learning_events::id,
            learning_events::title,
            learning_events::lessons,
            learning_events::occurred_at,
            learning_events::location_id,
        ))
        .order(learning_events::id.desc())
        .limit(HIGHLIGHTS_PER_KIND)
        .into_boxed();
    if let Some(location) = &location {
        learning = learning.filter(learning_events::location_id.eq(location.clone()));
    }
    for (id, title, lessons, at, location) in
        learning.load::<(String, String, String, NaiveDateTime, Option<String>)>(conn)?
    {
        let lessons: Vec<String> = serde_json::from_str(&lessons)?;
        if !lessons.is_empty() {
            items.push(highlight(
                HighlightKind::Lessons,
                to_utc(at),
                title,
                Some(lessons.join("; ")),
                (RecordKind::LearningEvent, &id),
                location.as_deref(),
            )?);
        }
    }

    let resolved = [
        ConcernStatus::Resolved.as_str(),
        ConcernStatus::Closed.as_str(),
    ];
    let mut outcomes = concerns::table
        .filter(concerns::organisation_id.eq(organisation_id))
        .filter(concerns::confidential.eq(false))
        .filter(concerns::status.eq_any(resolved))
        .filter(concerns::resolved_at.ge(to_row(since)))
        .filter(concerns::outcome.is_not_null())
        .select((
            concerns::id,
            concerns::category,
            concerns::outcome,
            concerns::resolved_at,
            concerns::location_id,
        ))
        .order(concerns::id.desc())
        .limit(HIGHLIGHTS_PER_KIND)
        .into_boxed();
    if let Some(location) = &location {
        outcomes = outcomes.filter(concerns::location_id.eq(location.clone()));
    }
    for (id, category, outcome, resolved_at, location) in outcomes.load::<(
        String,
        String,
        Option<String>,
        Option<NaiveDateTime>,
        Option<String>,
    )>(conn)?
    {
        let category = stored(ConcernCategory::parse(&category), "category", &category)?;
        let title = format!("You said, we did: {}", category.as_str().replace('_', " "));
        items.push(highlight(
            HighlightKind::YouSaidWeDid,
            resolved_at.map_or(since, to_utc),
            title,
            outcome,
            (RecordKind::Concern, &id),
            location.as_deref(),
        )?);
    }

    items.sort_by_key(|item| std::cmp::Reverse(item.at));
    Ok(Paginated {
        items,
        next_cursor: None,
    })
}
