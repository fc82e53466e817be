use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use super::action_store;
use super::dto::{
    DueQuery, DueReview, ImprovementPlan, ImprovementPlanPatch, NewImprovementPlan, NewPlanReview,
    Owner, PlanQuery, PlanReview, PlanSources, PlanTransition,
};
use crate::api::audit_events::{self, changed_fields, store::parse_id, Actor, Change};
use crate::api::common::{
    external_ref_free, external_ref_holder, guarded_update, illegal_move, in_callers_reach, only,
    stored, to_row, to_utc, ExternalRef, IfMatch, Page, Paginated,
};
use crate::api::learning_events::dto::Participant;
use crate::api::recognitions;
use crate::api::{links, locations, organisation};
use crate::auth::Principal;
use crate::db::schema::{improvement_plans, plan_reviews};
use crate::db::{Backend, DbConnection};
use crate::domain::improvement::{
    move_plan, next_review_due, review_overdue, Effectiveness, PlanStatus, Priority, Progress,
    ReviewCadence,
};
use crate::domain::{new_id, now, RecordKind};
use crate::error::{ApiError, ApiResult};

pub const KIND: RecordKind = RecordKind::ImprovementPlan;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = improvement_plans)]
pub struct PlanRow {
    pub id: String,
    pub organisation_id: String,
    pub location_id: Option<String>,
    pub title: String,
    pub objective: String,
    pub owner_sub: String,
    pub owner_name: Option<String>,
    pub priority: String,
    pub status: String,
    pub review_cadence: String,
    pub co_produced: bool,
    pub involved: String,
    pub activated_on: Option<NaiveDate>,
    pub last_reviewed_on: Option<NaiveDate>,
    pub next_review_due: Option<NaiveDate>,
    pub completed_at: Option<NaiveDateTime>,
    pub external_system: Option<String>,
    pub external_id: Option<String>,
    pub created_by: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl PlanRow {
    pub fn status(&self) -> ApiResult<PlanStatus> {
        stored(PlanStatus::parse(&self.status), "plan status", &self.status)
    }

    fn cadence(&self) -> ApiResult<ReviewCadence> {
        stored(
            ReviewCadence::parse(&self.review_cadence),
            "review cadence",
            &self.review_cadence,
        )
    }

    fn priority(&self) -> ApiResult<Priority> {
        stored(Priority::parse(&self.priority), "priority", &self.priority)
    }

    fn owner(&self) -> Owner {
        Owner {
            sub: self.owner_sub.clone(),
            name: self.owner_name.clone(),
        }
    }
}

/// When an active plan is next reviewed: a cadence after its last review, or its activation.
fn review_due(
    status: PlanStatus,
    cadence: ReviewCadence,
    last_review: Option<NaiveDate>,
    activated: Option<NaiveDate>,
) -> Option<NaiveDate> {
    (status == PlanStatus::Active)
        .then(|| last_review.or(activated))
        .flatten()
        .map(|anchor| next_review_due(cadence, anchor))
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = plan_reviews)]
struct ReviewRow {
    id: String,
    organisation_id: String,
    plan_id: String,
    reviewed_on: NaiveDate,
    progress: String,
    notes: Option<String>,
    priority_from: Option<String>,
    priority_to: Option<String>,
    reviewed_by: String,
    created_at: NaiveDateTime,
}

impl ReviewRow {
    fn into_dto(self) -> ApiResult<PlanReview> {
        let priority = |text: Option<String>| {
            text.map(|p| stored(Priority::parse(&p), "priority", &p))
                .transpose()
        };
        Ok(PlanReview {
            id: parse_id(&self.id)?,
            plan_id: parse_id(&self.plan_id)?,
            reviewed_on: self.reviewed_on,
            progress: stored(Progress::parse(&self.progress), "progress", &self.progress)?,
            notes: self.notes,
            priority_from: priority(self.priority_from)?,
            priority_to: priority(self.priority_to)?,
            reviewed_by: self.reviewed_by,
            created_at: to_utc(self.created_at),
        })
    }
}

