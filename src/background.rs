//! Work every node does beside serving requests.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::watch;

use crate::api::webhooks::outbox::{self, Claimed, HandBack};
use crate::api::webhooks::sender::Sender;
use crate::db::{change_log, Db};
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::now;
use crate::error::{ApiError, ApiResult};
use crate::store::changes;

/// How often each node drops changes past retention (every node may: the deletes are
/// idempotent).
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Drops the change feed's changes, and the webhook deliveries done with, older than
/// `retention_days`, now and every hour.
pub async fn prune_changes(db: Db, retention_days: u32) {
    let retention = chrono::Duration::days(i64::from(retention_days));
    loop {
        let pruned = db
            .run(move |conn| {
                let at = now();
                Ok((
                    changes::prune(conn, retention, at)?,
                    outbox::prune(conn, retention, at)?,
                ))
            })
            .await;
        match pruned {
            Ok((0, 0)) => {}
            Ok((changes, deliveries)) => log::info!(
                "dropped {changes} change(s) and {deliveries} webhook deliveries past retention"
            ),
            Err(error) => log::error!("could not drop old changes: {error}"),
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}

/// How often each node numbers the change log's waiting changes. Its readers number what waits
/// before they read; this keeps what waits for them little (a quarter second of writes).
const NUMBER_EVERY: Duration = Duration::from_millis(250);

/// Numbers every organisation's waiting changes, now and every [`NUMBER_EVERY`]. A failure is
/// logged when it starts and when it ends, not at every round; an outage, once, by the pool.
pub async fn number_changes(db: Db) {
    let mut failing = change_log::Failing::default();
    let mut round_failed = false;
    loop {
        match number_round(&db, &mut failing).await {
            Ok(_) | Err(ApiError::DatabaseUnavailable(_)) => round_failed = false,
            Err(error) if !round_failed => {
                round_failed = true;
                log::error!("could not look for changes to number: {error}");
            }
            Err(_) => {}
        }
        tokio::time::sleep(NUMBER_EVERY).await;
    }
}

/// One round of the background's numbering: each organisation with changes waiting, in a write
/// of its own (on SQLite, in the writer's group), so that one whose log cannot be numbered
/// keeps no other's waiting; nothing is written when nothing waits. `failing` holds the
/// organisations whose numbering failed at the last try. Answers how many changes it
/// numbered; a lost database ends the round.
pub async fn number_round(db: &Db, failing: &mut change_log::Failing) -> ApiResult<usize> {
    let waiting = db.run(change_log::waiting_organisations).await?;
    failing.keep_only(&waiting);
    let mut numbered = 0;
    for organisation_id in waiting {
        let numbering = organisation_id.clone();
        let outcome = db
            .write(move |conn| change_log::number(conn, &numbering))
            .await;
        if let Err(error @ ApiError::DatabaseUnavailable(_)) = outcome {
            return Err(error);
        }
        failing.note(&organisation_id, &outcome);
        numbered += outcome.unwrap_or(0);
    }
    Ok(numbered)
}

/// How often a node looks for webhook work when nothing was written on it (the other nodes'
/// writes, retries coming due).
const WEBHOOKS_EVERY: Duration = Duration::from_secs(1);
/// How many deliveries a node takes in one round.
const DELIVERIES_PER_ROUND: i64 = 100;

/// The webhook worker every node runs: queues the feed's changes for each endpoint, then sends
/// what is due, soon after a write on this node (bursts of writes taken together) and every
/// second otherwise. While no endpoint is enabled it only looks once a second, so writes cost
/// nothing extra.
///
/// When `stopping` turns true it stops soon, cutting off the messages it is sending but not the
/// database work it has begun, and hands the deliveries and endpoints it holds back to the
/// queue, so another node sends them without waiting for the leases to run out. (A message cut
/// off mid-send is sent again: receivers deduplicate by its `webhook-id`.)
pub async fn deliver_webhooks(
    db: Db,
    sender: Sender,
    disable_after_hours: u32,
    stopping: watch::Receiver<bool>,
) {
    let node = uuid::Uuid::now_v7().to_string();
    let disable_after = chrono::Duration::hours(i64::from(disable_after_hours));
    webhook_rounds(&db, &sender, &node, disable_after, stopping).await;
    let owner = node.clone();
    match db
        .run(move |conn| outbox::release(conn, &owner, HandBack::All))
        .await
    {
        Ok(0) => {}
        Ok(released) => log::info!("handed {released} webhook deliveries back to the queue"),
        Err(error) => log::error!("could not hand webhook deliveries back: {error}"),
    }
}

/// Rounds until `stopping` turns true.
async fn webhook_rounds(
    db: &Db,
    sender: &Sender,
    node: &str,
    disable_after: chrono::Duration,
    mut stopping: watch::Receiver<bool>,
) {
    // Stopped when told to, or when no one can tell it any more.
    while !*stopping.borrow() && stopping.has_changed().is_ok() {
        let mut writes = db.watch_writes();
        let endpoints = match round_until(db, sender, node, disable_after, &stopping).await {
            // Something was sent: there may be more already.
            Ok(round) if round.sent > 0 => continue,
            Ok(round) => round.endpoints,
            Err(error) => {
                log::error!("webhook round failed: {error}");
                0
            }
        };
        let pause = async {
            if endpoints == 0 {
                return tokio::time::sleep(WEBHOOKS_EVERY).await;
            }
            tokio::select! {
                _ = writes.changed() => tokio::time::sleep(GATHER_WRITES).await,
                _ = tokio::time::sleep(WEBHOOKS_EVERY) => {}
            }
        };
        tokio::select! {
            _ = stopping.wait_for(|stop| *stop) => {}
            _ = pause => {}
        }
    }
}

/// How long the worker lets a burst of writes gather before it queues their changes.
const GATHER_WRITES: Duration = Duration::from_millis(20);

/// What one round of the webhook worker did.
#[derive(Debug, Clone, Copy)]
pub struct Round {
    /// Messages sent.
    pub sent: usize,
    /// Enabled endpoints it found.
    pub endpoints: usize,
}

/// One round of the webhook worker as node `node`: queue, send what is due (each endpoint's
/// messages in order, endpoints side by side), record each outcome, disable the endpoints
/// failing for `disable_after`.
pub async fn webhook_round(
    db: &Db,
    sender: &Sender,
    node: &str,
    disable_after: chrono::Duration,
) -> ApiResult<Round> {
    let (_never, running) = watch::channel(false);
    round_until(db, sender, node, disable_after, &running).await
}

/// [`webhook_round`], its sending cut off when `stopping` turns true.
async fn round_until(
    db: &Db,
    sender: &Sender,
    node: &str,
    disable_after: chrono::Duration,
    stopping: &watch::Receiver<bool>,
) -> ApiResult<Round> {
    let endpoints = db.run(outbox::enqueue).await?;
    let owner = node.to_owned();
    let claimed = db
        .run(move |conn| outbox::claim(conn, &owner, DELIVERIES_PER_ROUND))
        .await?;
    let sent = claimed.len();
    let mut by_endpoint: BTreeMap<WebhookId, Vec<Claimed>> = BTreeMap::new();
    for delivery in claimed {
        by_endpoint
            .entry(delivery.webhook_id)
            .or_default()
            .push(delivery);
    }
    // Each endpoint's messages in order, until one fails: the rest wait for the next round
    // (the failed one for its back-off), so a dead endpoint costs a round one timeout.
    let sends = by_endpoint
        .into_iter()
        .map(|(endpoint, deliveries)| async move {
            let mut stop = stopping.clone();
            let mut queue = deliveries.into_iter();
            for delivery in queue.by_ref() {
                let at = now();
                let timestamp = at.timestamp();
                let (id, signatures) = (delivery.id.to_string(), delivery.signatures(timestamp));
                let sending = sender.send(
                    &delivery.url,
                    &id,
                    timestamp,
                    &signatures,
                    delivery.payload.clone(),
                );
                // Cut off when the node stops: this one stays leased to the node, which hands
                // everything it holds back on its way out.
                let outcome = tokio::select! {
                    biased;
                    outcome = sending => outcome,
                    _ = stop.wait_for(|stop| *stop) => break,
                };
                let failed = !outcome.succeeded();
                if failed {
                    metrics::counter!(crate::prometheus::WEBHOOK_FAILURES).increment(1);
                }
                let owner = node.to_owned();
                db.run(move |conn| outbox::record(conn, &owner, &delivery, &outcome, at))
                    .await?;
                if failed {
                    break;
                }
            }
            let unsent: Vec<DeliveryId> = queue.map(|delivery| delivery.id).collect();
            let owner = node.to_owned();
            db.run(move |conn| {
                let turn = HandBack::Turn {
                    endpoint,
                    unsent: &unsent,
                };
                outbox::release(conn, &owner, turn)
            })
            .await
        });
    for sending in futures_util::future::join_all(sends).await {
        sending?;
    }
    db.run(move |conn| outbox::disable_failing(conn, disable_after))
        .await?;
    Ok(Round { sent, endpoints })
}
