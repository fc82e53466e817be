//! The webhook outbox, as the worker in every node drives it: changes of the feed become
//! deliveries (in the transaction that moves the endpoint's cursor on), deliveries are leased
//! to one node at a time, and each attempt's outcome is recorded with the next attempt's time.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::deliveries::DeliveryRow;
use super::dto::{ChangeEvent, DeliveryStatus, DisabledReason};
use super::sender::Outcome;
use super::store::WebhookRow;
use crate::api::changes::store::{feed_change, record_as};
use crate::auth::{Principal, Role};
use crate::db::schema::{webhook_deliveries, webhooks};
use crate::db::{columns_of, write_transaction, DbConnection};
use crate::domain::ids::{DeliveryId, LocationId, WebhookId};
use crate::domain::webhook::{event_for, next_attempt, signature};
use crate::domain::{now, AuditAction, AuditResource};
use crate::error::{ApiError, ApiResult};
use crate::store::audit::{self, Actor, Change};
use crate::store::changes::{self, Filter};
use crate::store::support::{to_row, to_utc};

/// How many changes one endpoint's turn considers.
const CHANGES_PER_TURN: i64 = 200;
/// How long a node holds a delivery it is sending (well past the 10-second timeout), and how
/// much longer for each of the endpoint's messages it sends before it.
const LEASE_SECONDS: i64 = 60;
const SEND_SECONDS: i64 = 15;
/// How many of one endpoint's messages a node sends in a round, so that one slow endpoint
/// holds up a round (and the others' next one) for minutes at most.
const PER_ENDPOINT: i64 = 20;

impl WebhookRow {
    /// Who the endpoint reads as: its scope's roles, limited to its locations, like a token.
    fn reader(&self) -> Principal {
        Principal {
            sub: format!("webhook:{}", self.id),
            organisation_id: self.organisation_id.clone(),
            roles: self.scope.0.iter().map(|r| Role::from(*r)).collect(),
            locations: self
                .location_ids
                .as_ref()
                .map(|l| l.0.iter().copied().map(LocationId::from).collect()),
            name: None,
        }
    }
}

/// Turns the changes after each enabled endpoint's cursor into deliveries, every endpoint in
/// its own transaction (one endpoint's failure is logged and keeps no other waiting). Answers
/// how many endpoints are enabled.
pub fn enqueue(conn: &mut DbConnection) -> ApiResult<usize> {
    let endpoints: Vec<(WebhookId, String, i64)> = webhooks::table
        .filter(webhooks::enabled.eq(true))
        .select((webhooks::id, webhooks::organisation_id, webhooks::cursor))
        .load(conn)?;
    let organisations: BTreeSet<&String> = endpoints.iter().map(|(_, o, _)| o).collect();
    for organisation_id in organisations {
        // What waits for its number (on PostgreSQL, what was committed since the log was last
        // numbered; an anonymous raiser's change, once its hour is over) is numbered before the
        // endpoints' turns. An organisation whose log cannot be numbered keeps no other's
        // endpoints waiting; the background numbering round reports the failure when it starts
        // and when it ends (`change_log::Failing`), not here at every round.
        match changes::number_waiting(conn, organisation_id) {
            Ok(()) => {}
            Err(error @ ApiError::DatabaseUnavailable(_)) => return Err(error),
            Err(error) => {
                log::debug!("could not number organisation {organisation_id}'s changes: {error}")
            }
        }
    }
    let enabled = endpoints.len();
    for (id, organisation_id, cursor) in endpoints {
        if changes::head(conn, &organisation_id)?.0 <= cursor {
            continue;
        }
        if let Err(error) = write_transaction(conn, |conn| enqueue_for(conn, id)) {
            log::error!("could not queue webhook {id}'s changes: {error}");
        }
    }
    Ok(enabled)
}

