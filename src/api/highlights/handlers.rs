//! The highlights endpoint.

use actix_web::{get, web, HttpRequest};

use super::dto::{Highlight, HighlightQuery};
use super::store;
use crate::auth::{Permission, Principal};
use crate::error::ApiResult;
use crate::http::export::{self, Listing};
use crate::http::extract::Query;
use crate::http::paging::{PageQuery, Paginated};
use crate::state::AppState;

/// What to share in a newsletter or handover
///
/// Recognitions, completed actions and plans, lessons from learning events, and resolved
/// concerns' outcomes ("you said, we did"), newest first (the one list not oldest first: a feed
/// is read from its top). Never anything confidential, and nothing that could identify an
/// anonymous raiser.
#[utoipa::path(
    tag = "recognition",
    params(HighlightQuery, PageQuery),
    responses(
        (status = 200, description = "A page of highlights, newest first", body = Paginated<Highlight>),
    )
)]
#[get("/highlights")]
pub async fn list_highlights(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<HighlightQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadRecognitions)?;
    let (query, page) = query.parse_paged()?;
    export::list(&req, &state.db, page, move |conn, page| {
        store::highlights(conn, &principal, &query, page)
    })
    .await
}
