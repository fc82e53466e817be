//! Who sees which records: one rule per kind of record, as a query every read path starts from
//! (gets, lists, links, trails, the audit trail, counts), so no path can forget a rule.
//! (The rules are used as top-level queries or against lists of ids, never nested as
//! subqueries: diesel's `MultiBackend` cannot render a boxed query inside another.)
//!
//! Every rule starts from the caller's organisation and their `locations` claim. Concerns add
//! confidentiality: managers and admins see every concern in reach; viewers and integrations
//! all but confidential ones; staff the ones they raised (never anonymous ones, which nobody can
//! tie to them). A caller with several roles sees the union. The other kinds are seen by every
//! role in reach; an action is seen with its plan.

use std::collections::HashSet;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};

use crate::auth::{Permission, Principal, Role};
use crate::db::columns::JsonText;
use crate::db::schema::{
    api_clients, concern_updates, concerns, evidence, imports, improvement_plans, intake_points,
    learning_events, locations, plan_actions, plan_reviews, quality_statement_tags, recognitions,
    self_assessments, webhooks,
};
use crate::db::{Backend, DbConnection};
use crate::domain::ids::{LocationId, RecordId};
use crate::domain::improvement::{ActionStatus, Approval};
use crate::domain::RecordKind;
use crate::error::ApiResult;

/// A kind's rule as a condition on its table (or on a join of it): the form the insights'
/// aggregate reads filter by, as a boxed query cannot be grouped; each kind's boxed read query
/// is built from the same condition.
pub type Rule<T> = Box<dyn BoxableExpression<T, Backend, SqlType = Nullable<Bool>>>;

/// The caller's organisation and, when their `locations` claim limits them, those locations:
/// as a rule on `$table`, or on a join `$source` of it (a rule counted across two tables).
macro_rules! in_reach {
    ($table:ident, $location:ident, $principal:expr) => {
        in_reach!($table, $location, $principal, $table::table)
    };
    ($table:ident, $location:ident, $principal:expr, $source:ty) => {{
        let principal: &Principal = $principal;
        let organisation = $table::organisation_id
            .eq(principal.organisation_id.clone())
            .nullable();
        // One location by `=`, as `one_of!` matches one value: the usual limited claim.
        match principal.locations.as_deref() {
            None => Box::new(organisation) as Rule<$source>,
            Some([one]) => Box::new(organisation.and($table::$location.eq(one.clone()).nullable())),
            Some(allowed) => {
                Box::new(organisation.and($table::$location.eq_any(allowed.to_vec()).nullable()))
            }
        }
    }};
}

/// A rule (on `$source`) narrowed to the location a request names, by the `$column` that holds
/// a record's location; the rule as it is when none is named.
macro_rules! at_location {
    ($rule:expr, $column:path, $location:expr, $source:ty) => {{
        let rule: $crate::store::visibility::Rule<$source> = $rule;
        match $location {
            Some(location) => {
                Box::new(rule.and($column.eq(location))) as $crate::store::visibility::Rule<$source>
            }
            None => rule,
        }
    }};
}
pub(crate) use at_location;

pub fn concern_rule(principal: &Principal) -> Rule<concerns::table> {
    let reach = in_reach!(concerns, location_id, principal);
    if principal.has_any_role(&[Role::Admin, Role::Manager]) {
        return reach;
    }
    let mut conditions: Vec<Rule<concerns::table>> = Vec::new();
    if principal.has_any_role(&[Role::Viewer, Role::Integration]) {
        conditions.push(Box::new(concerns::confidential.eq(false).nullable()));
    }
    if principal.has_any_role(&[Role::Staff]) {
        conditions.push(Box::new(concerns::raised_by_sub.eq(principal.sub.clone())));
    }
    match conditions.into_iter().reduce(|a, b| Box::new(a.or(b))) {
        Some(condition) => Box::new(reach.and(condition)),
        None => Box::new(reach.and(concerns::id.is_null().nullable())),
    }
}

pub fn concerns(principal: &Principal) -> concerns::BoxedQuery<'static, Backend> {
    concerns::table.filter(concern_rule(principal)).into_boxed()
}

pub fn learning_event_rule(principal: &Principal) -> Rule<learning_events::table> {
    in_reach!(learning_events, location_id, principal)
}

pub fn learning_events(principal: &Principal) -> learning_events::BoxedQuery<'static, Backend> {
    learning_events::table
        .filter(learning_event_rule(principal))
        .into_boxed()
}