/// The plans the caller may see: all of the organisation's, within their locations.
fn visible(principal: &Principal) -> improvement_plans::BoxedQuery<'static, Backend> {
    in_callers_reach!(improvement_plans, location_id, principal)
}

pub fn find(conn: &mut DbConnection, principal: &Principal, id: &str) -> ApiResult<PlanRow> {
    visible(principal)
        .filter(improvement_plans::id.eq(id.to_owned()))
        .select(PlanRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("improvement plan"))
}

/// Plans as the API shows them, with tags, sources, actions and latest review read in a few
/// queries for the whole page.
fn into_dtos(conn: &mut DbConnection, rows: Vec<PlanRow>) -> ApiResult<Vec<ImprovementPlan>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut tags = links::tags_of(conn, KIND, &ids)?;
    let mut concerns = links::links_of(conn, KIND, &ids, RecordKind::Concern)?;
    let mut evidence = links::links_of(conn, KIND, &ids, RecordKind::Evidence)?;
    let mut learning = links::links_of(conn, KIND, &ids, RecordKind::LearningEvent)?;
    let mut actions = action_store::actions_of(conn, &ids)?;
    let review_rows: Vec<ReviewRow> = plan_reviews::table
        .filter(plan_reviews::plan_id.eq_any(&ids))
        .select(ReviewRow::as_select())
        .order(plan_reviews::id.asc())
        .load(conn)?;
    // The latest review is the one of the latest day (the last recorded, on a tie).
    let mut latest: HashMap<String, PlanReview> = HashMap::new();
    for review in review_rows {
        let review = review.into_dto()?;
        let plan_id = review.plan_id.to_string();
        if latest
            .get(&plan_id)
            .is_none_or(|l| l.reviewed_on <= review.reviewed_on)
        {
            latest.insert(plan_id, review);
        }
    }
    let today = now().date_naive();
    rows.into_iter()
        .map(|row| {
            let plan_actions = actions.remove(&row.id).unwrap_or_default();
            Ok(ImprovementPlan {
                id: parse_id(&row.id)?,
                owner: row.owner(),
                priority: row.priority()?,
                status: row.status()?,
                review_cadence: row.cadence()?,
                location_id: row.location_id.as_deref().map(parse_id).transpose()?,
                quality_statements: tags.remove(&row.id).unwrap_or_default(),
                sources: PlanSources {
                    concern_ids: concerns.remove(&row.id).unwrap_or_default(),
                    evidence_ids: evidence.remove(&row.id).unwrap_or_default(),
                    learning_event_ids: learning.remove(&row.id).unwrap_or_default(),
                },
                involved: serde_json::from_str::<Vec<Participant>>(&row.involved)?,
                review_overdue: review_overdue(row.next_review_due, today),
                ineffective_action_ids: plan_actions
                    .iter()
                    .filter(|a| a.effectiveness == Effectiveness::NotEffective)
                    .map(|a| a.id)
                    .collect(),
                actions: plan_actions,
                latest_review: latest.remove(&row.id),
                external_ref: ExternalRef::from_columns(row.external_system, row.external_id),
                title: row.title,
                objective: row.objective,
                co_produced: row.co_produced,
                activated_on: row.activated_on,
                last_reviewed_on: row.last_reviewed_on,
                next_review_due: row.next_review_due,
                completed_at: row.completed_at.map(to_utc),
                created_by: row.created_by,
                version: row.version,
                created_at: to_utc(row.created_at),
                updated_at: to_utc(row.updated_at),
            })
        })
        .collect()
}

fn into_dto(conn: &mut DbConnection, row: PlanRow) -> ApiResult<ImprovementPlan> {
    only(into_dtos(conn, vec![row])?)
}

pub fn get(conn: &mut DbConnection, principal: &Principal, id: &str) -> ApiResult<ImprovementPlan> {
    let row = find(conn, principal, id)?;
    into_dto(conn, row)
}

