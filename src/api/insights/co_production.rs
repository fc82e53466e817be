//! Co-production: plans made with people using the service, and joint reviews (learning events
//! and plan reviews they or their relatives took part in), per calendar quarter.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use super::dto::CoProductionQuarter;
use super::periods::Periods;
use crate::api::shared::Participant;
use crate::auth::Principal;
use crate::db::columns::JsonText;
use crate::db::schema::{improvement_plans, learning_events, plan_reviews};
use crate::db::DbConnection;
use crate::domain::insights::Interval;
use crate::domain::learning::{is_joint, LearningKind};
use crate::error::ApiResult;
use crate::store::visibility::{self, at_location};

/// Each quarter the span touches, with its co-produced plans (by the day they were made) and
/// joint reviews, counting only what the caller may read.
pub fn quarters(
    conn: &mut DbConnection,
    principal: &Principal,
    periods: &Periods,
) -> ApiResult<Vec<CoProductionQuarter>> {
    let quarters = Interval::Quarter.periods(periods.starts[0], periods.to);
    let from = quarters[0].and_time(NaiveTime::MIN);
    let until = periods.until_row();
    let roles =
        |participants: &[Participant]| participants.iter().map(|p| p.role).collect::<Vec<_>>();
    let mut joint: Vec<NaiveDate> = Vec::new();
    let events: Vec<(NaiveDateTime, LearningKind, JsonText<Vec<Participant>>)> =
        learning_events::table
            .filter(at_location!(
                visibility::learning_event_rule(principal),
                learning_events::location_id,
                periods.location,
                learning_events::table
            ))
            .filter(learning_events::occurred_at.ge(from))
            .filter(learning_events::occurred_at.lt(until))
            .select((
                learning_events::occurred_at,
                learning_events::kind,
                learning_events::participants,
            ))
            .load(conn)?;
    joint.extend(
        events
            .into_iter()
            .filter(|(_, kind, people)| is_joint(Some(*kind), roles(&people.0)))
            .map(|(at, _, _)| at.date()),
    );
    let reviews: Vec<(NaiveDate, JsonText<Vec<Participant>>)> = plan_reviews::table
        .inner_join(improvement_plans::table)
        .filter(at_location!(
            visibility::plan_review_rule(principal),
            improvement_plans::location_id,
            periods.location,
            visibility::ReviewsWithPlans
        ))
        .filter(plan_reviews::reviewed_on.ge(quarters[0]))
        .filter(plan_reviews::reviewed_on.le(periods.to))
        .select((plan_reviews::reviewed_on, plan_reviews::participants))
        .load(conn)?;
    joint.extend(
        reviews
            .into_iter()
            .filter(|(_, people)| is_joint(None, roles(&people.0)))
            .map(|(on, _)| on),
    );
    let plans: Vec<NaiveDateTime> = improvement_plans::table
        .filter(at_location!(
            visibility::plan_rule(principal),
            improvement_plans::location_id,
            periods.location,
            improvement_plans::table
        ))
        .filter(improvement_plans::co_produced.eq(true))
        .filter(improvement_plans::created_at.ge(from))
        .filter(improvement_plans::created_at.lt(until))
        .select(improvement_plans::created_at)
        .load(conn)?;
    let count = |days: Vec<NaiveDate>| {
        let mut counted: HashMap<NaiveDate, i64> = HashMap::new();
        for day in days {
            *counted.entry(Interval::Quarter.start_of(day)).or_default() += 1;
        }
        counted
    };
    let joint = count(joint);
    let plans = count(plans.into_iter().map(|at| at.date()).collect());
    Ok(quarters
        .into_iter()
        .map(|start| CoProductionQuarter {
            quarter_start_on: start,
            co_produced_plans: plans.get(&start).copied().unwrap_or(0),
            joint_reviews: joint.get(&start).copied().unwrap_or(0),
        })
        .collect())
}
