//! The webhook store: endpoints, their URL checked and their secrets made and rotated (their
//! deliveries are in `deliveries.rs`).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::dto::{DisabledReason, EventType, NewWebhook, Webhook, WebhookPatch};
use super::sender::check_url;
use crate::api::api_clients::dto::ClientRole;
use crate::api::locations;
use crate::auth::Principal;
use crate::db::columns::JsonText;
use crate::db::schema::{webhook_deliveries, webhooks};
use crate::db::{change_log, DbConnection};
use crate::domain::ids::{LocationId, WebhookId};
use crate::domain::webhook::{is_known_event_type, new_secret};
use crate::domain::{now, AuditAction, AuditResource};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::paging::{Page, Paginated};
use crate::http::preconditions::IfMatch;
use crate::store::audit::{self, Actor, Change};
use crate::store::changes;
use crate::store::support::{save_if_unchanged, to_row, to_utc};
use crate::store::visibility::{managed, Reaching};

/// How long a rotated-out secret keeps signing beside the new one.
pub const PREVIOUS_SECRET_KEPT_HOURS: i64 = 24;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: WebhookId,
    pub organisation_id: String,
    pub url: String,
    pub description: Option<String>,
    pub event_types: JsonText<Vec<String>>,
    pub location_ids: Option<JsonText<Vec<uuid::Uuid>>>,
    pub scope: JsonText<Vec<ClientRole>>,
    pub enabled: bool,
    pub disabled_reason: Option<DisabledReason>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<NaiveDateTime>,
    pub failing_since: Option<NaiveDateTime>,
    pub cursor: i64,
    pub created_by: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl WebhookRow {
    fn into_dto(self, secret: Option<String>) -> Webhook {
        Webhook {
            id: self.id.uuid(),
            url: self.url,
            description: self.description,
            event_types: self.event_types.0,
            location_ids: self.location_ids.map(|l| l.0),
            scope: self.scope.0,
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
            version: self.version,
            created_at: to_utc(self.created_at),
            updated_at: to_utc(self.updated_at),
            secret,
        }
    }
}

impl Reaching for WebhookRow {
    fn reach(&self) -> Option<&[uuid::Uuid]> {
        self.location_ids.as_ref().map(|l| l.0.as_slice())
    }
}

pub(super) fn find(
    conn: &mut DbConnection,
    principal: &Principal,
    id: WebhookId,
) -> ApiResult<WebhookRow> {
    managed!(find conn, principal, webhooks, WebhookRow, id, "webhook")
}

