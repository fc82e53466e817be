//! The insights endpoints: read-only figures, each counted under the visibility rule of the
//! records it counts (a staff member's concern figures are of the concerns they raised).

use actix_web::{get, web};

use super::dto::{
    ActionInsights, ConcernInsights, EvidenceInsights, InsightsQuery, LearningInsights,
};
use super::periods::Periods;
use super::{actions, concerns, evidence, learning};
use crate::auth::{Permission, Principal};
use crate::db::DbConnection;
use crate::domain::now;
use crate::error::ApiResult;
use crate::http::extract::Query;
use crate::http::respond::{Answer, Representation};
use crate::state::AppState;

/// Reads the query's periods and counts them with `count`, as a long read.
async fn count<T, F>(
    state: &AppState,
    principal: Principal,
    query: Query<InsightsQuery>,
    count: F,
) -> ApiResult<Answer>
where
    T: Representation + Send + 'static,
    F: FnOnce(
            &mut DbConnection,
            &Principal,
            &Periods,
            chrono::DateTime<chrono::Utc>,
        ) -> ApiResult<T>
        + Send
        + 'static,
{
    principal.require(Permission::ReadInsights)?;
    let query = query.parse()?;
    let figures = state
        .db
        .run_long(move |conn| {
            let now = now();
            let periods = Periods::read(conn, &principal, &query, now.date_naive())?;
            count(conn, &principal, &periods, now)
        })
        .await?;
    Answer::ok(&figures)
}

/// Concerns per period
///
/// Per week, month or quarter: concerns raised by category, risk and status; the share
/// acknowledged and resolved within their clocks; median hours to acknowledge and days to
/// resolve. Then the concerns open and overdue now, and signals: categories raised well above
/// their own recent baseline in the last period (the rule is in the answer), and high or
/// critical concerns open past a deadline. Only concerns the caller may read are counted.
#[utoipa::path(
    tag = "insights",
    params(InsightsQuery),
    responses(
        (status = 200, description = "Concern figures per period", body = ConcernInsights),
    )
)]
#[get("/insights/concerns")]
pub async fn get_concern_insights(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<InsightsQuery>,
) -> ApiResult<Answer> {
    count(&state, principal, query, concerns::insights).await
}

/// Actions and plans per period
///
/// Per period: actions opened, done, due and missed (not done by their due day), and checked
/// effective or not effective (with shares). Then actions open and overdue now, plans by
/// status, active plans by their latest review's RAG rating, and reviews due (in the next 14
/// days) and overdue. An action is counted when the caller may read its plan.
#[utoipa::path(
    tag = "insights",
    params(InsightsQuery),
    responses(
        (status = 200, description = "Action and plan figures per period", body = ActionInsights),
    )
)]
#[get("/insights/actions")]
pub async fn get_action_insights(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<InsightsQuery>,
) -> ApiResult<Answer> {
    count(&state, principal, query, |conn, principal, periods, now| {
        actions::insights(conn, principal, periods, now.date_naive())
    })
    .await
}

/// Learning per period
///
/// Learning events by kind per period and how many had their lessons shared; and governance
/// reviews per location per calendar month, a finished month without one flagged as missed
/// (the monthly rhythm). A review recorded for no location counts for every location.
#[utoipa::path(
    tag = "insights",
    params(InsightsQuery),
    responses(
        (status = 200, description = "Learning figures per period", body = LearningInsights),
    )
)]
#[get("/insights/learning")]
pub async fn get_learning_insights(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<InsightsQuery>,
) -> ApiResult<Answer> {
    count(&state, principal, query, |conn, principal, periods, now| {
        learning::insights(conn, principal, periods, now.date_naive())
    })
    .await
}

/// Metrics and evidence per quality statement
///
/// Every metric with values in the span: its latest value against its target, its mean per
/// period, and which way it is moving. Then the evidence tagged to each quality statement of
/// the catalogue's first framework (CQC SAF 2024), and the statements with none in the 12
/// months to the end of the span. Archived evidence is not counted.
#[utoipa::path(
    tag = "insights",
    params(InsightsQuery),
    responses(
        (status = 200, description = "Metric and evidence figures", body = EvidenceInsights),
    )
)]
#[get("/insights/evidence")]
pub async fn get_evidence_insights(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<InsightsQuery>,
) -> ApiResult<Answer> {
    let framework = crate::api::frameworks::handlers::default_framework(&state)?;
    count(
        &state,
        principal,
        query,
        move |conn, principal, periods, _| evidence::insights(conn, principal, &framework, periods),
    )
    .await
}
