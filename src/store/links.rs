//! What records share: quality-statement tags and links to other records, both kept in their
//! own tables so that any record can be tagged or linked, and read back both ways (a tagged
//! record also keeps its tags in its own row, [`Tags`], which is what reading it shows).

use std::borrow::Cow;
use std::collections::HashMap;

use diesel::dsl::{Eq, Filter, Select};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::columns::{text_column, StoredAsText};
use crate::db::schema::{
    concerns, evidence, improvement_plans, learning_events, plan_actions,
    quality_statement_tags as tags, recognitions, record_links as links,
};
use crate::db::{insert_all, together, Backend, DbConnection, Writes};
use crate::domain::ids::{LocationId, RecordId};
use crate::domain::RecordKind;
use crate::error::{ApiError, ApiResult};
use crate::store::visibility;

/// A record's quality-statement tags as it keeps them: each statement once, in order. The
/// record's own `tags` column holds them (a JSON array), so a record or a page of them is read
/// with its tags by one statement; `quality_statement_tags` holds them again, a row each, as the
/// index lists filter by and coverage counts. [`add_tags_all`] and [`set_tags`] write both.
#[derive(Debug, Clone, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Tags(Vec<String>);

impl Tags {
    /// The statements a caller gave, as a record keeps them.
    pub fn kept(statements: &[String]) -> Self {
        let mut kept = statements.to_vec();
        kept.sort();
        kept.dedup();
        Tags(kept)
    }

    pub fn statements(&self) -> &[String] {
        &self.0
    }

    pub fn into_statements(self) -> Vec<String> {
        self.0
    }
}

impl StoredAsText for Tags {
    const WHAT: &'static str = "quality-statement tags";

    fn to_text(&self) -> Cow<'static, str> {
        Cow::Owned(serde_json::to_string(&self.0).expect("a list of strings is JSON"))
    }

    fn from_text(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok().map(Tags)
    }
}

text_column!(Tags);

/// Replaces a record's quality-statement tags, in its row and in the index.
pub fn set_tags(
    conn: &mut DbConnection,
    organisation_id: &str,
    kind: RecordKind,
    id: RecordId,
    statements: &[String],
) -> ApiResult<()> {
    let kept = &Tags::kept(statements);
    // The record's own row, in its kind's table.
    macro_rules! keep_in {
        ($table:ident) => {
            diesel::update($table::table.find(id))
                .set($table::tags.eq(kept))
                .execute(conn)?
        };
    }
    let updated = match kind {
        RecordKind::Concern => keep_in!(concerns),
        RecordKind::LearningEvent => keep_in!(learning_events),
        RecordKind::Evidence => keep_in!(evidence),
        RecordKind::ImprovementPlan => keep_in!(improvement_plans),
        RecordKind::Action | RecordKind::Recognition => 0,
    };
    if updated != 1 {
        return Err(ApiError::internal(format!("no {kind} {id} to tag")));
    }
    diesel::delete(
        tags::table
            .filter(tags::record_type.eq(kind))
            .filter(tags::record_id.eq(id)),
    )
    .execute(conn)?;
    together(conn, |writes| {
        add_tags_all(writes, organisation_id, kind, &[(id, kept)])
    })
}

/// Indexes the tags of new records of a kind, which their rows already hold (an import's
/// batch, or one record), a few hundred tags to a statement.
pub fn add_tags_all(
    writes: &mut Writes<'_>,
    organisation_id: &str,
    kind: RecordKind,
    tagged: &[(RecordId, &Tags)],
) -> ApiResult<()> {
    let mut rows = Vec::new();
    for (id, kept) in tagged {
        rows.extend(kept.statements().iter().map(|statement| {
            (
                tags::organisation_id.eq(organisation_id.to_owned()),
                tags::record_type.eq(kind),
                tags::record_id.eq(*id),
                tags::quality_statement_id.eq(statement.clone()),
            )
        }));
    }
    insert_all!(writes, tags::table, rows);
    Ok(())
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

/// Which way links are read: out from a record to what it links to, or in to it from what
/// links to it (an action and the feedback, compliments and concerns it came from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    Out,
    In,
}

