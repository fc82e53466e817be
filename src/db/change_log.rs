//! Numbering the change log, by its readers. A write appends its changes unnumbered and
//! commits: it takes no lock of the log, so an organisation's writers never queue for one
//! another there. Before the log is read (a read of the feed, the webhooks' turn, a new
//! endpoint's starting point), and every second in the background so that what waits stays
//! little, [`number`] takes the organisation's `change_heads` row (on PostgreSQL a row lock held
//! until commit; SQLite's write transaction holds the database's one write lock already) and
//! numbers the changes waiting, in the transaction of the read's own numbering. So:
//!
//! - number n+1 is handed out only after the transaction that numbered n has committed, and is
//!   visible (PostgreSQL makes a commit visible before it releases its locks; SQLite has one
//!   writer at a time): a reader that has read up to n has seen every change before it;
//! - a change is numbered once its write has committed, and the rows to number are read after
//!   the lock is taken, so a change is never numbered twice, nor one rolled back ever;
//! - the head is locked only by numbering, which locks nothing else a write holds (the changes
//!   it numbers are committed ones), so it cannot close a cycle with a write's locks.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Text, Timestamp};
use diesel::sqlite::Sqlite;

use super::schema::{change_heads, changes};
use super::DbConnection;
use crate::domain::ids::RecordId;
use crate::domain::now;
use crate::error::{ApiError, ApiResult};

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

/// How many changes one statement numbers.
const NUMBERED_PER_STATEMENT: usize = 500;

/// Numbers the organisation's changes waiting that may be shown (each one whose write was
/// anonymous once its hour is over, and with it every other change to its record, so a record's
/// versions come in order), in the running write transaction. Answers how many it numbered.
pub fn number(conn: &mut DbConnection, organisation_id: &str) -> ApiResult<usize> {
    if matches!(conn, DbConnection::Sqlite(_)) {
        return number_in_turn(conn, organisation_id);
    }
    // The lock and the head's number in one round trip.
    let head: Option<Head> = diesel::sql_query(
        "UPDATE change_heads SET last_seq = last_seq WHERE organisation_id = $1 \
         RETURNING last_seq",
    )
    .bind::<Text, _>(organisation_id)
    .get_result(conn)
    .optional()?;
    let Some(Head { last_seq: mut seq }) = head else {
        return Err(no_log(organisation_id));
    };
    let now = now().naive_utc();
    let waiting = in_feed_order(unnumbered(conn, organisation_id)?, now);
    if waiting.is_empty() {
        return Ok(0);
    }
    // Numbered a few hundred to a statement (`UPDATE … FROM (VALUES …)`): an import's
    // thousands of changes are numbered in a handful of round trips.
    let numbered = numbers(&waiting, seq)?;
    seq += i64::try_from(waiting.len()).map_err(ApiError::internal)?;
    let chunks: Vec<_> = numbered.chunks(NUMBERED_PER_STATEMENT).collect();
    for (place, chunk) in chunks.iter().enumerate() {
        let update = format!(
            "UPDATE changes SET seq = v.column2, published_at = $1 FROM (VALUES {}) AS v \
             WHERE changes.id = v.column1 AND changes.seq IS NULL",
            chunk.join(", ")
        );
        // The head moves with the last numbers, in the same statement: one round trip fewer
        // while the lock is held.
        if place + 1 == chunks.len() {
            diesel::sql_query(format!(
                "WITH numbered AS ({update} RETURNING 1) \
                 UPDATE change_heads SET last_seq = $2 WHERE organisation_id = $3"
            ))
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(seq)
            .bind::<Text, _>(organisation_id)
            .execute(conn)?;
            break;
        }
        diesel::sql_query(update)
            .bind::<Timestamp, _>(now)
            .execute(conn)?;
    }
    Ok(waiting.len())
}

