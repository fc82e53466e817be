//! The governance pack, assembled from the insights and from the month's records, each read
//! through its kind's visibility rule.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use diesel::prelude::*;

use super::dto::{
    DidNotGoWell, GovernancePack, NeedsToChange, OwnerActions, PackAction, PackLessons,
    PackLimitingStatement, PackRecognition, PackStatement, PackTrends, RaisedConcern,
    RecordedReview, ResolvedConcern, ReviewDue, WentWell,
};
use crate::api::insights::dto::InsightsQuery;
use crate::api::insights::periods::Periods;
use crate::api::insights::{actions, concerns, evidence, learning};
use crate::api::shared::Person;
use crate::api::{locations, organisation, self_assessments};
use crate::auth::Principal;
use crate::db::columns::JsonText;
use crate::db::schema::{
    concerns as concern_rows, improvement_plans, learning_events as learning_rows, plan_actions,
    recognitions,
};
use crate::db::DbConnection;
use crate::domain::concern::{ConcernCategory, ConcernStatus, RiskLevel};
use crate::domain::framework::Framework;
use crate::domain::ids::{ActionId, LearningEventId, LocationId, PlanId, RecognitionId, RecordId};
use crate::domain::improvement::{
    ActionStatus, Approval, Effectiveness, PlanStatus, RecognitionKind,
};
use crate::domain::insights::Interval;
use crate::error::ApiResult;
use crate::store::support::to_utc;
use crate::store::visibility::{self, actions as visible_actions};

/// How many of each list the pack shows.
const LISTED: i64 = 100;
/// How many open actions it lists by owner.
const OPEN_ACTIONS_LISTED: i64 = 200;

type ActionColumns = (
    ActionId,
    PlanId,
    String,
    String,
    String,
    Option<String>,
    Option<NaiveDate>,
    ActionStatus,
    Effectiveness,
    Option<NaiveDate>,
);

fn pack_action(
    (
        id,
        plan_id,
        plan_title,
        description,
        owner_sub,
        owner_name,
        due_on,
        status,
        effectiveness,
        checked_on,
    ): ActionColumns,
) -> PackAction {
    PackAction {
        id: id.into(),
        plan_id: plan_id.into(),
        plan_title,
        description,
        owner: Person::user(owner_sub, owner_name),
        due_on,
        status,
        effectiveness,
        checked_on,
    }
}

/// The actions the caller may see, of one location when the pack is a location's, as the
/// columns a pack shows (a macro: the boxed join's type cannot be named).
macro_rules! pack_actions {
    ($principal:expr, $location:expr) => {{
        let mut query = visible_actions!($principal)
            .select((
                plan_actions::id,
                plan_actions::plan_id,
                improvement_plans::title,
                plan_actions::description,
                plan_actions::owner_sub,
                plan_actions::owner_name,
                plan_actions::due_on,
                plan_actions::status,
                plan_actions::effectiveness,
                plan_actions::checked_on,
            ))
            .order((plan_actions::due_on.asc(), plan_actions::id.asc()));
        if let Some(location) = $location {
            query = query.filter(improvement_plans::location_id.eq(location));
        }
        query
    }};
}

