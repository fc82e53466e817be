//! What records share: quality-statement tags and links to other records, both kept in their
//! own tables so that any record can be tagged or linked, and read back both ways.

use std::collections::HashMap;

use diesel::dsl::{Eq, Filter, Select};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::schema::{
    concerns, evidence, improvement_plans, learning_events, plan_actions,
    quality_statement_tags as tags, recognitions, record_links as links,
};
use crate::db::{insert_all, DbConnection};
use crate::domain::ids::{LocationId, RecordId};
use crate::domain::RecordKind;
use crate::error::{ApiError, ApiResult};
use crate::store::visibility;

/// Replaces a record's quality-statement tags.
pub fn set_tags(
    conn: &mut DbConnection,
    organisation_id: &str,
    kind: RecordKind,
    id: RecordId,
    statements: &[String],
) -> ApiResult<()> {
    diesel::delete(
        tags::table
            .filter(tags::record_type.eq(kind))
            .filter(tags::record_id.eq(id)),
    )
    .execute(conn)?;
    let mut unique = statements.to_vec();
    unique.sort();
    unique.dedup();
    for statement in unique {
        diesel::insert_into(tags::table)
            .values((
                tags::organisation_id.eq(organisation_id),
                tags::record_type.eq(kind),
                tags::record_id.eq(id),
                tags::quality_statement_id.eq(statement),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Tags new records of a kind at once (an import's batch), a few hundred tags to a statement.
pub fn add_tags_all(
    conn: &mut DbConnection,
    organisation_id: &str,
    kind: RecordKind,
    tagged: &[(RecordId, &[String])],
) -> ApiResult<()> {
    let mut rows = Vec::new();
    for (id, statements) in tagged {
        let mut unique = statements.to_vec();
        unique.sort();
        unique.dedup();
        rows.extend(unique.into_iter().map(|statement| {
            (
                tags::organisation_id.eq(organisation_id.to_owned()),
                tags::record_type.eq(kind),
                tags::record_id.eq(*id),
                tags::quality_statement_id.eq(statement),
            )
        }));
    }
    insert_all!(conn, tags::table, rows);
    Ok(())
}

/// The tags of several records at once, for a page of a list.
pub fn tags_of(
    conn: &mut DbConnection,
    kind: RecordKind,
    ids: &[RecordId],
) -> ApiResult<HashMap<RecordId, Vec<String>>> {
    let rows: Vec<(RecordId, String)> = tags::table
        .filter(tags::record_type.eq(kind))
        .filter(tags::record_id.eq_any(ids))
        .select((tags::record_id, tags::quality_statement_id))
        .order((tags::record_id, tags::quality_statement_id))
        .load(conn)?;
    Ok(group(rows))
}

pub type TaggedIds = Select<
    Filter<
        Filter<tags::table, Eq<tags::record_type, RecordKind>>,
        Eq<tags::quality_statement_id, String>,
    >,
    tags::record_id,
>;

/// The ids of the records of a kind tagged with a statement, for `id IN (…)` filters.
pub fn tagged(kind: RecordKind, statement: &str) -> TaggedIds {
    tags::table
        .filter(tags::record_type.eq(kind))
        .filter(tags::quality_statement_id.eq(statement.to_owned()))
        .select(tags::record_id)
}

/// Replaces the links from a record to the records of one kind the caller may see. Links to
/// records they may not see were never shown to them, so they stay as they are.
pub fn set_links(
    conn: &mut DbConnection,
    principal: &Principal,
    from: (RecordKind, RecordId),
    to_kind: RecordKind,
    to_ids: &[Uuid],
) -> ApiResult<()> {
    let from_here = links::table
        .filter(links::from_type.eq(from.0))
        .filter(links::from_id.eq(from.1))
        .filter(links::to_type.eq(to_kind));
    let existing: Vec<RecordId> = from_here.select(links::to_id).load(conn)?;
    let shown = visibility::visible_ids(conn, principal, to_kind, &existing)?;
    let hidden: Vec<RecordId> = existing
        .into_iter()
        .filter(|id| !shown.contains(id))
        .collect();
    diesel::delete(from_here.filter(links::to_id.ne_all(hidden.clone()))).execute(conn)?;
    let mut unique: Vec<RecordId> = to_ids.iter().copied().map(RecordId::from).collect();
    unique.sort();
    unique.dedup();
    for to in unique.into_iter().filter(|id| !hidden.contains(id)) {
        add_link(conn, &principal.organisation_id, from, (to_kind, to))?;
    }
    Ok(())
}

/// Adds one link from a record to another.
pub fn add_link(
    conn: &mut DbConnection,
    organisation_id: &str,
    from: (RecordKind, RecordId),
    to: (RecordKind, RecordId),
) -> ApiResult<()> {
    diesel::insert_into(links::table)
        .values((
            links::organisation_id.eq(organisation_id),
            links::from_type.eq(from.0),
            links::from_id.eq(from.1),
            links::to_type.eq(to.0),
            links::to_id.eq(to.1),
        ))
        .execute(conn)?;
    Ok(())
}

/// The ids several records of a kind link to, among records of `to_kind` the caller may see
/// (a link to a record they may not see is left out, as if it were not there).
pub fn links_of(
    conn: &mut DbConnection,
    principal: &Principal,
    from_kind: RecordKind,
    from_ids: &[RecordId],
    to_kind: RecordKind,
) -> ApiResult<HashMap<RecordId, Vec<Uuid>>> {
    let rows: Vec<(RecordId, RecordId)> = links::table
        .filter(links::from_type.eq(from_kind))
        .filter(links::from_id.eq_any(from_ids))
        .filter(links::to_type.eq(to_kind))
        .select((links::from_id, links::to_id))
        .order((links::from_id, links::to_id))
        .load(conn)?;
    let targets: Vec<RecordId> = rows.iter().map(|&(_, to)| to).collect();
    let seen = visibility::visible_ids(conn, principal, to_kind, &targets)?;
    let rows = rows
        .into_iter()
        .filter(|(_, to)| seen.contains(to))
        .map(|(from, to)| (from, to.uuid()))
        .collect();
    Ok(group(rows))
}

fn group<V>(rows: Vec<(RecordId, V)>) -> HashMap<RecordId, Vec<V>> {
    let mut grouped: HashMap<RecordId, Vec<V>> = HashMap::new();
    for (key, value) in rows {
        grouped.entry(key).or_default().push(value);
    }
    grouped
}

/// What the trail and link checks need to know of a record.
#[derive(Debug, Clone)]
pub struct RecordSummary {
    pub kind: RecordKind,
    pub id: RecordId,
    pub title: String,
    /// Its workflow state, where it has one.
    pub status: Option<String>,
    pub location_id: Option<LocationId>,
}

type SummaryRow = (RecordId, String, Option<String>, Option<LocationId>);

/// Summaries of the records of a kind, among `ids`, that belong to the organisation.
pub fn summaries(
    conn: &mut DbConnection,
    organisation_id: &str,
    kind: RecordKind,
    ids: &[RecordId],
) -> ApiResult<Vec<RecordSummary>> {
    let rows: Vec<SummaryRow> = match kind {
        RecordKind::Concern => concerns::table
            .filter(concerns::organisation_id.eq(organisation_id))
            .filter(concerns::id.eq_any(ids))
            .select((
                concerns::id,
                concerns::title,
                concerns::status.nullable(),
                concerns::location_id,
            ))
            .load(conn)?,
        RecordKind::LearningEvent => learning_events::table
            .filter(learning_events::organisation_id.eq(organisation_id))
            .filter(learning_events::id.eq_any(ids))
            .select((
                learning_events::id,
                learning_events::title,
                learning_events::kind.nullable(),
                learning_events::location_id,
            ))
            .load(conn)?,
        RecordKind::Evidence => evidence::table
            .filter(evidence::organisation_id.eq(organisation_id))
            .filter(evidence::id.eq_any(ids))
            .select((
                evidence::id,
                evidence::title,
                evidence::source.nullable(),
                evidence::location_id,
            ))
            .load(conn)?,
        RecordKind::ImprovementPlan => improvement_plans::table
            .filter(improvement_plans::organisation_id.eq(organisation_id))
            .filter(improvement_plans::id.eq_any(ids))
            .select((
                improvement_plans::id,
                improvement_plans::title,
                improvement_plans::status.nullable(),
                improvement_plans::location_id,
            ))
            .load(conn)?,
        RecordKind::Action => plan_actions::table
            .inner_join(improvement_plans::table)
            .filter(plan_actions::organisation_id.eq(organisation_id))
            .filter(plan_actions::id.eq_any(ids))
            .select((
                plan_actions::id,
                plan_actions::description,
                plan_actions::status.nullable(),
                improvement_plans::location_id,
            ))
            .load(conn)?,
        RecordKind::Recognition => recognitions::table
            .filter(recognitions::organisation_id.eq(organisation_id))
            .filter(recognitions::id.eq_any(ids))
            .select((
                recognitions::id,
                recognitions::title,
                recognitions::kind.nullable(),
                recognitions::location_id,
            ))
            .load(conn)?,
    };
    Ok(rows
        .into_iter()
        .map(|(id, title, status, location_id)| RecordSummary {
            kind,
            id,
            title,
            status,
            location_id,
        })
        .collect())
}

/// 422 unless every id names a record of the kind the caller may see. A record they may not
/// see is answered exactly as one that does not exist, so the answer reveals neither.
pub fn check_exist(
    conn: &mut DbConnection,
    principal: &Principal,
    kind: RecordKind,
    field: &str,
    ids: &[Uuid],
) -> ApiResult<()> {
    let wanted: Vec<RecordId> = ids.iter().copied().map(RecordId::from).collect();
    let found = visibility::visible_ids(conn, principal, kind, &wanted)?;
    let missing: Vec<String> = wanted
        .iter()
        .filter(|id| !found.contains(id))
        .map(RecordId::to_string)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::field(
            field,
            format!("no such {kind}: {}", missing.join(", ")),
        ))
    }
}
