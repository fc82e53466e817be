//! The schema brought up to date: the embedded migrations of each backend, and on SQLite the
//! planner statistics of the indexes they add.

use diesel::connection::SimpleConnection;
use diesel::{QueryableByName, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::{write_transaction, DbConnection};
use crate::error::ApiResult;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Runs the pending migrations, then gives the indexes they made statistics where the others
/// have them (see [`analyse_new_indexes`]). Answers how many migrations ran.
pub(super) fn migrate(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let migrations = match conn {
        DbConnection::Sqlite(_) => SQLITE_MIGRATIONS,
        DbConnection::Pg(_) => POSTGRES_MIGRATIONS,
    };
    let applied = conn
        .run_pending_migrations(migrations)
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
        .len();
    analyse_new_indexes(conn)
        .map_err(|e| anyhow::anyhow!("could not analyse the new indexes: {e}"))?;
    Ok(applied)
}

/// On a SQLite database that keeps planner statistics (someone ran `ANALYZE`), analyses each
/// analysed table that has an index without statistics: one a migration added, as 000018
/// rebuilt `concerns_by_status`. Beside analysed indexes SQLite takes an unanalysed one for the
/// best, and a page of the concern list sorted the organisation's every concern. Nothing else
/// is analysed: statistics taken while a table is small (a new database's) mislead the planner
/// once it grows, where SQLite's assumptions without any serve well. (A partial index with no
/// rows has no statistics to keep.) PostgreSQL's autovacuum keeps its own.
fn analyse_new_indexes(conn: &mut DbConnection) -> ApiResult<()> {
    #[derive(QueryableByName)]
    struct Table {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    if !matches!(conn, DbConnection::Sqlite(_)) {
        return Ok(());
    }
    let kept: Vec<Table> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'",
    )
    .load(conn)?;
    if kept.is_empty() {
        return Ok(());
    }
    let tables: Vec<Table> = diesel::sql_query(
        "SELECT DISTINCT i.tbl_name AS name FROM sqlite_master AS i \
         WHERE i.type = 'index' AND i.tbl_name IN (SELECT tbl FROM sqlite_stat1) \
         AND i.name NOT IN (SELECT idx FROM sqlite_stat1 WHERE idx IS NOT NULL) \
         AND NOT EXISTS (SELECT 1 FROM pragma_index_list(i.tbl_name) AS l \
                         WHERE l.name = i.name AND l.partial)",
    )
    .load(conn)?;
    // Found before taking the writers' turn: an open with nothing to analyse (every start but
    // the first after such a migration) never waits for a running server's writes.
    if tables.is_empty() {
        return Ok(());
    }
    write_transaction(conn, |conn| {
        for table in &tables {
            conn.batch_execute(&format!("ANALYZE \"{}\"", table.name))?;
        }
        Ok(())
    })
}
