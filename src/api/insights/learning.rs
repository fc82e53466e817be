//! Learning insights: events per period, lessons shared, and the monthly governance rhythm.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::dto::{Count, GovernanceMonth, LearningInsights, LearningPeriod, LocationGovernance};
use super::periods::Periods;
use crate::api::locations::store::places;
use crate::auth::Principal;
use crate::db::schema::learning_events;
use crate::db::{period_start_sql, DbConnection};
use crate::domain::governance;
use crate::domain::ids::LocationId;
use crate::domain::insights::Interval;
use crate::domain::learning::LearningKind;
use crate::error::ApiResult;
use crate::store::visibility::{self, at_location, Rule};

/// The learning events the caller may see, of one location when the request names one.
fn visible(principal: &Principal, location: Option<LocationId>) -> Rule<learning_events::table> {
    at_location!(
        visibility::learning_event_rule(principal),
        learning_events::location_id,
        location,
        learning_events::table
    )
}

pub fn insights(
    conn: &mut DbConnection,
    principal: &Principal,
    periods: &Periods,
    today: NaiveDate,
) -> ApiResult<LearningInsights> {
    let until = periods.until_row();
    let events = |from| {
        learning_events::table
            .filter(visible(principal, periods.location))
            .filter(learning_events::occurred_at.ge(from))
            .filter(learning_events::occurred_at.lt(until))
    };
    let period = period_start_sql(conn, periods.interval.as_str(), "occurred_at");
    let groups: Vec<(String, LearningKind, i64, i64)> = events(periods.from_row(0))
        .group_by(sql::<Text>("1, 2"))
        .select((
            sql::<Text>(&period),
            sql::<Text>("kind"),
            sql::<BigInt>("COUNT(*)"),
            sql::<BigInt>(
                "SUM(CASE WHEN kind = 'lessons_shared' OR shared_via <> '[]' THEN 1 ELSE 0 END)",
            ),
        ))
        .load(conn)?;
    let mut by_period: HashMap<NaiveDate, (HashMap<LearningKind, i64>, i64)> = HashMap::new();
    for (start, kind, n, shared) in groups {
        let entry = by_period.entry(Periods::parse_start(&start)?).or_default();
        *entry.0.entry(kind).or_default() += n;
        entry.1 += shared;
    }
    let shown = periods
        .starts
        .iter()
        .map(|&start| {
            let entry = by_period.get(&start);
            LearningPeriod {
                period_start_on: start,
                period_end_on: periods.end_on(start),
                events: entry.map(|e| e.0.values().sum()).unwrap_or(0),
                by_kind: Count::every(LearningKind::ALL, |k| {
                    entry.and_then(|e| e.0.get(&k).copied()).unwrap_or(0)
                }),
                lessons_shared: entry.map(|e| e.1).unwrap_or(0),
            }
        })
        .collect();

    // The monthly rhythm, per calendar month whatever the interval (a month not yet over is
    // not missed). A review of no location
    // is the whole organisation's, so it counts for each of its locations.
    let months = Interval::Month.periods(periods.starts[0], periods.to);
    let month_of = period_start_sql(conn, "month", "occurred_at");
    let month_start = months[0].and_time(chrono::NaiveTime::MIN);
    // A location's rhythm counts the organisation's own reviews (of no location) too.
    let rule = visibility::learning_event_rule(principal);
    let rhythm: Rule<learning_events::table> = match periods.location {
        Some(location) => Box::new(
            rule.and(
                learning_events::location_id
                    .eq(location)
                    .or(learning_events::location_id.is_null().nullable()),
            ),
        ),
        None => rule,
    };
    let reviews: Vec<(String, Option<LocationId>, i64)> = learning_events::table
        .filter(rhythm)
        .filter(learning_events::occurred_at.ge(month_start))
        .filter(learning_events::occurred_at.lt(until))
        .filter(learning_events::kind.eq(LearningKind::GovernanceReview))
        .group_by(sql::<Text>("1, 2"))
        .select((
            sql::<Text>(&month_of),
            sql::<Nullable<Text>>("location_id"),
            sql::<BigInt>("COUNT(*)"),
        ))
        .load(conn)?;
    let mut held: HashMap<(NaiveDate, Option<LocationId>), i64> = HashMap::new();
    for (start, location, n) in reviews {
        *held
            .entry((Periods::parse_start(&start)?, location))
            .or_default() += n;
    }
    let governance_reviews = places(conn, principal, periods.location)?
        .into_iter()
        .map(|place| {
            let location = place.id;
            let months: Vec<GovernanceMonth> = months
                .iter()
                .map(|&month| {
                    let reviews = held.get(&(month, Some(location))).copied().unwrap_or(0)
                        + held.get(&(month, None)).copied().unwrap_or(0);
                    GovernanceMonth {
                        month_start_on: month,
                        reviews,
                        missed: governance::missed(month, reviews, place.added_at.date(), today),
                    }
                })
                .collect();
            LocationGovernance {
                location_id: location.into(),
                location_name: place.name,
                months_missed: months.iter().filter(|m| m.missed).count() as i64,
                months,
            }
        })
        .collect();

    Ok(LearningInsights {
        span: periods.span(),
        periods: shown,
        governance_reviews,
        co_production: super::co_production::quarters(conn, principal, periods)?,
    })
}
