//! The action store: adding, listing, changing, checking and moving a plan's actions.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::dto::{
    ActionQuery, ActionTransition, NewPlanAction, NewPublication, PlanAction, PlanActionPatch,
};
use super::rows::{into_dto, into_dtos, ActionChanges, ActionRow, ORIGINS};
use crate::api::improvement_plans::plans::rows::PlanRow;
use crate::api::improvement_plans::plans::store as plans;
use crate::api::public::dto::PublishedChange;
use crate::api::recognitions;
use crate::api::shared::LinkedRecord;
use crate::auth::{Permission, Principal, Role};
use crate::db::schema::{improvement_plans, plan_actions};
use crate::db::{columns_of, DbConnection};
use crate::domain::ids::{ActionId, LocationId, PlanId};
use crate::domain::improvement::{
    check_effectiveness, move_action, ActionMoveError, ActionStatus, Effectiveness, PlanStatus,
};
use crate::domain::AuditAction;
use crate::domain::{now, RecordKind};
use crate::error::{illegal_move, ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::http::preconditions::IfMatch;
use crate::store::audit::{self, Actor, Change};
use crate::store::external_refs::{ensure_external_ref_free, external_ref_to_set, looked_up};
use crate::store::support::{one_of, save_if_unchanged, to_row};
use crate::store::{links, visibility};

pub const KIND: RecordKind = RecordKind::Action;

/// The actions of several plans, oldest first, keyed by plan id.
pub fn actions_of(
    conn: &mut DbConnection,
    principal: &Principal,
    plan_ids: &[PlanId],
) -> ApiResult<HashMap<PlanId, Vec<PlanAction>>> {
    let rows: Vec<ActionRow> = plan_actions::table
        .filter(plan_actions::plan_id.eq_any(plan_ids))
        .select(columns_of::<ActionRow>())
        .order(plan_actions::id.asc())
        .load(conn)?;
    let mut grouped: HashMap<PlanId, Vec<PlanAction>> = HashMap::new();
    for action in into_dtos(conn, principal, rows)? {
        grouped
            .entry(PlanId::from(action.plan_id))
            .or_default()
            .push(action);
    }
    Ok(grouped)
}

/// The plan's actions still to be done.
pub fn open_action_ids(conn: &mut DbConnection, plan_id: PlanId) -> ApiResult<Vec<ActionId>> {
    let open = [ActionStatus::Open, ActionStatus::InProgress];
    Ok(plan_actions::table
        .filter(plan_actions::plan_id.eq(plan_id))
        .filter(plan_actions::status.eq_any(open))
        .select(plan_actions::id)
        .order(plan_actions::id.asc())
        .load(conn)?)
}

/// An action of a plan already found for the caller.
fn find(conn: &mut DbConnection, plan: &PlanRow, id: ActionId) -> ApiResult<ActionRow> {
    plan_actions::table
        .filter(plan_actions::plan_id.eq(plan.id))
        .filter(plan_actions::id.eq(id))
        .select(columns_of::<ActionRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("action"))
}

pub fn get(
    conn: &mut DbConnection,
    principal: &Principal,
    plan_id: PlanId,
    id: ActionId,
) -> ApiResult<PlanAction> {
    let plan = plans::find(conn, principal, plan_id)?;
    let action = find(conn, &plan, id)?;
    into_dto(conn, principal, action)
}

/// An action by its id alone, from any plan the caller may see.
pub fn get_by_id(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ActionId,
) -> ApiResult<PlanAction> {
    let row = visibility::actions!(principal)
        .filter(plan_actions::id.eq(id))
        .select(columns_of::<ActionRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("action"))?;
    into_dto(conn, principal, row)
}

fn audit(
    conn: &mut DbConnection,
    principal: &Principal,
    action: AuditAction,
    before: &serde_json::Value,
    after: &PlanAction,
    detail: Option<serde_json::Value>,
) -> ApiResult<()> {
    audit::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change::between(action, KIND, after.id, before, after)?.detailed(detail),
    )
}

