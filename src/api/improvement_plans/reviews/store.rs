//! The review store: a plan's reviews, which move its cycle on, and the plans due for review.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use super::dto::{DueQuery, DueReview, NewPlanReview, PlanReview};
use crate::api::improvement_plans::plans::rows::{into_dto, review_due, PlanChanges, PlanRow};
use crate::api::improvement_plans::plans::store::{audit, find, save, visible};
use crate::api::shared::{ChangedSince, Participant, Person};
use crate::auth::Principal;
use crate::db::schema::{improvement_plans, plan_reviews};
use crate::db::DbConnection;
use crate::db::{columns::JsonText, columns_of};
use crate::domain::change::{ChangeAction, ChangeType};
use crate::domain::ids::{LocationId, PlanId, ReviewId};
use crate::domain::improvement::{review_overdue, PlanStatus, Priority, Progress};
use crate::domain::now;
use crate::domain::AuditAction;
use crate::error::{ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::http::preconditions::IfMatch;
use crate::store::audit::Actor;
use crate::store::changes;
use crate::store::support::{to_row, to_utc};

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = plan_reviews)]
struct ReviewRow {
    id: ReviewId,
    organisation_id: String,
    plan_id: PlanId,
    reviewed_on: NaiveDate,
    progress: Progress,
    notes: Option<String>,
    priority_from: Option<Priority>,
    priority_to: Option<Priority>,
    reviewed_by: String,
    created_at: NaiveDateTime,
    participants: JsonText<Vec<Participant>>,
}

impl ReviewRow {
    fn into_dto(self) -> PlanReview {
        PlanReview {
            id: self.id.into(),
            plan_id: self.plan_id.into(),
            reviewed_on: self.reviewed_on,
            progress: self.progress,
            notes: self.notes,
            priority_from: self.priority_from,
            priority_to: self.priority_to,
            participants: self.participants.0,
            reviewed_by: Person::user(self.reviewed_by, None),
            created_at: to_utc(self.created_at),
        }
    }
}

/// The latest review of each of several plans, keyed by plan id: the one of the latest day (the
/// last recorded, on a tie).
pub fn latest_of(
    conn: &mut DbConnection,
    plan_ids: &[PlanId],
) -> ApiResult<HashMap<PlanId, PlanReview>> {
    let review_rows: Vec<ReviewRow> = plan_reviews::table
        .filter(plan_reviews::plan_id.eq_any(plan_ids))
        .select(columns_of::<ReviewRow>())
        .order(plan_reviews::id.asc())
        .load(conn)?;
    let mut latest: HashMap<PlanId, PlanReview> = HashMap::new();
    for review in review_rows {
        let plan_id = review.plan_id;
        let review = review.into_dto();
        if latest
            .get(&plan_id)
            .is_none_or(|l| l.reviewed_on <= review.reviewed_on)
        {
            latest.insert(plan_id, review);
        }
    }
    Ok(latest)
}

pub fn add_review(
    conn: &mut DbConnection,
    principal: &Principal,
    id: PlanId,
    new: &NewPlanReview,
) -> ApiResult<PlanReview> {
    let row = find(conn, principal, id)?;
    let status = row.status;
    if !matches!(status, PlanStatus::Active | PlanStatus::Completed) {
        return Err(ApiError::conflict(
            "plan_not_reviewable",
            format!("a {status} plan is not reviewed; activate it first"),
        ));
    }
    let current = row.priority;
    let changed_priority = new.priority_to.filter(|p| *p != current);
    let before = serde_json::to_value(into_dto(conn, principal, row.clone())?)?;
    let review = ReviewRow {
        id: ReviewId::new(),
        organisation_id: row.organisation_id.clone(),
        plan_id: row.id,
        reviewed_on: new.reviewed_on,
        progress: new.progress,
        notes: new.notes.as_ref().map(|n| n.trim().to_owned()),
        priority_from: changed_priority.map(|_| current),
        priority_to: changed_priority,
        reviewed_by: principal.sub.clone(),
        created_at: to_row(now()),
        participants: JsonText(new.participants.clone()),
    };
    diesel::insert_into(plan_reviews::table)
        .values(&review)
        .execute(conn)?;
    // A back-dated review does not move the cycle back.
    let last = row.last_reviewed_on.max(Some(new.reviewed_on));
    let changes = PlanChanges {
        priority: changed_priority,
        last_reviewed_on: Some(last),
        next_review_due: Some(review_due(
            status,
            row.review_cadence,
            last,
            row.activated_on,
        )),
        ..Default::default()
    };
    let plan = save(conn, principal, &row, changes, &IfMatch::default())?;
    audit(
        conn,
        principal,
        AuditAction::Review,
        id,
        &before,
        &plan,
        Some(json!({"review_id": review.id, "progress": new.progress})),
    )?;
    changes::append(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        ChangeType::Review,
        review.id.any(),
        ChangeAction::Created,
    )?;
    Ok(review.into_dto())
}

