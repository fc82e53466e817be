//! Evidence insights: each metric's latest value against its target and its trend, and the
//! evidence per quality statement with the statements left without any.

use std::collections::{BTreeMap, HashMap};

use chrono::{Months, NaiveDateTime};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text, Timestamp};

use super::dto::{EvidenceInsights, LatestValue, MetricInsight, MetricPeriod, StatementEvidence};
use super::periods::Periods;
use crate::auth::Principal;
use crate::db::schema::{evidence, quality_statement_tags};
use crate::db::{period_start_sql, DbConnection};
use crate::domain::evidence::{meets_target, MetricDirection};
use crate::domain::framework::Framework;
use crate::domain::ids::LocationId;
use crate::domain::insights::{trend, Trend};
use crate::domain::RecordKind;
use crate::error::ApiResult;
use crate::store::visibility::{self, at_location, Rule, TaggedEvidence};

/// The evidence the caller may see, not archived, of one location when the request names one.
fn visible(principal: &Principal, location: Option<LocationId>) -> Rule<evidence::table> {
    let rule = visibility::evidence_rule(principal);
    let kept: Rule<evidence::table> =
        Box::new(rule.and(evidence::archived_at.is_null().nullable()));
    at_location!(kept, evidence::location_id, location, evidence::table)
}

pub fn insights(
    conn: &mut DbConnection,
    principal: &Principal,
    framework: &Framework,
    periods: &Periods,
) -> ApiResult<EvidenceInsights> {
    let (from, until) = (periods.from_row(0), periods.until_row());
    let dated = |from: NaiveDateTime| {
        evidence::table
            .filter(visible(principal, periods.location))
            .filter(evidence::dated_at.ge(from))
            .filter(evidence::dated_at.lt(until))
    };

    let period = period_start_sql(conn, periods.interval.as_str(), "dated_at");
    let groups: Vec<(String, String, i64, f64)> = dated(from)
        .filter(evidence::metric_name.is_not_null())
        .filter(evidence::metric_value.is_not_null())
        .group_by(sql::<Text>("1, 2"))
        .select((
            sql::<Text>("metric_name"),
            sql::<Text>(&period),
            sql::<BigInt>("COUNT(*)"),
            sql::<Double>("AVG(metric_value)"),
        ))
        .load(conn)?;
    let mut series: BTreeMap<String, Vec<MetricPeriod>> = BTreeMap::new();
    for (metric, start, count, mean) in groups {
        series.entry(metric).or_default().push(MetricPeriod {
            period_start_on: Periods::parse_start(&start)?,
            count,
            mean,
        });
    }
    let mut metrics = Vec::with_capacity(series.len());
    for (metric, mut points) in series {
        points.sort_by_key(|p| p.period_start_on);
        type Latest = (
            Option<f64>,
            NaiveDateTime,
            Option<f64>,
            Option<MetricDirection>,
            Option<String>,
        );
        let (value, dated_at, target, direction, unit): Latest = dated(from)
            .filter(evidence::metric_name.eq(&metric))
            .filter(evidence::metric_value.is_not_null())
            .select((
                evidence::metric_value,
                evidence::dated_at,
                evidence::metric_target,
                evidence::metric_direction,
                evidence::metric_unit,
            ))
            .order((evidence::dated_at.desc(), evidence::id.desc()))
            .first(conn)?;
        let value = value.unwrap_or_default();
        let moved = trend(&points.iter().map(|p| p.mean).collect::<Vec<_>>());
        let improving = match (
            moved,
            direction.or(target.map(|_| MetricDirection::AtLeast)),
        ) {
            (Trend::Rising, Some(MetricDirection::AtLeast))
            | (Trend::Falling, Some(MetricDirection::AtMost)) => Some(true),
            (Trend::Rising, Some(MetricDirection::AtMost))
            | (Trend::Falling, Some(MetricDirection::AtLeast)) => Some(false),
            _ => None,
        };
        metrics.push(MetricInsight {
            metric,
            unit,
            latest: LatestValue {
                value,
                dated_on: dated_at.date(),
                target,
                direction,
                on_target: meets_target(value, target, direction),
            },
            trend: moved,
            improving,
            periods: points,
        });
    }

    // Evidence per statement: tags of the visible evidence dated in the span, and in the 12
    // months to its end.
    let year_ago = until.checked_sub_months(Months::new(12)).unwrap_or(until);
    let kept: Rule<TaggedEvidence> = Box::new(
        visibility::tagged_evidence_rule(principal).and(evidence::archived_at.is_null().nullable()),
    );
    let rule = at_location!(
        kept,
        evidence::location_id,
        periods.location,
        TaggedEvidence
    );
    // Both counts in one pass over the longer of the two spans.
    let counted: Vec<(String, i64, i64)> = quality_statement_tags::table
        .inner_join(evidence::table.on(evidence::id.eq(quality_statement_tags::record_id)))
        .filter(rule)
        .filter(quality_statement_tags::record_type.eq(RecordKind::Evidence))
        .filter(evidence::dated_at.ge(from.min(year_ago)))
        .filter(evidence::dated_at.lt(until))
        .group_by(quality_statement_tags::quality_statement_id)
        .select((
            quality_statement_tags::quality_statement_id,
            sql::<BigInt>("SUM(CASE WHEN evidence.dated_at >= ")
                .bind::<Timestamp, _>(from)
                .sql(" THEN 1 ELSE 0 END)"),
            sql::<BigInt>("SUM(CASE WHEN evidence.dated_at >= ")
                .bind::<Timestamp, _>(year_ago)
                .sql(" THEN 1 ELSE 0 END)"),
        ))
        .load(conn)?;
    let in_span: HashMap<&str, i64> = counted.iter().map(|(id, n, _)| (id.as_str(), *n)).collect();
    let last_year: HashMap<&str, i64> =
        counted.iter().map(|(id, _, n)| (id.as_str(), *n)).collect();
    let mut statements = Vec::new();
    let mut gaps = Vec::new();
    for question in &framework.key_questions {
        for statement in &question.quality_statements {
            let recent = last_year.get(statement.id.as_str()).copied().unwrap_or(0);
            if recent == 0 {
                gaps.push(statement.id.clone());
            }
            statements.push(StatementEvidence {
                quality_statement_id: statement.id.clone(),
                code: statement.code.clone(),
                title: statement.title.clone(),
                key_question_id: question.id.clone(),
                in_span: in_span.get(statement.id.as_str()).copied().unwrap_or(0),
                last_12_months: recent,
            });
        }
    }

    Ok(EvidenceInsights {
        span: periods.span(),
        framework_id: framework.id.clone(),
        metrics,
        statements,
        gaps,
    })
}
