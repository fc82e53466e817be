use std::sync::Arc;

use actix_web::{get, web, HttpRequest};

use super::dto::{Coverage, CoverageQuery, FrameworkSummary, QualityStatementEntry};
use super::store;
use crate::auth::{Permission, Principal};
use crate::domain::framework::Framework;
use crate::error::{ApiError, ApiResult};
use crate::http::export::{self, Listing};
use crate::http::extract::Query;
use crate::http::paging::{PageQuery, Paginated};
use crate::http::respond::Answer;
use crate::state::AppState;

/// The framework the insights and the governance pack read (it ships embedded, so its absence is
/// a bug).
pub fn default_framework(state: &AppState) -> ApiResult<Arc<Framework>> {
    state
        .catalogue
        .default_framework()
        .cloned()
        .ok_or_else(|| ApiError::internal("the default framework is not in the catalogue"))
}

/// The framework a path names, or 404.
pub fn framework(state: &AppState, id: &str) -> ApiResult<Arc<Framework>> {
    state
        .catalogue
        .get(id)
        .cloned()
        .ok_or(ApiError::NotFound("framework"))
}

/// List assessment frameworks
///
/// The frameworks careloop knows, each a versioned data file (the CQC Single Assessment
/// Framework 2024 ships with careloop). Every role.
#[utoipa::path(
    tag = "frameworks",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of frameworks, in the catalogue's order", body = Paginated<FrameworkSummary>),
    )
)]
#[get("/frameworks")]
pub async fn list_frameworks(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<PageQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadFrameworks)?;
    let (_, page) = query.parse_paged()?;
    let items = state
        .catalogue
        .frameworks()
        .iter()
        .map(|f| FrameworkSummary {
            id: f.id.clone(),
            title: f.title.clone(),
            regulator: f.regulator.clone(),
            status: f.status.clone(),
            key_question_count: f.key_questions.len(),
            quality_statement_count: f.statements().count(),
        })
        .collect();
    export::list_held(&req, &page, items, |f: &FrameworkSummary| f.id.clone())
}

/// Read a whole framework
///
/// Key questions and quality statements (ids, codes, titles, "we statements"), evidence
/// categories, the score scale, rating bands and limiters.
#[utoipa::path(
    tag = "frameworks",
    params(("framework_id" = String, Path, description = "Framework id, for example cqc-saf-2024")),
    responses(
        (status = 200, description = "The framework", body = Framework),
    )
)]
#[get("/frameworks/{framework_id}")]
pub async fn get_framework(
    state: web::Data<AppState>,
    principal: Principal,
    framework_id: web::Path<String>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadFrameworks)?;
    Answer::ok(&*framework(&state, &framework_id)?)
}

/// List a framework's quality statements
#[utoipa::path(
    tag = "frameworks",
    params(("framework_id" = String, Path, description = "Framework id"), PageQuery),
    responses(
        (status = 200, description = "A page of quality statements, in the framework's order", body = Paginated<QualityStatementEntry>),
    )
)]
#[get("/frameworks/{framework_id}/quality-statements")]
pub async fn list_quality_statements(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    framework_id: web::Path<String>,
    query: Query<PageQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadFrameworks)?;
    let (_, page) = query.parse_paged()?;
    let framework = framework(&state, &framework_id)?;
    let items = framework
        .key_questions
        .iter()
        .flat_map(|question| {
            question
                .quality_statements
                .iter()
                .map(|s| QualityStatementEntry {
                    id: s.id.clone(),
                    code: s.code.clone(),
                    title: s.title.clone(),
                    we_statement: s.we_statement.clone(),
                    key_question_id: question.id.clone(),
                })
        })
        .collect();
    export::list_held(&req, &page, items, |s: &QualityStatementEntry| s.id.clone())
}

/// How well records cover a framework
///
/// For each quality statement: the evidence (by category), learning events and concerns tagged
/// with it, and when the newest was; statements without evidence since `from` are flagged.
#[utoipa::path(
    tag = "frameworks",
    params(("framework_id" = String, Path, description = "Framework id"), CoverageQuery),
    responses(
        (status = 200, description = "Coverage per quality statement", body = Coverage),
    )
)]
#[get("/frameworks/{framework_id}/coverage")]
pub async fn get_framework_coverage(
    state: web::Data<AppState>,
    principal: Principal,
    framework_id: web::Path<String>,
    query: Query<CoverageQuery>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadEvidence)?;
    let framework = framework(&state, &framework_id)?;
    let query = query.parse()?;
    let coverage = state
        .db
        .run(move |conn| store::coverage(conn, &principal, &framework, &query))
        .await?;
    Answer::ok(&coverage)
}
