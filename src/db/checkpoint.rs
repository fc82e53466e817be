//! SQLite's checkpoints: copying the write-ahead log into the database file, off the writers'
//! turn.

use std::sync::mpsc::Receiver;
use std::time::Duration;

use diesel::connection::SimpleConnection;

use super::DatabaseUrl;

/// How long the checkpointer rests after a checkpoint, letting commits gather: each page is
/// then copied once for many commits that wrote it, as SQLite's own threshold would have it.
const CHECKPOINT_REST: Duration = Duration::from_millis(100);

/// Copies the write-ahead log into the database file, on a thread and connection of its own,
/// after commits (`nudged`): SQLite otherwise does it in the commit that takes the log past
/// its threshold, while every write queued behind that group waits. A passive checkpoint
/// never waits for readers or writers. The thread ends once its writer is gone (after at most
/// one more pass).
pub(super) fn when_nudged(url: DatabaseUrl, nudged: Receiver<()>) {
    let spawned = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut conn = None;
            let mut warned = false;
            while nudged.recv().is_ok() {
                // Opened only while the file is there: a nudge can outlive its writer, and
                // opening would make the file anew (in a test's folder being removed, say).
                if conn.is_none() && !file_there(&url) {
                    continue;
                }
                let checkpointed = match conn.take() {
                    Some(open) => Ok(open),
                    None => url.establish(true).map_err(|e| e.to_string()),
                }
                .and_then(|mut open| {
                    open.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")
                        .map(|()| open)
                        .map_err(|e| e.to_string())
                });
                // Said once until it recovers: commits checkpoint past the backstop meanwhile.
                match checkpointed {
                    Ok(open) => {
                        conn = Some(open);
                        warned = false;
                    }
                    Err(e) if !warned => {
                        log::warn!("the SQLite checkpointer failed: {e}");
                        warned = true;
                    }
                    Err(_) => {}
                }
                std::thread::sleep(CHECKPOINT_REST);
            }
        });
    if let Err(e) = spawned {
        log::warn!("no checkpointer thread ({e}): commits checkpoint past the backstop");
    }
}

fn file_there(url: &DatabaseUrl) -> bool {
    match url {
        DatabaseUrl::Sqlite(path) => std::path::Path::new(path).exists(),
        DatabaseUrl::Postgres(_) => false,
    }
}
