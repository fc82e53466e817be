//! The insights' query and answers: counts per calendar period, with the figures a governance
//! meeting reads beside them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::concern::{ConcernCategory, ConcernStatus, RiskLevel};
use crate::domain::evidence::MetricDirection;
use crate::domain::improvement::PlanStatus;
use crate::domain::insights::{Interval, Trend};
use crate::domain::learning::LearningKind;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InsightsQuery {
    /// The first day counted; counting starts at the beginning of its period. Default: eleven
    /// periods before the current one (twelve periods in all).
    pub from: Option<NaiveDate>,
    /// The last day counted (default: today, UTC). At most 104 periods after `from`.
    pub to: Option<NaiveDate>,
    /// `week` (from Monday), `month` (default) or `quarter`.
    pub interval: Option<Interval>,
    /// One location's figures; otherwise every location the caller reaches.
    pub location_id: Option<Uuid>,
}

/// What every insights answer says it counted.
#[derive(Debug, Serialize, ToSchema)]
pub struct Span {
    pub interval: Interval,
    /// The first day of the first period.
    pub from_on: NaiveDate,
    /// The last day counted.
    pub to_on: NaiveDate,
    pub location_id: Option<Uuid>,
}

/// A count of one value of an enumeration.
#[derive(Debug, Serialize, ToSchema)]
pub struct Count<T> {
    pub value: T,
    #[schema(minimum = 0)]
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConcernPeriod {
    pub period_start_on: NaiveDate,
    /// The last day of the period (or of the span, for a period still running).
    pub period_end_on: NaiveDate,
    /// Concerns raised in the period.
    #[schema(minimum = 0)]
    pub raised: i64,
    /// Of those, how many of each category (every category, zeros included).
    pub by_category: Vec<Count<ConcernCategory>>,
    pub by_risk: Vec<Count<RiskLevel>>,
    /// Where they are now.
    pub by_status: Vec<Count<ConcernStatus>>,
    /// Of the concerns whose acknowledgement clock has run out or that were acknowledged,
    /// those acknowledged within it.
    #[schema(minimum = 0)]
    pub acknowledged_in_time: i64,
    #[schema(minimum = 0)]
    pub acknowledgement_due: i64,
    /// `acknowledged_in_time` as a percentage of `acknowledgement_due`; null when none was due.
    #[schema(minimum = 0, maximum = 100)]
    pub acknowledged_in_time_percent: Option<f64>,
    /// Of the concerns whose feedback clock has run out or that were resolved, those resolved
    /// (with feedback: resolving records the outcome) within it.
    #[schema(minimum = 0)]
    pub resolved_in_time: i64,
    #[schema(minimum = 0)]
    pub resolution_due: i64,
    #[schema(minimum = 0, maximum = 100)]
    pub resolved_in_time_percent: Option<f64>,
    /// Median time from raising to acknowledgement, in hours (to 0.1 h); null when none was
    /// acknowledged.
    #[schema(minimum = 0)]
    pub median_hours_to_acknowledge: Option<f64>,
    /// Median time from raising to resolution, in days (to 0.1 day).
    #[schema(minimum = 0)]
    pub median_days_to_resolve: Option<f64>,
}

/// A category raised well above its own recent baseline in the last period.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategorySignal {
    pub category: ConcernCategory,
    pub period_start_on: NaiveDate,
    #[schema(minimum = 0)]
    pub count: i64,
    /// The mean of the six periods before.
    pub baseline_mean: f64,
    pub baseline_standard_deviation: f64,
    /// The mean plus two standard deviations: the count is above it.
    pub threshold: f64,
}

/// A high or critical concern still open past one of its deadlines.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueConcern {
    pub id: Uuid,
    pub category: ConcernCategory,
    pub risk: RiskLevel,
    pub status: ConcernStatus,
    pub location_id: Option<Uuid>,
    pub raised_at: DateTime<Utc>,
    pub acknowledge_due_at: DateTime<Utc>,
    pub feedback_due_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConcernSignals {
    /// The rule the category signals follow, in words.
    pub rule: String,
    pub categories: Vec<CategorySignal>,
    /// How many high and critical concerns are open past a deadline now.
    #[schema(minimum = 0)]
    pub high_risk_overdue_count: i64,
    /// The oldest 50 of them.
    pub high_risk_overdue: Vec<OverdueConcern>,
}

/// Concerns per period: what was raised, how fast it was answered, and what stands out.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConcernInsights {
    #[serde(flatten)]
    pub span: Span,
    pub periods: Vec<ConcernPeriod>,
    /// Concerns not yet resolved or closed, now (whenever raised).
    #[schema(minimum = 0)]
    pub open_now: i64,
    /// Concerns past a deadline unmet, now.
    #[schema(minimum = 0)]
    pub overdue_now: i64,
    pub signals: ConcernSignals,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionPeriod {
    pub period_start_on: NaiveDate,
    pub period_end_on: NaiveDate,
    /// Actions added in the period.
    #[schema(minimum = 0)]
    pub opened: i64,
    /// Actions completed in the period.
    #[schema(minimum = 0)]
    pub done: i64,
    /// Actions due in the period (cancelled ones aside).
    #[schema(minimum = 0)]
    pub due: i64,
    /// Of those, the ones not done by their due day (done late, or still open past it).
    #[schema(minimum = 0)]
    pub overdue: i64,
    /// Actions whose effect was checked in the period, and found to work.
    #[schema(minimum = 0)]
    pub checked_effective: i64,
    #[schema(minimum = 0)]
    pub checked_not_effective: i64,
    /// `checked_effective` as a percentage of every check; null when none was checked.
    #[schema(minimum = 0, maximum = 100)]
    pub effective_percent: Option<f64>,
    #[schema(minimum = 0, maximum = 100)]
    pub not_effective_percent: Option<f64>,
}