/// [`number`] on SQLite, whose transaction holds the database's one write lock from its start
/// (or, begun reading, fails rather than write over another's commit): the head is read, not
/// locked, and each change is numbered by one statement kept prepared. SQLite runs statements
/// in the process: running a prepared statement once per change costs the one writer less
/// than preparing a new `VALUES` list at every numbering.
fn number_in_turn(conn: &mut DbConnection, organisation_id: &str) -> ApiResult<usize> {
    let now = now().naive_utc();
    let waiting = in_feed_order(unnumbered(conn, organisation_id)?, now);
    if waiting.is_empty() {
        return Ok(0);
    }
    let mut seq: i64 = change_heads::table
        .find(organisation_id)
        .select(change_heads::last_seq)
        .first(conn)
        .optional()?
        .ok_or_else(|| no_log(organisation_id))?;
    let DbConnection::Sqlite(conn) = conn else {
        return Err(ApiError::internal("SQLite's numbering on another database"));
    };
    for change in &waiting {
        seq += 1;
        NumberChange {
            id: &change.id,
            seq,
            at: now,
        }
        .execute(conn)?;
    }
    MoveHead {
        organisation_id,
        seq,
    }
    .execute(conn)?;
    Ok(waiting.len())
}

/// `UPDATE changes SET seq = ?, published_at = ? WHERE id = ? AND seq IS NULL`, kept prepared
/// (diesel never keeps its own `update`s, nor a `sql_query`).
struct NumberChange<'a> {
    id: &'a str,
    seq: i64,
    at: NaiveDateTime,
}

impl QueryId for NumberChange<'_> {
    type QueryId = NumberChange<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Sqlite> for NumberChange<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("UPDATE changes SET seq = ");
        out.push_bind_param::<BigInt, _>(&self.seq)?;
        out.push_sql(", published_at = ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<Text, _>(self.id)?;
        out.push_sql(" AND seq IS NULL");
        Ok(())
    }
}

impl RunQueryDsl<SqliteConnection> for NumberChange<'_> {}

/// `UPDATE change_heads SET last_seq = ? WHERE organisation_id = ?`, kept prepared.
struct MoveHead<'a> {
    organisation_id: &'a str,
    seq: i64,
}

impl QueryId for MoveHead<'_> {
    type QueryId = MoveHead<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Sqlite> for MoveHead<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("UPDATE change_heads SET last_seq = ");
        out.push_bind_param::<BigInt, _>(&self.seq)?;
        out.push_sql(" WHERE organisation_id = ");
        out.push_bind_param::<Text, _>(self.organisation_id)?;
        Ok(())
    }
}

impl RunQueryDsl<SqliteConnection> for MoveHead<'_> {}

fn no_log(organisation_id: &str) -> ApiError {
    ApiError::Internal(anyhow::anyhow!(
        "organisation {organisation_id} has no change log"
    ))
}

/// The organisation's unnumbered changes.
fn unnumbered(conn: &mut DbConnection, organisation_id: &str) -> ApiResult<Vec<Unnumbered>> {
    Ok(changes::table
        .filter(changes::organisation_id.eq(organisation_id))
        .filter(changes::seq.is_null())
        .select((
            changes::id,
            changes::record_id,
            changes::occurred_at,
            changes::version,
            changes::publish_after,
        ))
        .load(conn)?)
}

/// Of `waiting`, the changes that may be shown at `now` (every change to a record with a change
/// due), in the order they take in the feed: in the order they were made (an anonymous raiser's
/// dated to its hour; within one hour, in the random order of their ids), then each record's
/// changes put in version order in the places its changes hold, whatever the clocks of the
/// nodes that made them said.
fn in_feed_order(mut waiting: Vec<Unnumbered>, now: NaiveDateTime) -> Vec<Unnumbered> {
    let due: HashSet<RecordId> = waiting
        .iter()
        .filter(|c| c.publish_after <= now)
        .map(|c| c.record_id)
        .collect();
    waiting.retain(|c| due.contains(&c.record_id));
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
    waiting
}

/// `waiting` numbered from `after` + 1, as rows of a `VALUES` list. The ids are careloop's own
/// UUIDs, checked to be nothing else before they are written inline.
fn numbers(waiting: &[Unnumbered], after: i64) -> ApiResult<Vec<String>> {
    (after + 1..)
        .zip(waiting)
        .map(|(seq, change)| Ok(format!("('{}', {seq})", written_in(&change.id)?)))
        .collect()
}

/// `id`, careloop's own UUID, checked to be nothing else before it is written into SQL.
fn written_in(id: &str) -> ApiResult<&str> {
    if id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        Ok(id)
    } else {
        Err(ApiError::internal("an id that is not a UUID"))
    }
}
