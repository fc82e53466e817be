//! The loop: from any record, every record linked to it, both ways and onwards, so a client can
//! show how a concern led to learning, a plan, actions and a checked change.

use std::collections::HashSet;

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::audit_events::store::parse_id;
use crate::api::common::Answer;
use crate::api::docs::ReadErrors;
use crate::api::links::{self, RecordSummary};
use crate::api::recognitions::dto::LinkedRecord;
use crate::api::{concerns, evidence, improvement_plans, learning_events};
use crate::auth::{Permission, Principal};
use crate::db::schema::record_links;
use crate::db::DbConnection;
use crate::domain::RecordKind;
use crate::error::ApiResult;
use crate::state::AppState;

/// How far the trail follows links, and how many records it shows at most.
const MAX_DEPTH: u32 = 6;
const MAX_RECORDS: usize = 500;

/// A record on the trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrailEntry {
    pub kind: RecordKind,
    pub id: Uuid,
    pub title: String,
    /// Its workflow state (or, for learning, evidence and recognition, its kind).
    pub status: Option<String>,
    /// How many links from the record asked about.
    pub depth: u32,
    /// The record it was reached from.
    pub via: LinkedRecord,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "record": {"kind": "concern", "id": "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f"},
    "items": [
        {"kind": "learning_event", "id": "0192f0c4-5555-7000-8000-000000000001", "title": "November governance meeting",
         "status": "governance_review", "depth": 1, "via": {"kind": "concern", "id": "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f"}},
        {"kind": "improvement_plan", "id": "0192f0c4-8888-7000-8000-000000000001", "title": "Answer call bells within 5 minutes",
         "status": "active", "depth": 2, "via": {"kind": "learning_event", "id": "0192f0c4-5555-7000-8000-000000000001"}}
    ]
}))]
pub struct Trail {
    pub record: LinkedRecord,
    /// Nearest first.
    pub items: Vec<TrailEntry>,
}

type Node = (RecordKind, String);

/// The records linked to `frontier`, either way, not yet seen: each with the node it came from.
fn neighbours(
    conn: &mut DbConnection,
    organisation_id: &str,
    frontier: &[Node],
) -> ApiResult<Vec<(Node, Node)>> {
    let mut found = Vec::new();
    for kind in RecordKind::ALL {
        let ids: Vec<&str> = frontier
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, id)| id.as_str())
            .collect();
        if ids.is_empty() {
            continue;
        }
        let outgoing: Vec<(String, String, String)> = record_links::table
            .filter(record_links::organisation_id.eq(organisation_id))
            .filter(record_links::from_type.eq(kind.as_str()))
            .filter(record_links::from_id.eq_any(&ids))
            .select((
                record_links::from_id,
                record_links::to_type,
                record_links::to_id,
            ))
            .load(conn)?;
        let incoming: Vec<(String, String, String)> = record_links::table
            .filter(record_links::organisation_id.eq(organisation_id))
            .filter(record_links::to_type.eq(kind.as_str()))
            .filter(record_links::to_id.eq_any(&ids))
            .select((
                record_links::to_id,
                record_links::from_type,
                record_links::from_id,
            ))
            .load(conn)?;
        for (from, other_kind, other_id) in outgoing.into_iter().chain(incoming) {
            if let Some(other_kind) = RecordKind::parse(&other_kind) {
                found.push(((other_kind, other_id), (*kind, from)));
            }
        }
    }
    Ok(found)
}

/// Of `candidates`, those the caller may see, with their summaries.
fn visible(
    conn: &mut DbConnection,
    principal: &Principal,
    candidates: &[Node],
) -> ApiResult<Vec<RecordSummary>> {
    let mut summaries = Vec::new();
    for kind in RecordKind::ALL {
        let ids: Vec<String> = candidates
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, id)| id.clone())
            .collect();
        if ids.is_empty() {
            continue;
        }
        let mut found = links::summaries(conn, &principal.organisation_id, *kind, &ids)?;
        if *kind == RecordKind::Concern {
            let seen = concerns::store::visible_ids(conn, principal, &ids)?;
            found.retain(|s| seen.contains(&s.id));
        }
        found.retain(|s| principal.may_see_location(s.location_id.as_deref()));
        summaries.extend(found);
    }
    Ok(summaries)
}