/// Plans by their latest review's RAG rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct RagCounts {
    #[schema(minimum = 0)]
    pub red: i64,
    #[schema(minimum = 0)]
    pub amber: i64,
    #[schema(minimum = 0)]
    pub green: i64,
    /// Active plans never reviewed.
    #[schema(minimum = 0)]
    pub not_reviewed: i64,
}

/// Actions per period, and where the plans stand now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionInsights {
    #[serde(flatten)]
    pub span: Span,
    pub periods: Vec<ActionPeriod>,
    /// Actions open or in progress now.
    #[schema(minimum = 0)]
    pub open_now: i64,
    /// Of those, the ones past their due day.
    #[schema(minimum = 0)]
    pub overdue_now: i64,
    /// Plans by status (every status, zeros included).
    pub plans_by_status: Vec<Count<PlanStatus>>,
    /// Active plans by their latest review's rating.
    pub active_plans_by_rag: RagCounts,
    /// Active plans whose review falls due in the next 14 days.
    #[schema(minimum = 0)]
    pub reviews_due: i64,
    /// Active plans whose review day has passed.
    #[schema(minimum = 0)]
    pub reviews_overdue: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LearningPeriod {
    pub period_start_on: NaiveDate,
    pub period_end_on: NaiveDate,
    #[schema(minimum = 0)]
    pub events: i64,
    /// Every kind, zeros included.
    pub by_kind: Vec<Count<LearningKind>>,
    /// Events whose lessons were shared (somewhere recorded, or a lessons-shared event).
    #[schema(minimum = 0)]
    pub lessons_shared: i64,
}

/// One month of a location's governance reviews.
#[derive(Debug, Serialize, ToSchema)]
pub struct GovernanceMonth {
    /// The first day of the month.
    pub month_start_on: NaiveDate,
    #[schema(minimum = 0)]
    pub reviews: i64,
    /// The month is over and no governance review was held: the monthly rhythm was missed
    /// (never in a month before the location was added to careloop).
    pub missed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationGovernance {
    pub location_id: Uuid,
    pub location_name: String,
    pub months: Vec<GovernanceMonth>,
    /// How many of the months had no governance review.
    #[schema(minimum = 0)]
    pub months_missed: i64,
}

/// Learning per period, and the monthly governance rhythm per location.
#[derive(Debug, Serialize, ToSchema)]
pub struct LearningInsights {
    #[serde(flatten)]
    pub span: Span,
    pub periods: Vec<LearningPeriod>,
    /// Governance reviews per location per calendar month of the span, whatever the interval.
    pub governance_reviews: Vec<LocationGovernance>,
    /// Co-production per calendar quarter the span touches, whatever the interval.
    pub co_production: Vec<CoProductionQuarter>,
}

/// A quarter's co-production: plans made with people using the service (`co_produced`, by the
/// day they were made) and joint reviews (learning events and plan reviews people using the
/// service or their relatives took part in, and joint reviews with people by kind).
#[derive(Debug, Serialize, ToSchema)]
pub struct CoProductionQuarter {
    pub quarter_start_on: NaiveDate,
    #[schema(minimum = 0)]
    pub co_produced_plans: i64,
    #[schema(minimum = 0)]
    pub joint_reviews: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetricPeriod {
    pub period_start_on: NaiveDate,
    #[schema(minimum = 1)]
    pub count: i64,
    pub mean: f64,
}

/// A metric's latest value.
#[derive(Debug, Serialize, ToSchema)]
pub struct LatestValue {
    pub value: f64,
    /// The day the value is dated.
    pub dated_on: NaiveDate,
    pub target: Option<f64>,
    pub direction: Option<MetricDirection>,
    /// Whether it meets its target; null without one.
    pub on_target: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetricInsight {
    pub metric: String,
    pub unit: Option<String>,
    pub latest: LatestValue,
    /// Which way the per-period means moved over the span (least-squares; steady within 5%).
    pub trend: Trend,
    /// Whether the trend moves towards the target's side (`at_least`: rising); null when
    /// steady, unknown, or without a direction.
    pub improving: Option<bool>,
    pub periods: Vec<MetricPeriod>,
}

/// Evidence tagged to one quality statement.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementEvidence {
    pub quality_statement_id: String,
    pub code: String,
    pub title: String,
    pub key_question_id: String,
    /// Evidence dated within the span.
    #[schema(minimum = 0)]
    pub in_span: i64,
    /// Evidence dated within the 12 months to the end of the span.
    #[schema(minimum = 0)]
    pub last_12_months: i64,
}

/// Metrics against their targets, and evidence per quality statement.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceInsights {
    #[serde(flatten)]
    pub span: Span,
    /// The framework the statements are of (the default one).
    pub framework_id: String,
    /// Every metric with a value in the span, by name.
    pub metrics: Vec<MetricInsight>,
    /// Every quality statement of the framework, in its order.
    pub statements: Vec<StatementEvidence>,
    /// The statements with no evidence in the 12 months to the end of the span.
    pub gaps: Vec<String>,
}

impl<T> Count<T> {
    /// Every value of an enumeration with its count, in the enumeration's order.
    pub fn every(all: &[T], count: impl Fn(T) -> i64) -> Vec<Self>
    where
        T: Copy,
    {
        all.iter()
            .map(|&value| Count {
                value,
                count: count(value),
            })
            .collect()
    }
}

crate::http::respond::unversioned!(
    ConcernInsights,
    ActionInsights,
    LearningInsights,
    EvidenceInsights
);
