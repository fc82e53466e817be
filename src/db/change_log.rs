//! Numbering the change log at commit. A write appends its changes unnumbered and names its
//! organisation here; just before the transaction commits, [`number_pending`] takes the
//! organisation's `change_heads` row (a row lock held until commit) and numbers them. So:
//!
//! - number n+1 is handed out only after the transaction holding n has committed, and is
//!   visible (PostgreSQL makes a commit visible before it releases its locks; SQLite has one
//!   writer at a time): a reader that has read up to n has seen every change before it;
//! - the head row is the last lock a transaction takes and is held only for the commit, so it
//!   cannot close a cycle with the rows a write locks (no deadlock), and writers of one
//!   organisation queue only for that moment;
//! - the rows to number are read after the lock is taken, so a change is never numbered twice.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::{change_heads, changes};
use super::{portable, DbConnection};
use crate::domain::ids::RecordId;
use crate::domain::now;
use crate::error::{ApiError, ApiResult};

thread_local! {
    /// The organisations the transaction running on this thread appended changes to. (A
    /// transaction runs start to end on one thread of the blocking pool.)
    static PENDING: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
}

/// Marks the organisation's log to be numbered when the running transaction commits.
pub fn pending(organisation_id: &str) {
    PENDING.with(|pending| pending.borrow_mut().insert(organisation_id.to_owned()));
}

/// Forgets what a transaction marked (it rolled back, or it is about to start).
pub fn forget() {
    PENDING.with(|pending| pending.borrow_mut().clear());
}

/// Numbers the changes of every organisation the transaction marked, in a fixed order of
/// organisations (so two transactions never wait for each other's heads in a cycle).
pub fn number_pending(conn: &mut DbConnection) -> ApiResult<()> {
    let organisations = PENDING.with(|pending| std::mem::take(&mut *pending.borrow_mut()));
    for organisation_id in organisations {
        number(conn, &organisation_id)?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Head {
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
}

#[derive(Clone, Queryable)]
struct Unnumbered {
    id: String,
    record_id: RecordId,
    occurred_at: NaiveDateTime,
    version: i64,
    publish_after: NaiveDateTime,
}

/// Numbers the organisation's unnumbered changes that may be shown: this transaction's, any
/// withheld one whose hour is over, and a withheld change to a record this transaction changed
/// (so a record's versions come in order).
fn number(conn: &mut DbConnection, organisation_id: &str) -> ApiResult<()> {
    // The lock and the head's number in one round trip.
    let head: Option<Head> = diesel::sql_query(portable(
        conn,
        "UPDATE change_heads SET last_seq = last_seq WHERE organisation_id = $1 \
         RETURNING last_seq",
    ))
    .bind::<Text, _>(organisation_id)
    .get_result(conn)
    .optional()?;
    let Some(Head { last_seq: mut seq }) = head else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "organisation {organisation_id} has no change log"
        )));
    };
    let now = now().naive_utc();
    let mut waiting: Vec<Unnumbered> = changes::table
        .filter(changes::organisation_id.eq(organisation_id))
        .filter(changes::seq.is_null())
        .select((
            changes::id,
            changes::record_id,
            changes::occurred_at,
            changes::version,
            changes::publish_after,
        ))
        .load(conn)?;
    let due: HashSet<RecordId> = waiting
        .iter()
        .filter(|c| c.publish_after <= now)
        .map(|c| c.record_id)
        .collect();
    waiting.retain(|c| due.contains(&c.record_id));
    // In the order they were made (an anonymous raiser's dated to its hour; within one hour,
    // in the random order of their ids), then each record's changes put in version order in
    // the places its changes hold, whatever the clocks of the nodes that made them said.
    waiting.sort_by(|a, b| (a.occurred_at, &a.id).cmp(&(b.occurred_at, &b.id)));
    let mut by_record: HashMap<RecordId, Vec<usize>> = HashMap::new();
    for (place, change) in waiting.iter().enumerate() {
        by_record.entry(change.record_id).or_default().push(place);
    }
    for places in by_record.values().filter(|places| places.len() > 1) {
        let mut versions: Vec<Unnumbered> =
            places.iter().map(|&place| waiting[place].clone()).collect();
        versions.sort_by_key(|change| change.version);
        for (&place, change) in places.iter().zip(versions) {
            waiting[place] = change;
        }
    }
    if waiting.is_empty() {
        return Ok(());
    }
    // Numbered a few hundred to a statement (`UPDATE … FROM (VALUES …)`, which both backends
    // take): an import's thousands of changes are numbered in a handful of round trips. The
    // ids are careloop's own UUIDs, checked to be nothing else before they are written inline.
    let mut numbered = Vec::with_capacity(waiting.len());
    for change in &waiting {
        seq += 1;
        if !change
            .id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'-')
        {
            return Err(ApiError::internal("a change id that is not a UUID"));
        }
        numbered.push(format!("('{}', {seq})", change.id));
    }
    let chunks: Vec<_> = numbered.chunks(500).collect();
    for (place, chunk) in chunks.iter().enumerate() {
        let update = format!(
            "UPDATE changes SET seq = v.column2, published_at = $1 FROM (VALUES {}) AS v \
             WHERE changes.id = v.column1 AND changes.seq IS NULL",
            chunk.join(", ")
        );
        // PostgreSQL moves the head with the last numbers, in the same statement: one round
        // trip fewer while the organisation's writers queue for the head.
        let moves_head = place + 1 == chunks.len() && matches!(conn, DbConnection::Pg(_));
        if moves_head {
            diesel::sql_query(format!(
                "WITH numbered AS ({update} RETURNING 1) \
                 UPDATE change_heads SET last_seq = $2 WHERE organisation_id = $3"
            ))
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .bind::<BigInt, _>(seq)
            .bind::<Text, _>(organisation_id)
            .execute(conn)?;
            return Ok(());
        }
        diesel::sql_query(portable(conn, &update))
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .execute(conn)?;
    }
    diesel::update(change_heads::table.find(organisation_id))
        .set(change_heads::last_seq.eq(seq))
        .execute(conn)?;
    Ok(())
}
