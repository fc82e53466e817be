//! The walk: breadth-first along links, both ways, through records the caller may see.

use std::collections::HashSet;

use diesel::prelude::*;

use super::dto::{Trail, TrailEntry};
use crate::api::shared::LinkedRecord;
use crate::auth::Principal;
use crate::db::schema::record_links;
use crate::db::DbConnection;
use crate::domain::ids::RecordId;
use crate::domain::RecordKind;
use crate::error::ApiResult;
use crate::store::links::{self, RecordSummary};
use crate::store::visibility;

/// How far the trail follows links, and how many records it shows at most.
const MAX_DEPTH: u32 = 6;
const MAX_RECORDS: usize = 500;

type Node = (RecordKind, RecordId);

/// Links to `frontier`, either way, from records not yet on the walk (not in `seen`): each
/// record with the node it came from, at most `limit` of them. The limit is applied as the
/// links are read, so a record linked to thousands costs no more than the trail can show.
fn neighbours(
    conn: &mut DbConnection,
    organisation_id: &str,
    frontier: &[Node],
    seen: &[RecordId],
    limit: usize,
) -> ApiResult<Vec<(Node, Node)>> {
    let mut found = Vec::new();
    for kind in RecordKind::ALL {
        let ids: Vec<RecordId> = frontier
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|&(_, id)| id)
            .collect();
        let room = limit - found.len();
        if room == 0 {
            break;
        }
        if ids.is_empty() {
            continue;
        }
        let outgoing: Vec<(RecordId, RecordKind, RecordId)> = record_links::table
            .filter(record_links::organisation_id.eq(organisation_id))
            .filter(record_links::from_type.eq(kind))
            .filter(record_links::from_id.eq_any(&ids))
            .filter(record_links::to_id.ne_all(seen))
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
            .limit(room as i64)
            .load(conn)?;
        let room = room - outgoing.len();
        let incoming: Vec<(RecordId, RecordKind, RecordId)> = if room == 0 {
            Vec::new()
        } else {
            record_links::table
                .filter(record_links::organisation_id.eq(organisation_id))
                .filter(record_links::to_type.eq(kind))
                .filter(record_links::to_id.eq_any(&ids))
                .filter(record_links::from_id.ne_all(seen))
                .select((
                    record_links::to_id,
                    record_links::from_type,
                    record_links::from_id,
                ))
                .order((
                    record_links::to_id,
                    record_links::from_type,
                    record_links::from_id,
                ))
                .limit(room as i64)
                .load(conn)?
        };
        for (from, other_kind, other_id) in outgoing.into_iter().chain(incoming) {
            found.push(((other_kind, other_id), (*kind, from)));
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
        let ids: Vec<RecordId> = candidates
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|&(_, id)| id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let seen = visibility::visible_ids(conn, principal, *kind, &ids)?;
        let seen: Vec<RecordId> = seen.into_iter().collect();
        summaries.extend(links::summaries(
            conn,
            &principal.organisation_id,
            *kind,
            &seen,
        )?);
    }
    Ok(summaries)
}

/// Walks the links out from a record the caller may see, through records they may see.
pub fn trail(conn: &mut DbConnection, principal: &Principal, start: Node) -> ApiResult<Trail> {
    let mut seen: HashSet<Node> = HashSet::from([start]);
    let mut frontier = vec![start];
    let mut items = Vec::new();
    let mut truncated = false;
    for depth in 1..=MAX_DEPTH {
        // Ids are UUIDs, unique across kinds, so a record is known by its id alone.
        let known: Vec<RecordId> = seen.iter().map(|&(_, id)| id).collect();
        let room = MAX_RECORDS - items.len();
        let mut reached: Vec<(Node, Node)> = Vec::new();
        for (node, via) in neighbours(conn, &principal.organisation_id, &frontier, &known, room)? {
            if seen.insert(node) {
                reached.push((node, via));
            }
        }
        let nodes: Vec<Node> = reached.iter().map(|(node, _)| *node).collect();
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
                id: node.1.into(),
                title: summary.title.clone(),
                status: summary.status.clone(),
                depth,
                via: LinkedRecord {
                    kind: via.0,
                    id: via.1.into(),
                },
            });
            frontier.push(node);
        }
        if frontier.is_empty() {
            break;
        }
        if items.len() >= MAX_RECORDS || depth == MAX_DEPTH {
            truncated = true;
            break;
        }
    }
    Ok(Trail {
        record: LinkedRecord {
            kind: start.0,
            id: start.1.into(),
        },
        items,
        truncated,
    })
}
