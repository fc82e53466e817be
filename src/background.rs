//! Work every node does beside serving requests.

use std::time::Duration;

use crate::db::Db;
use crate::domain::now;
use crate::store::changes;

/// How often each node drops changes past retention (every node may: the deletes are
/// idempotent).
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Drops the change feed's changes older than `retention_days`, now and every hour.
pub async fn prune_changes(db: Db, retention_days: u32) {
    let retention = chrono::Duration::days(i64::from(retention_days));
    loop {
        let pruned = db
            .run(move |conn| changes::prune(conn, retention, now()))
            .await;
        match pruned {
            Ok(0) => {}
            Ok(dropped) => log::info!("dropped {dropped} change(s) past retention"),
            Err(error) => log::error!("could not drop old changes: {error}"),
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}
