//! SQLite's writes, committed in groups on one connection, by one thread.
//!
//! SQLite has one writer at a time, so a node's writes take turns whatever it does. Each turn
//! used to pay for its own transaction: the commit writing every page it touched to the log
//! (the same few index pages, again and again), its own numbering of the change log, and a
//! connection whose cache another connection's commit had just made stale. Now a write joins a
//! queue, and the writer's thread commits every write queued by the time it is free in one
//! transaction, each in a savepoint of its own. A write that fails rolls back to its savepoint
//! and leaves the others be, exactly as its own transaction would have; its caller learns the
//! outcome only after the commit, as before. The group runs on one connection kept for
//! writing, whose cache stays warm because nothing else writes through another. A write waits
//! for its group's end without a thread: the workers' blocking threads are kept to one for
//! each pooled connection, so that the reads queued for them follow one another, and a write
//! waiting on one of them would hold those reads up. Copying the log into the database file
//! (the checkpoint) is left to a thread of its own, so that no group waits for it.

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Mutex, MutexGuard, PoisonError};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use tokio::sync::oneshot;

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

/// One node's SQLite writes: the queue to its writer's thread. Dropping it ends the thread
/// once the writes queued are committed, and waits for that, so the connection is closed
/// when the node's `Db` is gone, as any other is.
pub(super) struct Writer {
    queue: Sender<Box<dyn Queued>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        // The thread ends when the queue's last sender is gone.
        drop(std::mem::replace(&mut self.queue, mpsc::channel().0));
        // Not on the writer's own thread (a write that held the last `Db` ends there): that
        // would wait for itself.
        if let Some(thread) = self.thread.take() {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// A write waiting in the queue, its type forgotten so that any write can join a group.
trait Queued: Send {
    /// Runs the work, keeping its answer; whether it succeeded.
    fn run(&mut self, conn: &mut DbConnection) -> bool;
    /// The group was not committed: a successful answer becomes `error`'s.
    fn fail(&mut self, error: &ApiError);
    /// Its group is over: the answer goes to the caller.
    fn finish(&mut self);
}

struct Write<T, F> {
    work: F,
    answer: Option<ApiResult<T>>,
    caller: Option<oneshot::Sender<ApiResult<T>>>,
}

impl<T, F> Write<T, F> {
    /// The write, and where its caller waits for its answer.
    fn new(work: F) -> (Self, oneshot::Receiver<ApiResult<T>>) {
        let (caller, answered) = oneshot::channel();
        let write = Self {
            work,
            answer: None,
            caller: Some(caller),
        };
        (write, answered)
    }
}

impl<T, F> Queued for Write<T, F>
where
    T: Send,
    F: Fn(&mut DbConnection) -> ApiResult<T> + Send,
{
    fn run(&mut self, conn: &mut DbConnection) -> bool {
        let answer = (self.work)(conn);
        let succeeded = answer.is_ok();
        self.answer = Some(answer);
        succeeded
    }

    fn fail(&mut self, error: &ApiError) {
        if !matches!(self.answer, Some(Err(_))) {
            self.answer = Some(Err(again(error)));
        }
    }

    fn finish(&mut self) {
        let answer = self
            .answer
            .take()
            .unwrap_or_else(|| Err(ApiError::internal("a write's group ended without it")));
        if let Some(caller) = self.caller.take() {
            // A caller that went away (its request did) has its write committed all the same.
            let _ = caller.send(answer);
        }
    }
}

impl Writer {
    pub(super) fn new(url: DatabaseUrl) -> Self {
        // One nudge waiting is enough: the checkpoint it starts comes after every commit
        // that sent one.
        let (committed, nudged) = mpsc::sync_channel(1);
        checkpoint::when_nudged(url.clone(), nudged);
        let (queue, queued) = mpsc::channel();
        let mut committer = Committer::new(url, committed);
        let spawned = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || committer.commit_queued(&queued));
        let thread = spawned
            // Its queue's other end is gone with it: every write answers 500.
            .inspect_err(|e| log::error!("no thread for SQLite's writes: {e}"))
            .ok();
        Self { queue, thread }
    }

    /// Runs `work` in the next group of writes, and waits for that group to be over.
    pub(super) async fn write<T, F>(&self, work: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: Fn(&mut DbConnection) -> ApiResult<T> + Send + 'static,
    {
        let (write, answered) = Write::new(work);
        self.queue
            .send(Box::new(write))
            .map_err(|_| ApiError::internal("the SQLite writer's thread has stopped"))?;
        answered
            .await
            .map_err(|_| ApiError::internal("a write's group ended without it"))?
    }
}

/// The writer's thread: its connection, opened at the first write, the checkpointer it tells
/// of each commit, and the organisations whose change log it could not number.
struct Committer {
    url: DatabaseUrl,
    conn: Option<DbConnection>,
    committed: SyncSender<()>,
    failing: change_log::Failing,
}

impl Committer {
    fn new(url: DatabaseUrl, committed: SyncSender<()>) -> Self {
        Self {
            url,
            conn: None,
            committed,
            failing: change_log::Failing::default(),
        }
    }

    /// The writer's connection. It reads through its own cache rather than the mapped file:
    /// nothing else writes, so its cache stays warm, and the pages a write touches are spread
    /// through the file, each mapping 64 KiB around it into this process's memory.
    fn open(url: &DatabaseUrl) -> ApiResult<DbConnection> {
        let mut conn = url.establish(true).map_err(ApiError::internal)?;
        conn.batch_execute("PRAGMA mmap_size = 0")?;
        Ok(conn)
    }

    /// Commits whatever has queued each time it is free, until its writer is gone. A write
    /// that panics fails its group (see [`Group`]), not the thread.
    fn commit_queued(&mut self, queued: &Receiver<Box<dyn Queued>>) {
        while let Ok(first) = queued.recv() {
            let mut writes = vec![first];
            writes.extend(queued.try_iter());
            // The writes are dropped inside too: dropping what one captured may panic as well.
            let committer = &mut *self;
            let _ = panic::catch_unwind(AssertUnwindSafe(move || committer.commit(&mut writes)));
        }
    }

    /// Commits `writes` as one group, in the writers' turn.
    fn commit(&mut self, writes: &mut [Box<dyn Queued>]) {
        let _turn = lock(&SQLITE_WRITERS);
        Group {
            committer: self,
            writes,
        }
        .commit();
    }
}

/// A group of writes being committed. However it ends (even by a panic in one of its writes,
/// when the others are told so and the connection, mid-transaction, is dropped, which rolls
/// it back), its writes are finished and their callers answered.
struct Group<'a> {
    committer: &'a mut Committer,
    writes: &'a mut [Box<dyn Queued>],
}

impl Group<'_> {
    fn commit(mut self) {
        if let Err(error) = self.run() {
            for write in self.writes.iter_mut() {
                write.fail(&error);
            }
        }
    }