/// A completed or archived plan's actions stay as they are until the plan is reopened.
fn check_plan_open(plan: &PlanRow, refusal: &str) -> ApiResult<()> {
    let status = plan.status;
    if matches!(status, PlanStatus::Draft | PlanStatus::Active) {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "plan_closed",
            format!("a {status} plan {refusal}; reopen it first"),
        ))
    }
}

/// A change to an action changes its plan for anyone syncing by `updated_since`.
fn touch_plan(conn: &mut DbConnection, plan_id: PlanId) -> ApiResult<()> {
    diesel::update(improvement_plans::table.find(plan_id))
        .set(improvement_plans::updated_at.eq(to_row(now())))
        .execute(conn)?;
    Ok(())
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    plan_id: PlanId,
    new: &NewPlanAction,
) -> ApiResult<PlanAction> {
    let plan = plans::find_for_update(conn, principal, plan_id)?;
    check_plan_open(&plan, "takes no new actions")?;
    ensure_external_ref_free!(
        conn,
        principal,
        plan_actions,
        KIND,
        new.external_ref.as_ref()
    )?;
    let now = to_row(now());
    let row = ActionRow {
        id: ActionId::new(),
        organisation_id: plan.organisation_id.clone(),
        plan_id: plan.id,
        description: new.description.trim().to_owned(),
        owner_sub: new.owner.sub.trim().to_owned(),
        owner_name: new.owner.name.as_ref().map(|n| n.trim().to_owned()),
        due_on: new.due_on,
        status: ActionStatus::Open,
        completion_note: None,
        cancel_reason: None,
        effectiveness: Effectiveness::NotChecked,
        checked_on: None,
        completed_at: None,
        external_system: new.external_ref.as_ref().map(|r| r.system.clone()),
        external_id: new.external_ref.as_ref().map(|r| r.id.clone()),
        version: 1,
        created_at: now,
        updated_at: now,
        you_said: None,
        we_did: None,
        published_at: None,
    };
    diesel::insert_into(plan_actions::table)
        .values(&row)
        .execute(conn)?;
    // The plan links to its actions, so the trail can follow a plan to them and back.
    links::add_link(
        conn,
        &plan.organisation_id,
        (plans::KIND, plan.id.any()),
        (KIND, row.id.any()),
    )?;
    touch_plan(conn, plan_id)?;
    let action = into_dto(conn, principal, row)?;
    audit(
        conn,
        principal,
        AuditAction::Create,
        &json!({}),
        &action,
        Some(json!({"plan_id": plan_id})),
    )?;
    Ok(action)
}

/// Actions across the plans the caller may see (a staff member's list for their phone), or of
/// one plan (404 unless the caller may see it).
pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    plan_id: Option<PlanId>,
    query: &ActionQuery,
    page: &Page,
) -> ApiResult<Paginated<PlanAction>> {
    if let Some(plan_id) = plan_id {
        plans::find(conn, principal, plan_id)?;
    }
    let mut select = visibility::actions!(principal)
        .select(columns_of::<ActionRow>())
        .order(plan_actions::id.asc());
    if let Some(plan_id) = plan_id {
        select = select.filter(plan_actions::plan_id.eq(plan_id));
    }
    select = looked_up!(select, plan_actions, query.lookup);
    if let Some(since) = query.updated_since {
        select = select.filter(plan_actions::updated_at.ge(to_row(since)));
    }
    if let Some(owner) = &query.owner {
        let owner = if owner == "me" {
            principal.sub.clone()
        } else {
            owner.clone()
        };
        select = select.filter(plan_actions::owner_sub.eq(owner));
    }
    select = one_of!(select, plan_actions::status, query.status);
    if let Some(to) = query.due_to {
        select = select.filter(plan_actions::due_on.le(to));
    }
    if let Some(after) = &page.after {
        select = select.filter(plan_actions::id.gt(after.clone()));
    }
    let rows = page.read(conn, select)?;
    page.finish_all(
        rows,
        |r| r.id.uuid(),
        |rows| into_dtos(conn, principal, rows),
    )
}

