use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamp};

use super::dto::{
    Evidence, EvidenceFields, EvidencePatch, EvidenceQuery, Metric, MetricSeries, NewEvidence,
    SeriesPoint, SeriesQuery,
};
use crate::api::audit_events::{self, changed_fields, store::parse_id, Actor, Change};
use crate::api::common::{
    external_ref_free, external_ref_holder, guarded_update, in_callers_reach, only, stored, to_row,
    to_utc, ExternalRef, IfMatch, Page, Paginated,
};
use crate::api::{links, locations, organisation};
use crate::auth::{Principal, Role};
use crate::db::schema::evidence;
use crate::db::{portable, Backend, DbConnection};
use crate::domain::evidence::{
    dated_at, staff_may_record, EvidenceSource, MetricDirection, Respondent, SeriesInterval,
};
use crate::domain::framework::Catalogue;
use crate::domain::{new_id, now, RecordKind};
use crate::error::{ApiError, ApiResult};

const KIND: RecordKind = RecordKind::Evidence;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = evidence)]
struct EvidenceRow {
    id: String,
    organisation_id: String,
    location_id: Option<String>,
    source: String,
    evidence_category: String,
    title: String,
    summary: Option<String>,
    observed_at: Option<NaiveDateTime>,
    period_start: Option<NaiveDateTime>,
    period_end: Option<NaiveDateTime>,
    dated_at: NaiveDateTime,
    respondent: Option<String>,
    metric_name: Option<String>,
    metric_value: Option<f64>,
    metric_unit: Option<String>,
    metric_target: Option<f64>,
    metric_direction: Option<String>,
    links: String,
    external_system: Option<String>,
    external_id: Option<String>,
    recorded_by: String,
    archived_at: Option<NaiveDateTime>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl EvidenceRow {
    fn source(&self) -> ApiResult<EvidenceSource> {
        stored(
            EvidenceSource::parse(&self.source),
            "evidence source",
            &self.source,
        )
    }

    fn metric(&self) -> ApiResult<Option<Metric>> {
        let (Some(name), Some(value)) = (&self.metric_name, self.metric_value) else {
            return Ok(None);
        };
        Ok(Some(Metric {
            name: name.clone(),
            value,
            unit: self.metric_unit.clone(),
            target: self.metric_target,
            direction: self
                .metric_direction
                .as_deref()
                .map(|d| stored(MetricDirection::parse(d), "metric direction", d))
                .transpose()?,
        }))
    }

    fn respondent(&self) -> ApiResult<Option<Respondent>> {
        self.respondent
            .as_deref()
            .map(|r| stored(Respondent::parse(r), "respondent", r))
            .transpose()
    }
}

/// The metric's columns, in the order of the table.
type MetricColumns = (
    Option<String>,
    Option<f64>,
    Option<String>,
    Option<f64>,
    Option<String>,
);

fn metric_columns(metric: Option<&Metric>) -> MetricColumns {
    match metric {
        None => (None, None, None, None, None),
        Some(m) => (
            Some(m.name.trim().to_owned()),
            Some(m.value),
            m.unit.clone(),
            m.target,
            Some(
                m.direction
                    .unwrap_or(MetricDirection::AtLeast)
                    .as_str()
                    .to_owned(),
            ),
        ),
    }
}

/// The evidence the caller may see: all of the organisation's, within their locations.
fn visible(principal: &Principal) -> evidence::BoxedQuery<'static, Backend> {
    in_callers_reach!(evidence, location_id, principal)
}

fn find(conn: &mut DbConnection, principal: &Principal, id: &str) -> ApiResult<EvidenceRow> {
    visible(principal)
        .filter(evidence::id.eq(id.to_owned()))
        .select(EvidenceRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("evidence"))
}

