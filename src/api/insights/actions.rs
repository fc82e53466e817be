//! Action insights: actions per period, and where the plans and their reviews stand now.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

use super::dto::{ActionInsights, ActionPeriod, Count, RagCounts};
use super::periods::Periods;
use crate::api::improvement_plans::reviews::store::latest_of;
use crate::auth::Principal;
use crate::db::schema::{improvement_plans, plan_actions};
use crate::db::{day_of_sql, period_start_sql, DbConnection};
use crate::domain::ids::{LocationId, PlanId};
use crate::domain::improvement::{ActionStatus, PlanStatus, Progress};
use crate::domain::insights::percentage;
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

#[derive(Default)]
struct Tally {
    opened: i64,
    done: i64,
    due: i64,
    overdue: i64,
    effective: i64,
    not_effective: i64,
}

/// The tally of the period starting on `start`, as the database wrote it.
fn tally<'a>(tallies: &'a mut HashMap<NaiveDate, Tally>, start: &str) -> ApiResult<&'a mut Tally> {
    Ok(tallies.entry(Periods::parse_start(start)?).or_default())
}

pub fn insights(
    conn: &mut DbConnection,
    principal: &Principal,
    periods: &Periods,
    today: NaiveDate,
) -> ApiResult<ActionInsights> {
    let from = periods.from_row(0);
    let until = periods.until_row();
    let (first_day, last_day) = (from.date(), periods.to);
    // An action is seen with its plan. (Columns both tables have are named in full.)
    let actions = || {
        let rule = at_location!(
            visibility::action_rule(principal),
            improvement_plans::location_id,
            periods.location,
            ActionsWithPlans
        );
        plan_actions::table
            .inner_join(improvement_plans::table)
            .filter(rule)
    };
    let mut tallies: HashMap<NaiveDate, Tally> = HashMap::new();

    let opened_in = period_start_sql(conn, periods.interval.as_str(), "plan_actions.created_at");
    let opened: Vec<(String, i64)> = actions()
        .filter(plan_actions::created_at.ge(from))
        .filter(plan_actions::created_at.lt(until))
        .group_by(sql::<Text>("1"))
        .select((sql::<Text>(&opened_in), sql::<BigInt>("COUNT(*)")))
        .load(conn)?;
    for (start, n) in opened {
        tally(&mut tallies, &start)?.opened += n;
    }

    let done_in = period_start_sql(conn, periods.interval.as_str(), "plan_actions.completed_at");
    let done: Vec<(String, i64)> = actions()
        .filter(plan_actions::status.eq(ActionStatus::Done))
        .filter(plan_actions::completed_at.ge(from))
        .filter(plan_actions::completed_at.lt(until))
        .group_by(sql::<Text>("1"))
        .select((sql::<Text>(&done_in), sql::<BigInt>("COUNT(*)")))
        .load(conn)?;
    for (start, n) in done {
        tally(&mut tallies, &start)?.done += n;
    }

    // Due in the period, and missed: still open past the day, or done after it.
    let due_in = period_start_sql(conn, periods.interval.as_str(), "due_on");
    let completed_on = day_of_sql(conn, "plan_actions.completed_at");
    let due: Vec<(String, i64, i64)> = actions()
        .filter(plan_actions::status.ne(ActionStatus::Cancelled))
        .filter(plan_actions::due_on.ge(first_day))
        .filter(plan_actions::due_on.le(last_day))
        .group_by(sql::<Text>("1"))
        .select((
            sql::<Text>(&due_in),
            sql::<BigInt>("COUNT(*)"),
            sql::<BigInt>(
                "SUM(CASE WHEN plan_actions.status IN ('open', 'in_progress') AND due_on < ",
            )
            .bind::<Date, _>(today)
            .sql(&format!(
                " THEN 1 WHEN plan_actions.status = 'done' AND {completed_on} > due_on \
                 THEN 1 ELSE 0 END)"
            )),
        ))
        .load(conn)?;
    for (start, n, missed) in due {
        let tally = tally(&mut tallies, &start)?;
        tally.due += n;
        tally.overdue += missed;
    }

    let checked_in = period_start_sql(conn, periods.interval.as_str(), "checked_on");
    let checked: Vec<(String, i64, i64)> = actions()
        .filter(plan_actions::checked_on.ge(first_day))
        .filter(plan_actions::checked_on.le(last_day))
        .group_by(sql::<Text>("1"))
        .select((
            sql::<Text>(&checked_in),
            sql::<BigInt>("SUM(CASE WHEN effectiveness = 'effective' THEN 1 ELSE 0 END)"),
            sql::<BigInt>("SUM(CASE WHEN effectiveness = 'not_effective' THEN 1 ELSE 0 END)"),
        ))
        .load(conn)?;
    for (start, effective, not_effective) in checked {
        let tally = tally(&mut tallies, &start)?;
        tally.effective += effective;
        tally.not_effective += not_effective;
    }

    let shown = periods
        .starts
        .iter()
        .map(|&start| {
            let t = tallies.get(&start);
            let of = |f: fn(&Tally) -> i64| t.map(f).unwrap_or(0);
            let checks = of(|t| t.effective) + of(|t| t.not_effective);
            ActionPeriod {
                period_start_on: start,
                period_end_on: periods.end_on(start),
                opened: of(|t| t.opened),
                done: of(|t| t.done),
                due: of(|t| t.due),
                overdue: of(|t| t.overdue),
                checked_effective: of(|t| t.effective),
                checked_not_effective: of(|t| t.not_effective),
                effective_percent: percentage(of(|t| t.effective), checks),
                not_effective_percent: percentage(of(|t| t.not_effective), checks),
            }
        })
        .collect();

    let still_open = || plan_actions::status.eq_any([ActionStatus::Open, ActionStatus::InProgress]);
    let open_now: i64 = actions().filter(still_open()).count().get_result(conn)?;
    let overdue_now: i64 = actions()
        .filter(still_open())
        .filter(plan_actions::due_on.lt(today))
        .count()
        .get_result(conn)?;

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
