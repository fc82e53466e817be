//! Concern insights: counts per period grouped by the database, clocks, medians and signals.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::dto::{
    CategorySignal, ConcernInsights, ConcernPeriod, ConcernSignals, Count, OverdueConcern,
};
use super::periods::Periods;
use crate::api::concerns::store::overdue_at;
use crate::auth::Principal;
use crate::db::schema::concerns;
use crate::db::{period_start_sql, tenths_between_sql, DbConnection};
use crate::domain::concern::{ConcernCategory, ConcernStatus, RiskLevel};
use crate::domain::ids::{LocationId, RecordId};
use crate::domain::insights::{median, percentage, signal, BASELINE_PERIODS, SIGNAL_FLOOR};
use crate::error::ApiResult;
use crate::store::support::{to_row, to_utc};
use crate::store::visibility::{self, at_location, Rule};

/// How many of the high-risk concerns open past a deadline are listed.
const OVERDUE_LISTED: i64 = 50;

/// The concerns the caller may see, of one location when the request names one.
fn visible(principal: &Principal, location: Option<LocationId>) -> Rule<concerns::table> {
    at_location!(
        visibility::concern_rule(principal),
        concerns::location_id,
        location,
        concerns::table
    )
}

/// One group of concerns raised in a period: its period, category, risk and status, how many,
/// and how they fared against their clocks.
type Group = (
    String,
    ConcernCategory,
    RiskLevel,
    ConcernStatus,
    i64,
    i64,
    i64,
    i64,
    i64,
);

#[derive(Default)]
struct Tally {
    raised: i64,
    category: HashMap<ConcernCategory, i64>,
    risk: HashMap<RiskLevel, i64>,
    status: HashMap<ConcernStatus, i64>,
    acknowledged_in_time: i64,
    acknowledgement_due: i64,
    resolved_in_time: i64,
    resolution_due: i64,
    /// Tenths of an hour to acknowledge, and of a day to resolve, with how many took each.
    acknowledge_tenths: Vec<(f64, i64)>,
    resolve_tenths: Vec<(f64, i64)>,
}

