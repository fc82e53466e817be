//! The plan store: who sees which plans, and starting, listing, changing and moving them.

use diesel::prelude::*;
use serde_json::json;

use super::dto::{
    ImprovementPlan, ImprovementPlanPatch, NewImprovementPlan, PlanQuery, PlanTransition,
};
use super::rows::{into_dto, into_dtos, review_due, PlanChanges, PlanRow};
use super::sources::{check_sources, set_sources};
use crate::api::improvement_plans::actions;
use crate::api::recognitions;
use crate::api::shared::ExternalRef;
use crate::api::{locations, organisation};
use crate::auth::Principal;
use crate::db::schema::improvement_plans;
use crate::db::{columns::JsonText, columns_of};
use crate::db::{insert_all, together, DbConnection};
use crate::domain::ids::{LocationId, PlanId};
use crate::domain::improvement::{move_plan, PlanStatus};
use crate::domain::AuditAction;
use crate::domain::{now, RecordKind};
use crate::error::{illegal_move, ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::http::preconditions::IfMatch;
use crate::store::audit::{self, Actor, Change};
use crate::store::external_refs::{ensure_external_ref_free, external_ref_to_set, looked_up};
use crate::store::links::{self, Tags};
use crate::store::support::{one_of, save_if_unchanged, to_row};

pub const KIND: RecordKind = RecordKind::ImprovementPlan;

pub use crate::store::visibility::plans as visible;

pub fn find(conn: &mut DbConnection, principal: &Principal, id: PlanId) -> ApiResult<PlanRow> {
    visible(principal)
        .filter(improvement_plans::id.eq(id))
        .select(columns_of::<PlanRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("improvement plan"))
}

/// A plan the caller may see, held until the transaction ends: moving a plan and changing its
/// actions take turns on it, each seeing what the other committed, so a plan never completes
/// beside an action added or reopened at that moment. PostgreSQL locks the row; SQLite's write
/// transaction already holds the whole database.
pub fn find_for_update(
    conn: &mut DbConnection,
    principal: &Principal,
    id: PlanId,
) -> ApiResult<PlanRow> {
    if let DbConnection::Pg(pg) = conn {
        improvement_plans::table
            .find(id)
            .select(improvement_plans::id)
            .for_update()
            .execute(pg)?;
    }
    find(conn, principal, id)
}

pub fn get(
    conn: &mut DbConnection,
    principal: &Principal,
    id: PlanId,
) -> ApiResult<ImprovementPlan> {
    let row = find(conn, principal, id)?;
    into_dto(conn, principal, row)
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    new: &NewImprovementPlan,
) -> ApiResult<ImprovementPlan> {
    let organisation_id = &principal.organisation_id;
    organisation::store::find(conn, organisation_id)?;
    let location_id = new.location_id.map(LocationId::from);
    locations::store::check_reference(conn, principal, location_id)?;
    check_sources(conn, principal, &new.sources)?;
    ensure_external_ref_free!(
        conn,
        principal,
        improvement_plans,
        RecordKind::ImprovementPlan,
        new.external_ref.as_ref()
    )?;
    let now = to_row(now());
    let row = PlanRow {
        id: PlanId::new(),
        organisation_id: organisation_id.clone(),
        location_id,
        title: new.title.trim().to_owned(),
        objective: new.objective.trim().to_owned(),
        owner_sub: new.owner.sub.trim().to_owned(),
        owner_name: new.owner.name.as_ref().map(|n| n.trim().to_owned()),
        priority: new.priority,
        status: PlanStatus::Draft,
        review_cadence: new.review_cadence,
        co_produced: new.co_produced,
        involved: JsonText(new.involved.clone()),
        activated_on: None,
        activated_at: None,
        last_reviewed_on: None,
        next_review_due: None,
        completed_at: None,
        external_system: new.external_ref.as_ref().map(|r| r.system.clone()),
        external_id: new.external_ref.as_ref().map(|r| r.id.clone()),
        created_by: principal.sub.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
        tags: Tags::kept(&new.quality_statements),
    };
    together(conn, |writes| {
        insert_all!(writes, improvement_plans::table, std::slice::from_ref(&row));
        links::add_tags_all(writes, organisation_id, KIND, &[(row.id.any(), &row.tags)])
    })?;
    set_sources(conn, principal, row.id, &new.sources)?;
    let plan = into_dto(conn, principal, row)?;
    audit(
        conn,
        principal,
        AuditAction::Create,
        plan.id.into(),
        &json!({}),
        &plan,
        None,
    )?;
    Ok(plan)
}

/// Records a change to a plan in the audit trail.
pub fn audit(
    conn: &mut DbConnection,
    principal: &Principal,
    action: AuditAction,
    id: PlanId,
    before: &serde_json::Value,
    after: &ImprovementPlan,
    detail: Option<serde_json::Value>,
) -> ApiResult<()> {
    audit::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change::between(action, KIND, id, before, after)?.detailed(detail),
    )
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &PlanQuery,
    page: &Page,
) -> ApiResult<Paginated<ImprovementPlan>> {
    let mut select = visible(principal)
        .select(columns_of::<PlanRow>())
        .order(improvement_plans::id.asc());
    select = looked_up!(select, improvement_plans, query.lookup);
    select = one_of!(select, improvement_plans::status, query.status);
    if let Some(location) = query.location_id {
        select = select.filter(improvement_plans::location_id.eq(LocationId::from(location)));
    }
    if let Some(owner) = &query.owner {
        let owner = if owner == "me" {
            principal.sub.clone()
        } else {
            owner.clone()
        };
        select = select.filter(improvement_plans::owner_sub.eq(owner));
    }
    if let Some(statement) = &query.quality_statement_id {
        select = select.filter(improvement_plans::id.eq_any(links::tagged(KIND, statement)));
    }
    if let Some(to) = query.review_due_to {
        select = select.filter(improvement_plans::next_review_due.le(to));
    }
    if let Some(since) = query.updated_since {
        select = select.filter(improvement_plans::updated_at.ge(to_row(since)));
    }
    if let Some(after) = &page.after {
        select = select.filter(improvement_plans::id.gt(after.clone()));
    }
    let rows = page.read(conn, select)?;
    page.finish_all(
        rows,
        |r| r.id.uuid(),
        |rows| into_dtos(conn, principal, rows),
    )
}

