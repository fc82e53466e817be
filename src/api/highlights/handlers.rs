//! The highlights endpoint.

use actix_web::{get, web};

use super::dto::{Highlight, HighlightQuery};
use super::store;
use crate::auth::{Permission, Principal};
use crate::error::ApiResult;
use crate::http::extract::Query;
use crate::http::paging::Paginated;
use crate::http::respond::Answer;
use crate::state::AppState;

/// What to share in a newsletter or handover
///
/// Recognitions, completed actions and plans, lessons from learning events, and resolved
/// concerns' outcomes ("you said, we did"), newest first. Never anything confidential, and
/// nothing that could identify an anonymous raiser.
#[utoipa::path(
    tag = "recognition",
    params(HighlightQuery),
    responses(
        (status = 200, description = "Highlights, newest first (one page)", body = Paginated<Highlight>),
    )
)]
#[get("/highlights")]
pub async fn list_highlights(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<HighlightQuery>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadRecognitions)?;
    let query = query.parse()?;
    let highlights = state
        .db
        .run(move |conn| store::highlights(conn, &principal, &query))
        .await?;
    Answer::ok(&highlights)
}
