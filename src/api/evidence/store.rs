//! The evidence store: who sees which evidence; recording, listing, changing, archiving it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::dto::{Evidence, EvidenceFields, EvidencePatch, EvidenceQuery, NewEvidence};
use super::linked::{check_linked, set_links};
use super::rows::{into_dto, into_dtos, metric_columns, EvidenceChanges, EvidenceRow};
use crate::api::shared::{Contact, ExternalRef};
use crate::api::{locations, organisation};
use crate::auth::{Principal, Role};
use crate::db::columns::JsonText;
use crate::db::schema::evidence;
use crate::db::{columns_of, insert_all, together, DbConnection};
use crate::domain::evidence::{dated_at, staff_may_record, EvidenceSource, Verification};
use crate::domain::framework::Catalogue;
use crate::domain::ids::{EvidenceId, LocationId, RecordId};
use crate::domain::AuditAction;
use crate::domain::{now, RecordKind};
use crate::error::{ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::http::preconditions::IfMatch;
use crate::store::audit::{self, Actor, Change};
use crate::store::changes::Described;
use crate::store::external_refs::{self, external_ref_free, external_ref_to_set, looked_up};
use crate::store::links::{self, Tags};
use crate::store::support::{one_of, save_if_unchanged, to_row};

pub(super) const KIND: RecordKind = RecordKind::Evidence;

use crate::store::visibility::evidence as visible;

fn find(conn: &mut DbConnection, principal: &Principal, id: EvidenceId) -> ApiResult<EvidenceRow> {
    visible(principal)
        .filter(evidence::id.eq(id))
        .select(columns_of::<EvidenceRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("evidence"))
}

pub fn get(conn: &mut DbConnection, principal: &Principal, id: EvidenceId) -> ApiResult<Evidence> {
    let row = find(conn, principal, id)?;
    into_dto(conn, principal, row)
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
            "period_start_at"
        };
        ApiError::field(field, message)
    })
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    new: &NewEvidence,
) -> ApiResult<Evidence> {
    create_all(conn, principal, std::slice::from_ref(new))?
        .pop()
        .unwrap_or_else(|| Err(ApiError::internal("a create without an answer")))
}

