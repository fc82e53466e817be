//! The governance pack: one month for the meeting, under the seed's three headings, and the
//! meeting's record.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::insights::dto::{
    ActionPeriod, CategorySignal, ConcernPeriod, LearningPeriod, LocationGovernance, MetricInsight,
    OverdueConcern,
};
use crate::api::learning_events::dto::NewLearningEvent;
use crate::api::shared::{Participant, Person};
use crate::domain::concern::{ConcernCategory, ConcernStatus, RiskLevel};
use crate::domain::governance::month_name;
use crate::domain::improvement::{ActionStatus, Effectiveness, RecognitionKind};
use crate::domain::learning::{LearningKind, SharedVia};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PackQuery {
    /// One location's pack; otherwise the whole organisation's (every location the caller
    /// reaches).
    pub location_id: Option<Uuid>,
}

/// A recognition of the month.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackRecognition {
    pub id: Uuid,
    pub kind: RecognitionKind,
    pub title: String,
    pub message: Option<String>,
    pub occurred_on: NaiveDate,
}

/// A concern resolved in the month, with what changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResolvedConcern {
    pub id: Uuid,
    pub category: ConcernCategory,
    pub resolved_on: NaiveDate,
    pub outcome: Option<String>,
}

/// A high or critical concern raised in the month.
#[derive(Debug, Serialize, ToSchema)]
pub struct RaisedConcern {
    pub id: Uuid,
    pub category: ConcernCategory,
    pub risk: RiskLevel,
    pub status: ConcernStatus,
    pub raised_on: NaiveDate,
}

/// An action, with its plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackAction {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub plan_title: String,
    pub description: String,
    pub owner: Person,
    pub due_on: Option<NaiveDate>,
    pub status: ActionStatus,
    pub effectiveness: Effectiveness,
    pub checked_on: Option<NaiveDate>,
}

/// Lessons a learning event of the month drew.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackLessons {
    pub learning_event_id: Uuid,
    pub title: String,
    pub lessons: Vec<String>,
}

/// What went well.
#[derive(Debug, Serialize, ToSchema)]
pub struct WentWell {
    /// Recognitions of the month.
    pub recognitions: Vec<PackRecognition>,
    /// Actions checked in the month and found to work.
    pub actions_effective: Vec<PackAction>,
    /// Metrics whose latest value meets its target.
    pub metrics_on_target: Vec<MetricInsight>,
    /// Concerns resolved in the month, with their outcomes.
    pub concerns_resolved: Vec<ResolvedConcern>,
    /// Lessons drawn in the month.
    pub lessons: Vec<PackLessons>,
}

/// What did not go well.
#[derive(Debug, Serialize, ToSchema)]
pub struct DidNotGoWell {
    /// Concerns past a deadline unmet, now.
    #[schema(minimum = 0)]
    pub overdue_concerns: i64,
    /// How many high and critical concerns are open past a deadline now.
    #[schema(minimum = 0)]
    pub high_risk_overdue_count: i64,
    /// The oldest 50 of them.
    pub high_risk_overdue: Vec<OverdueConcern>,
    /// How many actions are open past their due day now.
    #[schema(minimum = 0)]
    pub actions_overdue_count: i64,
    /// High and critical concerns raised in the month.
    pub high_risk_raised: Vec<RaisedConcern>,
    /// Actions checked in the month and found not to work.
    pub actions_not_effective: Vec<PackAction>,
    /// The 100 of them due longest ago.
    pub actions_overdue: Vec<PackAction>,
    /// Metrics whose latest value misses its target.
    pub metrics_off_target: Vec<MetricInsight>,
    /// Concern categories raised well above their baseline in the month.
    pub signals: Vec<CategorySignal>,
}

/// A plan whose review falls due.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewDue {
    pub plan_id: Uuid,
    pub title: String,
    pub next_review_due_on: NaiveDate,
    pub overdue: bool,
}

/// An owner's open actions.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnerActions {
    pub owner: Person,
    pub actions: Vec<PackAction>,
}

/// A quality statement, named.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackStatement {
    pub quality_statement_id: String,
    pub code: String,
    pub title: String,
}

/// A self-assessed statement whose low score caps its key question's rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackLimitingStatement {
    pub location_id: Uuid,
    pub location_name: String,
    pub key_question_id: String,
    pub quality_statement_id: String,
    pub code: String,
    pub title: String,
    #[schema(minimum = 1, maximum = 4)]
    pub score: u8,
    /// The rating the key question is held at.
    pub caps_at: String,
}

