//! Concern insights: counts per period, clocks, medians and signals.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};

use super::dto::{
    CategorySignal, ConcernInsights, ConcernPeriod, ConcernSignals, Count, OverdueConcern,
};
use super::periods::Periods;
use crate::api::concerns::store::overdue_at;
use crate::auth::Principal;
use crate::db::schema::concerns;
use crate::db::{epoch_sql, DbConnection};
use crate::domain::concern::{ConcernCategory, ConcernStatus, RiskLevel};
use crate::domain::ids::{LocationId, RecordId};
use crate::domain::insights::{
    percentage, signal, tally_concerns, ConcernFacts, ConcernTally, BASELINE_PERIODS, SIGNAL_FLOOR,
};
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

/// A concern as the figures read it: when it was raised, what it is, where it is, and its
/// clocks, the moments as Unix seconds.
type Row = (
    i64,
    ConcernCategory,
    RiskLevel,
    ConcernStatus,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
);

pub fn insights(
    conn: &mut DbConnection,
    principal: &Principal,
    periods: &Periods,
    now: DateTime<Utc>,
) -> ApiResult<ConcernInsights> {
    let at = to_row(now);
    // One read of the few columns the figures need, counted in `domain::insights`: cheaper than
    // grouping in the database, which sorts every row by its groups (and medians need every
    // duration anyway).
    let epoch = |column: &str| epoch_sql(conn, column);
    let (raised_at, acknowledged_at, resolved_at, acknowledge_by, feedback_by) = (
        epoch("created_at"),
        epoch("acknowledged_at"),
        epoch("resolved_at"),
        epoch("acknowledge_by"),
        epoch("feedback_by"),
    );
    let from = periods.from_row(0);
    let raised = |from, until| {
        concerns::table
            .filter(visible(principal, periods.location))
            .filter(concerns::created_at.ge(from))
            .filter(concerns::created_at.lt(until))
    };
    let rows: Vec<Row> = raised(from, periods.until_row())
        .select((
            sql::<BigInt>(&raised_at),
            concerns::category,
            concerns::risk,
            concerns::status,
            sql::<Nullable<BigInt>>(&acknowledged_at),
            sql::<Nullable<BigInt>>(&resolved_at),
            sql::<BigInt>(&acknowledge_by),
            sql::<BigInt>(&feedback_by),
        ))
        .load(conn)?;
    let facts: Vec<ConcernFacts> = rows
        .into_iter()
        .map(
            |(
                raised_at,
                category,
                risk,
                status,
                acknowledged_at,
                resolved_at,
                acknowledge_by,
                feedback_by,
            )| {
                ConcernFacts {
                    raised_at,
                    category,
                    risk,
                    status,
                    acknowledged_at,
                    resolved_at,
                    acknowledge_by,
                    feedback_by,
                }
            },
        )
        .collect();
    let mut tallies = tally_concerns(&facts, periods.interval, now.timestamp());
    // The baseline periods before the first shown: only when each concern was raised, and what
    // about.
    let baseline: Vec<(i64, ConcernCategory)> = raised(periods.from_row(BASELINE_PERIODS), from)
        .select((sql::<BigInt>(&raised_at), concerns::category))
        .load(conn)?;
    for (raised, category) in baseline {
        if let Some(raised) = DateTime::from_timestamp(raised, 0) {
            let period = periods.interval.start_of(raised.date_naive());
            *tallies
                .entry(period)
                .or_default()
                .by_category
                .entry(category)
                .or_default() += 1;
        }
    }

    let shown: Vec<ConcernPeriod> = periods
        .starts
        .iter()
        .map(|&start| {
            let tally = tallies.get(&start);
            let of = |f: fn(&ConcernTally) -> i64| tally.map(f).unwrap_or(0);
            ConcernPeriod {
                period_start_on: start,
                period_end_on: periods.end_on(start),
                raised: of(|t| t.raised),
                by_category: Count::every(ConcernCategory::ALL, |c| {
                    tally
                        .and_then(|t| t.by_category.get(&c).copied())
                        .unwrap_or(0)
                }),
                by_risk: Count::every(RiskLevel::ALL, |r| {
                    tally.and_then(|t| t.by_risk.get(&r).copied()).unwrap_or(0)
                }),
                by_status: Count::every(ConcernStatus::ALL, |s| {
                    tally
                        .and_then(|t| t.by_status.get(&s).copied())
                        .unwrap_or(0)
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
                median_hours_to_acknowledge: tally
                    .and_then(ConcernTally::median_hours_to_acknowledge),
                median_days_to_resolve: tally.and_then(ConcernTally::median_days_to_resolve),
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
            .and_then(|t| t.by_category.get(&category).copied())
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
