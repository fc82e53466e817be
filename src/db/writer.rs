//! SQLite's writes, committed in groups on one connection.
//!
//! SQLite has one writer at a time, so a node's writes take turns whatever it does. Each turn
//! used to pay for its own transaction: the commit writing every page it touched to the log
//! (the same few index pages, again and again), the change log's numbering, and a connection
//! whose cache another connection's commit had just made stale. Now a write joins a queue; the
//! first to find no group running leads the next one: every write queued by then, in one
//! transaction, each in a savepoint of its own, committed together. A write that fails rolls
//! back to its savepoint and leaves the others be, exactly as its own transaction would have;
//! its caller learns the outcome only after the commit, as before. The group runs on one
//! connection kept for writing, whose cache stays warm because nothing else writes through
//! another. The writes waiting are woken together when a group is over (waiting for the turn
//! instead, a write already committed could wait behind any number of new groups). Copying the
//! log into the database file (the checkpoint) is left to a thread of its own, so that no
//! group waits for it.

use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use diesel::connection::{AnsiTransactionManager, TransactionManager};

use super::{change_log, checkpoint, DatabaseUrl, DbConnection};
use crate::error::{ApiError, ApiResult};

/// The turn of this process's SQLite writers: whoever holds it writes. Taken here rather than
/// in SQLite's busy handler, which sleeps and polls (up to 100 ms a turn) and made a burst of
/// writes wait for nothing.
pub(super) static SQLITE_WRITERS: Mutex<()> = Mutex::new(());

