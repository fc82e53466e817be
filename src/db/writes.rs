//! A request's inserts, sent to PostgreSQL together. A create writes its record, its audit
//! event, its change and its tags: four statements, each a round trip to the server, which cost
//! PostgreSQL and careloop more CPU (a socket write, a wake-up, a read on each side) than the
//! inserts themselves. On PostgreSQL the one-row inserts of a piece of work wait and go as one
//! statement, the first ones in `WITH`; SQLite, in the process, is sent each at once. The parts
//! of one statement share its snapshot and do not see each other's rows (foreign keys are
//! checked at its end), so inserts sent together must not depend on one another: no
//! `ON CONFLICT`, trigger or subquery over a row another of them inserts.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

use super::DbConnection;
use crate::error::ApiResult;

/// Runs `work`, which inserts through [`insert_all!`] into its `Writes`, and sends what it left
/// waiting before answering: nothing `work` inserts is forgotten.
pub fn together<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut Writes<'_>) -> ApiResult<T>,
) -> ApiResult<T> {
    let mut writes = Writes {
        conn,
        waiting: Vec::new(),
    };
    let done = work(&mut writes)?;
    writes.send()?;
    Ok(done)
}

/// The connection, with the PostgreSQL inserts waiting to be sent on it.
pub struct Writes<'c> {
    conn: &'c mut DbConnection,
    waiting: Vec<Box<dyn QueryFragment<Pg>>>,
}

impl Writes<'_> {
    /// The connection, for a read or a write other than a one-row insert, once the inserts
    /// waiting are sent: what it reads or changes sees them.
    pub fn conn(&mut self) -> ApiResult<&mut DbConnection> {
        self.send()?;
        Ok(self.conn)
    }

    /// Where a one-row insert waits: on PostgreSQL, until the next read or the work's end.
    pub fn waiting_on_postgres(&mut self) -> Option<&mut Vec<Box<dyn QueryFragment<Pg>>>> {
        match self.conn {
            DbConnection::Pg(_) => Some(&mut self.waiting),
            DbConnection::Sqlite(_) => None,
        }
    }

    fn send(&mut self) -> ApiResult<()> {
        if let (DbConnection::Pg(conn), false) = (&mut *self.conn, self.waiting.is_empty()) {
            let statements = std::mem::take(&mut self.waiting);
            Together(&statements).execute(conn)?;
        }
        Ok(())
    }
}

/// Statements as one: `WITH w0 AS (first), w1 AS (second) last`.
struct Together<'s>(&'s [Box<dyn QueryFragment<Pg>>]);

impl QueryFragment<Pg> for Together<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let Some((last, first)) = self.0.split_last() else {
            return Ok(());
        };
        for (n, statement) in first.iter().enumerate() {
            out.push_sql(if n == 0 { "WITH " } else { ", " });
            out.push_sql(&format!("w{n} AS ("));
            statement.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        if !first.is_empty() {
            out.push_sql(" ");
        }
        last.walk_ast(out)
    }
}

impl<Conn> RunQueryDsl<Conn> for Together<'_> {}

/// Kept prepared by its SQL, which is the same for the same inserts, when each of them may be
/// (diesel's one-row insert may not when it leaves a column to its `DEFAULT`).
impl QueryId for Together<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// Inserts `rows` (a slice of insertable rows) into `table` through `writes` ([`Writes`]): one
/// row waits, copied, to go with the work's other inserts on PostgreSQL; more go at once, a few hundred
/// to a statement, the multi-row insert `MultiConnection` does not offer. (At most 200 rows a
/// statement keeps a wide row's parameters under SQLite's limit.) A one-row statement diesel
/// keeps prepared; a multi-row one it prepares afresh each time.
macro_rules! insert_all {
    ($writes:expr, $table:expr, $rows:expr) => {{
        let writes: &mut $crate::db::Writes<'_> = $writes;
        match (writes.waiting_on_postgres(), &$rows[..]) {
            (Some(waiting), [row]) => {
                waiting.push(Box::new(diesel::insert_into($table).values(row.clone())));
            }
            (_, rows) => {
                for chunk in rows.chunks(200) {
                    match (writes.conn()?, chunk) {
                        ($crate::db::DbConnection::Sqlite(conn), [row]) => {
                            diesel::insert_into($table).values(row).execute(conn)?
                        }
                        ($crate::db::DbConnection::Sqlite(conn), rows) => {
                            diesel::insert_into($table).values(rows).execute(conn)?
                        }
                        ($crate::db::DbConnection::Pg(conn), rows) => {
                            diesel::insert_into($table).values(rows).execute(conn)?
                        }
                    };
                }
            }
        }
    }};
}
pub(crate) use insert_all;

#[cfg(test)]
mod tests {
    use diesel::pg::Pg;
    use diesel::prelude::*;
    use diesel::query_builder::QueryFragment;

    use super::Together;
    use crate::db::schema::{organisations, quality_statement_tags as tags};

    /// The inserts waiting go as one statement, its parameters numbered through all of them, and
    /// kept prepared.
    #[test]
    fn inserts_waiting_go_as_one_statement_kept_prepared() {
        let tag = |record: &str| {
            Box::new(diesel::insert_into(tags::table).values((
                tags::record_id.eq(record.to_owned()),
                tags::quality_statement_id.eq("safe.safeguarding".to_owned()),
            ))) as Box<dyn QueryFragment<Pg>>
        };
        let waiting = vec![
            Box::new(
                diesel::insert_into(organisations::table)
                    .values(organisations::name.eq("Oak House".to_owned())),
            ) as Box<dyn QueryFragment<Pg>>,
            tag("a"),
            tag("b"),
        ];
        assert_eq!(
            diesel::debug_query::<Pg, _>(&Together(&waiting)).to_string(),
            "WITH w0 AS (INSERT INTO \"organisations\" (\"name\") VALUES ($1)), \
             w1 AS (INSERT INTO \"quality_statement_tags\" (\"record_id\", \"quality_statement_id\") VALUES ($2, $3)) \
             INSERT INTO \"quality_statement_tags\" (\"record_id\", \"quality_statement_id\") VALUES ($4, $5) \
             -- binds: [\"Oak House\", \"a\", \"safe.safeguarding\", \"b\", \"safe.safeguarding\"]"
        );
        assert_eq!(Together(&waiting).is_safe_to_cache_prepared(&Pg), Ok(true));
        // One alone is sent as it is.
        assert_eq!(
            diesel::debug_query::<Pg, _>(&Together(&waiting[2..])).to_string(),
            "INSERT INTO \"quality_statement_tags\" (\"record_id\", \"quality_statement_id\") VALUES ($1, $2) \
             -- binds: [\"b\", \"safe.safeguarding\"]"
        );
    }
}
