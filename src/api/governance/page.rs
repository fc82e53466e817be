//! The pack as a printable page: server-rendered from an askama template, with the charts as
//! inline SVG and their numbers in tables beside them. No script: it prints to A4 as it is.

use askama::Template;

use super::charts::{bars, Series};
use super::dto::GovernancePack;
use crate::domain::governance::month_name;
use crate::error::{ApiError, ApiResult};

/// One month of the trend tables.
struct TrendRow {
    label: String,
    raised: i64,
    acknowledged: String,
    resolved: String,
    opened: i64,
    done: i64,
    events: i64,
}

#[derive(Template)]
#[template(path = "governance_pack.html")]
struct PackPage<'a> {
    pack: &'a GovernancePack,
    month_name: String,
    generated: String,
    trend: Vec<TrendRow>,
    concerns_chart: String,
    actions_chart: String,
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}%"))
}

pub fn render(pack: &GovernancePack) -> ApiResult<String> {
    let trends = &pack.trends;
    let trend: Vec<TrendRow> = trends
        .concerns
        .iter()
        .zip(&trends.actions)
        .zip(&trends.learning)
        .map(|((concerns, actions), learning)| TrendRow {
            label: concerns.period_start_on.format("%b %Y").to_string(),
            raised: concerns.raised,
            acknowledged: percent(concerns.acknowledged_in_time_percent),
            resolved: percent(concerns.resolved_in_time_percent),
            opened: actions.opened,
            done: actions.done,
            events: learning.events,
        })
        .collect();
    let labels: Vec<String> = trend.iter().map(|row| row.label.clone()).collect();
    let series = |f: fn(&TrendRow) -> i64| trend.iter().map(|row| f(row) as f64).collect();
    let concerns_chart = bars(
        "concerns-chart",
        "Concerns raised per month",
        &labels,
        &[Series {
            name: "Raised",
            values: series(|row| row.raised),
            class: "series-a",
        }],
    );
    let actions_chart = bars(
        "actions-chart",
        "Actions opened and done per month, and learning events",
        &labels,
        &[
            Series {
                name: "Opened",
                values: series(|row| row.opened),
                class: "series-a",
            },
            Series {
                name: "Done",
                values: series(|row| row.done),
                class: "series-c",
            },
            Series {
                name: "Learning events",
                values: series(|row| row.events),
                class: "series-b",
            },
        ],
    );
    PackPage {
        pack,
        month_name: month_name(pack.period_start_on),
        generated: pack.generated_at.format("%-d %B %Y %H:%M UTC").to_string(),
        trend,
        concerns_chart,
        actions_chart,
    }
    .render()
    .map_err(ApiError::internal)
}