/// Writes `changes` to the action as read, bumping its version, and reads it back.
fn save(
    conn: &mut DbConnection,
    principal: &Principal,
    row: &ActionRow,
    changes: ActionChanges,
    if_match: &IfMatch,
) -> ApiResult<PlanAction> {
    save_if_unchanged!(
        conn,
        plan_actions,
        (&row.id, row.version),
        &changes,
        if_match
    )?;
    touch_plan(conn, row.plan_id)?;
    let saved = plan_actions::table
        .find(&row.id)
        .select(columns_of::<ActionRow>())
        .first(conn)?;
    into_dto(conn, principal, saved)
}

pub fn update(
    conn: &mut DbConnection,
    principal: &Principal,
    (plan_id, id): (PlanId, ActionId),
    patch: &PlanActionPatch,
    if_match: &IfMatch,
) -> ApiResult<PlanAction> {
    let plan = plans::find_for_update(conn, principal, plan_id)?;
    let row = find(conn, &plan, id)?;
    if_match.check(row.version)?;
    let effectiveness = patch.effectiveness.unwrap_or(row.effectiveness);
    let checked_on = patch.checked_on.unwrap_or(row.checked_on);
    check_effectiveness(row.status, effectiveness, checked_on, now().date_naive())
        .map_err(|(field, message)| ApiError::field(field, message).against_record())?;
    // Read before anything is written, so the audit sees every change.
    let before = into_dto(conn, principal, row.clone())?;
    let external = external_ref_to_set!(
        conn,
        principal,
        plan_actions,
        KIND,
        before.external_ref.as_ref(),
        patch.external_ref.as_ref()
    );
    let before = serde_json::to_value(before)?;
    if let Some(evidence) = &patch.check_evidence {
        let evidence = LinkedRecord::ids_of(evidence, RecordKind::Evidence);
        links::check_exist(
            conn,
            principal,
            RecordKind::Evidence,
            "check_evidence",
            &evidence,
        )?;
        links::set_links(
            conn,
            principal,
            (KIND, id.any()),
            RecordKind::Evidence,
            &evidence,
        )?;
    }
    if let Some(origins) = &patch.came_from {
        for (kind, way) in ORIGINS {
            let ids = LinkedRecord::ids_of(origins, kind);
            links::check_exist(conn, principal, kind, "came_from", &ids)?;
            links::set_links_way(conn, principal, way, (KIND, id.any()), kind, &ids)?;
        }
    }
    let newly_ineffective = effectiveness == Effectiveness::NotEffective
        && row.effectiveness != Effectiveness::NotEffective;
    let changes = ActionChanges {
        description: patch.description.as_ref().map(|d| d.trim().to_owned()),
        owner_sub: patch.owner.as_ref().map(|o| o.sub.trim().to_owned()),
        owner_name: patch.owner.as_ref().map(|o| o.name.clone()),
        due_on: patch.due_on,
        effectiveness: patch.effectiveness,
        checked_on: patch.checked_on,
        external_system: external.as_ref().map(|r| r.system.clone()),
        external_id: external.map(|r| r.id),
        ..Default::default()
    };
    let action = save(conn, principal, &row, changes, if_match)?;
    // A change that did not work reopens the question. Making a completed plan active again
    // undoes a sign-off, so only a caller who may sign plans off does it; otherwise the plan
    // shows the action among its ineffective ones and a manager decides.
    let reopened = newly_ineffective
        && principal.may(Permission::SignOffPlans)
        && plans::reopen_after_failed_check(conn, principal, plan_id)?;
    audit(
        conn,
        principal,
        AuditAction::Update,
        &before,
        &action,
        reopened.then(|| json!({"reopened_plan": plan_id})),
    )?;
    Ok(action)
}

