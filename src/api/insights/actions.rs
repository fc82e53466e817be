//! Action insights: actions per period, and where the plans and their reviews stand now.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{Date, Nullable};

use super::dto::{ActionInsights, ActionPeriod, Count, RagCounts};
use super::periods::Periods;
use crate::api::improvement_plans::reviews::store::latest_of;
use crate::auth::Principal;
use crate::db::schema::{improvement_plans, plan_actions};
use crate::db::{day_of_sql, DbConnection};
use crate::domain::ids::{LocationId, PlanId};
use crate::domain::improvement::{ActionStatus, Effectiveness, PlanStatus, Progress};
use crate::domain::insights::{percentage, tally_actions, ActionFacts, ActionTally};
use crate::error::ApiResult;
use crate::store::visibility::{self, at_location, ActionsWithPlans, Rule};

/// Days ahead in which a review counts as due.
pub const REVIEW_DUE_WITHIN_DAYS: i64 = 14;

/// The plans the caller may see, of one location when the request names one.
fn visible_plans(
    principal: &Principal,
    location: Option<LocationId>,
) -> Rule<improvement_plans::table> {
    at_location!(
        visibility::plan_rule(principal),
        improvement_plans::location_id,
        location,
        improvement_plans::table
    )
}

/// An action as the figures read it: the days it was opened, done and checked, its due day,
/// status and effectiveness.
type Row = (
    NaiveDate,
    Option<NaiveDate>,
    Option<NaiveDate>,
    ActionStatus,
    Effectiveness,
    Option<NaiveDate>,
);

pub fn insights(
    conn: &mut DbConnection,
    principal: &Principal,
    periods: &Periods,
    today: NaiveDate,
) -> ApiResult<ActionInsights> {
    // One read of every action the caller may see (an action is seen with its plan), counted in
    // `domain::insights` by the period of each of its days. (Columns both tables have are
    // named in full.)
    let opened_on = day_of_sql(conn, "plan_actions.created_at");
    let done_on = day_of_sql(conn, "plan_actions.completed_at");
    let rule = at_location!(
        visibility::action_rule(principal),
        improvement_plans::location_id,
        periods.location,
        ActionsWithPlans
    );
    let rows: Vec<Row> = plan_actions::table
        .inner_join(improvement_plans::table)
        .filter(rule)
        .select((
            sql::<Date>(&opened_on),
            sql::<Nullable<Date>>(&done_on),
            plan_actions::due_on,
            plan_actions::status,
            plan_actions::effectiveness,
            plan_actions::checked_on,
        ))
        .load(conn)?;
    let actions: Vec<ActionFacts> = rows
        .into_iter()
        .map(
            |(opened_on, done_on, due_on, status, effectiveness, checked_on)| ActionFacts {
                opened_on,
                done_on,
                due_on,
                status,
                effectiveness,
                checked_on,
            },
        )
        .collect();
    let tallies = tally_actions(&actions, periods.interval, today);
    let shown = periods
        .starts
        .iter()
        .map(|&start| {
            let t = tallies.get(&start);
            let of = |f: fn(&ActionTally) -> i64| t.map(f).unwrap_or(0);
            let checks = of(|t| t.checked_effective) + of(|t| t.checked_not_effective);
            ActionPeriod {
                period_start_on: start,
                period_end_on: periods.end_on(start),
                opened: of(|t| t.opened),
                done: of(|t| t.done),
                due: of(|t| t.due),
                overdue: of(|t| t.overdue),
                checked_effective: of(|t| t.checked_effective),
                checked_not_effective: of(|t| t.checked_not_effective),
                effective_percent: percentage(of(|t| t.checked_effective), checks),
                not_effective_percent: percentage(of(|t| t.checked_not_effective), checks),
            }
        })
        .collect();
    let open_now = actions.iter().filter(|a| a.is_open()).count() as i64;
    let overdue_now = actions
        .iter()
        .filter(|a| a.is_open() && a.due_on.is_some_and(|due| due < today))
        .count() as i64;

    let plans = || improvement_plans::table.filter(visible_plans(principal, periods.location));
    let by_status: HashMap<PlanStatus, i64> = plans()
        .group_by(improvement_plans::status)
        .select((improvement_plans::status, count_star()))
        .load::<(PlanStatus, i64)>(conn)?
        .into_iter()
        .collect();
    let active = || plans().filter(improvement_plans::status.eq(PlanStatus::Active));
    let active_ids: Vec<PlanId> = active().select(improvement_plans::id).load(conn)?;
    let latest = latest_of(conn, &active_ids)?;
    let rated =
        |progress: Progress| latest.values().filter(|r| r.progress == progress).count() as i64;
    let active_plans_by_rag = RagCounts {
        red: rated(Progress::Red),
        amber: rated(Progress::Amber),
        green: rated(Progress::Green),
        not_reviewed: (active_ids.len() - latest.len()) as i64,
    };
    let reviews_overdue: i64 = active()
        .filter(improvement_plans::next_review_due.lt(today))
        .count()
        .get_result(conn)?;
    let reviews_due: i64 = active()
        .filter(improvement_plans::next_review_due.ge(today))
        .filter(
            improvement_plans::next_review_due.le(today + Duration::days(REVIEW_DUE_WITHIN_DAYS)),
        )
        .count()
        .get_result(conn)?;

    Ok(ActionInsights {
        span: periods.span(),
        periods: shown,
        open_now,
        overdue_now,
        plans_by_status: Count::every(PlanStatus::ALL, |s| by_status.get(&s).copied().unwrap_or(0)),
        active_plans_by_rag,
        reviews_due,
        reviews_overdue,
    })
}