fn check_sources(
    conn: &mut DbConnection,
    organisation_id: &str,
    sources: &PlanSources,
) -> ApiResult<()> {
    links::check_exist(
        conn,
        organisation_id,
        RecordKind::Concern,
        "sources.concern_ids",
        &sources.concern_ids,
    )?;
    links::check_exist(
        conn,
        organisation_id,
        RecordKind::Evidence,
        "sources.evidence_ids",
        &sources.evidence_ids,
    )?;
    links::check_exist(
        conn,
        organisation_id,
        RecordKind::LearningEvent,
        "sources.learning_event_ids",
        &sources.learning_event_ids,
    )
}

fn set_sources(
    conn: &mut DbConnection,
    organisation_id: &str,
    id: &str,
    sources: &PlanSources,
) -> ApiResult<()> {
    links::set_links(
        conn,
        organisation_id,
        (KIND, id),
        RecordKind::Concern,
        &sources.concern_ids,
    )?;
    links::set_links(
        conn,
        organisation_id,
        (KIND, id),
        RecordKind::Evidence,
        &sources.evidence_ids,
    )?;
    links::set_links(
        conn,
        organisation_id,
        (KIND, id),
        RecordKind::LearningEvent,
        &sources.learning_event_ids,
    )
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    new: &NewImprovementPlan,
) -> ApiResult<ImprovementPlan> {
    let organisation_id = &principal.organisation_id;
    organisation::store::find(conn, organisation_id)?;
    let location_id = new.location_id.map(|id| id.to_string());
    locations::store::check_reference(conn, principal, location_id.as_deref())?;
    check_sources(conn, organisation_id, &new.sources)?;
    if let Some(external) = &new.external_ref {
        external_ref_free(
            external_ref_holder!(conn, improvement_plans, organisation_id, external)?,
            "improvement plan",
        )?;
    }
    let now = to_row(now());
    let row = PlanRow {
        id: new_id().to_string(),
        organisation_id: organisation_id.clone(),
        location_id,
        title: new.title.trim().to_owned(),
        objective: new.objective.trim().to_owned(),
        owner_sub: new.owner.sub.trim().to_owned(),
        owner_name: new.owner.name.as_ref().map(|n| n.trim().to_owned()),
        priority: new.priority.as_str().to_owned(),
        status: PlanStatus::Draft.as_str().to_owned(),
        review_cadence: new.review_cadence.as_str().to_owned(),
        co_produced: new.co_produced,
        involved: serde_json::to_string(&new.involved)?,
        activated_on: None,
        last_reviewed_on: None,
        next_review_due: None,
        completed_at: None,
        external_system: new.external_ref.as_ref().map(|r| r.system.clone()),
        external_id: new.external_ref.as_ref().map(|r| r.id.clone()),
        created_by: principal.sub.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(improvement_plans::table)
        .values(&row)
        .execute(conn)?;
    links::set_tags(
        conn,
        organisation_id,
        KIND,
        &row.id,
        &new.quality_statements,
    )?;
    set_sources(conn, organisation_id, &row.id, &new.sources)?;
    let plan = into_dto(conn, row)?;
    audit(
        conn,
        principal,
        "create",
        &plan.id.to_string(),
        &json!({}),
        &plan,
        None,
    )?;
    Ok(plan)
}

/// Records a change to a plan in the audit trail.
fn audit(
    conn: &mut DbConnection,
    principal: &Principal,
    action: &str,
    id: &str,
    before: &serde_json::Value,
    after: &ImprovementPlan,
    detail: Option<serde_json::Value>,
) -> ApiResult<()> {
    audit_events::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change {
            action,
            resource_type: KIND.as_str(),
            resource_id: id,
            changed_fields: changed_fields(before, &serde_json::to_value(after)?),
            detail,
        },
    )
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &PlanQuery,
    page: &Page,
) -> ApiResult<Paginated<ImprovementPlan>> {
    let mut select = visible(principal)
        .select(PlanRow::as_select())
        .order(improvement_plans::id.asc())
        .limit(page.fetch());
    if let Some(status) = query.status {
        select = select.filter(improvement_plans::status.eq(status.as_str()));
    }
    if let Some(location) = query.location_id {
        select = select.filter(improvement_plans::location_id.eq(location.to_string()));
    }
    if let Some(owner) = &query.owner {
        let owner = if owner == "me" {
            principal.sub.clone()
        } else {
            owner.clone()
        };
        select = select.filter(improvement_plans::owner_sub.eq(owner));
    }
    if let Some(statement) = &query.quality_statement {
        select = select.filter(improvement_plans::id.eq_any(links::tagged(KIND, statement)));
    }
    if let Some(before) = query.review_due_before {
        select = select.filter(improvement_plans::next_review_due.lt(before));
    }
    if let Some(since) = query.updated_since {
        select = select.filter(improvement_plans::updated_at.ge(to_row(since)));
    }
    if let Some(after) = &page.after {
        select = select.filter(improvement_plans::id.gt(after.clone()));
    }
    let rows = select.load(conn)?;
    page.finish_all(rows, |r| &r.id, |rows| into_dtos(conn, rows))
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = improvement_plans)]
struct PlanChanges {
    location_id: Option<Option<String>>,
    title: Option<String>,
    objective: Option<String>,
    owner_sub: Option<String>,
    owner_name: Option<Option<String>>,
    priority: Option<String>,
    status: Option<String>,
    review_cadence: Option<String>,
    co_produced: Option<bool>,
    involved: Option<String>,
    activated_on: Option<Option<NaiveDate>>,
    last_reviewed_on: Option<Option<NaiveDate>>,
    next_review_due: Option<Option<NaiveDate>>,
    completed_at: Option<Option<NaiveDateTime>>,
    version: Option<i64>,
    updated_at: Option<NaiveDateTime>,
}

