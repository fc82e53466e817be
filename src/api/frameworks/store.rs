use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::dto::{Coverage, CoverageQuery, StatementCoverage};
use crate::api::locations;
use crate::auth::Principal;
use crate::db::{portable, DbConnection};
use crate::domain::framework::Framework;
use crate::domain::ids::LocationId;
use crate::error::ApiResult;
use crate::store::support::{to_row, to_utc};

#[derive(QueryableByName)]
struct Tally {
    #[diesel(sql_type = Text)]
    statement: String,
    /// The evidence category; empty for the other tables.
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = BigInt)]
    recent: i64,
    #[diesel(sql_type = Nullable<Timestamp>)]
    newest: Option<NaiveDateTime>,
}

/// Tallies, per quality statement, the records of one table tagged with it: how many fall
/// since `$3` and when the newest was. One query per table, whatever the number of statements.
fn tally(
    conn: &mut DbConnection,
    sql: &str,
    organisation_id: &str,
    location_id: Option<LocationId>,
    since: Option<NaiveDateTime>,
) -> ApiResult<Vec<Tally>> {
    Ok(diesel::sql_query(portable(conn, sql))
        .bind::<Text, _>(organisation_id)
        .bind::<Nullable<Text>, _>(location_id)
        .bind::<Nullable<Timestamp>, _>(since)
        .load(conn)?)
}

/// The tally of `{table}`, tagged as `{kind}` and dated by `{date}`, split by `category` when
/// given, counting only rows that meet `live`.
fn tally_sql(table: &str, kind: &str, date: &str, category: Option<&str>, live: &str) -> String {
    let (category, group) = match category {
        Some(column) => (column.to_owned(), format!(", {column}")),
        None => ("''".to_owned(), String::new()),
    };
    format!(
        "SELECT t.quality_statement_id AS statement, {category} AS category, \
                SUM(CASE WHEN $3 IS NULL OR r.{date} >= $3 THEN 1 ELSE 0 END) AS recent, \
                MAX(r.{date}) AS newest \
         FROM quality_statement_tags t JOIN {table} r ON r.id = t.record_id \
         WHERE t.record_type = '{kind}' AND t.organisation_id = $1 AND r.organisation_id = $1 \
           AND ($2 IS NULL OR r.location_id = $2) {live} \
         GROUP BY t.quality_statement_id{group}"
    )
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
    let since = query.since.map(to_row);
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
    let evidence_sql = tally_sql(
        "evidence",
        "evidence",
        "dated_at",
        Some("r.evidence_category"),
        "AND r.archived_at IS NULL",
    );
    for row in tally(conn, &evidence_sql, organisation_id, location_id, since)? {
        if let Some(entry) = statements.get_mut(row.statement.as_str()) {
            entry.evidence += row.recent;
            if row.recent > 0 {
                entry.evidence_by_category.insert(row.category, row.recent);
            }
            entry.newest_evidence_at = entry.newest_evidence_at.max(row.newest.map(to_utc));
        }
    }
    let learning_sql = tally_sql("learning_events", "learning_event", "occurred_at", None, "");
    for row in tally(conn, &learning_sql, organisation_id, location_id, since)? {
        if let Some(entry) = statements.get_mut(row.statement.as_str()) {
            entry.learning_events = row.recent;
            entry.newest_learning_event_at = row.newest.map(to_utc);
        }
    }
    let concern_sql = tally_sql("concerns", "concern", "created_at", None, "");
    for row in tally(conn, &concern_sql, organisation_id, location_id, since)? {
        if let Some(entry) = statements.get_mut(row.statement.as_str()) {
            entry.concerns = row.recent;
            entry.newest_concern_at = row.newest.map(to_utc);
        }
    }
    let mut ordered: Vec<StatementCoverage> = framework
        .statements()
        .filter_map(|s| statements.remove(s.id.as_str()))
        .collect();
    for entry in &mut ordered {
        entry.no_recent_evidence = entry.evidence == 0;
    }
    Ok(Coverage {
        framework_id: framework.id.clone(),
        location_id: query.location_id,
        since: query.since,
        statements: ordered,
    })
}
