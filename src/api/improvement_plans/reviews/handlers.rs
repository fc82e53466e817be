//! The review endpoints: review a plan, list its reviews, and the reviews due.

use actix_web::{get, post, web, HttpRequest};

use super::dto::{DueQuery, DueReview, NewPlanReview, PlanReview};
use super::store;
use crate::api::shared::ChangedSince;
use crate::auth::{Permission, Principal};
use crate::domain::ids::{PlanId, ReviewId};
use crate::error::{ApiError, ApiResult};
use crate::http::export::{self, Listing};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::respond::Answer;
use crate::state::AppState;

/// Review a plan
///
/// The monthly, quarterly or annual review: progress (red, amber, green), notes, and a new
/// priority if it changes. It sets the next review one cadence on. Managers and admins.
#[utoipa::path(
    tag = "improvement",
    request_body = NewPlanReview,
    params(
        ("plan_id" = Uuid, Path, description = "Plan id"),
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Recorded; `Location` names the review", body = PlanReview),
    )
)]
#[post("/improvement-plans/{plan_id}/reviews")]
pub async fn create_review(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<PlanId>,
    key: IdempotencyKey,
    body: Json<NewPlanReview>,
) -> ApiResult<Answer> {
    principal.require(Permission::SignOffPlans)?;
    let new = body.parse()?;
    new.validate()?;
    let keyed = key.for_caller(&principal, &req, &new)?;
    let plan_id = id.into_inner();
    idempotency::once(&state.db, keyed, move |conn| {
        let review = store::add_review(conn, &principal, plan_id, &new)?;
        Answer::created(
            format!("/v1/improvement-plans/{plan_id}/reviews/{}", review.id),
            &review,
        )
    })
    .await
}

/// List a plan's reviews
#[utoipa::path(
    tag = "improvement",
    params(("plan_id" = Uuid, Path, description = "Plan id"), ChangedSince, PageQuery),
    responses(
        (status = 200, description = "A page of the plan's reviews, oldest first", body = Paginated<PlanReview>),
    )
)]
#[get("/improvement-plans/{plan_id}/reviews")]
pub async fn list_reviews(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    id: web::Path<PlanId>,
    query: Query<ChangedSince>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadPlans)?;
    let (query, page) = query.parse_paged()?;
    let plan_id = id.into_inner();
    export::list(&req, &state.db, page, move |conn, page| {
        store::list_reviews(conn, &principal, plan_id, &query, page)
    })
    .await
}

/// Read a review
#[utoipa::path(
    tag = "improvement",
    params(
        ("plan_id" = Uuid, Path, description = "Plan id"),
        ("review_id" = Uuid, Path, description = "Review id"),
    ),
    responses(
        (status = 200, description = "The review", body = PlanReview),
    )
)]
#[get("/improvement-plans/{plan_id}/reviews/{review_id}")]
pub async fn get_review(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(PlanId, ReviewId)>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadPlans)?;
    let (plan_id, id) = path.into_inner();
    let review = state
        .db
        .run(move |conn| store::get_review(conn, &principal, plan_id, id))
        .await?;
    Answer::ok(&review)
}

/// Reviews due
///
/// Active plans whose review is due within `within_days` (default 14) or overdue, soonest
/// first: the agenda of the monthly governance meeting.
#[utoipa::path(
    tag = "improvement",
    params(DueQuery, PageQuery),
    responses(
        (status = 200, description = "A page of plans due for review, soonest first", body = Paginated<DueReview>),
    )
)]
#[get("/reviews/due")]
pub async fn list_due_reviews(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<DueQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadPlans)?;
    let (query, page) = query.parse_paged()?;
    if query
        .within_days
        .is_some_and(|days| !(0..=366).contains(&days))
    {
        return Err(ApiError::field("within_days", "must be between 0 and 366"));
    }
    export::list(&req, &state.db, page, move |conn, page| {
        store::due_reviews(conn, &principal, &query, page)
    })
    .await
}
