use std::time::Duration;

use actix_web::{get, web};
use tokio::time::{sleep_until, Instant};

use super::dto::{ChangePage, ChangesQuery, FeedHead, FeedInclude};
use super::store::{self, FeedRead};
use crate::auth::{Permission, Principal};
use crate::domain::change::parse_cursor;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::paging::DEFAULT_LIMIT;
use crate::http::respond::Answer;
use crate::state::AppState;
use crate::store::changes::Filter;

/// How often a long-polling reader looks for changes written by other nodes.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// Read the change feed
///
/// Every committed create, update, transition and archive in the caller's organisation, oldest
/// first, each with the record as `GET` would answer it for the caller now. A client that keeps
/// `next_cursor` and resumes from it sees every change it may see exactly once: a change's
/// number becomes visible only when the change has committed, after every lower number, so
/// none ever appears behind a cursor already passed.
///
/// A change to a record the caller may not read (now) is left out, so a page can hold fewer
/// than `limit` changes. An anonymous raiser's changes join the feed once the hour they were
/// made in is over, so their place in it says no more than their hour. With `wait`, an empty
/// answer is held open until a change arrives or the wait is over. Changes are kept for
/// `CARELOOP_CHANGES_RETENTION_DAYS` (default 30) days; an older cursor is `410 Gone`.
#[utoipa::path(
    tag = "changes",
    params(ChangesQuery),
    responses(
        (status = 200, description = "The changes after the cursor", body = ChangePage),
    )
)]
#[get("/changes")]
pub async fn list_changes(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<ChangesQuery>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadChanges)?;
    let query = query.parse()?;
    let after = match &query.cursor {
        Some(sent) => Some(
            parse_cursor(sent)
                .ok_or_else(|| ApiError::field("cursor", "is not a cursor of this feed"))?,
        ),
        None => None,
    };
    let mut read = FeedRead {
        filter: Filter {
            types: query.types,
            location_id: query.location_id.map(|id| id.to_string()),
        },
        after,
        limit: query.limit.unwrap_or(DEFAULT_LIMIT),
        with_records: query.include != Some(FeedInclude::Ids),
    };
    let deadline = Instant::now() + Duration::from_secs(query.wait.unwrap_or(0));
    let principal = web::Data::new(principal);
    loop {
        let mut writes = state.db.watch_writes();
        let (page, at_end) = {
            let (principal, read) = (principal.clone(), read.clone());
            state
                .db
                .run(move |conn| store::read_page(conn, &principal, &read))
                .await?
        };
        if !page.items.is_empty() || !at_end || Instant::now() >= deadline {
            return Answer::ok(&page);
        }
        // Nothing yet: resume after what was passed over once this node commits a write, or
        // after a short while for the other nodes' writes, until the wait is over.
        read.after = Some(parse_cursor(&page.next_cursor).unwrap_or_default());
        tokio::select! {
            _ = writes.changed() => {}
            _ = sleep_until(deadline.min(Instant::now() + POLL_EVERY)) => {}
        }
    }
}

/// Get the feed's current position
///
/// The cursor after the last change so far: read `GET /v1/changes` from it to see only what
/// changes next (after resynchronising with the lists' `updated_since`, say).
#[utoipa::path(
    tag = "changes",
    responses(
        (status = 200, description = "The feed's head", body = FeedHead),
    )
)]
#[get("/changes/cursor")]
pub async fn get_changes_cursor(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadChanges)?;
    let cursor = state
        .db
        .run(move |conn| store::head(conn, &principal))
        .await?;
    Answer::ok(&FeedHead { cursor })
}