/// One endpoint's turn. Moving the cursor locks the endpoint's row first, so two nodes never
/// queue the same change twice.
fn enqueue_for(conn: &mut DbConnection, id: WebhookId) -> ApiResult<()> {
    let locked = diesel::update(webhooks::table.find(id).filter(webhooks::enabled.eq(true)))
        .set(webhooks::cursor.eq(webhooks::cursor))
        .execute(conn)?;
    if locked == 0 {
        return Ok(());
    }
    let endpoint = webhooks::table
        .find(id)
        .select(columns_of::<WebhookRow>())
        .first(conn)?;
    let (_, pruned_through) = changes::head(conn, &endpoint.organisation_id)?;
    let mut after = endpoint.cursor.max(pruned_through);
    let rows = changes::read(
        conn,
        &endpoint.organisation_id,
        &Filter::default(),
        after,
        CHANGES_PER_TURN,
    )?;
    let reader = endpoint.reader();
    for row in rows {
        let Some(seq) = row.seq else { continue };
        after = seq;
        let Some(event_type) = event_for(
            &endpoint.event_types.0,
            row.record_type,
            row.action,
            row.to_state.as_deref(),
        ) else {
            continue;
        };
        // Only what the endpoint's scope may read, through the same rule as `GET` (read again
        // when each attempt is made).
        if record_as(conn, &reader, row.record_type, row.record_id)?.is_none() {
            continue;
        }
        let delivery = DeliveryRow::new(&endpoint, event_type, Some(seq), None);
        diesel::insert_into(webhook_deliveries::table)
            .values(&delivery)
            .execute(conn)?;
    }
    diesel::update(webhooks::table.find(id))
        .set(webhooks::cursor.eq(after))
        .execute(conn)?;
    Ok(())
}

/// A delivery a node holds, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub url: String,
    /// The message as this attempt sends it.
    pub payload: String,
    pub attempt: i32,
    secrets: Vec<String>,
}

impl Claimed {
    /// `webhook-signature`: one `v1,…` per secret in use, space-separated.
    pub fn signatures(&self, timestamp: i64) -> String {
        self.secrets
            .iter()
            .filter_map(|secret| {
                signature(
                    secret,
                    &self.id.to_string(),
                    timestamp,
                    self.payload.as_bytes(),
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Leases up to `limit` due deliveries of enabled endpoints to `node`, oldest first, and builds
/// each message with its record as the endpoint's scope reads it now. A lease is taken by a
/// conditional update, so of two nodes only one gets each delivery; it lasts while the node
/// sends the endpoint's earlier messages (one after another, each within the timeout) and the
/// message itself. A delivery whose record the endpoint may no longer read is withdrawn.
pub fn claim(conn: &mut DbConnection, node: &str, limit: i64) -> ApiResult<Vec<Claimed>> {
    let now = to_row(now());
    let free = webhook_deliveries::lease_until
        .is_null()
        .or(webhook_deliveries::lease_until.lt(now));
    let due: Vec<(DeliveryRow, WebhookRow)> = webhook_deliveries::table
        .inner_join(webhooks::table)
        .filter(webhooks::enabled.eq(true))
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(free)
        .order(webhook_deliveries::id.asc())
        .limit(limit)
        .select((columns_of::<DeliveryRow>(), columns_of::<WebhookRow>()))
        .load(conn)?;
    // One node at a time sends an endpoint's messages, so they go in order: the first
    // delivery of each endpoint takes the endpoint's lease, for as long as the node may take
    // to send its share.
    let mut leased: HashMap<WebhookId, Option<i64>> = HashMap::new();
    let mut claimed = Vec::new();
    for (delivery, endpoint) in due {
        let ahead = match leased.entry(endpoint.id) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let until = now + Duration::seconds(LEASE_SECONDS + SEND_SECONDS * PER_ENDPOINT);
                let taken = diesel::update(
                    webhooks::table.find(endpoint.id).filter(
                        webhooks::lease_until
                            .is_null()
                            .or(webhooks::lease_until.lt(now))
                            .or(webhooks::lease_owner.eq(node)),
                    ),
                )
                .set((
                    webhooks::lease_owner.eq(node),
                    webhooks::lease_until.eq(until),
                ))
                .execute(conn)?;
                entry.insert((taken == 1).then_some(0))
            }
        };
        let Some(ahead) = ahead.as_mut().filter(|ahead| **ahead < PER_ENDPOINT) else {
            continue;
        };
        let lease = now + Duration::seconds(LEASE_SECONDS + SEND_SECONDS * *ahead);
        let taken = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(delivery.id))
                .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending))
                .filter(webhook_deliveries::next_attempt_at.le(now))
                .filter(free),
        )
        .set((
            webhook_deliveries::lease_owner.eq(node),
            webhook_deliveries::lease_until.eq(lease),
        ))
        .execute(conn)?;
        if taken == 0 {
            continue;
        }
        let Some(payload) = message(conn, &delivery, &endpoint)? else {
            diesel::update(webhook_deliveries::table.find(delivery.id))
                .set((
                    webhook_deliveries::status.eq(DeliveryStatus::Withdrawn),
                    webhook_deliveries::next_attempt_at.eq(None::<chrono::NaiveDateTime>),
                    webhook_deliveries::lease_owner.eq(None::<String>),
                    webhook_deliveries::lease_until.eq(None::<chrono::NaiveDateTime>),
                ))
                .execute(conn)?;
            continue;
        };
        *ahead += 1;
        let mut secrets = vec![endpoint.secret];
        if let (Some(previous), Some(until)) =
            (endpoint.previous_secret, endpoint.previous_secret_until)
        {
            if until > now {
                secrets.push(previous);
            }
        }
        claimed.push(Claimed {
            id: delivery.id,
            webhook_id: delivery.webhook_id,
            url: endpoint.url,
            payload,
            attempt: delivery.attempt,
            secrets,
        });
    }
    Ok(claimed)
}

