//! The change log's writing side: one change per committed write, appended in the
//! transaction that makes it (and numbered as `db::change_log` says: on SQLite by the writer's
//! group as it commits, on PostgreSQL once committed), and its retention.

use chrono::{DateTime, Duration, Utc};
use diesel::connection::TransactionManager;
use diesel::prelude::*;

use crate::db::schema::{
    change_heads, changes, concern_updates, concerns, evidence, improvement_plans, learning_events,
    locations, organisations, plan_actions, plan_reviews, recognitions, self_assessments,
};
use crate::db::{
    change_log, columns_of, insert_all, together, write_transaction, DbConnection, Writes,
};
use crate::domain::change::{publish_after, ChangeAction, ChangeType};
use crate::domain::ids::{kinds, RecordId};
use crate::error::ApiResult;
use crate::store::audit::Actor;
use crate::store::support::{one_of, to_row};

/// One change as the log keeps it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = changes)]
pub struct ChangeRow {
    pub seq: Option<i64>,
    pub record_type: ChangeType,
    pub record_id: RecordId,
    pub action: ChangeAction,
    pub to_state: Option<String>,
    pub version: i64,
    pub occurred_at: chrono::NaiveDateTime,
}

/// A record as a change leaves it: its version, where it is (for filtering), and its state.
#[derive(Debug, Clone)]
pub struct Described {
    pub version: i64,
    pub location_id: Option<String>,
    pub state: Option<String>,
}

/// Appends the change `actor` just made to a record, inside the transaction that makes it.
/// Each change says the record's version after it, and where the record is (for filtering).
/// An anonymous raiser's change is withheld until the hour it was made in is over.
pub fn append(
    conn: &mut DbConnection,
    organisation_id: &str,
    actor: Actor<'_>,
    record_type: ChangeType,
    record_id: RecordId,
    action: ChangeAction,
) -> ApiResult<()> {
    let described = describe(conn, record_type, record_id)?;
    together(conn, |writes| {
        append_all(
            writes,
            organisation_id,
            actor,
            &[(record_type, record_id, action, described)],
        )
    })
}

/// Appends the changes `actor` just made to records already described (one record's, with the
/// rest of its work, or an import's batch of new records, a few hundred to a statement).
pub fn append_all(
    writes: &mut Writes<'_>,
    organisation_id: &str,
    actor: Actor<'_>,
    made: &[(ChangeType, RecordId, ChangeAction, Described)],
) -> ApiResult<()> {
    let anonymous = matches!(actor, Actor::Anonymous);
    let occurred_at = actor.moment();
    let rows: Vec<_> = made
        .iter()
        .map(|(record_type, record_id, action, described)| {
            (
                changes::id.eq(actor.new_id::<kinds::Change>(occurred_at)),
                changes::organisation_id.eq(organisation_id.to_owned()),
                changes::seq.eq(None::<i64>),
                changes::record_type.eq(*record_type),
                changes::record_id.eq(*record_id),
                changes::action.eq(*action),
                changes::to_state.eq((*action == ChangeAction::Transitioned)
                    .then(|| described.state.clone())
                    .flatten()),
                changes::version.eq(described.version),
                changes::location_id.eq(described.location_id.clone()),
                changes::occurred_at.eq(to_row(occurred_at)),
                changes::publish_after.eq(to_row(publish_after(anonymous, occurred_at))),
                changes::published_at.eq(None::<chrono::NaiveDateTime>),
            )
        })
        .collect();
    insert_all!(writes, changes::table, rows);
    Ok(())
}

/// Makes the organisation's change log; in the transaction that makes the organisation.
pub fn start_log(conn: &mut DbConnection, organisation_id: &str) -> ApiResult<()> {
    diesel::insert_into(change_heads::table)
        .values(change_heads::organisation_id.eq(organisation_id))
        .execute(conn)?;
    Ok(())
}

/// Numbers the organisation's changes waiting to be shown (committed since the last numbering,
/// or withheld until an hour now over), when there are any, in a write transaction of its own:
/// before a read of the feed or the webhooks' turn, so the reader sees every change committed
/// before it asked. Not within a transaction: a write transaction's own work numbers by
/// `change_log::number`.
pub fn number_waiting(conn: &mut DbConnection, organisation_id: &str) -> ApiResult<()> {
    debug_assert!(matches!(
        DbConnection::transaction_manager_status_mut(conn).transaction_depth(),
        Ok(None)
    ));
    let due: i64 = change_log::due()
        .filter(changes::organisation_id.eq(organisation_id))
        .count()
        .get_result(conn)?;
    if due > 0 {
        write_transaction(conn, |conn| change_log::number(conn, organisation_id))?;
    }
    Ok(())
}

/// The organisation's head (the last number given out) and the number retention has dropped
/// changes through.
pub fn head(conn: &mut DbConnection, organisation_id: &str) -> ApiResult<(i64, i64)> {
    Ok(change_heads::table
        .find(organisation_id)
        .select((change_heads::last_seq, change_heads::pruned_through))
        .first(conn)
        .optional()?
        .unwrap_or_default())
}

/// What to read of the log.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub types: Vec<ChangeType>,
    pub location_id: Option<String>,
}

