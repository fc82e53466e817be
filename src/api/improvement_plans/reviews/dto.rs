//! A plan's reviews as the API shows them, a new review, and the reviews due.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::shared::{Participant, Person};
use crate::domain::improvement::{Priority, Progress, ReviewCadence};
use crate::error::ApiResult;
use crate::http::respond::unversioned;
use crate::http::validate::Checks;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-9999-7000-8000-000000000002",
    "plan_id": "0192f0c4-8888-7000-8000-000000000001",
    "reviewed_on": "2026-12-20",
    "progress": "amber",
    "notes": "Rota changed; call-bell times not yet measured.",
    "priority_from": "medium",
    "priority_to": "high",
    "participants": [{"role": "manager", "name": "Alex Manager", "agreed_to_be_named": false},
                     {"role": "relative", "name": null, "agreed_to_be_named": false}],
    "reviewed_by": {"kind": "user", "sub": "manager-1", "name": null},
    "created_at": "2026-12-20T15:00:00Z"
}))]
pub struct PlanReview {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub reviewed_on: NaiveDate,
    pub progress: Progress,
    pub notes: Option<String>,
    /// The plan's priority before the review, when the review changed it.
    pub priority_from: Option<Priority>,
    pub priority_to: Option<Priority>,
    /// Who took part, by role: a review with people using the service or their relatives is a
    /// joint review.
    pub participants: Vec<Participant>,
    pub reviewed_by: Person,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reviewed_on": "2026-11-20", "progress": "amber",
                          "notes": "Rota changed; call-bell times not yet measured.", "priority_to": "high"}))]
pub struct NewPlanReview {
    /// The day of the review: not in the future.
    pub reviewed_on: NaiveDate,
    pub progress: Progress,
    #[schema(max_length = 10000, pattern = r"\S")]
    pub notes: Option<String>,
    /// The plan's priority from now on, when the review changes it.
    pub priority_to: Option<Priority>,
    /// Who took part, by role (people using the service and relatives named only with their
    /// agreement).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub participants: Vec<Participant>,
}

impl NewPlanReview {
    /// The rule the document cannot state: the review day has come.
    pub fn validate(&self) -> ApiResult<()> {
        let mut checks = Checks::new();
        checks.check(
            self.reviewed_on <= crate::domain::now().date_naive(),
            "reviewed_on",
            "must not be in the future",
        );
        Participant::check_all(&mut checks, "participants", &self.participants);
        checks.finish()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// Plans due within this many days from today, and those overdue (0 to 366; default 14).
    #[param(minimum = 0, maximum = 366)]
    pub within_days: Option<i64>,
    pub location_id: Option<Uuid>,
}

/// A plan whose review is due, for the governance meeting's agenda.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueReview {
    pub plan_id: Uuid,
    pub title: String,
    pub location_id: Option<Uuid>,
    pub owner: Person,
    pub priority: Priority,
    pub review_cadence: ReviewCadence,
    pub last_reviewed_on: Option<NaiveDate>,
    #[serde(rename = "next_review_due_on")]
    pub next_review_due: NaiveDate,
    pub review_overdue: bool,
}

unversioned!(PlanReview);