/// Walks the links out from a record the caller may see, through records they may see.
pub fn trail(
    conn: &mut DbConnection,
    principal: &Principal,
    start: (RecordKind, String),
) -> ApiResult<Trail> {
    let mut seen: HashSet<Node> = HashSet::from([start.clone()]);
    let mut frontier = vec![start.clone()];
    let mut items = Vec::new();
    for depth in 1..=MAX_DEPTH {
        let mut reached: Vec<(Node, Node)> = Vec::new();
        for (node, via) in neighbours(conn, &principal.organisation_id, &frontier)? {
            if seen.insert(node.clone()) {
                reached.push((node, via));
            }
        }
        let nodes: Vec<Node> = reached.iter().map(|(node, _)| node.clone()).collect();
        let summaries = visible(conn, principal, &nodes)?;
        frontier.clear();
        for (node, via) in reached {
            let Some(summary) = summaries
                .iter()
                .find(|s| s.kind == node.0 && s.id == node.1)
            else {
                continue;
            };
            items.push(TrailEntry {
                kind: node.0,
                id: parse_id(&node.1)?,
                title: summary.title.clone(),
                status: summary.status.clone(),
                depth,
                via: LinkedRecord {
                    kind: via.0,
                    id: parse_id(&via.1)?,
                },
            });
            frontier.push(node);
        }
        if frontier.is_empty() || items.len() >= MAX_RECORDS {
            break;
        }
    }
    items.truncate(MAX_RECORDS);
    Ok(Trail {
        record: LinkedRecord {
            kind: start.0,
            id: parse_id(&start.1)?,
        },
        items,
    })
}

/// Checks the record is the caller's to see, then walks its trail.
async fn answer<F>(
    state: &AppState,
    principal: Principal,
    kind: RecordKind,
    id: Uuid,
    check: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce(&mut DbConnection, &Principal, &str) -> ApiResult<()> + Send + 'static,
{
    let id = id.to_string();
    let trail = state
        .db
        .run(move |conn| {
            check(conn, &principal, &id)?;
            trail(conn, &principal, (kind, id))
        })
        .await?;
    Ok(Answer::ok(&trail)?.respond())
}

/// The trail of a concern
///
/// Every record linked to it, both ways and onwards (learning events, plans, actions, evidence,
/// recognitions), with kind, id, title and status.
#[utoipa::path(
    tag = "concerns",
    params(("id" = Uuid, Path, description = "Concern id")),
    responses((status = 200, description = "The linked records, nearest first", body = Trail), ReadErrors)
)]
#[get("/concerns/{id}/trail")]
pub async fn concern_trail(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ReadConcerns)?;
    answer(
        &state,
        principal,
        RecordKind::Concern,
        id.into_inner(),
        |conn, principal, id| concerns::store::find(conn, principal, id).map(|_| ()),
    )
    .await
}

/// The trail of evidence
#[utoipa::path(
    tag = "evidence",
    params(("id" = Uuid, Path, description = "Evidence id")),
    responses((status = 200, description = "The linked records, nearest first", body = Trail), ReadErrors)
)]
#[get("/evidence/{id}/trail")]
pub async fn evidence_trail(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ReadEvidence)?;
    answer(
        &state,
        principal,
        RecordKind::Evidence,
        id.into_inner(),
        |conn, principal, id| evidence::store::get(conn, principal, id).map(|_| ()),
    )
    .await
}

/// The trail of a learning event
#[utoipa::path(
    tag = "learning",
    params(("id" = Uuid, Path, description = "Learning event id")),
    responses((status = 200, description = "The linked records, nearest first", body = Trail), ReadErrors)
)]
#[get("/learning-events/{id}/trail")]
pub async fn learning_event_trail(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ReadLearning)?;
    answer(
        &state,
        principal,
        RecordKind::LearningEvent,
        id.into_inner(),
        |conn, principal, id| learning_events::store::get(conn, principal, id).map(|_| ()),
    )
    .await
}

/// The trail of an improvement plan
#[utoipa::path(
    tag = "improvement",
    params(("id" = Uuid, Path, description = "Plan id")),
    responses((status = 200, description = "The linked records, nearest first", body = Trail), ReadErrors)
)]
#[get("/improvement-plans/{id}/trail")]
pub async fn plan_trail(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ReadPlans)?;
    answer(
        &state,
        principal,
        RecordKind::ImprovementPlan,
        id.into_inner(),
        |conn, principal, id| improvement_plans::store::find(conn, principal, id).map(|_| ()),
    )
    .await
}