/// Writes `changes` to the plan as read, bumping its version, and reads it back.
fn save(
    conn: &mut DbConnection,
    principal: &Principal,
    row: &PlanRow,
    changes: PlanChanges,
    if_match: &IfMatch,
) -> ApiResult<ImprovementPlan> {
    let changes = PlanChanges {
        version: Some(row.version + 1),
        updated_at: Some(to_row(now())),
        ..changes
    };
    let affected = diesel::update(
        improvement_plans::table
            .filter(improvement_plans::id.eq(&row.id))
            .filter(improvement_plans::version.eq(row.version)),
    )
    .set(&changes)
    .execute(conn)?;
    guarded_update(affected, if_match)?;
    get(conn, principal, &row.id)
}

pub fn update(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
    patch: &ImprovementPlanPatch,
    if_match: &IfMatch,
) -> ApiResult<ImprovementPlan> {
    let row = find(conn, principal, id)?;
    if_match.check(row.version)?;
    let organisation_id = principal.organisation_id.clone();
    let location_id = patch.location_id.map(|l| l.map(|id| id.to_string()));
    if let Some(location_id) = &location_id {
        locations::store::check_reference(conn, principal, location_id.as_deref())?;
    }
    if let Some(sources) = &patch.sources {
        check_sources(conn, &organisation_id, sources)?;
    }
    let before = serde_json::to_value(into_dto(conn, row.clone())?)?;
    let cadence = patch.review_cadence.map_or_else(|| row.cadence(), Ok)?;
    let changes = PlanChanges {
        location_id,
        title: patch.title.as_ref().map(|t| t.trim().to_owned()),
        objective: patch.objective.as_ref().map(|o| o.trim().to_owned()),
        owner_sub: patch.owner.as_ref().map(|o| o.sub.trim().to_owned()),
        owner_name: patch.owner.as_ref().map(|o| o.name.clone()),
        priority: patch.priority.map(|p| p.as_str().to_owned()),
        review_cadence: patch.review_cadence.map(|c| c.as_str().to_owned()),
        co_produced: patch.co_produced,
        involved: patch
            .involved
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?,
        next_review_due: Some(review_due(
            row.status()?,
            cadence,
            row.last_reviewed_on,
            row.activated_on,
        )),
        ..Default::default()
    };
    if let Some(statements) = &patch.quality_statements {
        links::set_tags(conn, &organisation_id, KIND, id, statements)?;
    }
    if let Some(sources) = &patch.sources {
        set_sources(conn, &organisation_id, id, sources)?;
    }
    let after = save(conn, principal, &row, changes, if_match)?;
    audit(conn, principal, "update", id, &before, &after, None)?;
    Ok(after)
}

