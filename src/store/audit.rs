//! The audit trail's writing side: who changed what, in the transaction that changes it.

use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};

use crate::auth::Principal;
use crate::db::columns::JsonText;
use crate::db::schema::audit_events;
use crate::db::{insert_all, together, DbConnection, Writes};
use crate::domain::change::ChangeType;
use crate::domain::ids::{kinds, Id};
use crate::domain::intake::DOOR_PREFIX;
use crate::domain::{end_of_hour, hour_of, now, AuditAction, AuditResource, PersonKind};
use crate::error::{ApiError, ApiResult};
use crate::store::changes;
use crate::store::support::to_row;
use chrono::{DateTime, Utc};

/// Who made a change.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Caller(&'a Principal),
    /// careloop itself: the command line and the first-run demo data.
    System,
    /// An anonymous raiser: nothing that could identify them is kept.
    Anonymous,
}

impl Actor<'_> {
    /// When the actor acted, as careloop keeps it: an anonymous raiser only to the hour.
    pub fn moment(&self) -> DateTime<Utc> {
        match self {
            Actor::Anonymous => hour_of(now()),
            Actor::Caller(_) | Actor::System => now(),
        }
    }

    /// What a record's `updated_at` says of a change the actor makes: now, or for an anonymous
    /// raiser the end of the hour they acted in, so that a client syncing by `updated_since`
    /// never misses the change yet learns no more than the hour.
    pub fn changed_at(&self) -> DateTime<Utc> {
        match self {
            Actor::Anonymous => end_of_hour(now()),
            Actor::Caller(_) | Actor::System => now(),
        }
    }

    /// A new id for what the actor makes at `moment`: an anonymous raiser's encodes only that
    /// hour; the others' sort in the order they were made.
    pub fn new_id<K>(&self, moment: DateTime<Utc>) -> Id<K> {
        match self {
            Actor::Anonymous => Id::at(moment),
            Actor::Caller(_) | Actor::System => Id::new(),
        }
    }

    /// Who the actor is, as the trail keeps it: a kind, and a user's `sub` (empty for the others).
    fn who(&self) -> (PersonKind, &str) {
        match self {
            Actor::Caller(principal) if principal.sub.starts_with(DOOR_PREFIX) => {
                (PersonKind::IntakePoint, &principal.sub)
            }
            Actor::Caller(principal) => (PersonKind::User, &principal.sub),
            Actor::Anonymous => (PersonKind::Anonymous, ""),
            Actor::System => (PersonKind::System, ""),
        }
    }
}

/// One change to record.
pub struct Change {
    pub action: AuditAction,
    pub resource_type: AuditResource,
    /// A record's id, or the organisation's for a change to it.
    pub resource_id: String,
    pub changed_fields: Vec<String>,
    pub detail: Option<Value>,
}

impl Change {
    /// A record created: the fields it was given.
    pub fn created(
        resource_type: impl Into<AuditResource>,
        resource_id: impl std::fmt::Display,
        record: &impl Serialize,
    ) -> ApiResult<Self> {
        Self::between(
            AuditAction::Create,
            resource_type,
            resource_id,
            &json!({}),
            record,
        )
    }

    /// A record changed from `before` (its API shape, read before anything was written) to
    /// `after`: the fields that differ.
    pub fn between(
        action: AuditAction,
        resource_type: impl Into<AuditResource>,
        resource_id: impl std::fmt::Display,
        before: &Value,
        after: &impl Serialize,
    ) -> ApiResult<Self> {
        Ok(Self {
            action,
            resource_type: resource_type.into(),
            resource_id: resource_id.to_string(),
            changed_fields: changed_fields(before, &serde_json::to_value(after)?),
            detail: None,
        })
    }

    /// The id of the record changed.
    fn record_id(&self) -> ApiResult<uuid::Uuid> {
        self.resource_id.parse().map_err(|e| {
            ApiError::Internal(anyhow::anyhow!(
                "audited a change to a record without an id: {e}"
            ))
        })
    }

    /// With what else the trail should say of the change (a transition's states, say).
    pub fn detailed(self, detail: Option<Value>) -> Self {
        Self { detail, ..self }
    }
}

/// Appends an audit event, and the change to the change feed, inside the transaction that
/// makes the change.
pub fn record(
    conn: &mut DbConnection,
    organisation_id: &str,
    actor: Actor<'_>,
    change: Change,
) -> ApiResult<()> {
    let described = match ChangeType::of(change.resource_type) {
        Some(record_type) => Some(changes::describe(
            conn,
            record_type,
            change.record_id()?.into(),
        )?),
        None => None,
    };
    together(conn, |writes| {
        record_all(writes, organisation_id, actor, vec![(change, described)])
    })
}

/// Appends several audit events, with their changes to the change feed (of the records
/// `described` as the changes leave them): one change's with the rest of its work, or an
/// import's batch, a few hundred to a statement.
pub fn record_all(
    writes: &mut Writes<'_>,
    organisation_id: &str,
    actor: Actor<'_>,
    made: Vec<(Change, Option<changes::Described>)>,
) -> ApiResult<()> {
    let at = actor.moment();
    let (who_kind, who) = actor.who();
    let mut fed = Vec::new();
    let mut events = Vec::with_capacity(made.len());
    for (change, described) in made {
        if let (Some(record_type), Some(described)) =
            (ChangeType::of(change.resource_type), described)
        {
            fed.push((
                record_type,
                change.record_id()?.into(),
                change.action.into(),
                described,
            ));
        }
        events.push((
            audit_events::id.eq(actor.new_id::<kinds::AuditEvent>(at)),
            audit_events::organisation_id.eq(organisation_id.to_owned()),
            audit_events::actor.eq(who.to_owned()),
            audit_events::actor_kind.eq(who_kind),
            audit_events::action.eq(change.action.as_str()),
            audit_events::resource_type.eq(change.resource_type.as_str()),
            audit_events::resource_id.eq(change.resource_id),
            audit_events::changed_fields.eq(JsonText(change.changed_fields)),
            audit_events::detail.eq(change.detail.map(JsonText)),
            audit_events::created_at.eq(to_row(at)),
        ));
    }
    insert_all!(writes, audit_events::table, events);
    if fed.is_empty() {
        return Ok(());
    }
    changes::append_all(writes, organisation_id, actor, &fed)
}

/// The top-level fields whose values differ between two JSON forms of a record (against `{}`
/// for a create), leaving out the bookkeeping careloop sets itself.
pub fn changed_fields(before: &Value, after: &Value) -> Vec<String> {
    let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else {
        return Vec::new();
    };
    after
        .iter()
        .filter(|(field, value)| {
            !matches!(
                field.as_str(),
                "id" | "version" | "created_at" | "updated_at" | "recorded_by"
            ) && before.get(*field) != Some(*value)
        })
        .map(|(field, _)| field.clone())
        .collect()
}