/// Locks `mutex`, whatever a thread that panicked while holding it left (every value kept
/// behind these locks is whole between statements).
pub(super) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Begins a write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`):
/// two deferred transactions that both read and then write would otherwise deadlock, and SQLite
/// answers that with SQLITE_BUSY at once instead of waiting.
pub(super) fn begin_writing(conn: &mut DbConnection) -> ApiResult<()> {
    match conn {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(_) => DbConnection::begin_transaction(conn)?,
    }
    Ok(())
}

/// One node's SQLite writes: those queued for the next group, and the connection they run on.
pub(super) struct Writer {
    url: DatabaseUrl,
    queue: Mutex<Queue>,
    /// Wakes the writes waiting when a group is over.
    group_over: Condvar,
    /// Opened at the first write; used only by a group's leader, in the writers' turn.
    conn: Mutex<Option<DbConnection>>,
    /// Tells the checkpointer a group committed.
    committed: SyncSender<()>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Arc<dyn Queued>>,
    /// Whether a group is running.
    leading: bool,
}

/// A write waiting in the queue, its type forgotten so that any write can join a group.
trait Queued: Send + Sync {
    /// Runs the work, keeping its answer; whether it succeeded.
    fn run(&self, conn: &mut DbConnection) -> bool;
    /// The group was not committed: a successful answer becomes `error`'s.
    fn fail(&self, error: &ApiError);
    /// Its group is over: the caller may take the answer.
    fn finish(&self);
}

struct Write<T, F> {
    work: F,
    outcome: Mutex<Outcome<T>>,
}

struct Outcome<T> {
    answer: Option<ApiResult<T>>,
    finished: bool,
}

impl<T, F> Write<T, F> {
    fn new(work: F) -> Self {
        Self {
            work,
            outcome: Mutex::new(Outcome {
                answer: None,
                finished: false,
            }),
        }
    }

    fn finished(&self) -> bool {
        lock(&self.outcome).finished
    }

    /// The answer, once its group is over.
    fn answer(&self) -> ApiResult<T> {
        let answer = lock(&self.outcome).answer.take();
        answer.unwrap_or_else(|| Err(ApiError::internal("a write's group ended without it")))
    }
}

impl<T, F> Queued for Write<T, F>
where
    T: Send,
    F: Fn(&mut DbConnection) -> ApiResult<T> + Send + Sync,
{
    fn run(&self, conn: &mut DbConnection) -> bool {
        let answer = (self.work)(conn);
        let succeeded = answer.is_ok();
        lock(&self.outcome).answer = Some(answer);
        succeeded
    }

    fn fail(&self, error: &ApiError) {
        let mut outcome = lock(&self.outcome);
        if !matches!(outcome.answer, Some(Err(_))) {
            outcome.answer = Some(Err(again(error)));
        }
    }

    fn finish(&self) {
        lock(&self.outcome).finished = true;
    }
}

impl Writer {
    pub(super) fn new(url: DatabaseUrl) -> Self {
        // One nudge waiting is enough: the checkpoint it starts comes after every commit
        // that sent one.
        let (committed, nudged) = mpsc::sync_channel(1);
        checkpoint::when_nudged(url.clone(), nudged);
        Self {
            url,
            queue: Mutex::default(),
            group_over: Condvar::new(),
            conn: Mutex::default(),
            committed,
        }
    }

    /// Runs `work` in the next group of writes; blocks until that group is over.
    pub(super) fn write<T, F>(&self, work: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: Fn(&mut DbConnection) -> ApiResult<T> + Send + Sync + 'static,
    {
        let write = Arc::new(Write::new(work));
        let mut queue = lock(&self.queue);
        queue.waiting.push(write.clone());
        while !write.finished() {
            if queue.leading {
                queue = self
                    .group_over
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            } else {
                queue.leading = true;
                let writes = std::mem::take(&mut queue.waiting);
                drop(queue);
                self.commit(&writes);
                queue = lock(&self.queue);
            }
        }
        drop(queue);
        write.answer()
    }

    /// Commits `writes` as one group, in the writers' turn.
    fn commit(&self, writes: &[Arc<dyn Queued>]) {
        let _turn = lock(&SQLITE_WRITERS);
        let mut conn = lock(&self.conn);
        Group {
            writer: self,
            conn: &mut conn,
            writes,
        }
        .commit();
    }
}

/// A group of writes being committed. However it ends (even by a panic in one of its writes,
/// when the others are told so and the connection, mid-transaction, is dropped, which rolls
/// it back), its writes are finished and those waiting woken.
struct Group<'a> {
    writer: &'a Writer,
    conn: &'a mut Option<DbConnection>,
    writes: &'a [Arc<dyn Queued>],
}

impl Group<'_> {
    fn commit(mut self) {
        if let Err(error) = self.run() {
            for write in self.writes {
                write.fail(&error);
            }
        }
    }

    fn run(&mut self) -> ApiResult<()> {
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => self
                .writer
                .url
                .establish(true)
                .map_err(ApiError::internal)?,
        };
        let conn = self.conn.insert(conn);
        change_log::forget();
        begin_writing(conn)?;
        let committed = Self::write_all(conn, self.writes);
        match committed {
            // Full means a nudge is waiting already.
            Ok(()) => _ = self.writer.committed.try_send(()),
            Err(_) => {
                change_log::forget();
                // A transaction SQLite rolled back under a write (a full disk, say) leaves
                // diesel's count of savepoints wrong: the next group starts on a fresh
                // connection.
                let _ = DbConnection::rollback_transaction(conn);
                *self.conn = None;
            }
        }
        committed
    }

    /// Each write in a savepoint of its own, then the change log's numbering and the commit.
    fn write_all(conn: &mut DbConnection, writes: &[Arc<dyn Queued>]) -> ApiResult<()> {
        for write in writes {
            DbConnection::begin_transaction(conn)?;
            if write.run(conn) {
                DbConnection::commit_transaction(conn)?;
            } else {
                DbConnection::rollback_transaction(conn)?;
            }
        }
        change_log::number_pending(conn)?;
        Ok(DbConnection::commit_transaction(conn)?)
    }
}

impl Drop for Group<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            *self.conn = None;
            let error = ApiError::internal("a write in the same group panicked");
            for write in self.writes {
                write.fail(&error);
            }
        }
        for write in self.writes {
            write.finish();
        }
        lock(&self.writer.queue).leading = false;
        self.writer.group_over.notify_all();
    }
}

/// The group's failure, for each of its writes (an error is not `Clone`: its cause is not).
fn again(error: &ApiError) -> ApiError {
    match error {
        ApiError::DatabaseUnavailable(cause) => ApiError::DatabaseUnavailable(cause.clone()),
        other => ApiError::internal(format_args!("its group of writes failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;
    use std::time::Duration;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// A writer on a fresh file with a table `notes`, whose `owner` must name a row of
    /// `owners` by the commit (a deferred foreign key, so that a commit can fail).
    fn writer() -> (tempfile::TempDir, Arc<Writer>) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = DatabaseUrl::parse(&dir.path().join("writer.db").display().to_string());
        url.establish(true)
            .expect("the database")
            .batch_execute(
                "CREATE TABLE owners (id INTEGER PRIMARY KEY); INSERT INTO owners VALUES (1); \
                 CREATE TABLE notes (text TEXT NOT NULL, \
                 owner INTEGER NOT NULL REFERENCES owners (id) DEFERRABLE INITIALLY DEFERRED);",
            )
            .expect("the tables");
        (dir, Arc::new(Writer::new(url)))
    }

    /// Writes a note by `owner`; a note whose text starts "refused" then fails.
    fn note(text: String, owner: i64) -> impl Fn(&mut DbConnection) -> ApiResult<String> {
        move |conn: &mut DbConnection| {
            conn.batch_execute(&format!(
                "INSERT INTO notes (text, owner) VALUES ('{text}', {owner})"
            ))?;
            if text.starts_with("refused") {
                return Err(ApiError::bad_request("refused", "refused after writing"));
            }
            Ok(text.clone())
        }
    }

    /// The notes stored, and of them the refused ones.
    fn stored(writer: &Writer) -> [i64; 2] {
        let conn = &mut writer.url.establish(true).expect("a reader");
        [
            "SELECT count(*) AS n FROM notes",
            "SELECT count(*) AS n FROM notes WHERE text LIKE 'refused%'",
        ]
        .map(|sql| sql_query_count(conn, sql))
    }

    fn sql_query_count(conn: &mut DbConnection, sql: &str) -> i64 {
        diesel::sql_query(sql)
            .get_result::<Count>(conn)
            .expect("a count")
            .n
    }

    /// Commits `notes` as one group, as a write leading it would; their answers.
    fn group_of(writer: &Writer, notes: &[(&str, i64)]) -> Vec<ApiResult<String>> {
        let writes: Vec<_> = notes
            .iter()
            .map(|(text, owner)| Arc::new(Write::new(note(text.to_string(), *owner))))
            .collect();
        let queued: Vec<Arc<dyn Queued>> = writes.iter().map(|w| w.clone() as _).collect();
        writer.commit(&queued);
        assert!(writes.iter().all(|write| lock(&write.outcome).finished));
        writes.iter().map(|write| write.answer()).collect()
    }

    #[test]
    fn a_write_that_fails_leaves_the_rest_of_its_group_committed() {
        let (_dir, writer) = writer();
        let answers = group_of(&writer, &[("first", 1), ("refused", 1), ("third", 1)]);
        assert_eq!(answers[0].as_deref().ok(), Some("first"));
        assert!(matches!(answers[1], Err(ApiError::BadRequest { .. })));
        assert_eq!(answers[2].as_deref().ok(), Some("third"));
        assert_eq!(stored(&writer), [2, 0]);
    }

    #[test]
    fn a_group_whose_commit_fails_stores_nothing_and_says_so_to_each_write() {
        let (_dir, writer) = writer();
        // The second note names no owner: the commit's deferred check fails.
        let answers = group_of(&writer, &[("first", 1), ("orphan", 2), ("refused", 1)]);
        assert!(matches!(answers[0], Err(ApiError::Internal(_))));
        assert!(matches!(answers[1], Err(ApiError::Internal(_))));
        // A write that failed of itself keeps its own answer.
        assert!(matches!(answers[2], Err(ApiError::BadRequest { .. })));
        assert_eq!(stored(&writer), [0, 0]);
        // The next group starts afresh.
        let answers = group_of(&writer, &[("after", 1)]);
        assert_eq!(answers[0].as_deref().ok(), Some("after"));
        assert_eq!(stored(&writer), [1, 0]);
    }

    #[test]
    fn the_checkpointer_copies_commits_into_the_database_file() {
        let (dir, writer) = writer();
        let file = dir.path().join("writer.db");
        let before = std::fs::metadata(&file).expect("the file").len();
        // Some fifty pages, far below the writer's own threshold: only the checkpointer copies
        // them into the file.
        for i in 0..200 {
            let text = format!("{i:01000}");
            writer.write(note(text, 1)).expect("a note");
        }
        let grown = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            std::fs::metadata(&file).expect("the file").len() > before + 100 * 1024
        });
        assert!(grown, "the log was not checkpointed");
        assert_eq!(stored(&writer), [200, 0]);
    }

    #[test]
    fn concurrent_writes_all_land_once_each() {
        let (_dir, writer) = writer();
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let writer = writer.clone();
                let text = if i % 4 == 3 {
                    format!("refused {i}")
                } else {
                    format!("note {i}")
                };
                std::thread::spawn(move || writer.write(note(text, 1)))
            })
            .collect();
        let answers: Vec<_> = threads
            .into_iter()
            .map(|thread| thread.join().expect("a writer thread"))
            .collect();
        assert_eq!(answers.iter().filter(|answer| answer.is_ok()).count(), 12);
        assert_eq!(stored(&writer), [12, 0]);
    }
}