/// Writes `changes` to the plan as read, bumping its version, and reads it back.
pub fn save(
    conn: &mut DbConnection,
    principal: &Principal,
    row: &PlanRow,
    changes: PlanChanges,
    if_match: &IfMatch,
) -> ApiResult<ImprovementPlan> {
    save_if_unchanged!(
        conn,
        improvement_plans,
        (&row.id, row.version),
        &changes,
        if_match
    )?;
    get(conn, principal, row.id)
}

pub fn update(
    conn: &mut DbConnection,
    principal: &Principal,
    id: PlanId,
    patch: &ImprovementPlanPatch,
    if_match: &IfMatch,
) -> ApiResult<ImprovementPlan> {
    let row = find(conn, principal, id)?;
    if_match.check(row.version)?;
    let organisation_id = principal.organisation_id.clone();
    let location_id = patch.location_id.map(|l| l.map(LocationId::from));
    if let Some(location_id) = location_id {
        locations::store::check_reference(conn, principal, location_id)?;
    }
    if let Some(sources) = &patch.sources {
        check_sources(conn, principal, sources)?;
    }
    let external = external_ref_to_set!(
        conn,
        principal,
        improvement_plans,
        KIND,
        ExternalRef::from_columns(row.external_system.clone(), row.external_id.clone()).as_ref(),
        patch.external_ref.as_ref()
    );
    let before = serde_json::to_value(into_dto(conn, principal, row.clone())?)?;
    let cadence = patch.review_cadence.unwrap_or(row.review_cadence);
    let changes = PlanChanges {
        location_id,
        title: patch.title.as_ref().map(|t| t.trim().to_owned()),
        objective: patch.objective.as_ref().map(|o| o.trim().to_owned()),
        owner_sub: patch.owner.as_ref().map(|o| o.sub.trim().to_owned()),
        owner_name: patch.owner.as_ref().map(|o| o.name.clone()),
        priority: patch.priority,
        review_cadence: patch.review_cadence,
        co_produced: patch.co_produced,
        involved: patch.involved.clone().map(JsonText),
        next_review_due: Some(review_due(
            row.status,
            cadence,
            row.last_reviewed_on,
            row.activated_on,
        )),
        external_system: external.as_ref().map(|r| r.system.clone()),
        external_id: external.map(|r| r.id),
        ..Default::default()
    };
    if let Some(statements) = &patch.quality_statements {
        links::set_tags(conn, &organisation_id, KIND, id.any(), statements)?;
    }
    if let Some(sources) = &patch.sources {
        set_sources(conn, principal, id, sources)?;
    }
    let after = save(conn, principal, &row, changes, if_match)?;
    audit(
        conn,
        principal,
        AuditAction::Update,
        id,
        &before,
        &after,
        None,
    )?;
    Ok(after)
}

