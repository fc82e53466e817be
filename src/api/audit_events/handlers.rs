use actix_web::{get, web, HttpRequest};

use super::dto::{AuditEvent, AuditQuery};
use super::store;
use crate::auth::{Permission, Principal};
use crate::error::ApiResult;
use crate::http::export::{self, Listing};
use crate::http::extract::Query;
use crate::http::paging::{PageQuery, Paginated};
use crate::http::validate::check_range;
use crate::state::AppState;

/// List the audit trail
///
/// Every create, update and transition in the caller's organisation, oldest first: the change
/// feed for sync. Admins and viewers only. An event about a record is listed only to a caller
/// who may see the record (a confidential concern's, say), so a page can hold fewer than
/// `limit` events, even none, and still have a `next_cursor`: follow it until it is `null`.
/// An anonymous raiser's events are dated to the hour they acted in.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery, PageQuery),
    responses(
        (status = 200, description = "A page of audit events", body = Paginated<AuditEvent>),
    )
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<AuditQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadAuditEvents)?;
    let (query, page) = query.parse_paged()?;
    check_range(query.from, query.to, "from")?;
    export::list(&req, &state.db, page, move |conn, page| {
        store::list(conn, &principal, &query, page)
    })
    .await
}