/// The body to send: a ping's as stored; a change's with its record as the endpoint's scope
/// reads it now, or `None` when it may not (or the change is past retention).
fn message(
    conn: &mut DbConnection,
    delivery: &DeliveryRow,
    endpoint: &WebhookRow,
) -> ApiResult<Option<String>> {
    let Some(seq) = delivery.change_seq else {
        return Ok(delivery.payload.clone());
    };
    let Some(row) = changes::numbered(conn, &endpoint.organisation_id, seq)? else {
        return Ok(None);
    };
    let Some(record) = record_as(conn, &endpoint.reader(), row.record_type, row.record_id)? else {
        return Ok(None);
    };
    let event = ChangeEvent {
        event_type: delivery.event_type.clone(),
        timestamp: to_utc(delivery.created_at),
        data: feed_change(&row, seq, Some(record)),
    };
    Ok(Some(serde_json::to_string(&event)?))
}

/// Records an attempt: succeeded, due again after a back-off, or failed for good; and whether
/// the endpoint is failing.
pub fn record(
    conn: &mut DbConnection,
    node: &str,
    claimed: &Claimed,
    outcome: &Outcome,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let attempt = claimed.attempt + 1;
    let (status, next) = if outcome.succeeded() {
        (DeliveryStatus::Succeeded, None)
    } else {
        match next_attempt(attempt, at) {
            Some(next) => (DeliveryStatus::Pending, Some(to_row(next))),
            None => (DeliveryStatus::Failed, None),
        }
    };
    write_transaction(conn, |conn| {
        let recorded = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(claimed.id))
                .filter(webhook_deliveries::lease_owner.eq(node)),
        )
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::attempt.eq(attempt),
            webhook_deliveries::next_attempt_at.eq(next),
            webhook_deliveries::last_attempt_at.eq(Some(to_row(at))),
            webhook_deliveries::response_status.eq(outcome.response_status.map(i32::from)),
            webhook_deliveries::duration_ms.eq(Some(outcome.duration_ms)),
            webhook_deliveries::error.eq(&outcome.error),
            webhook_deliveries::lease_owner.eq(None::<String>),
            webhook_deliveries::lease_until.eq(None::<chrono::NaiveDateTime>),
        ))
        .execute(conn)?;
        if recorded == 0 {
            log::warn!(
                "delivery {} was sent after its lease passed to another node",
                claimed.id
            );
        }
        let endpoint = webhooks::table.find(claimed.webhook_id);
        if outcome.succeeded() {
            diesel::update(endpoint)
                .set(webhooks::failing_since.eq(None::<chrono::NaiveDateTime>))
                .execute(conn)?;
        } else {
            diesel::update(endpoint.filter(webhooks::failing_since.is_null()))
                .set(webhooks::failing_since.eq(Some(to_row(at))))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// What a node hands back to the queue.
pub enum HandBack<'a> {
    /// The end of its turn at an endpoint: the endpoint's lease, and the leases of the messages
    /// it did not send (after a failed one, so that the rest wait for the next round rather
    /// than overtake).
    Turn {
        endpoint: WebhookId,
        unsent: &'a [DeliveryId],
    },
    /// Everything it holds (a node shutting down).
    All,
}