/// Moves a plan through its life. Completing needs every action done or cancelled, and with
/// `celebrate` records an improvement milestone in the same transaction.
pub fn transition(
    conn: &mut DbConnection,
    principal: &Principal,
    id: PlanId,
    request: &PlanTransition,
    if_match: &IfMatch,
) -> ApiResult<ImprovementPlan> {
    let row = find_for_update(conn, principal, id)?;
    if_match.check(row.version)?;
    let from = row.status;
    move_plan(from, request.to).map_err(|illegal| illegal_move("improvement plan", illegal))?;
    if request.to == PlanStatus::Completed {
        let open = actions::store::open_action_ids(conn, id)?;
        if !open.is_empty() {
            return Err(ApiError::Conflict {
                code: "open_actions",
                detail: format!(
                    "the plan cannot complete while these actions are open: {}",
                    open.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                extra: Some(serde_json::json!({ "open_action_ids": open })),
            });
        }
    }
    let before = serde_json::to_value(into_dto(conn, principal, row.clone())?)?;
    let plan = move_to(conn, principal, &row, request.to, if_match)?;
    if request.celebrate && request.to == PlanStatus::Completed {
        recognitions::store::record_milestone(
            conn,
            principal,
            &format!("Improvement plan completed: {}", plan.title),
            Some(plan.objective.clone()),
            &plan.owner,
            row.location_id,
            (KIND, id.any()),
        )?;
    }
    audit(
        conn,
        principal,
        AuditAction::Transition,
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
    let now = now();
    let (activated_on, activated_at) = if to == PlanStatus::Active {
        (Some(now.date_naive()), Some(to_row(now)))
    } else {
        (row.activated_on, row.activated_at)
    };
    let changes = PlanChanges {
        status: Some(to),
        activated_on: Some(activated_on),
        activated_at: Some(activated_at),
        next_review_due: Some(review_due(
            to,
            row.review_cadence,
            row.last_reviewed_on,
            activated_on,
        )),
        completed_at: Some(match to {
            PlanStatus::Completed => Some(to_row(now)),
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
    plan_id: PlanId,
) -> ApiResult<bool> {
    let row = find(conn, principal, plan_id)?;
    if row.status != PlanStatus::Completed {
        return Ok(false);
    }
    let before = serde_json::to_value(into_dto(conn, principal, row.clone())?)?;
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
        AuditAction::Transition,
        plan_id,
        &before,
        &plan,
        Some(
            json!({"from": PlanStatus::Completed, "to": PlanStatus::Active, "note": "an action's check found it not effective"}),
        ),
    )?;
    Ok(true)
}