fn into_dtos(conn: &mut DbConnection, rows: Vec<EvidenceRow>) -> ApiResult<Vec<Evidence>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut tags = links::tags_of(conn, KIND, &ids)?;
    let mut learning = links::links_of(conn, KIND, &ids, RecordKind::LearningEvent)?;
    let mut concerns = links::links_of(conn, KIND, &ids, RecordKind::Concern)?;
    rows.into_iter()
        .map(|row| {
            Ok(Evidence {
                id: parse_id(&row.id)?,
                source: row.source()?,
                metric: row.metric()?,
                respondent: row.respondent()?,
                location_id: row.location_id.as_deref().map(parse_id).transpose()?,
                quality_statements: tags.remove(&row.id).unwrap_or_default(),
                learning_event_ids: learning.remove(&row.id).unwrap_or_default(),
                concern_ids: concerns.remove(&row.id).unwrap_or_default(),
                links: serde_json::from_str(&row.links)?,
                external_ref: ExternalRef::from_columns(row.external_system, row.external_id),
                evidence_category: row.evidence_category,
                title: row.title,
                summary: row.summary,
                observed_at: row.observed_at.map(to_utc),
                period_start: row.period_start.map(to_utc),
                period_end: row.period_end.map(to_utc),
                recorded_by: row.recorded_by,
                archived_at: row.archived_at.map(to_utc),
                version: row.version,
                created_at: to_utc(row.created_at),
                updated_at: to_utc(row.updated_at),
            })
        })
        .collect()
}

fn into_dto(conn: &mut DbConnection, row: EvidenceRow) -> ApiResult<Evidence> {
    only(into_dtos(conn, vec![row])?)
}

pub fn get(conn: &mut DbConnection, principal: &Principal, id: &str) -> ApiResult<Evidence> {
    let row = find(conn, principal, id)?;
    into_dto(conn, row)
}