/// Clears `node`'s leases on what `what` names. Answers the deliveries handed back.
pub fn release(conn: &mut DbConnection, node: &str, what: HandBack) -> ApiResult<usize> {
    let mut deliveries = diesel::update(webhook_deliveries::table)
        .filter(webhook_deliveries::lease_owner.eq(node))
        .into_boxed();
    let mut endpoints = diesel::update(webhooks::table)
        .filter(webhooks::lease_owner.eq(node))
        .into_boxed();
    if let HandBack::Turn { endpoint, unsent } = what {
        deliveries = deliveries.filter(webhook_deliveries::id.eq_any(unsent));
        endpoints = endpoints.filter(webhooks::id.eq(endpoint));
    }
    write_transaction(conn, |conn| {
        let released = deliveries
            .set((
                webhook_deliveries::lease_owner.eq(None::<String>),
                webhook_deliveries::lease_until.eq(None::<chrono::NaiveDateTime>),
            ))
            .execute(conn)?;
        endpoints
            .set((
                webhooks::lease_owner.eq(None::<String>),
                webhooks::lease_until.eq(None::<chrono::NaiveDateTime>),
            ))
            .execute(conn)?;
        Ok(released)
    })
}

/// Disables the endpoints that have failed every attempt for `after`, each with an audit event.
pub fn disable_failing(conn: &mut DbConnection, after: Duration) -> ApiResult<usize> {
    let cutoff = to_row(now() - after);
    let failing: Vec<(WebhookId, String, i64)> = webhooks::table
        .filter(webhooks::enabled.eq(true))
        .filter(webhooks::failing_since.lt(cutoff))
        .select((webhooks::id, webhooks::organisation_id, webhooks::version))
        .load(conn)?;
    for (id, organisation_id, version) in &failing {
        write_transaction(conn, |conn| {
            // Only if it is still failing: a success clears `failing_since`.
            let changed = diesel::update(
                webhooks::table
                    .find(*id)
                    .filter(webhooks::version.eq(*version))
                    .filter(webhooks::failing_since.lt(cutoff)),
            )
            .set((
                webhooks::enabled.eq(false),
                webhooks::disabled_reason.eq(Some(DisabledReason::Failing)),
                webhooks::version.eq(version + 1),
                webhooks::updated_at.eq(to_row(now())),
            ))
            .execute(conn)?;
            if changed == 1 {
                audit::record(
                    conn,
                    organisation_id,
                    Actor::System,
                    Change {
                        action: AuditAction::Update,
                        resource_type: AuditResource::Webhook,
                        resource_id: id.to_string(),
                        changed_fields: vec!["enabled".into(), "disabled_reason".into()],
                        detail: Some(serde_json::json!({
                            "reason": "failing",
                            "failing_for_hours": after.num_hours(),
                        })),
                    },
                )?;
                log::warn!("disabled webhook {id}: every delivery failed for {after}");
            }
            Ok(())
        })?;
    }
    Ok(failing.len())
}

/// Drops the deliveries that are done (sent, failed or withdrawn) and older than `retention`,
/// as the change feed drops its changes. Answers how many.
pub fn prune(conn: &mut DbConnection, retention: Duration, at: DateTime<Utc>) -> ApiResult<usize> {
    Ok(diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::status.ne(DeliveryStatus::Pending))
            .filter(webhook_deliveries::created_at.lt(to_row(at - retention))),
    )
    .execute(conn)?)
}