pub fn insights(
    conn: &mut DbConnection,
    principal: &Principal,
    periods: &Periods,
    now: DateTime<Utc>,
) -> ApiResult<ConcernInsights> {
    let at = to_row(now);
    let (from, until) = (periods.from_row(0), periods.until_row());
    let period = period_start_sql(conn, periods.interval.as_str(), "created_at");
    let raised = |from, until| {
        concerns::table
            .filter(visible(principal, periods.location))
            .filter(concerns::created_at.ge(from))
            .filter(concerns::created_at.lt(until))
    };
    let groups: Vec<Group> = raised(from, until)
        .group_by(sql::<Text>("1, 2, 3, 4"))
        .select((
            sql::<Text>(&period),
            sql::<Text>("category"),
            sql::<Text>("risk"),
            sql::<Text>("status"),
            sql::<BigInt>("COUNT(*)"),
            sql::<BigInt>(
                "SUM(CASE WHEN acknowledged_at IS NOT NULL AND acknowledged_at <= acknowledge_by \
                 THEN 1 ELSE 0 END)",
            ),
            sql::<BigInt>("SUM(CASE WHEN acknowledged_at IS NOT NULL OR acknowledge_by < ")
                .bind::<Timestamp, _>(at)
                .sql(" THEN 1 ELSE 0 END)"),
            sql::<BigInt>(
                "SUM(CASE WHEN resolved_at IS NOT NULL AND resolved_at <= feedback_by \
                 THEN 1 ELSE 0 END)",
            ),
            sql::<BigInt>("SUM(CASE WHEN resolved_at IS NOT NULL OR feedback_by < ")
                .bind::<Timestamp, _>(at)
                .sql(" THEN 1 ELSE 0 END)"),
        ))
        .load(conn)?;
    let mut tallies: HashMap<NaiveDate, Tally> = HashMap::new();
    for (start, category, risk, status, n, ack_in_time, ack_due, res_in_time, res_due) in groups {
        let tally = tallies.entry(Periods::parse_start(&start)?).or_default();
        tally.raised += n;
        *tally.category.entry(category).or_default() += n;
        *tally.risk.entry(risk).or_default() += n;
        *tally.status.entry(status).or_default() += n;
        tally.acknowledged_in_time += ack_in_time;
        tally.acknowledgement_due += ack_due;
        tally.resolved_in_time += res_in_time;
        tally.resolution_due += res_due;
    }
    // The baseline periods before the first shown: only their counts by category.
    let baseline: Vec<(String, ConcernCategory, i64)> =
        raised(periods.from_row(BASELINE_PERIODS), from)
            .group_by(sql::<Text>("1, 2"))
            .select((
                sql::<Text>(&period),
                sql::<Text>("category"),
                sql::<BigInt>("COUNT(*)"),
            ))
            .load(conn)?;
    for (start, category, n) in baseline {
        let tally = tallies.entry(Periods::parse_start(&start)?).or_default();
        *tally.category.entry(category).or_default() += n;
    }
    // Medians, from how many concerns took each tenth of an hour (or day).
    for (moment, unit_hours) in [("acknowledged_at", 1), ("resolved_at", 24)] {
        let band = tenths_between_sql(conn, "created_at", moment, unit_hours);
        let bands: Vec<(String, i64, i64)> = raised(from, until)
            .filter(sql::<diesel::sql_types::Bool>(&format!(
                "{moment} IS NOT NULL"
            )))
            .group_by(sql::<Text>("1, 2"))
            .select((
                sql::<Text>(&period),
                sql::<BigInt>(&band),
                sql::<BigInt>("COUNT(*)"),
            ))
            .load(conn)?;
        for (start, tenths, n) in bands {
            let tally = tallies.entry(Periods::parse_start(&start)?).or_default();
            let value = (tenths as f64) / 10.0;
            match unit_hours {
                1 => tally.acknowledge_tenths.push((value, n)),
                _ => tally.resolve_tenths.push((value, n)),
            }
        }
    }

    let shown: Vec<ConcernPeriod> = periods
        .starts
        .iter()
        .map(|&start| {
            let tally = tallies.get(&start);
            let of = |f: fn(&Tally) -> i64| tally.map(f).unwrap_or(0);
            ConcernPeriod {
                period_start_on: start,
                period_end_on: periods.end_on(start),
                raised: of(|t| t.raised),
                by_category: Count::every(ConcernCategory::ALL, |c| {
                    tally.and_then(|t| t.category.get(&c).copied()).unwrap_or(0)
                }),
                by_risk: Count::every(RiskLevel::ALL, |r| {
                    tally.and_then(|t| t.risk.get(&r).copied()).unwrap_or(0)
                }),
                by_status: Count::every(ConcernStatus::ALL, |s| {
                    tally.and_then(|t| t.status.get(&s).copied()).unwrap_or(0)
                }),
                acknowledged_in_time: of(|t| t.acknowledged_in_time),
                acknowledgement_due: of(|t| t.acknowledgement_due),
                acknowledged_in_time_percent: percentage(
                    of(|t| t.acknowledged_in_time),
                    of(|t| t.acknowledgement_due),
                ),
                resolved_in_time: of(|t| t.resolved_in_time),
                resolution_due: of(|t| t.resolution_due),
                resolved_in_time_percent: percentage(
                    of(|t| t.resolved_in_time),
                    of(|t| t.resolution_due),
                ),
                median_hours_to_acknowledge: tally.and_then(|t| median(&t.acknowledge_tenths)),
                median_days_to_resolve: tally.and_then(|t| median(&t.resolve_tenths)),
            }
        })
        .collect();

    // Each category's count in the last period shown that has begun, against the baseline
    // periods before it; periods before the first concern the caller may see are no history
    // (the service was not recording yet).
    let this_period = periods.interval.start_of(now.date_naive());
    let first_seen: Option<NaiveDateTime> = concerns::table
        .filter(visible(principal, periods.location))
        .select(diesel::dsl::min(concerns::created_at))
        .first(conn)?;
    let last = periods
        .starts
        .iter()
        .rev()
        .find(|s| **s <= this_period)
        .copied();
    let history_starts: Vec<NaiveDate> = match (last, first_seen) {
        (Some(last), Some(first)) => (1..=BASELINE_PERIODS)
            .rev()
            .map(|back| periods.interval.shift(last, -(back as i32)))
            .filter(|start| *start >= periods.interval.start_of(first.date()))
            .collect(),
        _ => Vec::new(),
    };
    let count_of = |start: &NaiveDate, category: ConcernCategory| {
        tallies
            .get(start)
            .and_then(|t| t.category.get(&category).copied())
            .unwrap_or(0)
    };
    let categories = ConcernCategory::ALL
        .iter()
        .filter_map(|&category| {
            let last = last?;
            let history: Vec<i64> = history_starts
                .iter()
                .map(|start| count_of(start, category))
                .collect();
            let latest = count_of(&last, category);
            signal(&history, latest).map(|baseline| CategorySignal {
                category,
                period_start_on: last,
                count: latest,
                baseline_mean: baseline.mean,
                baseline_standard_deviation: baseline.standard_deviation,
                threshold: baseline.threshold,
            })
        })
        .collect();

    // Open concerns, by the statuses that are (so the index by status narrows the count); an
    // overdue concern is always open, as acknowledging or resolving stops its clock.
    let open_statuses: Vec<ConcernStatus> = ConcernStatus::ALL
        .iter()
        .copied()
        .filter(|s| s.is_open())
        .collect();
    let open = || {
        concerns::table
            .filter(visible(principal, periods.location))
            .filter(concerns::status.eq_any(open_statuses.clone()))
    };
    let open_now: i64 = open().count().get_result(conn)?;
    let overdue_now: i64 = open().filter(overdue_at(at)).count().get_result(conn)?;
    let high_risk = || {
        open()
            .filter(concerns::risk.eq_any([RiskLevel::High, RiskLevel::Critical]))
            .filter(overdue_at(at))
    };
    let high_risk_overdue_count: i64 = high_risk().count().get_result(conn)?;
    type Listed = (
        RecordId,
        ConcernCategory,
        RiskLevel,
        ConcernStatus,
        Option<LocationId>,
        NaiveDateTime,
        NaiveDateTime,
        NaiveDateTime,
    );
    let listed: Vec<Listed> = high_risk()
        .select((
            concerns::id,
            concerns::category,
            concerns::risk,
            concerns::status,
            concerns::location_id,
            concerns::created_at,
            concerns::acknowledge_by,
            concerns::feedback_by,
        ))
        .order((concerns::created_at.asc(), concerns::id.asc()))
        .limit(OVERDUE_LISTED)
        .load(conn)?;
    let high_risk_overdue = listed
        .into_iter()
        .map(
            |(id, category, risk, status, location, raised, acknowledge_by, feedback_by)| {
                OverdueConcern {
                    id: id.into(),
                    category,
                    risk,
                    status,
                    location_id: location.map(Into::into),
                    raised_at: to_utc(raised),
                    acknowledge_due_at: to_utc(acknowledge_by),
                    feedback_due_at: to_utc(feedback_by),
                }
            },
        )
        .collect();

    Ok(ConcernInsights {
        span: periods.span(),
        periods: shown,
        open_now,
        overdue_now,
        signals: ConcernSignals {
            rule: format!(
                "a category is a signal when its count in the last period is at least \
                 {SIGNAL_FLOOR} and above the mean plus two standard deviations of its counts \
                 in the {BASELINE_PERIODS} periods before (with fewer periods since the first \
                 concern counted, there is no baseline yet)"
            ),
            categories,
            high_risk_overdue_count,
            high_risk_overdue,
        },
    })
}