pub fn pack(
    conn: &mut DbConnection,
    principal: &Principal,
    framework: &Framework,
    month: NaiveDate,
    location: Option<LocationId>,
    now: DateTime<Utc>,
) -> ApiResult<GovernancePack> {
    let today = now.date_naive();
    let next_month = Interval::Month.shift(month, 1);
    let month_end = next_month - Duration::days(1);
    let (start, end) = (
        month.and_time(NaiveTime::MIN),
        next_month.and_time(NaiveTime::MIN),
    );
    // Six months to the pack's month, for the trends; the month itself is the last period.
    let periods = Periods::read(
        conn,
        principal,
        &InsightsQuery {
            from: Some(Interval::Month.shift(month, -5)),
            to: Some(month_end),
            interval: Some(Interval::Month),
            location_id: location.map(Into::into),
        },
        today,
    )?;
    let organisation_name = organisation::store::find(conn, &principal.organisation_id)?.name;
    // The pack's locations: its own, or every one in the caller's reach.
    let places = locations::store::places(conn, principal, location)?;
    let location_name = location.and_then(|_| places.first().map(|p| p.name.clone()));

    let concern_figures = concerns::insights(conn, principal, &periods, now)?;
    let action_figures = actions::insights(conn, principal, &periods, today)?;
    let learning_figures = learning::insights(conn, principal, &periods, today)?;
    let evidence_figures = evidence::insights(conn, principal, framework, &periods)?;
    let (metrics_on_target, metrics_off_target): (Vec<_>, Vec<_>) = evidence_figures
        .metrics
        .into_iter()
        .filter(|m| m.latest.on_target.is_some())
        .partition(|m| m.latest.on_target == Some(true));
    let statement = |id: &str| {
        framework
            .statements()
            .find(|s| s.id == id)
            .map(|s| PackStatement {
                quality_statement_id: s.id.clone(),
                code: s.code.clone(),
                title: s.title.clone(),
            })
    };

    // What went well is what the organisation stands behind: approved recognitions only.
    let mut recognised = visibility::recognitions(principal)
        .filter(recognitions::approval.eq(Approval::Approved))
        .filter(recognitions::occurred_on.ge(month))
        .filter(recognitions::occurred_on.lt(next_month))
        .select((
            recognitions::id,
            recognitions::kind,
            recognitions::title,
            recognitions::message,
            recognitions::occurred_on,
        ))
        .order((recognitions::occurred_on.asc(), recognitions::id.asc()))
        .limit(LISTED);
    if let Some(location) = location {
        recognised = recognised.filter(recognitions::location_id.eq(location));
    }
    let recognitions = recognised
        .load::<(
            RecognitionId,
            RecognitionKind,
            String,
            Option<String>,
            NaiveDate,
        )>(conn)?
        .into_iter()
        .map(|(id, kind, title, message, occurred_on)| PackRecognition {
            id: id.into(),
            kind,
            title,
            message,
            occurred_on,
        })
        .collect();

    let checked =
        |effectiveness: Effectiveness, conn: &mut DbConnection| -> ApiResult<Vec<PackAction>> {
            Ok(pack_actions!(principal, location)
                .filter(plan_actions::effectiveness.eq(effectiveness))
                .filter(plan_actions::checked_on.ge(month))
                .filter(plan_actions::checked_on.lt(next_month))
                .limit(LISTED)
                .load::<ActionColumns>(conn)?
                .into_iter()
                .map(pack_action)
                .collect())
        };
    let actions_effective = checked(Effectiveness::Effective, conn)?;
    let actions_not_effective = checked(Effectiveness::NotEffective, conn)?;
    let still_open = [ActionStatus::Open, ActionStatus::InProgress];
    let actions_overdue = pack_actions!(principal, location)
        .filter(plan_actions::status.eq_any(still_open))
        .filter(plan_actions::due_on.lt(today))
        .limit(LISTED)
        .load::<ActionColumns>(conn)?
        .into_iter()
        .map(pack_action)
        .collect();
    let mut by_owner: BTreeMap<(String, Option<String>), Vec<PackAction>> = BTreeMap::new();
    for action in pack_actions!(principal, location)
        .filter(plan_actions::status.eq_any(still_open))
        .limit(OPEN_ACTIONS_LISTED)
        .load::<ActionColumns>(conn)?
    {
        let owner = (action.4.clone(), action.5.clone());
        by_owner.entry(owner).or_default().push(pack_action(action));
    }
    let open_actions_by_owner = by_owner
        .into_iter()
        .map(|((sub, name), actions)| OwnerActions {
            owner: Person::user(sub, name),
            actions,
        })
        .collect();

    let concerns_in = || {
        let mut query = visibility::concerns(principal);
        if let Some(location) = location {
            query = query.filter(concern_rows::location_id.eq(location));
        }
        query
    };
    let concerns_resolved = concerns_in()
        .filter(concern_rows::status.eq_any([ConcernStatus::Resolved, ConcernStatus::Closed]))
        .filter(concern_rows::resolved_at.ge(start))
        .filter(concern_rows::resolved_at.lt(end))
        .select((
            concern_rows::id,
            concern_rows::category,
            concern_rows::resolved_at,
            concern_rows::outcome,
        ))
        .order((concern_rows::resolved_at.asc(), concern_rows::id.asc()))
        .limit(LISTED)
        .load::<(
            RecordId,
            ConcernCategory,
            Option<NaiveDateTime>,
            Option<String>,
        )>(conn)?
        .into_iter()
        .map(|(id, category, resolved, outcome)| ResolvedConcern {
            id: id.into(),
            category,
            resolved_on: resolved.map(|r| r.date()).unwrap_or(month),
            outcome,
        })
        .collect();
    let high_risk_raised = concerns_in()
        .filter(concern_rows::risk.eq_any([RiskLevel::High, RiskLevel::Critical]))
        .filter(concern_rows::created_at.ge(start))
        .filter(concern_rows::created_at.lt(end))
        .select((
            concern_rows::id,
            concern_rows::category,
            concern_rows::risk,
            concern_rows::status,
            concern_rows::created_at,
        ))
        .order((concern_rows::created_at.asc(), concern_rows::id.asc()))
        .limit(LISTED)
        .load::<(
            RecordId,
            ConcernCategory,
            RiskLevel,
            ConcernStatus,
            NaiveDateTime,
        )>(conn)?
        .into_iter()
        .map(|(id, category, risk, status, raised)| RaisedConcern {
            id: id.into(),
            category,
            risk,
            status,
            raised_on: raised.date(),
        })
        .collect();

    let learning_in = || {
        let mut query = visibility::learning_events(principal);
        if let Some(location) = location {
            query = query.filter(learning_rows::location_id.eq(location));
        }
        query
    };
    let lessons = learning_in()
        .filter(learning_rows::occurred_at.ge(start))
        .filter(learning_rows::occurred_at.lt(end))
        .filter(learning_rows::lessons.ne(JsonText(Vec::<String>::new())))
        .select((
            learning_rows::id,
            learning_rows::title,
            learning_rows::lessons,
        ))
        .order((learning_rows::occurred_at.asc(), learning_rows::id.asc()))
        .limit(LISTED)
        .load::<(LearningEventId, String, JsonText<Vec<String>>)>(conn)?
        .into_iter()
        .map(|(id, title, lessons)| PackLessons {
            learning_event_id: id.into(),
            title,
            lessons: lessons.0,
        })
        .collect();
    let month_text = month.format("%Y-%m").to_string();
    let reviews = learning_in()
        .filter(learning_rows::governance_month.eq(&month_text))
        .select((
            learning_rows::id,
            learning_rows::occurred_at,
            learning_rows::title,
            learning_rows::went_well,
            learning_rows::did_not_go_well,
            learning_rows::to_change,
        ))
        .order(learning_rows::id.asc())
        .load::<(
            LearningEventId,
            NaiveDateTime,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        )>(conn)?
        .into_iter()
        .map(
            |(id, at, title, went_well, did_not_go_well, to_change)| RecordedReview {
                learning_event_id: id.into(),
                occurred_at: to_utc(at),
                title,
                went_well,
                did_not_go_well,
                to_change,
            },
        )
        .collect();

    // Reviews falling due by the end of the month after the pack's.
    let horizon = Interval::Month.shift(next_month, 1) - Duration::days(1);
    let mut due = visibility::plans(principal)
        .filter(improvement_plans::status.eq(PlanStatus::Active))
        .filter(improvement_plans::next_review_due.le(horizon))
        .select((
            improvement_plans::id,
            improvement_plans::title,
            improvement_plans::next_review_due,
        ))
        .order((
            improvement_plans::next_review_due.asc(),
            improvement_plans::id.asc(),
        ))
        .limit(LISTED);
    if let Some(location) = location {
        due = due.filter(improvement_plans::location_id.eq(location));
    }
    let reviews_due = due
        .load::<(PlanId, String, Option<NaiveDate>)>(conn)?
        .into_iter()
        .filter_map(|(id, title, due)| {
            due.map(|next_review_due_on| ReviewDue {
                plan_id: id.into(),
                title,
                next_review_due_on,
                overdue: next_review_due_on < today,
            })
        })
        .collect();

    // The self-assessment's limiting statements, location by location.
    let mut limiting_statements = Vec::new();
    for place in &places {
        let summary = self_assessments::store::summary(conn, principal, framework, place.id)?;
        let scores: HashMap<&str, u8> = summary
            .statements
            .iter()
            .filter_map(|s| {
                s.latest
                    .as_ref()
                    .map(|l| (s.quality_statement_id.as_str(), l.score))
            })
            .collect();
        for limiting in framework.limiting_statements(&scores) {
            limiting_statements.push(PackLimitingStatement {
                location_id: place.id.into(),
                location_name: place.name.clone(),
                key_question_id: limiting.key_question_id.to_owned(),
                quality_statement_id: limiting.statement.id.clone(),
                code: limiting.statement.code.clone(),
                title: limiting.statement.title.clone(),
                score: limiting.score,
                caps_at: limiting.caps_at.to_owned(),
            });
        }
    }

    Ok(GovernancePack {
        month: month_text,
        period_start_on: month,
        period_end_on: month_end,
        organisation_name,
        location_id: location.map(Into::into),
        location_name,
        generated_at: now,
        went_well: WentWell {
            recognitions,
            actions_effective,
            metrics_on_target,
            concerns_resolved,
            lessons,
        },
        did_not_go_well: DidNotGoWell {
            overdue_concerns: concern_figures.overdue_now,
            high_risk_overdue_count: concern_figures.signals.high_risk_overdue_count,
            high_risk_overdue: concern_figures.signals.high_risk_overdue,
            actions_overdue_count: action_figures.overdue_now,
            high_risk_raised,
            actions_not_effective,
            actions_overdue,
            metrics_off_target,
            signals: concern_figures.signals.categories,
        },
        needs_to_change: NeedsToChange {
            reviews_due,
            open_actions_count: action_figures.open_now,
            open_actions_by_owner,
            statements_without_recent_evidence: evidence_figures
                .gaps
                .iter()
                .filter_map(|id| statement(id))
                .collect(),
            limiting_statements,
        },
        trends: PackTrends {
            concerns: concern_figures.periods,
            actions: action_figures.periods,
            learning: learning_figures.periods,
        },
        governance_rhythm: learning_figures.governance_reviews,
        reviews,
    })
}
