//! An endpoint's deliveries: the outbox's rows, and how admins read, retry and test them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dto::{Delivery, DeliveryStatus, PingData, PingEvent};
use super::store::{find, WebhookRow};
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::db::{columns_of, schema::webhook_deliveries};
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::now;
use crate::domain::webhook::PING;
use crate::error::{ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::store::support::{to_row, to_utc};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: DeliveryId,
    pub organisation_id: String,
    pub webhook_id: WebhookId,
    pub event_type: String,
    pub change_seq: Option<i64>,
    pub payload: Option<String>,
    pub status: DeliveryStatus,
    pub attempt: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub response_status: Option<i32>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl DeliveryRow {
    /// A message to send as soon as a worker gets to it: the change numbered `change_seq`, or
    /// a fixed `payload` (a ping).
    pub fn new(
        webhook: &WebhookRow,
        event_type: String,
        change_seq: Option<i64>,
        payload: Option<String>,
    ) -> Self {
        let now = to_row(now());
        Self {
            id: DeliveryId::new(),
            organisation_id: webhook.organisation_id.clone(),
            webhook_id: webhook.id,
            event_type,
            change_seq,
            payload,
            status: DeliveryStatus::Pending,
            attempt: 0,
            next_attempt_at: Some(now),
            last_attempt_at: None,
            response_status: None,
            duration_ms: None,
            error: None,
            lease_owner: None,
            lease_until: None,
            created_at: now,
        }
    }

    pub fn into_dto(self) -> Delivery {
        Delivery {
            id: self.id.uuid(),
            event_type: self.event_type,
            status: self.status,
            attempt: self.attempt,
            response_status: self.response_status,
            duration_ms: self.duration_ms,
            error: self.error,
            last_attempt_at: self.last_attempt_at.map(to_utc),
            next_attempt_at: self.next_attempt_at.map(to_utc),
            created_at: to_utc(self.created_at),
        }
    }
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    id: WebhookId,
    page: &Page,
) -> ApiResult<Paginated<Delivery>> {
    find(conn, principal, id)?;
    let mut select = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(id))
        .select(columns_of::<DeliveryRow>())
        .order(webhook_deliveries::id.desc())
        .into_boxed();
    if let Some(after) = &page.after {
        select = select.filter(webhook_deliveries::id.lt(after.clone()));
    }
    let rows = page.read(conn, select)?;
    page.finish(rows, |r| r.id.uuid(), |r| Ok(r.into_dto()))
}

/// Sends a delivery again, now: a failed one gets a fresh round of attempts. (A retry asked
/// for while a node is sending the delivery gives way to that attempt's outcome.)
pub fn retry(
    conn: &mut DbConnection,
    principal: &Principal,
    id: WebhookId,
    delivery: DeliveryId,
) -> ApiResult<Delivery> {
    find(conn, principal, id)?;
    let found = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::webhook_id.eq(id))
            .filter(webhook_deliveries::id.eq(delivery)),
    )
    .set((
        webhook_deliveries::status.eq(DeliveryStatus::Pending),
        webhook_deliveries::attempt.eq(0),
        webhook_deliveries::next_attempt_at.eq(Some(to_row(now()))),
    ))
    .execute(conn)?;
    if found == 0 {
        return Err(ApiError::NotFound("delivery"));
    }
    Ok(webhook_deliveries::table
        .find(delivery)
        .select(columns_of::<DeliveryRow>())
        .first(conn)?
        .into_dto())
}

/// Queues a `ping` to the endpoint.
pub fn test(conn: &mut DbConnection, principal: &Principal, id: WebhookId) -> ApiResult<Delivery> {
    let webhook = find(conn, principal, id)?;
    let ping = PingEvent {
        event_type: PING.to_owned(),
        timestamp: now(),
        data: PingData {
            webhook_id: id.uuid(),
        },
    };
    let row = DeliveryRow::new(
        &webhook,
        PING.to_owned(),
        None,
        Some(serde_json::to_string(&ping)?),
    );
    diesel::insert_into(webhook_deliveries::table)
        .values(&row)
        .execute(conn)?;
    Ok(row.into_dto())
}
