use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc};
use diesel::prelude::*;

use super::dto::{Coverage, CoverageQuery, StatementCoverage};
use crate::api::locations;
use crate::auth::Principal;
use crate::db::schema::{concerns, evidence, learning_events, quality_statement_tags};
use crate::db::DbConnection;
use crate::domain::framework::Framework;
use crate::domain::ids::{LocationId, RecordId};
use crate::domain::RecordKind;
use crate::error::ApiResult;
use crate::store::support::{to_row, to_utc};
use crate::store::visibility;

/// Per quality statement (and evidence category), how many records fall since `from` and
/// when the newest was.
struct Tally {
    statement: String,
    /// The evidence category; empty for the other kinds.
    category: String,
    recent: i64,
    newest: Option<NaiveDateTime>,
}

/// A record counted towards coverage: its id, its date and its category (evidence only).
type Dated = (RecordId, NaiveDateTime, String);

/// Tallies `records` (those the caller may see) by the statements `tags` tag them with.
fn tally(
    records: Vec<Dated>,
    tags: Vec<(RecordId, String)>,
    since: Option<NaiveDateTime>,
) -> Vec<Tally> {
    let records: HashMap<RecordId, (NaiveDateTime, String)> = records
        .into_iter()
        .map(|(id, at, category)| (id, (at, category)))
        .collect();
    let mut tallies: HashMap<(String, String), Tally> = HashMap::new();
    for (id, statement) in tags {
        let Some((at, category)) = records.get(&id) else {
            continue;
        };
        let tally = tallies
            .entry((statement.clone(), category.clone()))
            .or_insert_with(|| Tally {
                statement,
                category: category.clone(),
                recent: 0,
                newest: None,
            });
        if since.is_none_or(|since| *at >= since) {
            tally.recent += 1;
        }
        tally.newest = tally.newest.max(Some(*at));
    }
    tallies.into_values().collect()
}

/// The quality-statement tags of every record of a kind in the organisation.
fn tags(
    conn: &mut DbConnection,
    organisation_id: &str,
    kind: RecordKind,
) -> ApiResult<Vec<(RecordId, String)>> {
    Ok(quality_statement_tags::table
        .filter(quality_statement_tags::organisation_id.eq(organisation_id.to_owned()))
        .filter(quality_statement_tags::record_type.eq(kind))
        .select((
            quality_statement_tags::record_id,
            quality_statement_tags::quality_statement_id,
        ))
        .load(conn)?)
}

/// A time as coverage may show it: the day, so no single record is dated more finely.
fn day_of(time: NaiveDateTime) -> DateTime<Utc> {
    to_utc(time.date().and_time(NaiveTime::MIN))
}

pub fn coverage(
    conn: &mut DbConnection,
    principal: &Principal,
    framework: &Framework,
    query: &CoverageQuery,
) -> ApiResult<Coverage> {
    let location_id = query.location_id.map(LocationId::from);
    if principal.locations.is_some() || location_id.is_some() {
        locations::store::check_reference(conn, principal, location_id)?;
    }
    let since = query.from.map(to_row);
    let organisation_id = principal.organisation_id.as_str();
    let mut statements: HashMap<&str, StatementCoverage> = HashMap::new();
    for question in &framework.key_questions {
        for statement in &question.quality_statements {
            statements.insert(
                &statement.id,
                StatementCoverage {
                    quality_statement_id: statement.id.clone(),
                    code: statement.code.clone(),
                    title: statement.title.clone(),
                    key_question_id: question.id.clone(),
                    ..Default::default()
                },
            );
        }
    }
    // Only what the caller may see is counted (a confidential concern is not, for a viewer).
    let mut evidence = visibility::evidence(principal)
        .filter(evidence::archived_at.is_null())
        .select((
            evidence::id,
            evidence::dated_at,
            evidence::evidence_category,
        ));
    let mut learning = visibility::learning_events(principal)
        .select((learning_events::id, learning_events::occurred_at));
    let mut raised = visibility::concerns(principal).select((concerns::id, concerns::created_at));
    if let Some(location) = location_id {
        evidence = evidence.filter(evidence::location_id.eq(location));
        learning = learning.filter(learning_events::location_id.eq(location));
        raised = raised.filter(concerns::location_id.eq(location));
    }
    let evidence: Vec<Dated> = evidence.load(conn)?;
    let undivided = |(id, at): (RecordId, NaiveDateTime)| (id, at, String::new());
    let learning: Vec<Dated> = learning
        .load::<(RecordId, NaiveDateTime)>(conn)?
        .into_iter()
        .map(undivided)
        .collect();
    let raised: Vec<Dated> = raised
        .load::<(RecordId, NaiveDateTime)>(conn)?
        .into_iter()
        .map(undivided)
        .collect();

    let evidence_tags = tags(conn, organisation_id, RecordKind::Evidence)?;
    for row in tally(evidence, evidence_tags, since) {
        if let Some(entry) = statements.get_mut(row.statement.as_str()) {
            entry.evidence_count += row.recent;
            if row.recent > 0 {
                entry
                    .evidence_count_by_category
                    .insert(row.category, row.recent);
            }
            entry.newest_evidence_at = entry.newest_evidence_at.max(row.newest.map(day_of));
        }
    }
    let learning_tags = tags(conn, organisation_id, RecordKind::LearningEvent)?;
    for row in tally(learning, learning_tags, since) {
        if let Some(entry) = statements.get_mut(row.statement.as_str()) {
            entry.learning_event_count = row.recent;
            entry.newest_learning_event_at = row.newest.map(day_of);
        }
    }
    let concern_tags = tags(conn, organisation_id, RecordKind::Concern)?;
    for row in tally(raised, concern_tags, since) {
        if let Some(entry) = statements.get_mut(row.statement.as_str()) {
            entry.concern_count = row.recent;
            entry.newest_concern_at = row.newest.map(day_of);
        }
    }
    let mut ordered: Vec<StatementCoverage> = framework
        .statements()
        .filter_map(|s| statements.remove(s.id.as_str()))
        .collect();
    for entry in &mut ordered {
        entry.no_recent_evidence = entry.evidence_count == 0;
    }
    Ok(Coverage {
        framework_id: framework.id.clone(),
        location_id: query.location_id,
        from: query.from,
        statements: ordered,
    })
}
