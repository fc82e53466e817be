//! Numbering the change log at commit. A write appends its changes unnumbered and names its
//! organisation here; just before the transaction commits, [`number_and_commit`] takes the
//! organisation's `change_heads` row (on PostgreSQL a row lock held until commit; SQLite's
//! write transaction holds the database's one write lock already) and numbers them. So:
//!
//! - number n+1 is handed out only after the transaction holding n has committed, and is
//!   visible (PostgreSQL makes a commit visible before it releases its locks; SQLite has one
//!   writer at a time): a reader that has read up to n has seen every change before it;
//! - the head row is the last lock a transaction takes and is held only for the commit, so it
//!   cannot close a cycle with the rows a write locks (no deadlock), and writers of one
//!   organisation queue only for that moment;
//! - the rows to number are read after the lock is taken, so a change is never numbered twice.
//!   On PostgreSQL, when the changes to number are all the transaction's own (which no other
//!   transaction can see, let alone number), they are read before the lock and numbered,
//!   head and all, by one statement sent with the `COMMIT` in one message: the lock is then
//!   held while the server runs the two, with no round trip back to this process between
//!   them, while the organisation's other writers queue for it. (Another's withheld change
//!   that fell due meanwhile waits for the next numbering, as it would have without this
//!   write.)

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Text, Timestamp};
use diesel::sqlite::Sqlite;

use super::schema::{change_heads, changes};
use super::DbConnection;
use crate::domain::ids::RecordId;
use crate::domain::now;
use crate::error::{ApiError, ApiResult};

thread_local! {
    /// The organisations the transaction running on this thread appended changes to, each
    /// with the ids of the changes it appended. (A transaction runs start to end on one thread:
    /// one of the blocking pool, or SQLite's writer.)
    static PENDING: RefCell<BTreeMap<String, BTreeSet<String>>> =
        const { RefCell::new(BTreeMap::new()) };
}

/// Marks the organisation's log to be numbered when the running transaction commits, with
/// the changes the transaction appended to it (`own`; none when it only numbers what is due).
pub fn pending(organisation_id: &str, own: impl IntoIterator<Item = String>) {
    PENDING.with(|pending| {
        pending
            .borrow_mut()
            .entry(organisation_id.to_owned())
            .or_default()
            .extend(own);
    });
}

/// Forgets what a transaction marked (it rolled back, or it is about to start).
pub fn forget() {
    PENDING.with(|pending| pending.borrow_mut().clear());
}

/// Numbers the changes of every organisation the transaction marked, in a fixed order of
/// organisations (so two transactions never wait for each other's heads in a cycle), and
/// commits the transaction.
///
/// On PostgreSQL the last organisation's numbering of the transaction's own changes goes to
/// the server with the `COMMIT`, as one message: the head's lock is then held for the statement
/// and the commit alone, with no round trip to this process between them (on a busy machine,
/// each is a wait for this process's thread and then the server's to be scheduled again,
/// while every other writer of the organisation queues). A failing statement skips the
/// `COMMIT` after it and leaves the transaction to be rolled back; a failing `COMMIT` ends it
/// as any failed commit does, with nothing left to roll back. diesel reads the connection's
/// state after each message, so it knows which.
pub fn number_and_commit(conn: &mut DbConnection) -> ApiResult<()> {
    let organisations = PENDING.with(|pending| std::mem::take(&mut *pending.borrow_mut()));
    let mut unsent: Option<String> = None;
    for (organisation_id, own) in organisations {
        if let Some(numbering) = unsent.take() {
            conn.batch_execute(&numbering)?;
        }
        unsent = number(conn, &organisation_id, &own)?;
    }
    match unsent {
        Some(numbering) => conn.batch_execute(&format!("{numbering}; COMMIT"))?,
        None => DbConnection::commit_transaction(conn)?,
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

/// How many changes one statement numbers.
const NUMBERED_PER_STATEMENT: usize = 500;

/// Numbers the organisation's unnumbered changes that may be shown: this transaction's, any
/// withheld one whose hour is over, and a withheld change to a record this transaction changed
/// (so a record's versions come in order). On PostgreSQL, when those are all the
/// transaction's own, the statement that numbers them is returned for the caller to send.
fn number(
    conn: &mut DbConnection,
    organisation_id: &str,
    own: &BTreeSet<String>,
) -> ApiResult<Option<String>> {
    if matches!(conn, DbConnection::Sqlite(_)) {
        number_in_turn(conn, organisation_id)?;
        return Ok(None);
    }
    if (1..=NUMBERED_PER_STATEMENT).contains(&own.len()) {
        let now = now().naive_utc();
        let waiting = in_feed_order(unnumbered(conn, organisation_id)?, now);
        if waiting.iter().all(|change| own.contains(&change.id)) {
            return own_numbering(organisation_id, &waiting, now);
        }
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
        return Ok(None);
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
        // while the organisation's writers queue for it.
        if place + 1 == chunks.len() {
            diesel::sql_query(format!(
                "WITH numbered AS ({update} RETURNING 1) \
                 UPDATE change_heads SET last_seq = $2 WHERE organisation_id = $3"
            ))
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(seq)
            .bind::<Text, _>(organisation_id)
            .execute(conn)?;
            return Ok(None);
        }
        diesel::sql_query(update)
            .bind::<Timestamp, _>(now)
            .execute(conn)?;
    }
    Ok(None)
}

/// [`number`] on SQLite, whose transaction holds the database's one write lock from its start
/// (or, begun reading, fails rather than write over another's commit): the head is read, not
/// locked, and each change is numbered by one statement kept prepared. SQLite runs statements
/// in the process: running a prepared statement once per change costs the one writer less
/// than preparing a new `VALUES` list at every commit.
fn number_in_turn(conn: &mut DbConnection, organisation_id: &str) -> ApiResult<()> {
    let now = now().naive_utc();
    let waiting = in_feed_order(unnumbered(conn, organisation_id)?, now);
    if waiting.is_empty() {
        return Ok(());
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
    Ok(())
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

/// The statement that numbers `waiting`, all of them this transaction's own, and moves the
/// head past them, on PostgreSQL: it takes the head's row lock, to be held only for the commit.
/// Nothing shown yet (an anonymous raiser's changes only) needs none. Its values are written
/// in, as it goes with the `COMMIT` in one message, which carries no parameters: the ids are
/// careloop's own UUIDs, checked by [`written_in`], and `now` a timestamp it writes itself.
fn own_numbering(
    organisation_id: &str,
    waiting: &[Unnumbered],
    now: NaiveDateTime,
) -> ApiResult<Option<String>> {
    if waiting.is_empty() {
        return Ok(None);
    }
    let organisation = written_in(organisation_id)?;
    // Numbering fewer than all (no head to number them from) fails the statement, with a
    // message that says so, and the `COMMIT` sent after it is not run.
    Ok(Some(format!(
        "WITH head AS (UPDATE change_heads SET last_seq = last_seq + {count} \
         WHERE organisation_id = '{organisation}' RETURNING last_seq - {count} AS base), \
         numbered AS (UPDATE changes SET seq = head.base + v.column2, published_at = '{now}' \
         FROM head, (VALUES {values}) AS v WHERE changes.id = v.column1 RETURNING 1) \
         SELECT CAST(CASE WHEN count(*) = {count} THEN '1' \
         ELSE 'organisation {organisation} has no change log' END AS int) FROM numbered",
        count = waiting.len(),
        now = now.format("%Y-%m-%d %H:%M:%S%.6f"),
        values = numbers(waiting, 0)?.join(", "),
    )))
}
