//! Reading the change feed: pages of the log, each change shown only when the caller may read
//! its record now, through the same getter `GET` uses (so the kind's one visibility rule).

use diesel::prelude::*;
use serde_json::Value;

use super::dto::{ChangePage, FeedChange, FeedRecord};
use crate::api::concerns::timeline;
use crate::api::improvement_plans::{actions, plans, reviews};
use crate::api::{
    concerns, evidence, learning_events, locations, organisation, recognitions, self_assessments,
};
use crate::auth::Principal;
use crate::db::schema::{concern_updates, plan_reviews};
use crate::db::DbConnection;
use crate::domain::change::{cursor, ChangeType};
use crate::domain::ids::{Id, RecordId};
use crate::error::{ApiError, ApiResult};
use crate::http::paging::MAX_BATCHES;
use crate::store::changes::{self, ChangeRow, Filter};
use crate::store::support::to_utc;

/// What a feed read asks for.
#[derive(Debug, Clone)]
pub struct FeedRead {
    pub filter: Filter,
    /// After which change number; `None` from the oldest kept.
    pub after: Option<i64>,
    pub limit: i64,
    pub with_records: bool,
}

/// A page of the changes the caller may see after `read.after`, and whether the log was read to
/// its end. A cursor retention has passed is `410 Gone`; one beyond the head was never given
/// out (422).
pub fn read_page(
    conn: &mut DbConnection,
    principal: &Principal,
    read: &FeedRead,
) -> ApiResult<(ChangePage, bool)> {
    let organisation_id = &principal.organisation_id;
    changes::number_waiting(conn, organisation_id)?;
    let (head, pruned_through) = changes::head(conn, organisation_id)?;
    let mut after = match read.after {
        None => pruned_through,
        Some(after) if after > head => {
            return Err(ApiError::field("cursor", "is not a position in this feed"))
        }
        Some(after) if after < pruned_through => return Err(ApiError::CursorExpired),
        Some(after) => after,
    };
    let mut items = Vec::new();
    let mut at_end = false;
    'batches: for _ in 0..MAX_BATCHES {
        let rows = changes::read(conn, organisation_id, &read.filter, after, read.limit)?;
        at_end = (rows.len() as i64) < read.limit;
        for row in rows {
            let Some(seq) = row.seq else { continue };
            after = seq;
            let Some(record) = record_as(conn, principal, row.record_type, row.record_id)? else {
                continue;
            };
            items.push(feed_change(&row, seq, read.with_records.then_some(record)));
            if items.len() as i64 == read.limit {
                break 'batches;
            }
        }
        if at_end {
            break;
        }
    }
    // A full page may end exactly at the head: the next read finds that out.
    Ok((
        ChangePage {
            items,
            next_cursor: cursor(after),
        },
        at_end,
    ))
}

/// A change as the feed (and a webhook's payload) shows it.
pub fn feed_change(row: &ChangeRow, seq: i64, record: Option<Value>) -> FeedChange {
    FeedChange {
        cursor: cursor(seq),
        record_type: row.record_type,
        id: row.record_id.uuid(),
        action: row.action,
        version: row.version,
        occurred_at: to_utc(row.occurred_at),
        record: record.map(FeedRecord),
    }
}

/// The position after the last change so far.
pub fn head(conn: &mut DbConnection, principal: &Principal) -> ApiResult<String> {
    changes::number_waiting(conn, &principal.organisation_id)?;
    Ok(cursor(changes::head(conn, &principal.organisation_id)?.0))
}

/// The record as the caller would read it with `GET`, or `None` when they may not (or it is
/// gone): the feed's and the webhooks' one way to a record.
pub fn record_as(
    conn: &mut DbConnection,
    principal: &Principal,
    record_type: ChangeType,
    id: RecordId,
) -> ApiResult<Option<Value>> {
    fn shown<T: serde::Serialize>(found: ApiResult<T>) -> ApiResult<Option<Value>> {
        match found {
            Ok(record) => Ok(Some(serde_json::to_value(record)?)),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }
    match record_type {
        ChangeType::Organisation => {
            if id.to_string() != principal.organisation_id {
                return Ok(None);
            }
            shown(organisation::store::get(conn, &principal.organisation_id))
        }
        ChangeType::Location => shown(locations::store::get(conn, principal, Id::of(id))),
        ChangeType::Concern => shown(concerns::store::get(conn, principal, Id::of(id))),
        ChangeType::ConcernUpdate => {
            let Some(concern) = concern_updates::table
                .find(id)
                .select(concern_updates::concern_id)
                .first::<RecordId>(conn)
                .optional()?
            else {
                return Ok(None);
            };
            shown(timeline::get_update(
                conn,
                principal,
                Id::of(concern),
                Id::of(id),
            ))
        }
        ChangeType::LearningEvent => {
            shown(learning_events::store::get(conn, principal, Id::of(id)))
        }
        ChangeType::Evidence => shown(evidence::store::get(conn, principal, Id::of(id))),
        ChangeType::SelfAssessment => shown(self_assessments::store::get_by_id(
            conn,
            principal,
            Id::of(id),
        )),
        ChangeType::ImprovementPlan => shown(plans::store::get(conn, principal, Id::of(id))),
        ChangeType::Action => shown(actions::store::get_by_id(conn, principal, Id::of(id))),
        ChangeType::Review => {
            let Some(plan) = plan_reviews::table
                .find(id)
                .select(plan_reviews::plan_id)
                .first::<RecordId>(conn)
                .optional()?
            else {
                return Ok(None);
            };
            shown(reviews::store::get_review(
                conn,
                principal,
                Id::of(plan),
                Id::of(id),
            ))
        }
        ChangeType::Recognition => shown(recognitions::store::get(conn, principal, Id::of(id))),
    }
}