/// Staff record only what they hear and see.
fn check_source(principal: &Principal, source: EvidenceSource) -> ApiResult<()> {
    if principal.has_any_role(&[Role::Admin, Role::Manager, Role::Integration])
        || staff_may_record(source)
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

fn check_dates(
    observed_at: Option<DateTime<Utc>>,
    period: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) -> ApiResult<DateTime<Utc>> {
    dated_at(observed_at, period).map_err(|message| {
        let field = if observed_at.is_some() {
            "observed_at"
        } else {
            "period_start"
        };
        ApiError::field(field, message)
    })
}

/// Checks the records evidence links to exist in the organisation.
fn check_linked(
    conn: &mut DbConnection,
    organisation_id: &str,
    learning: &[uuid::Uuid],
    concerns: &[uuid::Uuid],
) -> ApiResult<()> {
    links::check_exist(
        conn,
        organisation_id,
        RecordKind::LearningEvent,
        "learning_event_ids",
        learning,
    )?;
    links::check_exist(
        conn,
        organisation_id,
        RecordKind::Concern,
        "concern_ids",
        concerns,
    )
}

fn set_links(
    conn: &mut DbConnection,
    organisation_id: &str,
    id: &str,
    learning: Option<&[uuid::Uuid]>,
    concerns: Option<&[uuid::Uuid]>,
) -> ApiResult<()> {
    if let Some(learning) = learning {
        links::set_links(
            conn,
            organisation_id,
            (KIND, id),
            RecordKind::LearningEvent,
            learning,
        )?;
    }
    if let Some(concerns) = concerns {
        links::set_links(
            conn,
            organisation_id,
            (KIND, id),
            RecordKind::Concern,
            concerns,
        )?;
    }
    Ok(())
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    new: &NewEvidence,
) -> ApiResult<Evidence> {
    check_source(principal, new.source)?;
    let dated = check_dates(new.observed_at, (new.period_start, new.period_end))?;
    let organisation_id = &principal.organisation_id;
    organisation::store::find(conn, organisation_id)?;
    let location_id = new.location_id.map(|id| id.to_string());
    locations::store::check_reference(conn, principal, location_id.as_deref())?;
    check_linked(
        conn,
        organisation_id,
        &new.learning_event_ids,
        &new.concern_ids,
    )?;
    if let Some(external) = &new.external_ref {
        external_ref_free(
            external_ref_holder!(conn, evidence, organisation_id, external)?,
            "evidence",
        )?;
    }
    let now = to_row(now());
    let (metric_name, metric_value, metric_unit, metric_target, metric_direction) =
        metric_columns(new.metric.as_ref());
    let row = EvidenceRow {
        id: new_id().to_string(),
        organisation_id: organisation_id.clone(),
        location_id,
        source: new.source.as_str().to_owned(),
        evidence_category: new.evidence_category.clone(),
        title: new.title.trim().to_owned(),
        summary: new.summary.as_ref().map(|s| s.trim().to_owned()),
        observed_at: new.observed_at.map(to_row),
        period_start: new.period_start.map(to_row),
        period_end: new.period_end.map(to_row),
        dated_at: to_row(dated),
        respondent: new.respondent.map(|r| r.as_str().to_owned()),
        metric_name,
        metric_value,
        metric_unit,
        metric_target,
        metric_direction,
        links: serde_json::to_string(&new.links)?,
        external_system: new.external_ref.as_ref().map(|r| r.system.clone()),
        external_id: new.external_ref.as_ref().map(|r| r.id.clone()),
        recorded_by: principal.sub.clone(),
        archived_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(evidence::table)
        .values(&row)
        .execute(conn)?;
    links::set_tags(
        conn,
        organisation_id,
        KIND,
        &row.id,
        &new.quality_statements,
    )?;
    set_links(
        conn,
        organisation_id,
        &row.id,
        Some(&new.learning_event_ids),
        Some(&new.concern_ids),
    )?;
    let created = into_dto(conn, row)?;
    audit_events::record(
        conn,
        organisation_id,
        Actor::Caller(principal),
        Change {
            action: "create",
            resource_type: KIND.as_str(),
            resource_id: &created.id.to_string(),
            changed_fields: changed_fields(
                &serde_json::json!({}),
                &serde_json::to_value(&created)?,
            ),
            detail: None,
        },
    )?;
    Ok(created)
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &EvidenceQuery,
    page: &Page,
) -> ApiResult<Paginated<Evidence>> {
    let mut select = visible(principal)
        .select(EvidenceRow::as_select())
        .order(evidence::id.asc())
        .limit(page.fetch());
    if !query.include_archived {
        select = select.filter(evidence::archived_at.is_null());
    }
    if let Some(source) = query.source {
        select = select.filter(evidence::source.eq(source.as_str()));
    }
    if let Some(category) = &query.evidence_category {
        select = select.filter(evidence::evidence_category.eq(category.clone()));
    }
    if let Some(statement) = &query.quality_statement {
        select = select.filter(evidence::id.eq_any(links::tagged(KIND, statement)));
    }
    if let Some(location) = query.location_id {
        select = select.filter(evidence::location_id.eq(location.to_string()));
    }
    if let Some(metric) = &query.metric {
        select = select.filter(evidence::metric_name.eq(metric.clone()));
    }
    if let Some(from) = query.from {
        select = select.filter(evidence::dated_at.ge(to_row(from)));
    }
    if let Some(to) = query.to {
        select = select.filter(evidence::dated_at.le(to_row(to)));
    }
    if let Some(since) = query.updated_since {
        select = select.filter(evidence::updated_at.ge(to_row(since)));
    }
    if let Some(after) = &page.after {
        select = select.filter(evidence::id.gt(after.clone()));
    }
    let rows = select.load(conn)?;
    page.finish_all(rows, |r| &r.id, |rows| into_dtos(conn, rows))
}

#[derive(AsChangeset)]
#[diesel(table_name = evidence)]
struct EvidenceChanges {
    location_id: Option<Option<String>>,
    source: Option<String>,
    evidence_category: Option<String>,
    title: Option<String>,
    summary: Option<Option<String>>,
    observed_at: Option<Option<NaiveDateTime>>,
    period_start: Option<Option<NaiveDateTime>>,
    period_end: Option<Option<NaiveDateTime>>,
    dated_at: Option<NaiveDateTime>,
    respondent: Option<Option<String>>,
    metric_name: Option<Option<String>>,
    metric_value: Option<Option<f64>>,
    metric_unit: Option<Option<String>>,
    metric_target: Option<Option<f64>>,
    metric_direction: Option<Option<String>>,
    links: Option<String>,
    archived_at: Option<Option<NaiveDateTime>>,
    version: i64,
    updated_at: NaiveDateTime,
}

impl EvidenceChanges {
    fn next_version(row: &EvidenceRow) -> Self {
        Self {
            location_id: None,
            source: None,
            evidence_category: None,
            title: None,
            summary: None,
            observed_at: None,
            period_start: None,
            period_end: None,
            dated_at: None,
            respondent: None,
            metric_name: None,
            metric_value: None,
            metric_unit: None,
            metric_target: None,
            metric_direction: None,
            links: None,
            archived_at: None,
            version: row.version + 1,
            updated_at: to_row(now()),
        }
    }
}

/// Writes `changes` if the row is still at the version read, audits the difference from
/// `before` (read before any of the change was written), and reads the record back.
fn save(
    conn: &mut DbConnection,
    principal: &Principal,
    (row, before): (EvidenceRow, &Evidence),
    changes: &EvidenceChanges,
    if_match: &IfMatch,
    action: &str,
) -> ApiResult<Evidence> {
    let affected = diesel::update(
        evidence::table
            .filter(evidence::id.eq(&row.id))
            .filter(evidence::version.eq(row.version)),
    )
    .set(changes)
    .execute(conn)?;
    guarded_update(affected, if_match)?;
    let id = row.id;
    let after = get(conn, principal, &id)?;
    audit_events::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change {
            action,
            resource_type: KIND.as_str(),
            resource_id: &id,
            changed_fields: changed_fields(
                &serde_json::to_value(before)?,
                &serde_json::to_value(&after)?,
            ),
            detail: None,
        },
    )?;
    Ok(after)
}

pub fn update(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    principal: &Principal,
    id: &str,
    patch: &EvidencePatch,
    if_match: &IfMatch,
) -> ApiResult<Evidence> {
    let row = find(conn, principal, id)?;
    if_match.check(row.version)?;
    if row.archived_at.is_some() {
        return Err(ApiError::conflict(
            "archived",
            "archived evidence cannot be changed",
        ));
    }
    let organisation_id = principal.organisation_id.clone();
    let current = into_dto(conn, row.clone())?;
    let merged = |patched: Option<Option<DateTime<Utc>>>, stored: Option<DateTime<Utc>>| {
        patched.unwrap_or(stored)
    };
    let observed_at = merged(patch.observed_at, current.observed_at);
    let period = (
        merged(patch.period_start, current.period_start),
        merged(patch.period_end, current.period_end),
    );
    // The body met its own rules; what fails now fails against the stored record.
    let dated = check_dates(observed_at, period).map_err(ApiError::against_record)?;
    let statements = patch
        .quality_statements
        .clone()
        .unwrap_or(current.quality_statements.clone());
    let learning = patch
        .learning_event_ids
        .clone()
        .unwrap_or(current.learning_event_ids.clone());
    let concerns = patch
        .concern_ids
        .clone()
        .unwrap_or(current.concern_ids.clone());
    let source = patch.source.unwrap_or(current.source);
    EvidenceFields {
        source,
        evidence_category: patch
            .evidence_category
            .as_deref()
            .unwrap_or(&current.evidence_category),
        quality_statements: &statements,
        respondent: patch.respondent.unwrap_or(current.respondent),
    }
    .validate(catalogue)
    .map_err(ApiError::against_record)?;
    let location_id = patch.location_id.map(|l| l.map(|id| id.to_string()));
    if let Some(location_id) = &location_id {
        locations::store::check_reference(conn, principal, location_id.as_deref())?;
    }
    check_linked(conn, &organisation_id, &learning, &concerns)?;
    let metric_changes = patch.metric.as_ref().map(|m| metric_columns(m.as_ref()));
    let changes = EvidenceChanges {
        location_id,
        source: patch.source.map(|s| s.as_str().to_owned()),
        evidence_category: patch.evidence_category.clone(),
        title: patch.title.as_ref().map(|t| t.trim().to_owned()),
        summary: patch
            .summary
            .clone()
            .map(|s| s.map(|s| s.trim().to_owned())),
        observed_at: patch.observed_at.map(|o| o.map(to_row)),
        period_start: patch.period_start.map(|o| o.map(to_row)),
        period_end: patch.period_end.map(|o| o.map(to_row)),
        dated_at: Some(to_row(dated)),
        respondent: patch.respondent.map(|r| r.map(|r| r.as_str().to_owned())),
        metric_name: metric_changes.as_ref().map(|m| m.0.clone()),
        metric_value: metric_changes.as_ref().map(|m| m.1),
        metric_unit: metric_changes.as_ref().map(|m| m.2.clone()),
        metric_target: metric_changes.as_ref().map(|m| m.3),
        metric_direction: metric_changes.as_ref().map(|m| m.4.clone()),
        links: patch
            .links
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?,
        ..EvidenceChanges::next_version(&row)
    };
    if let Some(statements) = &patch.quality_statements {
        links::set_tags(conn, &organisation_id, KIND, id, statements)?;
    }
    set_links(
        conn,
        &organisation_id,
        id,
        patch.learning_event_ids.as_deref(),
        patch.concern_ids.as_deref(),
    )?;
    save(
        conn,
        principal,
        (row, &current),
        &changes,
        if_match,
        "update",
    )
}

/// Archives evidence: hidden from lists, kept with its history. Archiving twice changes nothing.
pub fn archive(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
    if_match: &IfMatch,
) -> ApiResult<Evidence> {
    let row = find(conn, principal, id)?;
    if_match.check(row.version)?;
    if row.archived_at.is_some() {
        return into_dto(conn, row);
    }
    let changes = EvidenceChanges {
        archived_at: Some(Some(to_row(now()))),
        ..EvidenceChanges::next_version(&row)
    };
    let before = into_dto(conn, row.clone())?;
    save(
        conn,
        principal,
        (row, &before),
        &changes,
        if_match,
        "archive",
    )
}

#[derive(QueryableByName)]
struct Bucket {
    #[diesel(sql_type = Text)]
    bucket: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Double)]
    mean: f64,
    #[diesel(sql_type = Double)]
    low: f64,
    #[diesel(sql_type = Double)]
    high: f64,
    #[diesel(sql_type = BigInt)]
    with_target: i64,
    #[diesel(sql_type = BigInt)]
    met: i64,
}