    fn run(&mut self) -> ApiResult<()> {
        let committer = &mut *self.committer;
        let conn = match committer.conn.take() {
            Some(conn) => conn,
            None => Committer::open(&committer.url)?,
        };
        let conn = committer.conn.insert(conn);
        begin_writing(conn)?;
        let committed = Self::write_all(conn, self.writes, &mut committer.failing);
        match committed {
            // Full means a nudge is waiting already.
            Ok(()) => _ = committer.committed.try_send(()),
            Err(_) => {
                // A transaction SQLite rolled back under a write (a full disk, say) leaves
                // diesel's count of savepoints wrong: the next group starts on a fresh
                // connection.
                let _ = DbConnection::rollback_transaction(conn);
                committer.conn = None;
            }
        }
        committed
    }

    /// Each write in a savepoint of its own, then the change log's numbering (see
    /// `db::change_log`) and the commit.
    fn write_all(
        conn: &mut DbConnection,
        writes: &mut [Box<dyn Queued>],
        failing: &mut change_log::Failing,
    ) -> ApiResult<()> {
        for write in writes.iter_mut() {
            DbConnection::begin_transaction(conn)?;
            if write.run(conn) {
                DbConnection::commit_transaction(conn)?;
            } else {
                DbConnection::rollback_transaction(conn)?;
            }
        }
        change_log::number_each(conn, failing)?;
        Ok(DbConnection::commit_transaction(conn)?)
    }
}

