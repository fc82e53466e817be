use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::dto::{NewRecognition, Recognition, RecognitionQuery};
use crate::api::shared::{ExternalRef, LinkedRecord, Person};
use crate::api::{locations, organisation};
use crate::auth::{Principal, Role};
use crate::db::schema::{recognitions, record_links};
use crate::db::DbConnection;
use crate::db::{columns::JsonText, columns_of};
use crate::domain::ids::{LocationId, RecognitionId, RecordId};
use crate::domain::improvement::{Approval, RecognitionKind};
use crate::domain::PersonRole;
use crate::domain::{now, AuditAction, RecordKind};
use crate::error::{ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::http::preconditions::IfMatch;
use crate::store::audit::{self, Actor, Change};
use crate::store::external_refs::{ensure_external_ref_free, looked_up};
use crate::store::links;
use crate::store::support::{one_of, only, save_if_unchanged, to_row, to_utc};

const KIND: RecordKind = RecordKind::Recognition;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = recognitions)]
struct RecognitionRow {
    id: RecognitionId,
    organisation_id: String,
    location_id: Option<LocationId>,
    kind: RecognitionKind,
    title: String,
    message: Option<String>,
    recipients: JsonText<Vec<String>>,
    from_role: PersonRole,
    occurred_on: NaiveDate,
    recorded_by: String,
    external_system: Option<String>,
    external_id: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    approval: Approval,
    from_name: Option<String>,
}

use crate::store::visibility::{self, recognitions as visible};

fn into_dtos(
    conn: &mut DbConnection,
    principal: &Principal,
    rows: Vec<RecognitionRow>,
) -> ApiResult<Vec<Recognition>> {
    let ids: Vec<RecordId> = rows.iter().map(|r| r.id.any()).collect();
    let linked: Vec<(RecordId, RecordKind, RecordId)> = record_links::table
        .filter(record_links::from_type.eq(KIND))
        .filter(record_links::from_id.eq_any(&ids))
        .select((
            record_links::from_id,
            record_links::to_type,
            record_links::to_id,
        ))
        .order((
            record_links::from_id,
            record_links::to_type,
            record_links::to_id,
        ))
        .load(conn)?;
    let targets: Vec<(RecordKind, RecordId)> = linked.iter().map(|&(_, k, id)| (k, id)).collect();
    let seen = visibility::visible_records(conn, principal, &targets)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let linked_records = linked
                .iter()
                .filter(|(from, _, _)| *from == row.id.any())
                .filter(|&&(_, kind, id)| seen.contains(&(kind, id)))
                .map(|&(_, kind, id)| LinkedRecord {
                    kind,
                    id: id.into(),
                })
                .collect();
            Recognition {
                id: row.id.into(),
                kind: row.kind,
                from: row.from_role,
                from_name: row.from_name,
                approval: row.approval,
                recipients: row.recipients.0,
                location_id: row.location_id.map(Into::into),
                linked_records,
                title: row.title,
                message: row.message,
                occurred_on: row.occurred_on,
                recorded_by: Person::recorder(row.recorded_by),
                external_ref: ExternalRef::from_columns(row.external_system, row.external_id),
                version: row.version,
                created_at: to_utc(row.created_at),
                updated_at: to_utc(row.updated_at),
            }
        })
        .collect())
}

pub fn get(
    conn: &mut DbConnection,
    principal: &Principal,
    id: RecognitionId,
) -> ApiResult<Recognition> {
    let row = visible(principal)
        .filter(recognitions::id.eq(id))
        .select(columns_of::<RecognitionRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("recognition"))?;
    only(into_dtos(conn, principal, vec![row])?)
}

pub fn create(
    conn: &mut DbConnection,
    principal: &Principal,
    new: &NewRecognition,
) -> ApiResult<Recognition> {
    let organisation_id = &principal.organisation_id;
    organisation::store::find(conn, organisation_id)?;
    let location_id = new.location_id.map(LocationId::from);
    locations::store::check_reference(conn, principal, location_id)?;
    for kind in [
        RecordKind::Concern,
        RecordKind::ImprovementPlan,
        RecordKind::Action,
        RecordKind::Evidence,
    ] {
        let ids: Vec<uuid::Uuid> = new
            .linked_records
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| l.id)
            .collect();
        links::check_exist(conn, principal, kind, "linked_records", &ids)?;
    }
    ensure_external_ref_free!(
        conn,
        principal,
        recognitions,
        KIND,
        new.external_ref.as_ref()
    )?;
    let recipients: Vec<String> = new.recipients.iter().map(|r| r.trim().to_owned()).collect();
    let id = insert(
        conn,
        principal,
        RecognitionRow {
            id: RecognitionId::new(),
            organisation_id: organisation_id.clone(),
            location_id,
            kind: new.kind,
            title: new.title.trim().to_owned(),
            message: new.message.as_ref().map(|m| m.trim().to_owned()),
            recipients: JsonText(recipients),
            from_role: new.from,
            occurred_on: new.occurred_on,
            recorded_by: principal.sub.clone(),
            external_system: new.external_ref.as_ref().map(|r| r.system.clone()),
            external_id: new.external_ref.as_ref().map(|r| r.id.clone()),
            version: 1,
            created_at: to_row(now()),
            updated_at: to_row(now()),
            approval: Approval::Approved,
            from_name: None,
        },
        &new.linked_records,
    )?;
    get(conn, principal, id)
}