/// A metric's values per interval, aggregated by the database.
pub fn series(
    conn: &mut DbConnection,
    principal: &Principal,
    name: &str,
    query: &SeriesQuery,
) -> ApiResult<MetricSeries> {
    let location_id = query.location_id.map(|id| id.to_string());
    if principal.locations.is_some() {
        locations::store::check_reference(conn, principal, location_id.as_deref())?;
    }
    let interval = query.interval.unwrap_or(SeriesInterval::Month);
    let bucket = match (&*conn, interval) {
        (DbConnection::Pg(_), interval) => {
            format!(
                "to_char(date_trunc('{}', dated_at), 'YYYY-MM-DD')",
                interval.as_str()
            )
        }
        (DbConnection::Sqlite(_), SeriesInterval::Month) => {
            "strftime('%Y-%m-01', dated_at)".to_owned()
        }
        (DbConnection::Sqlite(_), SeriesInterval::Quarter) => {
            "strftime('%Y', dated_at) || '-' || \
             printf('%02d', ((CAST(strftime('%m', dated_at) AS INTEGER) - 1) / 3) * 3 + 1) || '-01'"
                .to_owned()
        }
        (DbConnection::Sqlite(_), SeriesInterval::Year) => {
            "strftime('%Y-01-01', dated_at)".to_owned()
        }
    };
    let sql = format!(
        "SELECT {bucket} AS bucket, COUNT(*) AS n, AVG(metric_value) AS mean, \
                MIN(metric_value) AS low, MAX(metric_value) AS high, \
                COUNT(metric_target) AS with_target, \
                SUM(CASE WHEN metric_target IS NULL THEN 0 \
                         WHEN metric_direction = 'at_most' AND metric_value <= metric_target THEN 1 \
                         WHEN metric_direction <> 'at_most' AND metric_value >= metric_target THEN 1 \
                         ELSE 0 END) AS met \
         FROM evidence \
         WHERE organisation_id = $1 AND metric_name = $2 AND archived_at IS NULL \
           AND metric_value IS NOT NULL \
           AND ($3 IS NULL OR location_id = $3) \
           AND ($4 IS NULL OR dated_at >= $4) \
           AND ($5 IS NULL OR dated_at <= $5) \
         GROUP BY 1 ORDER BY 1"
    );
    let buckets: Vec<Bucket> = diesel::sql_query(portable(conn, &sql))
        .bind::<Text, _>(&principal.organisation_id)
        .bind::<Text, _>(name)
        .bind::<Nullable<Text>, _>(location_id.as_deref())
        .bind::<Nullable<Timestamp>, _>(query.from.map(to_row))
        .bind::<Nullable<Timestamp>, _>(query.to.map(to_row))
        .load(conn)?;
    let points = buckets
        .into_iter()
        .map(|b| {
            Ok(SeriesPoint {
                period_start: b.bucket.parse().map_err(ApiError::internal)?,
                count: b.n,
                mean: b.mean,
                min: b.low,
                max: b.high,
                with_target: b.with_target,
                met_target: b.met,
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(MetricSeries {
        metric: name.to_owned(),
        interval,
        location_id: query.location_id,
        points,
    })
}