/// Moves a plan through its life. Completing needs every action done or cancelled, and with
/// `celebrate` records an improvement milestone in the same transaction.
pub fn transition(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
    request: &PlanTransition,
    if_match: &IfMatch,
) -> ApiResult<ImprovementPlan> {
    let row = find(conn, principal, id)?;
    if_match.check(row.version)?;
    let from = row.status()?;
    move_plan(from, request.to).map_err(|illegal| illegal_move("improvement plan", illegal))?;
    if request.to == PlanStatus::Completed {
        let open = action_store::open_action_ids(conn, id)?;
        if !open.is_empty() {
            return Err(ApiError::Conflict {
                code: "open_actions",
                detail: format!(
                    "the plan cannot complete while these actions are open: {}",
                    open.join(", ")
                ),
                extra: None,
            });
        }
    }
    let before = serde_json::to_value(into_dto(conn, row.clone())?)?;
    let plan = move_to(conn, principal, &row, request.to, if_match)?;
    if request.celebrate && request.to == PlanStatus::Completed {
        recognitions::store::record_milestone(
            conn,
            principal,
            &format!("Improvement plan completed: {}", plan.title),
            Some(plan.objective.clone()),
            &plan.owner,
            row.location_id.as_deref(),
            (KIND, id),
        )?;
    }
    audit(
        conn,
        principal,
        "transition",
        id,
        &before,
        &plan,
        Some(json!({"from": from, "to": request.to, "note": request.note})),
    )?;
    Ok(plan)
}

/// Writes a plan's new status with what it implies for its dates.
fn move_to(
    conn: &mut DbConnection,
    principal: &Principal,
    row: &PlanRow,
    to: PlanStatus,
    if_match: &IfMatch,
) -> ApiResult<ImprovementPlan> {
    let today = now().date_naive();
    let activated_on = if to == PlanStatus::Active {
        Some(today)
    } else {
        row.activated_on
    };
    let changes = PlanChanges {
        status: Some(to.as_str().to_owned()),
        activated_on: Some(activated_on),
        next_review_due: Some(review_due(
            to,
            row.cadence()?,
            row.last_reviewed_on,
            activated_on,
        )),
        completed_at: Some(match to {
            PlanStatus::Completed => Some(to_row(now())),
            PlanStatus::Archived => row.completed_at,
            _ => None,
        }),
        ..Default::default()
    };
    save(conn, principal, row, changes, if_match)
}

/// An action's check found it did not work: a completed plan is active again. Answers whether
/// the plan was reopened.
pub fn reopen_after_failed_check(
    conn: &mut DbConnection,
    principal: &Principal,
    plan_id: &str,
) -> ApiResult<bool> {
    let row = find(conn, principal, plan_id)?;
    if row.status()? != PlanStatus::Completed {
        return Ok(false);
    }
    let before = serde_json::to_value(into_dto(conn, row.clone())?)?;
    let plan = move_to(
        conn,
        principal,
        &row,
        PlanStatus::Active,
        &IfMatch::default(),
    )?;
    audit(
        conn,
        principal,
        "transition",
        plan_id,
        &before,
        &plan,
        Some(
            json!({"from": PlanStatus::Completed, "to": PlanStatus::Active, "note": "an action's check found it not effective"}),
        ),
    )?;
    Ok(true)
}