/// What needs to change.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeedsToChange {
    /// Active plans due for review by the end of the next month, or overdue (the 100 due
    /// soonest).
    pub reviews_due: Vec<ReviewDue>,
    /// How many actions are open now.
    #[schema(minimum = 0)]
    pub open_actions_count: i64,
    /// Open actions, by owner: the 200 due soonest (`open_actions_count` says how many there
    /// are in all).
    pub open_actions_by_owner: Vec<OwnerActions>,
    /// Quality statements without evidence in the 12 months to the month's end.
    pub statements_without_recent_evidence: Vec<PackStatement>,
    /// The self-assessment's limiting statements, per location.
    pub limiting_statements: Vec<PackLimitingStatement>,
}

/// The six months to the pack's month, for its charts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackTrends {
    pub concerns: Vec<ConcernPeriod>,
    pub actions: Vec<ActionPeriod>,
    pub learning: Vec<LearningPeriod>,
}

/// A governance review recorded for the month.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedReview {
    pub learning_event_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub title: String,
    pub went_well: Option<String>,
    pub did_not_go_well: Option<String>,
    pub to_change: Option<String>,
}

/// One month for the governance meeting.
#[derive(Debug, Serialize, ToSchema)]
pub struct GovernancePack {
    /// `YYYY-MM`.
    pub month: String,
    pub period_start_on: NaiveDate,
    pub period_end_on: NaiveDate,
    pub organisation_name: String,
    pub location_id: Option<Uuid>,
    pub location_name: Option<String>,
    pub generated_at: DateTime<Utc>,
    pub went_well: WentWell,
    pub did_not_go_well: DidNotGoWell,
    pub needs_to_change: NeedsToChange,
    pub trends: PackTrends,
    /// The monthly rhythm of governance reviews per location, over the six months.
    pub governance_rhythm: Vec<LocationGovernance>,
    /// The governance reviews recorded for this month's pack.
    pub reviews: Vec<RecordedReview>,
}

/// The meeting's record: the month's governance review.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "occurred_at": "2026-11-04T14:00:00Z",
    "participants": [{"role": "manager", "name": "Alex Manager"}, {"role": "relative"}],
    "went_well": "Falls down a third since the sensor mats.",
    "did_not_go_well": "Night call-bell response times.",
    "to_change": "Second night carer on the first floor.",
    "lessons": ["Check call-bell logs weekly"],
    "shared_via": ["team_meeting"]
}))]
pub struct NewPackReview {
    /// When the meeting was held (default: now); not in the future.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Default: "Governance review: <month> <year>".
    #[schema(max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    #[schema(max_length = 10000, pattern = r"\S")]
    pub summary: Option<String>,
    #[schema(max_length = 200, pattern = r"\S")]
    pub facilitator: Option<String>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub participants: Vec<Participant>,
    /// What went well.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub went_well: String,
    /// What did not go well.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub did_not_go_well: String,
    /// What needs to change.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub to_change: String,
    #[serde(default)]
    #[schema(value_type = Vec<crate::api::learning_events::dto::Lesson>, inline, max_items = 100)]
    pub lessons: Vec<String>,
    #[serde(default)]
    pub shared_via: Vec<SharedVia>,
}

impl NewPackReview {
    /// The governance review it records: of the pack's `month` (its first day), at its
    /// location, held `now` unless it says when.
    pub fn for_month(
        &self,
        month: NaiveDate,
        location_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> NewLearningEvent {
        NewLearningEvent {
            kind: LearningKind::GovernanceReview,
            occurred_at: self.occurred_at.unwrap_or(now),
            title: self
                .title
                .clone()
                .unwrap_or_else(|| format!("Governance review: {}", month_name(month))),
            summary: self.summary.clone(),
            location_id,
            facilitator: self.facilitator.clone(),
            participants: self.participants.clone(),
            went_well: Some(self.went_well.clone()),
            did_not_go_well: Some(self.did_not_go_well.clone()),
            to_change: Some(self.to_change.clone()),
            lessons: self.lessons.clone(),
            shared_via: self.shared_via.clone(),
            quality_statements: Vec::new(),
            linked_records: Vec::new(),
            external_ref: None,
        }
    }
}

crate::http::respond::unversioned!(GovernancePack);