/// Stores a recognition with its links and audits it; answers its id.
fn insert(
    conn: &mut DbConnection,
    principal: &Principal,
    row: RecognitionRow,
    linked: &[LinkedRecord],
) -> ApiResult<RecognitionId> {
    diesel::insert_into(recognitions::table)
        .values(&row)
        .execute(conn)?;
    // A record named twice is linked once.
    let mut seen = std::collections::HashSet::new();
    for link in linked.iter().filter(|l| seen.insert((l.kind, l.id))) {
        links::add_link(
            conn,
            &row.organisation_id,
            (KIND, row.id.any()),
            (link.kind, link.id.into()),
        )?;
    }
    let id = row.id;
    let recognition = only(into_dtos(conn, principal, vec![row])?)?;
    audit::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change::created(KIND, id, &recognition)?,
    )?;
    Ok(id)
}

/// Celebrates a completed action or plan, in the transaction that completes it.
pub fn record_milestone(
    conn: &mut DbConnection,
    principal: &Principal,
    title: &str,
    message: Option<String>,
    owner: &Person,
    location_id: Option<LocationId>,
    (kind, record_id): (RecordKind, RecordId),
) -> ApiResult<()> {
    let recipient = owner
        .name
        .clone()
        .or_else(|| owner.sub.clone())
        .unwrap_or_default();
    let from = if principal.has_any_role(&[Role::Admin, Role::Manager]) {
        PersonRole::Manager
    } else {
        PersonRole::Staff
    };
    let now = now();
    insert(
        conn,
        principal,
        RecognitionRow {
            id: RecognitionId::new(),
            organisation_id: principal.organisation_id.clone(),
            location_id,
            kind: RecognitionKind::ImprovementMilestone,
            title: title.chars().take(200).collect(),
            message,
            recipients: JsonText(vec![recipient]),
            from_role: from,
            occurred_on: now.date_naive(),
            recorded_by: principal.sub.clone(),
            external_system: None,
            external_id: None,
            version: 1,
            created_at: to_row(now),
            updated_at: to_row(now),
            approval: Approval::Approved,
            from_name: None,
        },
        &[LinkedRecord {
            kind,
            id: record_id.into(),
        }],
    )?;
    Ok(())
}

/// Records a compliment that came in through an intake point (`door`, at its location): it
/// waits for a manager's approval before anyone else sees it.
pub fn record_from_intake(
    conn: &mut DbConnection,
    door: &Principal,
    location_id: LocationId,
    for_whom: &str,
    message: &str,
    name: Option<&str>,
) -> ApiResult<RecognitionId> {
    let now = now();
    let for_whom = for_whom.trim().to_owned();
    insert(
        conn,
        door,
        RecognitionRow {
            id: RecognitionId::new(),
            organisation_id: door.organisation_id.clone(),
            location_id: Some(location_id),
            kind: RecognitionKind::Compliment,
            title: format!("A compliment for {for_whom}")
                .chars()
                .take(200)
                .collect(),
            message: Some(message.trim().to_owned()),
            recipients: JsonText(vec![for_whom]),
            from_role: PersonRole::NotSaid,
            occurred_on: now.date_naive(),
            recorded_by: door.sub.clone(),
            external_system: None,
            external_id: None,
            version: 1,
            created_at: to_row(now),
            updated_at: to_row(now),
            approval: Approval::AwaitingApproval,
            from_name: name.map(|n| n.trim().to_owned()),
        },
        &[],
    )
}

#[derive(AsChangeset)]
#[diesel(table_name = recognitions)]
struct ApprovalChange {
    approval: Approval,
}

/// A manager's decision on a recognition awaiting approval: approved (shown to everyone, and in
/// the highlights) or declined (kept, seen by managers and admins only). Deciding again to the
/// same effect changes nothing.
pub fn decide(
    conn: &mut DbConnection,
    principal: &Principal,
    id: RecognitionId,
    decision: Approval,
    if_match: &IfMatch,
) -> ApiResult<Recognition> {
    let row = visible(principal)
        .filter(recognitions::id.eq(id))
        .select(columns_of::<RecognitionRow>())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound("recognition"))?;
    if_match.check(row.version)?;
    if row.approval == decision {
        return only(into_dtos(conn, principal, vec![row])?);
    }
    let before = serde_json::to_value(only(into_dtos(conn, principal, vec![row.clone()])?)?)?;
    save_if_unchanged!(
        conn,
        recognitions,
        (id, row.version),
        &ApprovalChange { approval: decision },
        if_match
    )?;
    let after = get(conn, principal, id)?;
    audit::record(
        conn,
        &principal.organisation_id,
        Actor::Caller(principal),
        Change::between(AuditAction::Update, KIND, id, &before, &after)?,
    )?;
    Ok(after)
}

pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &RecognitionQuery,
    page: &Page,
) -> ApiResult<Paginated<Recognition>> {
    let mut select = visible(principal)
        .select(columns_of::<RecognitionRow>())
        .order(recognitions::id.asc());
    select = looked_up!(select, recognitions, query.lookup);
    select = one_of!(select, recognitions::kind, query.kind);
    if let Some(location) = query.location_id {
        select = select.filter(recognitions::location_id.eq(LocationId::from(location)));
    }
    if let Some(approval) = query.approval {
        select = select.filter(recognitions::approval.eq(approval));
    }
    if let Some(since) = query.updated_since {
        select = select.filter(recognitions::updated_at.ge(to_row(since)));
    }
    if let Some(after) = &page.after {
        select = select.filter(recognitions::id.gt(after.clone()));
    }
    let rows = page.read(conn, select)?;
    page.finish_all(
        rows,
        |r| r.id.uuid(),
        |rows| into_dtos(conn, principal, rows),
    )
}
