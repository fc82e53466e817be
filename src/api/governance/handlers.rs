//! The governance pack endpoints: the month's pack, as JSON or as a printable page, and the
//! record of the meeting that read it.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse, Responder};

use super::dto::{GovernancePack, NewPackReview, PackQuery};
use super::{page, review, store};
use crate::api::learning_events::dto::LearningEvent;
use crate::auth::{Permission, Principal};
use crate::domain::governance::review_refusal;
use crate::domain::ids::LocationId;
use crate::domain::now;
use crate::error::{ApiError, ApiResult};
use crate::http::export::prefers;
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::respond::Answer;
use crate::state::AppState;

/// What a printable page may load: its own inline styles, nothing else (it has no script).
pub const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Get the month's governance pack
///
/// One month for the governance meeting, under the three headings it works through: **what
/// went well** (recognitions, actions checked effective, metrics on target, concerns resolved
/// with their outcomes, lessons), **what didn't go well** (overdue and high-risk concerns,
/// actions not effective or overdue, metrics off target, signals), and **what needs to change**
/// (plan reviews due, open actions by owner, quality statements without recent evidence, the
/// self-assessment's limiting statements); with the six months' trends and the governance
/// rhythm. Figures that are states ("overdue") are as of now. Every list shows only what the
/// caller may read. With `Accept: text/html`, the same pack as a printable page (A4, one
/// heading per page, charts as inline SVG with their numbers in tables).
#[utoipa::path(
    tag = "governance",
    params(
        ("month" = String, Path, description = "The month, `YYYY-MM`", pattern = r"^2[0-9]{3}-(0[1-9]|1[0-2])$"),
        PackQuery,
    ),
    responses(
        (status = 200, description = "The pack", content(
            (GovernancePack = "application/json"),
            (String = "text/html"),
        )),
    )
)]
#[get("/governance-packs/{month}")]
pub async fn get_governance_pack(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    month: web::Path<String>,
    query: Query<PackQuery>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ReadGovernancePacks)?;
    let month = review::month_of(&month)?;
    let location = query.parse()?.location_id.map(LocationId::from);
    let framework = crate::api::frameworks::handlers::default_framework(&state)?;
    let pack = state
        .db
        .run_long(move |conn| store::pack(conn, &principal, &framework, month, location, now()))
        .await?;
    if prefers(&req, "text", "html") {
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_POLICY))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(page::render(&pack)?));
    }
    Ok(Answer::ok(&pack)?.no_store().respond_to(&req))
}

/// Record the month's governance review
///
/// Closes the loop: the meeting's three reflections become the month's governance-review
/// learning event, of the pack's month (its `governance_month`) and location (`location_id`;
/// none for the whole organisation's pack). One per month and location: a second is 409
/// `already_reviewed`, naming the first. Managers and admins.
#[utoipa::path(
    tag = "governance",
    request_body = NewPackReview,
    params(
        ("month" = String, Path, description = "The month, `YYYY-MM`", pattern = r"^2[0-9]{3}-(0[1-9]|1[0-2])$"),
        PackQuery,
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Recorded; `Location` names the learning event", body = LearningEvent),
    )
)]
#[post("/governance-packs/{month}/review")]
pub async fn record_governance_review(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    month: web::Path<String>,
    query: Query<PackQuery>,
    body: Json<NewPackReview>,
) -> ApiResult<Answer> {
    principal.require(Permission::RecordGovernanceReview)?;
    let month = review::month_of(&month)?;
    let location = query.parse()?.location_id;
    let meeting = body.parse()?;
    let now = now();
    let new = meeting.for_month(month, location, now);
    new.validate(&state.catalogue)?;
    if let Some((field, message)) =
        review_refusal(month, new.occurred_at.date_naive(), now.date_naive())
    {
        return Err(ApiError::field(field, message));
    }
    // The same key for another location's review is another request.
    let keyed = key.for_caller(&principal, &req, &(&meeting, location))?;
    idempotency::once(&state.db, keyed, move |conn| {
        let event = review::record_review(conn, &principal, month, &new)?;
        Answer::created(format!("/v1/learning-events/{}", event.id), &event)
    })
    .await
}