/// Records pieces of evidence, each checked as the endpoint checks one, and answers for each
/// the evidence or why not: the good ones are stored, tagged, audited and fed to the change
/// feed a few hundred to a statement (an import's batch; `create` is a batch of one).
pub fn create_all(
    conn: &mut DbConnection,
    principal: &Principal,
    news: &[NewEvidence],
) -> ApiResult<Vec<ApiResult<Evidence>>> {
    let organisation_id = &principal.organisation_id;
    organisation::store::find(conn, organisation_id)?;
    let mut checks = BatchChecks {
        held: held_external_refs(conn, organisation_id, news)?,
        usable_locations: HashSet::new(),
    };
    let now = to_row(now());
    let mut checked = Vec::with_capacity(news.len());
    for new in news {
        checked.push(checked_row(conn, principal, new, &mut checks, now));
    }
    let rows: Vec<EvidenceRow> = checked
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .cloned()
        .collect();
    let tags: Vec<(RecordId, &Tags)> = rows.iter().map(|row| (row.id.any(), &row.tags)).collect();
    together(conn, |writes| {
        insert_all!(writes, evidence::table, rows);
        links::add_tags_all(writes, organisation_id, KIND, &tags)
    })?;
    let stored = news.iter().zip(&checked).filter(|(_, row)| row.is_ok());
    for (new, row) in stored {
        if let (false, Ok(row)) = (new.linked_records.is_empty(), row) {
            set_links(conn, principal, row.id, Some(&new.linked_records))?;
        }
    }
    let mut created = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(500) {
        created.extend(into_dtos(conn, principal, chunk.to_vec())?);
    }
    let audited = created
        .iter()
        .map(|evidence| {
            let described = Described {
                version: evidence.version,
                location_id: evidence.location_id.map(|l| l.to_string()),
                state: None,
            };
            Ok((
                Change::created(KIND, evidence.id, evidence)?,
                Some(described),
            ))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    together(conn, |writes| {
        audit::record_all(writes, organisation_id, Actor::Caller(principal), audited)
    })?;
    let mut created = created.into_iter();
    Ok(checked
        .into_iter()
        .map(|row| match row {
            Ok(_) => created
                .next()
                .ok_or_else(|| ApiError::internal("a stored row without its evidence")),
            Err(error) => Err(error),
        })
        .collect())
}

/// What a batch checks once for all its rows: the external references other records hold
/// (and, as the batch goes, its own rows), and the locations found usable.
struct BatchChecks {
    held: HashMap<(String, String), RecordId>,
    usable_locations: HashSet<Option<LocationId>>,
}

/// The external references of `news` that evidence of the organisation already holds.
fn held_external_refs(
    conn: &mut DbConnection,
    organisation_id: &str,
    news: &[NewEvidence],
) -> ApiResult<HashMap<(String, String), RecordId>> {
    let references: Vec<(String, String)> = news
        .iter()
        .filter_map(|n| n.external_ref.as_ref())
        .map(|r| (r.system.clone(), r.id.clone()))
        .collect();
    external_refs::holders(conn, "evidence", organisation_id, &references)
}

/// The row a new piece of evidence is stored as, checked as the endpoint checks it.
fn checked_row(
    conn: &mut DbConnection,
    principal: &Principal,
    new: &NewEvidence,
    checks: &mut BatchChecks,
    now: chrono::NaiveDateTime,
) -> ApiResult<EvidenceRow> {
    check_source(principal, new.source)?;
    let dated = check_dates(new.observed_at, (new.period_start, new.period_end))?;
    let location_id = new.location_id.map(LocationId::from);
    if !checks.usable_locations.contains(&location_id) {
        locations::store::check_reference(conn, principal, location_id)?;
        checks.usable_locations.insert(location_id);
    }
    check_linked(conn, principal, &new.linked_records)?;
    let id = EvidenceId::new();
    if let Some(external) = &new.external_ref {
        let key = (external.system.clone(), external.id.clone());
        if let Some(holder) = checks.held.get(&key) {
            external_ref_free(conn, principal, KIND, Some(*holder))?;
        }
        checks.held.insert(key, id.any());
    }
    let (metric_name, metric_value, metric_unit, metric_target, metric_direction) =
        metric_columns(new.metric.as_ref());
    Ok(EvidenceRow {
        id,
        organisation_id: principal.organisation_id.clone(),
        location_id,
        source: new.source,
        evidence_category: new.evidence_category.clone(),
        title: new.title.trim().to_owned(),
        summary: new.summary.as_ref().map(|s| s.trim().to_owned()),
        observed_at: new.observed_at.map(to_row),
        period_start: new.period_start.map(to_row),
        period_end: new.period_end.map(to_row),
        dated_at: to_row(dated),
        respondent: new.respondent,
        metric_name,
        metric_value,
        metric_unit,
        metric_target,
        metric_direction,
        links: JsonText(new.links.clone()),
        external_system: new.external_ref.as_ref().map(|r| r.system.clone()),
        external_id: new.external_ref.as_ref().map(|r| r.id.clone()),
        recorded_by: principal.sub.clone(),
        archived_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
        verification: Verification::Verified,
        contact: None,
        tags: Tags::kept(&new.quality_statements),
    })
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &EvidenceQuery,
    page: &Page,
) -> ApiResult<Paginated<Evidence>> {
    let mut select = visible(principal)
        .select(columns_of::<EvidenceRow>())
        .order(evidence::id.asc());
    select = looked_up!(select, evidence, query.lookup);
    // A sync read (by `updated_since`) brings archived evidence too, by default, so a mirror
    // learns of the archiving from `archived_at`.
    if !query
        .include_archived
        .unwrap_or(query.updated_since.is_some())
    {
        select = select.filter(evidence::archived_at.is_null());
    }
    select = one_of!(select, evidence::source, query.source);
    if let Some(category) = &query.evidence_category {
        select = select.filter(evidence::evidence_category.eq(category.clone()));
    }
    if let Some(statement) = &query.quality_statement_id {
        select = select.filter(evidence::id.eq_any(links::tagged(KIND, statement)));
    }
    if let Some(location) = query.location_id {
        select = select.filter(evidence::location_id.eq(LocationId::from(location)));
    }
    if let Some(metric) = &query.metric {
        select = select.filter(evidence::metric_name.eq(metric.clone()));
    }
    if let Some(verification) = query.verification {
        select = select.filter(evidence::verification.eq(verification));
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
    let rows = page.read(conn, select)?;
    page.finish_all(
        rows,
        |r| r.id.uuid(),
        |rows| into_dtos(conn, principal, rows),
    )
}

/// Writes `changes` if the row is still at the version read, audits the difference from
/// `before` (read before any of the change was written), and reads the record back.
fn save(
    conn: &mut DbConnection,
    principal: &Principal,
    (row, before): (EvidenceRow, &Evidence),
    changes: &EvidenceChanges,
    if_match: &IfMatch,
    action: AuditAction,
) -> ApiResult<Evidence> {
    save_if_unchanged!(conn, evidence, (&row.id, row.version), changes, if_match)?;
    let id = row.id;
    let after = get(conn, principal, id)?;
    audit::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change::between(action, KIND, id, &serde_json::to_value(before)?, &after)?,
    )?;
    Ok(after)
}

pub fn update(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    principal: &Principal,
    id: EvidenceId,
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
    let external = external_ref_to_set!(
        conn,
        principal,
        evidence,
        KIND,
        ExternalRef::from_columns(row.external_system.clone(), row.external_id.clone()).as_ref(),
        patch.external_ref.as_ref()
    );
    let current = into_dto(conn, principal, row.clone())?;
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
    let linked = patch
        .linked_records
        .clone()
        .unwrap_or(current.linked_records.clone());
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
    let location_id = patch.location_id.map(|l| l.map(LocationId::from));
    if let Some(location_id) = location_id {
        locations::store::check_reference(conn, principal, location_id)?;
    }
    check_linked(conn, principal, &linked)?;
    let metric_changes = patch.metric.as_ref().map(|m| metric_columns(m.as_ref()));
    let changes = EvidenceChanges {
        location_id,
        source: patch.source,
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
        respondent: patch.respondent,
        metric_name: metric_changes.as_ref().map(|m| m.0.clone()),
        metric_value: metric_changes.as_ref().map(|m| m.1),
        metric_unit: metric_changes.as_ref().map(|m| m.2.clone()),
        metric_target: metric_changes.as_ref().map(|m| m.3),
        metric_direction: metric_changes.as_ref().map(|m| m.4),
        links: patch.links.clone().map(JsonText),
        external_system: external.as_ref().map(|r| r.system.clone()),
        external_id: external.map(|r| r.id),
        ..Default::default()
    };
    if let Some(statements) = &patch.quality_statements {
        links::set_tags(conn, &organisation_id, KIND, id.any(), statements)?;
    }
    set_links(conn, principal, id, patch.linked_records.as_deref())?;
    save(
        conn,
        principal,
        (row, &current),
        &changes,
        if_match,
        AuditAction::Update,
    )
}

/// Marks a manager's look at evidence that came in through an intake point. Verifying twice
/// changes nothing.
pub fn verify(
    conn: &mut DbConnection,
    principal: &Principal,
    id: EvidenceId,
    if_match: &IfMatch,
) -> ApiResult<Evidence> {
    let row = find(conn, principal, id)?;
    if_match.check(row.version)?;
    if row.verification == Verification::Verified {
        return into_dto(conn, principal, row);
    }
    let changes = EvidenceChanges {
        verification: Some(Verification::Verified),
        ..Default::default()
    };
    let before = into_dto(conn, principal, row.clone())?;
    save(
        conn,
        principal,
        (row, &before),
        &changes,
        if_match,
        AuditAction::Update,
    )
}

/// Records feedback that came in through an intake point (`door`): unverified until a manager
/// looks at it, with the contact details its giver agreed to leave.
pub fn record_from_intake(
    conn: &mut DbConnection,
    door: &Principal,
    new: &NewEvidence,
    contact: Option<Contact>,
) -> ApiResult<EvidenceId> {
    let id = EvidenceId::from(create(conn, door, new)?.id);
    // Part of the record's making, in the same transaction: not a change of its own.
    diesel::update(evidence::table.find(id))
        .set((
            evidence::verification.eq(Verification::Unverified),
            evidence::contact.eq(contact.map(JsonText)),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Archives evidence: hidden from lists, kept with its history. Archiving twice changes nothing.
pub fn archive(
    conn: &mut DbConnection,
    principal: &Principal,
    id: EvidenceId,
    if_match: &IfMatch,
) -> ApiResult<Evidence> {
    let row = find(conn, principal, id)?;
    if_match.check(row.version)?;
    if row.archived_at.is_some() {
        return into_dto(conn, principal, row);
    }
    let changes = EvidenceChanges {
        archived_at: Some(Some(to_row(now()))),
        ..Default::default()
    };
    let before = into_dto(conn, principal, row.clone())?;
    save(
        conn,
        principal,
        (row, &before),
        &changes,
        if_match,
        AuditAction::Archive,
    )
}