impl Drop for Group<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.committer.conn = None;
            let error = ApiError::internal("a write in the same group panicked");
            for write in self.writes.iter_mut() {
                write.fail(&error);
            }
        }
        for write in self.writes.iter_mut() {
            write.finish();
        }
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

    /// A writer on a fresh file with careloop's tables (a group numbers the change log as it
    /// commits) and a table `notes`, whose `owner` must name a row of `owners` by the commit (a
    /// deferred foreign key, so that a commit can fail).
    fn writer() -> (tempfile::TempDir, DatabaseUrl, Writer) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = DatabaseUrl::parse(&dir.path().join("writer.db").display().to_string());
        let conn = &mut url.establish(true).expect("the database");
        super::super::migrate(conn).expect("the migrations");
        conn.batch_execute(
            "CREATE TABLE owners (id INTEGER PRIMARY KEY); INSERT INTO owners VALUES (1); \
             CREATE TABLE notes (text TEXT NOT NULL, \
             owner INTEGER NOT NULL REFERENCES owners (id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .expect("the tables");
        (dir, url.clone(), Writer::new(url))
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
    fn stored(url: &DatabaseUrl) -> [i64; 2] {
        let conn = &mut url.establish(true).expect("a reader");
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

    /// Commits `notes` as one group, as the writer's thread does; their answers.
    fn group_of(committer: &mut Committer, notes: &[(&str, i64)]) -> Vec<ApiResult<String>> {
        let (mut writes, answered): (Vec<Box<dyn Queued>>, Vec<_>) = notes
            .iter()
            .map(|(text, owner)| {
                let (write, answered) = Write::new(note(text.to_string(), *owner));
                (Box::new(write) as Box<dyn Queued>, answered)
            })
            .unzip();
        committer.commit(&mut writes);
        answered
            .into_iter()
            .map(|mut answered| answered.try_recv().expect("answered when its group ended"))
            .collect()
    }

    /// A committer on `url`, whose commits nudge no checkpointer.
    fn committer(url: &DatabaseUrl) -> Committer {
        Committer::new(url.clone(), mpsc::sync_channel(1).0)
    }

    #[test]
    fn a_write_that_fails_leaves_the_rest_of_its_group_committed() {
        let (_dir, url, _) = writer();
        let answers = group_of(
            &mut committer(&url),
            &[("first", 1), ("refused", 1), ("third", 1)],
        );
        assert_eq!(answers[0].as_deref().ok(), Some("first"));
        assert!(matches!(answers[1], Err(ApiError::BadRequest { .. })));
        assert_eq!(answers[2].as_deref().ok(), Some("third"));
        assert_eq!(stored(&url), [2, 0]);
    }

    #[test]
    fn a_group_whose_commit_fails_stores_nothing_and_says_so_to_each_write() {
        let (_dir, url, _) = writer();
        let committer = &mut committer(&url);
        // The second note names no owner: the commit's deferred check fails.
        let answers = group_of(committer, &[("first", 1), ("orphan", 2), ("refused", 1)]);
        assert!(matches!(answers[0], Err(ApiError::Internal(_))));
        assert!(matches!(answers[1], Err(ApiError::Internal(_))));
        // A write that failed of itself keeps its own answer.
        assert!(matches!(answers[2], Err(ApiError::BadRequest { .. })));
        assert_eq!(stored(&url), [0, 0]);
        // The next group starts afresh.
        let answers = group_of(committer, &[("after", 1)]);
        assert_eq!(answers[0].as_deref().ok(), Some("after"));
        assert_eq!(stored(&url), [1, 0]);
    }

    #[actix_web::test]
    async fn a_write_that_panics_fails_its_group_and_not_the_writer() {
        let (_dir, url, writer) = writer();
        let panicking = |_: &mut DbConnection| -> ApiResult<String> { panic!("a bug") };
        let (first, panicked) = futures_util::join!(
            writer.write(note("first".into(), 1)),
            writer.write(panicking)
        );
        assert!(matches!(panicked, Err(ApiError::Internal(_))));
        // In the same group, or committed before it.
        assert!(first.is_ok() || matches!(first, Err(ApiError::Internal(_))));
        let after = writer.write(note("after".into(), 1)).await;
        assert_eq!(after.as_deref().ok(), Some("after"));
        assert_eq!(stored(&url)[0], i64::from(first.is_ok()) + 1);
    }

    #[actix_web::test]
    async fn the_checkpointer_copies_commits_into_the_database_file() {
        let (dir, url, writer) = writer();
        let file = dir.path().join("writer.db");
        let before = std::fs::metadata(&file).expect("the file").len();
        // Some fifty pages, far below the writer's own threshold: only the checkpointer copies
        // them into the file.
        for i in 0..200 {
            let text = format!("{i:01000}");
            writer.write(note(text, 1)).await.expect("a note");
        }
        let grown = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            std::fs::metadata(&file).expect("the file").len() > before + 100 * 1024
        });
        assert!(grown, "the log was not checkpointed");
        assert_eq!(stored(&url), [200, 0]);
    }

    #[actix_web::test]
    async fn concurrent_writes_all_land_once_each() {
        let (_dir, url, writer) = writer();
        let writes = (0..16).map(|i| {
            let text = if i % 4 == 3 {
                format!("refused {i}")
            } else {
                format!("note {i}")
            };
            writer.write(note(text, 1))
        });
        let answers = futures_util::future::join_all(writes).await;
        for (i, answer) in answers.iter().enumerate() {
            assert_eq!(answer.is_ok(), i % 4 != 3, "{i}: {answer:?}");
        }
        assert_eq!(stored(&url), [12, 0]);
    }
}