type Condition = Box<dyn BoxableExpression<links::table, Backend, SqlType = Bool>>;
type End = Box<dyn BoxableExpression<links::table, Backend, SqlType = Text>>;

impl Way {
    /// The links of records of `kind` among `ids`, read this way, to records of `other`.
    fn of(self, kind: RecordKind, ids: &[RecordId], other: RecordKind) -> Condition {
        let ids = ids.to_vec();
        match self {
            Way::Out => Box::new(
                links::from_type
                    .eq(kind)
                    .and(links::from_id.eq_any(ids))
                    .and(links::to_type.eq(other)),
            ),
            Way::In => Box::new(
                links::to_type
                    .eq(kind)
                    .and(links::to_id.eq_any(ids))
                    .and(links::from_type.eq(other)),
            ),
        }
    }

    /// The record's own end of a link, read this way.
    fn near(self) -> End {
        match self {
            Way::Out => Box::new(links::from_id),
            Way::In => Box::new(links::to_id),
        }
    }

    /// The other end.
    fn far(self) -> End {
        match self {
            Way::Out => Box::new(links::to_id),
            Way::In => Box::new(links::from_id),
        }
    }
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
    set_links_way(conn, principal, Way::Out, from, to_kind, to_ids)
}

/// Replaces a record's links, read `way`, with records of `other_kind` the caller may see (the
/// others stay as they are).
pub fn set_links_way(
    conn: &mut DbConnection,
    principal: &Principal,
    way: Way,
    record: (RecordKind, RecordId),
    other_kind: RecordKind,
    other_ids: &[Uuid],
) -> ApiResult<()> {
    let here = || way.of(record.0, &[record.1], other_kind);
    let existing: Vec<RecordId> = links::table.filter(here()).select(way.far()).load(conn)?;
    let shown = visibility::visible_ids(conn, principal, other_kind, &existing)?;
    let hidden: Vec<RecordId> = existing
        .into_iter()
        .filter(|id| !shown.contains(id))
        .collect();
    let kept: Condition = match way {
        Way::Out => Box::new(links::to_id.eq_any(hidden.clone())),
        Way::In => Box::new(links::from_id.eq_any(hidden.clone())),
    };
    diesel::delete(links::table.filter(here()).filter(diesel::dsl::not(kept))).execute(conn)?;
    let mut unique: Vec<RecordId> = other_ids.iter().copied().map(RecordId::from).collect();
    unique.sort();
    unique.dedup();
    for other in unique.into_iter().filter(|id| !hidden.contains(id)) {
        let (from, to) = match way {
            Way::Out => (record, (other_kind, other)),
            Way::In => ((other_kind, other), record),
        };
        add_link(conn, &principal.organisation_id, from, to)?;
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
    links_way(conn, principal, Way::Out, from_kind, from_ids, to_kind)
}

/// For each of several records of a kind, the records of `other_kind` at the other end of its
/// links read `way`, among those the caller may see.
pub fn links_way(
    conn: &mut DbConnection,
    principal: &Principal,
    way: Way,
    kind: RecordKind,
    ids: &[RecordId],
    other_kind: RecordKind,
) -> ApiResult<HashMap<RecordId, Vec<Uuid>>> {
    let mut rows: Vec<(RecordId, RecordId)> = links::table
        .filter(way.of(kind, ids, other_kind))
        .select((way.near(), way.far()))
        .load(conn)?;
    rows.sort();
    let others: Vec<RecordId> = rows.iter().map(|&(_, other)| other).collect();
    let seen = visibility::visible_ids(conn, principal, other_kind, &others)?;
    let rows = rows
        .into_iter()
        .filter(|(_, other)| seen.contains(other))
        .map(|(near, other)| (near, other.uuid()))
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