pub fn add_review(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
    new: &NewPlanReview,
) -> ApiResult<PlanReview> {
    let row = find(conn, principal, id)?;
    let status = row.status()?;
    if !matches!(status, PlanStatus::Active | PlanStatus::Completed) {
        return Err(ApiError::conflict(
            "plan_not_reviewable",
            format!("a {status} plan is not reviewed; activate it first"),
        ));
    }
    let current = row.priority()?;
    let changed_priority = new.priority.filter(|p| *p != current);
    let before = serde_json::to_value(into_dto(conn, row.clone())?)?;
    let review = ReviewRow {
        id: new_id().to_string(),
        organisation_id: row.organisation_id.clone(),
        plan_id: row.id.clone(),
        reviewed_on: new.reviewed_on,
        progress: new.progress.as_str().to_owned(),
        notes: new.notes.as_ref().map(|n| n.trim().to_owned()),
        priority_from: changed_priority.map(|_| current.as_str().to_owned()),
        priority_to: changed_priority.map(|p| p.as_str().to_owned()),
        reviewed_by: principal.sub.clone(),
        created_at: to_row(now()),
    };
    diesel::insert_into(plan_reviews::table)
        .values(&review)
        .execute(conn)?;
    // A back-dated review does not move the cycle back.
    let last = row.last_reviewed_on.max(Some(new.reviewed_on));
    let changes = PlanChanges {
        priority: changed_priority.map(|p| p.as_str().to_owned()),
        last_reviewed_on: Some(last),
        next_review_due: Some(review_due(status, row.cadence()?, last, row.activated_on)),
        ..Default::default()
    };
    let plan = save(conn, principal, &row, changes, &IfMatch::default())?;
    audit(
        conn,
        principal,
        "review",
        id,
        &before,
        &plan,
        Some(json!({"review_id": review.id, "progress": new.progress})),
    )?;
    review.into_dto()
}

pub fn list_reviews(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
    page: &Page,
) -> ApiResult<Paginated<PlanReview>> {
    find(conn, principal, id)?;
    let mut select = plan_reviews::table
        .filter(plan_reviews::plan_id.eq(id.to_owned()))
        .select(ReviewRow::as_select())
        .order(plan_reviews::id.asc())
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = &page.after {
        select = select.filter(plan_reviews::id.gt(after.clone()));
    }
    let rows = select.load(conn)?;
    page.finish(rows, |r| &r.id, ReviewRow::into_dto)
}

fn due_review(row: PlanRow, today: NaiveDate) -> ApiResult<Option<DueReview>> {
    let Some(due) = row.next_review_due else {
        return Ok(None);
    };
    Ok(Some(DueReview {
        plan_id: parse_id(&row.id)?,
        owner: row.owner(),
        priority: row.priority()?,
        review_cadence: row.cadence()?,
        location_id: row.location_id.as_deref().map(parse_id).transpose()?,
        title: row.title,
        last_reviewed_on: row.last_reviewed_on,
        next_review_due: due,
        review_overdue: review_overdue(Some(due), today),
    }))
}

/// Active plans due for review within `within_days`, and those overdue, soonest first.
pub fn due_reviews(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &DueQuery,
) -> ApiResult<Paginated<DueReview>> {
    let today = now().date_naive();
    let horizon = today + Duration::days(query.within_days.unwrap_or(14));
    let mut select = visible(principal)
        .filter(improvement_plans::status.eq(PlanStatus::Active.as_str()))
        .filter(improvement_plans::next_review_due.le(horizon))
        .select(PlanRow::as_select())
        .order((
            improvement_plans::next_review_due.asc(),
            improvement_plans::id.asc(),
        ));
    if let Some(location) = query.location_id {
        select = select.filter(improvement_plans::location_id.eq(location.to_string()));
    }
    let items = select
        .load(conn)?
        .into_iter()
        .filter_map(|row| due_review(row, today).transpose())
        .collect::<ApiResult<_>>()?;
    Ok(Paginated {
        items,
        next_cursor: None,
    })
}
