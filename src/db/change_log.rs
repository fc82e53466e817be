//! Numbering the change log, once its changes have committed. A write appends its changes
//! unnumbered. [`number`] takes the organisation's `change_heads` row (on PostgreSQL a row lock
//! held until commit; SQLite's write transaction holds the database's one write lock already) and
//! numbers the changes waiting. It runs:
//!
//! - on PostgreSQL, never in the transaction of the write that made the change (a new webhook's
//!   numbers what came before it, to start after it): a write takes no lock of the log, so an
//!   organisation's writers never queue for one another there (they did, one `COMMIT` at a time,
//!   when each numbered its own). A read of the feed, the webhooks' turn and a new endpoint's
//!   starting point number what waits first, so a reader sees every change committed before it
//!   asked; and the background's round, every quarter second, keeps what waits little;
//! - on SQLite, in the writer's group, just before it commits (see `db::writer`): its one writer
//!   queues for no one, and a change's row is written once, numbered. Readers and the round
//!   find only what other writes left (a withheld change whose hour is over, say).
//!
//! So:
//!
//! - number n+1 is handed out only after the transaction that numbered n has committed, and is
//!   visible (PostgreSQL makes a commit visible before it releases its locks; SQLite has one
//!   writer at a time): a reader that has read up to n has seen every change before it;
//! - the rows to number are read after the head is taken, so a change is never numbered twice;
//!   on PostgreSQL only committed changes are seen (the numbering's transaction is READ
//!   COMMITTED, PostgreSQL's default: each statement sees what committed before it), on SQLite
//!   a group's own, committed with them;
//! - changes numbered together take the order they were made in, each record's in version order;
//! - a numbering locks only the head and the changes it numbers, which no write locks once
//!   made, so it cannot close a cycle with a write's locks (a new webhook's transaction takes
//!   the head first, then writes rows no numbering touches).

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::connection::TransactionManager;
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

/// Numbers the organisation's changes waiting that may be shown (an anonymous raiser's only once
/// its hour is over, and with any change due every other change to its record, so a record's
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
    let mut seq: i64 = change_heads::table
        .find(organisation_id)
        .select(change_heads::last_seq)
        .first(conn)
        .optional()?
        .ok_or_else(|| no_log(organisation_id))?;
    let now = now().naive_utc();
    let waiting = in_feed_order(unnumbered(conn, organisation_id)?, now);
    if waiting.is_empty() {
        return Ok(0);
    }
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

/// The changes waiting for their numbers that may be numbered now (with each, every change to
/// its record: see [`in_feed_order`]).
pub fn due() -> diesel::dsl::Filter<
    diesel::dsl::Filter<changes::table, diesel::dsl::IsNull<changes::seq>>,
    diesel::dsl::LtEq<changes::publish_after, NaiveDateTime>,
> {
    changes::table
        .filter(changes::seq.is_null())
        .filter(changes::publish_after.le(now().naive_utc()))
}

/// The organisations with changes [`due`], in the order of their ids.
pub fn waiting_organisations(conn: &mut DbConnection) -> ApiResult<Vec<String>> {
    Ok(due()
        .select(changes::organisation_id)
        .distinct()
        .order(changes::organisation_id)
        .load(conn)?)
}

/// [`number`] for every organisation with changes due, each in a savepoint of its own in the
/// running transaction: one whose log cannot be numbered is left waiting (its readers are
/// answered the error) and keeps no other's waiting. SQLite's writer's group, before it
/// commits.
pub fn number_each(conn: &mut DbConnection, failing: &mut Failing) -> ApiResult<()> {
    let waiting = waiting_organisations(conn)?;
    failing.keep_only(&waiting);
    for organisation_id in waiting {
        DbConnection::begin_transaction(conn)?;
        let numbered = number(conn, &organisation_id);
        failing.note(&organisation_id, &numbered);
        match numbered {
            Ok(_) => DbConnection::commit_transaction(conn)?,
            Err(_) => DbConnection::rollback_transaction(conn)?,
        }
    }
    Ok(())
}

/// The organisations whose log could not be numbered at the last try, so that a failure is
/// logged when it starts and when it ends, not at every try.
#[derive(Debug, Default)]
pub struct Failing(BTreeSet<String>);

impl Failing {
    /// Logs the organisation's numbering if it failed for the first time, or numbered again.
    pub fn note<T>(&mut self, organisation_id: &str, numbered: &ApiResult<T>) {
        match numbered {
            Ok(_) if self.0.remove(organisation_id) => {
                log::info!("organisation {organisation_id}'s changes are numbered again")
            }
            Err(error) if self.0.insert(organisation_id.to_owned()) => {
                log::error!("could not number organisation {organisation_id}'s changes: {error}")
            }
            _ => {}
        }
    }

    /// Forgets the organisations no longer waiting (another numbered them since), so that
    /// their next failure is news.
    pub fn keep_only(&mut self, waiting: &[String]) {
        self.0
            .retain(|organisation_id| waiting.contains(organisation_id));
    }
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