/// Up to `limit` changes after number `after`, oldest first.
pub fn read(
    conn: &mut DbConnection,
    organisation_id: &str,
    filter: &Filter,
    after: i64,
    limit: i64,
) -> ApiResult<Vec<ChangeRow>> {
    let mut select = changes::table
        .filter(changes::organisation_id.eq(organisation_id.to_owned()))
        .filter(changes::seq.gt(after))
        .order(changes::seq.asc())
        .limit(limit)
        .select(columns_of::<ChangeRow>())
        .into_boxed();
    select = one_of!(select, changes::record_type, filter.types);
    if let Some(location) = &filter.location_id {
        select = select.filter(changes::location_id.eq(location.clone()));
    }
    Ok(select.load(conn)?)
}

/// The change numbered `seq`, while the log keeps it.
pub fn numbered(
    conn: &mut DbConnection,
    organisation_id: &str,
    seq: i64,
) -> ApiResult<Option<ChangeRow>> {
    Ok(changes::table
        .filter(changes::organisation_id.eq(organisation_id))
        .filter(changes::seq.eq(seq))
        .select(columns_of::<ChangeRow>())
        .first(conn)
        .optional()?)
}

/// Drops the changes published more than `retention` before `now`, in every organisation, and
/// remembers how far each log was dropped so an older cursor is answered `410 Gone`. Answers
/// how many changes were dropped.
pub fn prune(conn: &mut DbConnection, retention: Duration, now: DateTime<Utc>) -> ApiResult<usize> {
    let cutoff = to_row(now - retention);
    write_transaction(conn, |conn| {
        // A change waiting for its number was never published, and stays. The heads are
        // updated in the order of their organisations' ids, so that two nodes' retention never
        // waits for the other's in a cycle.
        let through: Vec<(String, Option<i64>)> = changes::table
            .filter(changes::published_at.lt(cutoff))
            .group_by(changes::organisation_id)
            .order(changes::organisation_id)
            .select((changes::organisation_id, diesel::dsl::max(changes::seq)))
            .load(conn)?;
        let mut dropped = 0;
        for (organisation_id, seq) in through {
            let Some(seq) = seq else { continue };
            dropped += diesel::delete(
                changes::table
                    .filter(changes::organisation_id.eq(&organisation_id))
                    .filter(changes::seq.le(seq)),
            )
            .execute(conn)?;
            diesel::update(change_heads::table.find(&organisation_id))
                .set(change_heads::pruned_through.eq(seq))
                .execute(conn)?;
        }
        Ok(dropped)
    })
}

/// A record's version now, its location, and its state (for a transition's `to_state`).
pub fn describe(
    conn: &mut DbConnection,
    record_type: ChangeType,
    id: RecordId,
) -> ApiResult<Described> {
    macro_rules! of {
        ($table:ident, $location:expr) => {
            $table::table
                .find(id)
                .select(($table::version, $location))
                .first::<(i64, Option<String>)>(conn)
                .map(|(version, location)| (version, location, None))?
        };
        ($table:ident, $location:expr, $state:expr) => {
            $table::table
                .find(id)
                .select(($table::version, $location, $state))
                .first::<(i64, Option<String>, Option<String>)>(conn)?
        };
    }
    let (version, location_id, state) = match record_type {
        ChangeType::Organisation => organisations::table
            .find(id.to_string())
            .select(organisations::version)
            .first::<i64>(conn)
            .map(|version| (version, None, None))?,
        ChangeType::Location => locations::table
            .find(id)
            .select(locations::version)
            .first::<i64>(conn)
            .map(|version| (version, Some(id.to_string()), None))?,
        ChangeType::Concern => of!(concerns, concerns::location_id, concerns::status.nullable()),
        ChangeType::LearningEvent => of!(learning_events, learning_events::location_id),
        ChangeType::Evidence => of!(evidence, evidence::location_id),
        ChangeType::Recognition => of!(recognitions, recognitions::location_id),
        ChangeType::ImprovementPlan => of!(
            improvement_plans,
            improvement_plans::location_id,
            improvement_plans::status.nullable()
        ),
        ChangeType::SelfAssessment => {
            of!(self_assessments, self_assessments::location_id.nullable())
        }
        ChangeType::ConcernUpdate => concern_updates::table
            .inner_join(concerns::table)
            .filter(concern_updates::id.eq(id))
            .select(concerns::location_id)
            .first::<Option<String>>(conn)
            .map(|location| (1, location, None))?,
        ChangeType::Action => plan_actions::table
            .inner_join(improvement_plans::table)
            .filter(plan_actions::id.eq(id))
            .select((
                plan_actions::version,
                improvement_plans::location_id,
                plan_actions::status.nullable(),
            ))
            .first::<(i64, Option<String>, Option<String>)>(conn)?,
        ChangeType::Review => plan_reviews::table
            .inner_join(improvement_plans::table)
            .filter(plan_reviews::id.eq(id))
            .select(improvement_plans::location_id)
            .first::<Option<String>>(conn)
            .map(|location| (1, location, None))?,
    };
    Ok(Described {
        version,
        location_id,
        state,
    })
}