/// The URL, event types and locations a request gives, checked against what careloop
/// delivers to and knows.
fn check(
    conn: &mut DbConnection,
    principal: &Principal,
    allow_private: bool,
    url: Option<&str>,
    event_types: Option<&[EventType]>,
    location_ids: Option<Option<&[uuid::Uuid]>>,
) -> ApiResult<()> {
    let mut errors = Vec::new();
    if principal.locations.is_some() && location_ids == Some(None) {
        errors.push(FieldError::new(
            "location_ids",
            "is required for a caller limited to some locations",
        ));
    }
    if let Some(Err(message)) = url.map(|url| check_url(url, allow_private)) {
        errors.push(FieldError::new("url", message));
    }
    for (index, event_type) in event_types.into_iter().flatten().enumerate() {
        if !is_known_event_type(&event_type.0) {
            errors.push(FieldError::new(
                format!("event_types[{index}]"),
                "is not an event careloop sends: `*`, `{type}.*`, `{type}.{action}` or a state",
            ));
        }
    }
    for (index, location) in location_ids.flatten().into_iter().flatten().enumerate() {
        if locations::store::check_reference(conn, principal, Some(LocationId::from(*location)))
            .is_err()
        {
            errors.push(FieldError::new(
                format!("location_ids[{index}]"),
                "no such location",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn audit(
    conn: &mut DbConnection,
    organisation_id: &str,
    actor: Actor<'_>,
    action: AuditAction,
    id: WebhookId,
    changed: Vec<String>,
) -> ApiResult<()> {
    audit::record(
        conn,
        organisation_id,
        actor,
        Change {
            action,
            resource_type: AuditResource::Webhook,
            resource_id: id.to_string(),
            changed_fields: changed,
            detail: None,
        },
    )
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    allow_private: bool,
    new: &NewWebhook,
) -> ApiResult<Webhook> {
    check(
        conn,
        principal,
        allow_private,
        Some(&new.url),
        Some(&new.event_types),
        Some(new.location_ids.as_deref()),
    )?;
    let secret = new_secret();
    let now = to_row(now());
    // From the feed's head, with every change committed before numbered below it: an endpoint
    // receives what changes after it is made.
    change_log::number(conn, &principal.organisation_id)?;
    let (head, _) = changes::head(conn, &principal.organisation_id)?;
    let row = WebhookRow {
        id: WebhookId::new(),
        organisation_id: principal.organisation_id.clone(),
        url: new.url.clone(),
        description: new.description.as_ref().map(|d| d.trim().to_owned()),
        event_types: JsonText(new.event_types.iter().map(|e| e.0.clone()).collect()),
        location_ids: new.location_ids.clone().map(JsonText),
        scope: JsonText(new.scope.clone()),
        enabled: new.enabled.unwrap_or(true),
        disabled_reason: None,
        secret: secret.clone(),
        previous_secret: None,
        previous_secret_until: None,
        failing_since: None,
        cursor: head,
        created_by: principal.sub.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(webhooks::table)
        .values(&row)
        .execute(conn)?;
    audit(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        AuditAction::Create,
        row.id,
        ["url", "event_types", "location_ids", "scope", "enabled"]
            .map(String::from)
            .to_vec(),
    )?;
    Ok(row.into_dto(Some(secret)))
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    page: &Page,
) -> ApiResult<Paginated<Webhook>> {
    managed!(page conn, principal, page, webhooks, WebhookRow, |row: WebhookRow| row
        .into_dto(None))
}

pub fn get(conn: &mut DbConnection, principal: &Principal, id: WebhookId) -> ApiResult<Webhook> {
    Ok(find(conn, principal, id)?.into_dto(None))
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = webhooks)]
struct WebhookChanges {
    url: Option<String>,
    description: Option<Option<String>>,
    event_types: Option<JsonText<Vec<String>>>,
    location_ids: Option<Option<JsonText<Vec<uuid::Uuid>>>>,
    scope: Option<JsonText<Vec<ClientRole>>>,
    enabled: Option<bool>,
    disabled_reason: Option<Option<DisabledReason>>,
    failing_since: Option<Option<NaiveDateTime>>,
    secret: Option<String>,
    previous_secret: Option<Option<String>>,
    previous_secret_until: Option<Option<NaiveDateTime>>,
}

pub fn update(
    conn: &mut DbConnection,
    principal: &Principal,
    allow_private: bool,
    id: WebhookId,
    patch: &WebhookPatch,
    if_match: &IfMatch,
) -> ApiResult<Webhook> {
    let before = find(conn, principal, id)?;
    if_match.check(before.version)?;
    check(
        conn,
        principal,
        allow_private,
        patch.url.as_deref(),
        patch.event_types.as_deref(),
        patch.location_ids.as_ref().map(|l| l.as_deref()),
    )?;
    // Enabling an endpoint careloop disabled starts its failure clock afresh.
    let enabling = patch.enabled == Some(true) && !before.enabled;
    let changes = WebhookChanges {
        url: patch.url.clone(),
        description: patch
            .description
            .clone()
            .map(|d| d.map(|d| d.trim().to_owned())),
        event_types: patch
            .event_types
            .as_ref()
            .map(|e| JsonText(e.iter().map(|e| e.0.clone()).collect())),
        location_ids: patch.location_ids.clone().map(|l| l.map(JsonText)),
        scope: patch.scope.clone().map(JsonText),
        enabled: patch.enabled,
        disabled_reason: enabling.then_some(None),
        failing_since: enabling.then_some(None),
        ..Default::default()
    };
    save_if_unchanged!(conn, webhooks, (id, before.version), &changes, if_match)?;
    let before = serde_json::to_value(before.into_dto(None))?;
    let after = get(conn, principal, id)?;
    let changed = audit::changed_fields(&before, &serde_json::to_value(&after)?);
    audit(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        AuditAction::Update,
        id,
        changed,
    )?;
    Ok(after)
}

/// Deletes the endpoint and its deliveries.
pub fn delete(conn: &mut DbConnection, principal: &Principal, id: WebhookId) -> ApiResult<()> {
    find(conn, principal, id)?;
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id)))
        .execute(conn)?;
    diesel::delete(webhooks::table.find(id)).execute(conn)?;
    audit(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        AuditAction::Delete,
        id,
        Vec::new(),
    )
}

/// A new secret; the old one keeps signing beside it for a day, so receivers can switch over.
pub fn rotate_secret(
    conn: &mut DbConnection,
    principal: &Principal,
    id: WebhookId,
) -> ApiResult<Webhook> {
    let before = find(conn, principal, id)?;
    let secret = new_secret();
    let until = to_row(now() + Duration::hours(PREVIOUS_SECRET_KEPT_HOURS));
    let changes = WebhookChanges {
        secret: Some(secret.clone()),
        previous_secret: Some(Some(before.secret.clone())),
        previous_secret_until: Some(Some(until)),
        ..Default::default()
    };
    save_if_unchanged!(
        conn,
        webhooks,
        (id, before.version),
        &changes,
        &IfMatch::default()
    )?;
    audit(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        AuditAction::Update,
        id,
        vec!["secret".to_owned()],
    )?;
    Ok(find(conn, principal, id)?.into_dto(Some(secret)))
}