pub fn evidence_rule(principal: &Principal) -> Rule<evidence::table> {
    in_reach!(evidence, location_id, principal)
}

/// Quality-statement tags joined to the evidence they tag.
pub type TaggedEvidence = diesel::dsl::InnerJoinQuerySource<
    quality_statement_tags::table,
    evidence::table,
    diesel::dsl::Eq<evidence::id, quality_statement_tags::record_id>,
>;

/// The evidence rule, on evidence joined to its tags (evidence counted per statement).
pub fn tagged_evidence_rule(principal: &Principal) -> Rule<TaggedEvidence> {
    in_reach!(evidence, location_id, principal, TaggedEvidence)
}

pub fn evidence(principal: &Principal) -> evidence::BoxedQuery<'static, Backend> {
    evidence::table
        .filter(evidence_rule(principal))
        .into_boxed()
}

/// Imports: each to whoever ran it, and all to the admins and managers who reach every
/// location (a report may speak of records of any location).
pub fn imports(principal: &Principal) -> imports::BoxedQuery<'static, Backend> {
    let organisation = imports::table
        .filter(imports::organisation_id.eq(principal.organisation_id.clone()))
        .into_boxed();
    if principal.has_any_role(&[Role::Admin, Role::Manager]) && principal.locations.is_none() {
        organisation
    } else {
        organisation.filter(imports::imported_by.eq(principal.sub.clone()))
    }
}

pub fn plan_rule(principal: &Principal) -> Rule<improvement_plans::table> {
    in_reach!(improvement_plans, location_id, principal)
}

pub fn plans(principal: &Principal) -> improvement_plans::BoxedQuery<'static, Backend> {
    improvement_plans::table
        .filter(plan_rule(principal))
        .into_boxed()
}

/// Plan reviews with their plans: the source a review's rule is a condition on.
pub type ReviewsWithPlans =
    diesel::dsl::InnerJoinQuerySource<plan_reviews::table, improvement_plans::table>;

/// The plan reviews the caller may see: those of the plans they may see.
pub fn plan_review_rule(principal: &Principal) -> Rule<ReviewsWithPlans> {
    in_reach!(improvement_plans, location_id, principal, ReviewsWithPlans)
}

/// Actions with their plans: the source an action's rule is a condition on.
pub type ActionsWithPlans =
    diesel::dsl::InnerJoinQuerySource<plan_actions::table, improvement_plans::table>;

/// The actions the caller may see: those of the plans they may see.
pub fn action_rule(principal: &Principal) -> Rule<ActionsWithPlans> {
    in_reach!(improvement_plans, location_id, principal, ActionsWithPlans)
}

/// The actions the caller may see, as a boxed query of actions joined to their plans (a macro,
/// as the boxed join's type cannot be named).
macro_rules! actions {
    ($principal:expr) => {
        plan_actions::table
            .inner_join(improvement_plans::table)
            .filter($crate::store::visibility::action_rule($principal))
            .into_boxed()
    };
}
pub(crate) use actions;

/// Recognitions in reach; one that came in through a public intake point and is not yet
/// approved (or was declined) only to the managers and admins who decide on it.
pub fn recognition_rule(principal: &Principal) -> Rule<recognitions::table> {
    let reach = in_reach!(recognitions, location_id, principal);
    if principal.may(Permission::ModerateSubmissions) {
        reach
    } else {
        Box::new(reach.and(recognitions::approval.eq(Approval::Approved).nullable()))
    }
}

pub fn recognitions(principal: &Principal) -> recognitions::BoxedQuery<'static, Backend> {
    recognitions::table
        .filter(recognition_rule(principal))
        .into_boxed()
}

/// What the public sees of a location's actions on an intake point's "you said, we did" page:
/// only the done actions a manager published, of the plans at that location.
pub fn published_action_rule(location: LocationId) -> Rule<ActionsWithPlans> {
    Box::new(
        improvement_plans::location_id
            .eq(location)
            .and(plan_actions::published_at.is_not_null())
            .and(plan_actions::status.eq(ActionStatus::Done)),
    )
}

/// Intake points at the locations in the caller's reach.
pub fn intake_points(principal: &Principal) -> intake_points::BoxedQuery<'static, Backend> {
    intake_points::table
        .filter(in_reach!(intake_points, location_id, principal))
        .into_boxed()
}

pub fn locations(principal: &Principal) -> locations::BoxedQuery<'static, Backend> {
    locations::table
        .filter(in_reach!(locations, id, principal))
        .into_boxed()
}