/// One review of a plan the caller may see.
pub fn get_review(
    conn: &mut DbConnection,
    principal: &Principal,
    plan_id: PlanId,
    id: ReviewId,
) -> ApiResult<PlanReview> {
    find(conn, principal, plan_id)?;
    Ok(plan_reviews::table
        .filter(plan_reviews::plan_id.eq(plan_id))
        .filter(plan_reviews::id.eq(id))
        .select(columns_of::<ReviewRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("review"))?
        .into_dto())
}

pub fn list_reviews(
    conn: &mut DbConnection,
    principal: &Principal,
    id: PlanId,
    query: &ChangedSince,
    page: &Page,
) -> ApiResult<Paginated<PlanReview>> {
    find(conn, principal, id)?;
    let mut select = plan_reviews::table
        .filter(plan_reviews::plan_id.eq(id))
        .select(columns_of::<ReviewRow>())
        .order(plan_reviews::id.asc())
        .into_boxed();
    if let Some(since) = query.updated_since {
        select = select.filter(plan_reviews::created_at.ge(to_row(since)));
    }
    if let Some(after) = &page.after {
        select = select.filter(plan_reviews::id.gt(after.clone()));
    }
    let rows = page.read(conn, select)?;
    page.finish(rows, |r| r.id.uuid(), |r| Ok(r.into_dto()))
}

fn due_review(row: PlanRow, today: NaiveDate) -> ApiResult<Option<DueReview>> {
    let Some(due) = row.next_review_due else {
        return Ok(None);
    };
    Ok(Some(DueReview {
        plan_id: row.id.into(),
        owner: row.owner(),
        priority: row.priority,
        review_cadence: row.review_cadence,
        location_id: row.location_id.map(Into::into),
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
    page: &Page,
) -> ApiResult<Paginated<DueReview>> {
    let today = now().date_naive();
    let horizon = today + Duration::days(query.within_days.unwrap_or(14));
    let mut select = visible(principal)
        .filter(improvement_plans::status.eq(PlanStatus::Active))
        .filter(improvement_plans::next_review_due.le(horizon))
        .select(columns_of::<PlanRow>())
        .order((
            improvement_plans::next_review_due.asc(),
            improvement_plans::id.asc(),
        ));
    if let Some(location) = query.location_id {
        select = select.filter(improvement_plans::location_id.eq(LocationId::from(location)));
    }
    // The list is in due order: a page starts after the last plan's (due day, id).
    if let Some(after) = &page.after {
        let (due, id) = after
            .split_once('/')
            .and_then(|(due, id)| Some((due.parse::<NaiveDate>().ok()?, id.to_owned())))
            .ok_or_else(|| ApiError::field("cursor", "is not a cursor careloop issued"))?;
        select = select.filter(
            improvement_plans::next_review_due
                .gt(due)
                .or(improvement_plans::next_review_due
                    .eq(due)
                    .and(improvement_plans::id.gt(id))),
        );
    }
    let rows = page.read(conn, select)?;
    page.finish_keyed(
        rows,
        |row: &PlanRow| {
            let due = row
                .next_review_due
                .map(|d| d.to_string())
                .unwrap_or_default();
            format!("{due}/{}", row.id)
        },
        |rows| {
            rows.into_iter()
                .filter_map(|row| due_review(row, today).transpose())
                .collect()
        },
    )
}