pub fn transition(
    conn: &mut DbConnection,
    principal: &Principal,
    (plan_id, id): (PlanId, ActionId),
    request: &ActionTransition,
    if_match: &IfMatch,
) -> ApiResult<PlanAction> {
    let plan = plans::find_for_update(conn, principal, plan_id)?;
    let row = find(conn, &plan, id)?;
    // Staff move the actions they own; managers and admins any.
    if !principal.has_any_role(&[Role::Admin, Role::Manager]) && row.owner_sub != principal.sub {
        return Err(ApiError::Forbidden);
    }
    if_match.check(row.version)?;
    check_plan_open(&plan, "has its actions settled")?;
    let from = row.status;
    move_action(
        from,
        request.to,
        request.completion_note.as_deref(),
        request.cancel_reason.as_deref(),
    )
    .map_err(|e| match e {
        ActionMoveError::Illegal(illegal) => illegal_move("action", illegal),
        ActionMoveError::Missing(field) => {
            ApiError::field(field, format!("is required to move to {}", request.to))
        }
    })?;
    let trimmed = |text: &Option<String>| text.as_ref().map(|t| t.trim().to_owned());
    let done = request.to == ActionStatus::Done;
    let reopened = from == ActionStatus::Done;
    let before = serde_json::to_value(into_dto(conn, principal, row.clone())?)?;
    let changes = ActionChanges {
        status: Some(request.to),
        completion_note: done.then(|| trimmed(&request.completion_note)),
        cancel_reason: (request.to == ActionStatus::Cancelled)
            .then(|| trimmed(&request.cancel_reason)),
        completed_at: Some(done.then(|| to_row(now()))),
        // Reopening makes any earlier check of the change stale.
        effectiveness: reopened.then_some(Effectiveness::NotChecked),
        checked_on: reopened.then_some(None),
        ..Default::default()
    };
    let action = save(conn, principal, &row, changes, if_match)?;
    if request.celebrate && done {
        recognitions::store::record_milestone(
            conn,
            principal,
            &format!("Action completed: {}", action.description),
            action.completion_note.clone(),
            &action.owner,
            plan.location_id,
            (KIND, id.any()),
        )?;
    }
    audit(
        conn,
        principal,
        AuditAction::Transition,
        &before,
        &action,
        Some(json!({"from": from, "to": request.to})),
    )?;
    Ok(action)
}

/// Publishes a done action on its location's "you said, we did" pages, in the words given (or
/// changes them), or with `None` takes it off. Only a done action may be published: what the
/// public reads is what changed.
pub fn publish(
    conn: &mut DbConnection,
    principal: &Principal,
    (plan_id, id): (PlanId, ActionId),
    publication: Option<&NewPublication>,
    if_match: &IfMatch,
) -> ApiResult<PlanAction> {
    let plan = plans::find(conn, principal, plan_id)?;
    let row = find(conn, &plan, id)?;
    if_match.check(row.version)?;
    if publication.is_some() && row.status != ActionStatus::Done {
        return Err(ApiError::conflict(
            "not_done",
            format!(
                "a {} action cannot be published: only what was done",
                row.status
            ),
        ));
    }
    if publication.is_none() && row.published_at.is_none() {
        return into_dto(conn, principal, row);
    }
    let before = serde_json::to_value(into_dto(conn, principal, row.clone())?)?;
    let changes = ActionChanges {
        you_said: Some(publication.map(|p| p.you_said.trim().to_owned())),
        we_did: Some(publication.map(|p| p.we_did.trim().to_owned())),
        published_at: Some(publication.map(|_| to_row(now()))),
        ..Default::default()
    };
    let action = save(conn, principal, &row, changes, if_match)?;
    audit(conn, principal, AuditAction::Update, &before, &action, None)?;
    Ok(action)
}

/// A published action's words, and when it was done (or last changed).
type PublishedRow = (
    Option<String>,
    Option<String>,
    Option<NaiveDateTime>,
    NaiveDateTime,
);

/// What the public sees on a location's "you said, we did": the done actions a manager
/// published, of its plans, latest first, at most 100 (the one rule,
/// [`visibility::published_action_rule`]).
pub fn published(conn: &mut DbConnection, location: LocationId) -> ApiResult<Vec<PublishedChange>> {
    let rows: Vec<PublishedRow> = plan_actions::table
        .inner_join(improvement_plans::table)
        .filter(visibility::published_action_rule(location))
        .select((
            plan_actions::you_said,
            plan_actions::we_did,
            plan_actions::completed_at,
            plan_actions::updated_at,
        ))
        .order((plan_actions::completed_at.desc(), plan_actions::id.desc()))
        .limit(100)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(you_said, we_did, completed_at, updated_at)| {
            Some(PublishedChange {
                you_said: you_said?,
                we_did: we_did?,
                month: completed_at
                    .unwrap_or(updated_at)
                    .format("%Y-%m")
                    .to_string(),
            })
        })
        .collect())
}