pub fn self_assessments(principal: &Principal) -> self_assessments::BoxedQuery<'static, Backend> {
    self_assessments::table
        .filter(in_reach!(self_assessments, location_id, principal))
        .into_boxed()
}

/// Whether a machine client or webhook endpoint that reaches `locations` (every location when
/// `None`) is the caller's to manage: a caller limited to some locations manages only the ones
/// limited to those.
pub fn reaches_no_further(principal: &Principal, locations: Option<&[uuid::Uuid]>) -> bool {
    match (&principal.locations, locations) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(mine), Some(theirs)) => theirs
            .iter()
            .all(|location| mine.contains(&LocationId::from(*location))),
    }
}

/// A machine client or webhook endpoint, as [`reaches_no_further`] judges it.
pub trait Reaching {
    /// The locations it is limited to (`None`: every location).
    fn reach(&self) -> Option<&[uuid::Uuid]>;

    /// Whether the caller manages it.
    fn managed_by(&self, principal: &Principal) -> bool {
        reaches_no_further(principal, self.reach())
    }
}

/// The organisation's clients or endpoints (`$table`, read as `$row`) the caller manages: one
/// by id (`find`), or a page (`page`). A macro, as each is a query of its own table.
macro_rules! managed {
    (find $conn:expr, $principal:expr, $table:ident, $row:ty, $id:expr, $what:literal) => {{
        let principal: &$crate::auth::Principal = $principal;
        $table::table
            .filter($table::organisation_id.eq(principal.organisation_id.clone()))
            .filter($table::id.eq($id))
            .select($crate::db::columns_of::<$row>())
            .first::<$row>($conn)
            .optional()?
            .filter(|row| $crate::store::visibility::Reaching::managed_by(row, principal))
            .ok_or($crate::error::ApiError::NotFound($what))
    }};
    (page $conn:expr, $principal:expr, $page:expr, $table:ident, $row:ty, $into:expr) => {{
        let principal: &$crate::auth::Principal = $principal;
        $page.read_kept(
            $conn,
            |conn, after, limit| {
                let mut select = $table::table
                    .filter($table::organisation_id.eq(principal.organisation_id.clone()))
                    .select($crate::db::columns_of::<$row>())
                    .order($table::id.asc())
                    .limit(limit)
                    .into_boxed();
                if let Some(after) = after {
                    select = select.filter($table::id.gt(after));
                }
                Ok(select.load::<$row>(conn)?)
            },
            |row| row.id.uuid(),
            |_, rows| {
                Ok(rows
                    .into_iter()
                    .filter(|row| $crate::store::visibility::Reaching::managed_by(row, principal))
                    .collect())
            },
            $into,
        )
    }};
}
pub(crate) use managed;

/// Of audit events, given as `(resource_type, resource_id)`, the subjects the caller may see:
/// an event about a record only when they may see the record (a concern's timeline entry with
/// its concern); organisation-wide events to every reader of the audit trail.
pub fn visible_audit_subjects(
    conn: &mut DbConnection,
    principal: &Principal,
    subjects: &[(String, RecordId)],
) -> ApiResult<HashSet<(String, RecordId)>> {
    let ids_of = |resource_type: &str| -> Vec<RecordId> {
        subjects
            .iter()
            .filter(|(t, _)| t == resource_type)
            .map(|&(_, id)| id)
            .collect()
    };
    let mut visible: HashSet<(String, RecordId)> = HashSet::new();
    let mut add = |resource_type: &str, ids: Vec<RecordId>| {
        visible.extend(ids.into_iter().map(|id| (resource_type.to_owned(), id)));
    };
    add("organisation", ids_of("organisation"));
    // A machine client's or webhook endpoint's events only to who may manage it (an endpoint
    // since deleted, only to an admin of every location).
    if principal.may(Permission::ManageApiClients) {
        let clients = ids_of("api_client");
        let reach: Vec<(RecordId, Option<JsonText<Vec<uuid::Uuid>>>)> = api_clients::table
            .filter(api_clients::id.eq_any(clients.clone()))
            .select((api_clients::id, api_clients::locations))
            .load(conn)?;
        add("api_client", managed_ids(principal, clients, reach));
    }
    if principal.may(Permission::ManageWebhooks) {
        let endpoints = ids_of("webhook");
        let reach: Vec<(RecordId, Option<JsonText<Vec<uuid::Uuid>>>)> = webhooks::table
            .filter(webhooks::id.eq_any(endpoints.clone()))
            .select((webhooks::id, webhooks::location_ids))
            .load(conn)?;
        add("webhook", managed_ids(principal, endpoints, reach));
    }
    // An intake point's events to who may manage it, at a location in their reach.
    if principal.may(Permission::ManageIntakePoints) {
        let doors: Vec<RecordId> = intake_points(principal)
            .filter(intake_points::id.eq_any(ids_of("intake_point")))
            .select(intake_points::id)
            .load(conn)?;
        add("intake_point", doors);
    }
    let records: Vec<(RecordKind, RecordId)> = subjects
        .iter()
        .filter_map(|(resource_type, id)| RecordKind::parse(resource_type).map(|k| (k, *id)))
        .collect();
    for (kind, id) in visible_records(conn, principal, &records)? {
        add(kind.as_str(), vec![id]);
    }
    let updates = ids_of("concern_update");
    if !updates.is_empty() {
        let of_concerns: Vec<(RecordId, RecordId)> = concern_updates::table
            .filter(concern_updates::id.eq_any(updates))
            .select((concern_updates::id, concern_updates::concern_id))
            .load(conn)?;
        let concern_ids: Vec<RecordId> = of_concerns.iter().map(|&(_, c)| c).collect();
        let seen = visible_ids(conn, principal, RecordKind::Concern, &concern_ids)?;
        add(
            "concern_update",
            of_concerns
                .into_iter()
                .filter(|(_, concern)| seen.contains(concern))
                .map(|(update, _)| update)
                .collect(),
        );
    }
    let places = ids_of("location");
    if !places.is_empty() {
        let seen: Vec<RecordId> = locations(principal)
            .filter(locations::id.eq_any(places))
            .select(locations::id)
            .load(conn)?;
        add("location", seen);
    }
    let scores = ids_of("self_assessment");
    if !scores.is_empty() {
        let seen: Vec<RecordId> = self_assessments(principal)
            .filter(self_assessments::id.eq_any(scores))
            .select(self_assessments::id)
            .load(conn)?;
        add("self_assessment", seen);
    }
    Ok(visible)
}

/// Of the ids of clients or endpoints, the ones the caller manages, given each existing one's
/// locations.
fn managed_ids(
    principal: &Principal,
    ids: Vec<RecordId>,
    reach: Vec<(RecordId, Option<JsonText<Vec<uuid::Uuid>>>)>,
) -> Vec<RecordId> {
    ids.into_iter()
        .filter(|id| match reach.iter().find(|(found, _)| found == id) {
            Some((_, locations)) => {
                reaches_no_further(principal, locations.as_ref().map(|l| l.0.as_slice()))
            }
            None => principal.locations.is_none(),
        })
        .collect()
}

/// Of `ids` of records of `kind`, those the caller may see.
pub fn visible_ids(
    conn: &mut DbConnection,
    principal: &Principal,
    kind: RecordKind,
    ids: &[RecordId],
) -> ApiResult<HashSet<RecordId>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let ids = ids.to_vec();
    let found: Vec<RecordId> = match kind {
        RecordKind::Concern => concerns(principal)
            .filter(concerns::id.eq_any(ids))
            .select(concerns::id)
            .load(conn)?,
        RecordKind::LearningEvent => learning_events(principal)
            .filter(learning_events::id.eq_any(ids))
            .select(learning_events::id)
            .load(conn)?,
        RecordKind::Evidence => evidence(principal)
            .filter(evidence::id.eq_any(ids))
            .select(evidence::id)
            .load(conn)?,
        RecordKind::ImprovementPlan => plans(principal)
            .filter(improvement_plans::id.eq_any(ids))
            .select(improvement_plans::id)
            .load(conn)?,
        RecordKind::Action => actions!(principal)
            .filter(plan_actions::id.eq_any(ids))
            .select(plan_actions::id)
            .load(conn)?,
        RecordKind::Recognition => recognitions(principal)
            .filter(recognitions::id.eq_any(ids))
            .select(recognitions::id)
            .load(conn)?,
    };
    Ok(found.into_iter().collect())
}

/// Of records of any kinds, those the caller may see.
pub fn visible_records(
    conn: &mut DbConnection,
    principal: &Principal,
    records: &[(RecordKind, RecordId)],
) -> ApiResult<HashSet<(RecordKind, RecordId)>> {
    let mut visible = HashSet::new();
    for kind in RecordKind::ALL {
        let ids: Vec<RecordId> = records
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|&(_, id)| id)
            .collect();
        let seen = visible_ids(conn, principal, *kind, &ids)?;
        visible.extend(seen.into_iter().map(|id| (*kind, id)));
    }
    Ok(visible)
}
