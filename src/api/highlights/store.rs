//! The highlights feed: recognitions, completed work, lessons and outcomes, newest first.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::dto::{Highlight, HighlightKind, HighlightQuery};
use crate::api::locations;
use crate::api::shared::LinkedRecord;
use crate::auth::Principal;
use crate::db::columns::JsonText;
use crate::db::schema::{concerns, improvement_plans, learning_events, plan_actions, recognitions};
use crate::db::DbConnection;
use crate::domain::concern::{ConcernCategory, ConcernStatus};
use crate::domain::ids::{LocationId, RecordId};
use crate::domain::improvement::{ActionStatus, PlanStatus, RecognitionKind};
use crate::domain::{now, RecordKind};
use crate::error::ApiResult;
use crate::http::paging::Paginated;
use crate::store::support::{to_row, to_utc};

/// How many of each kind of highlight one answer carries at most.
const HIGHLIGHTS_PER_KIND: i64 = 100;

fn highlight(
    kind: HighlightKind,
    at: DateTime<Utc>,
    title: String,
    text: Option<String>,
    record: (RecordKind, RecordId),
    location: Option<LocationId>,
) -> Highlight {
    Highlight {
        kind,
        at,
        title,
        text,
        record: LinkedRecord {
            kind: record.0,
            id: record.1.into(),
        },
        location_id: location.map(Into::into),
    }
}

/// What is worth sharing since a time, newest first: recognitions, completed actions and plans,
/// lessons, and resolved concerns' outcomes. Never a confidential concern, and of a concern only
/// its category and outcome, so nothing can identify its raiser.
pub fn highlights(
    conn: &mut DbConnection,
    principal: &Principal,
    query: &HighlightQuery,
) -> ApiResult<Paginated<Highlight>> {
    let since = query.since.unwrap_or_else(|| now() - Duration::days(30));
    let location = query.location_id.map(LocationId::from);
    if principal.locations.is_some() || location.is_some() {
        locations::store::check_reference(conn, principal, location)?;
    }
    let organisation_id = principal.organisation_id.clone();
    let mut items = Vec::new();

    let mut recognised = recognitions::table
        .filter(recognitions::organisation_id.eq(organisation_id.clone()))
        .filter(recognitions::occurred_on.ge(since.date_naive()))
        .select((
            recognitions::id,
            recognitions::kind,
            recognitions::title,
            recognitions::message,
            recognitions::occurred_on,
            recognitions::location_id,
        ))
        .order(recognitions::id.desc())
        .limit(HIGHLIGHTS_PER_KIND)
        .into_boxed();
    if let Some(location) = &location {
        recognised = recognised.filter(recognitions::location_id.eq(*location));
    }
    for (id, kind, title, message, on, location) in recognised.load::<(
        RecordId,
        RecognitionKind,
        String,
        Option<String>,
        NaiveDate,
        Option<LocationId>,
    )>(conn)?
    {
        let at = on
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or(since);
        let title = format!("{}: {title}", kind.as_str().replace('_', " "));
        items.push(highlight(
            HighlightKind::Recognition,
            at,
            title,
            message,
            (RecordKind::Recognition, id),
            location,
        ));
    }

    let mut actions = plan_actions::table
        .inner_join(improvement_plans::table)
        .filter(plan_actions::organisation_id.eq(organisation_id.clone()))
        .filter(plan_actions::status.eq(ActionStatus::Done))
        .filter(plan_actions::completed_at.ge(to_row(since)))
        .select((
            plan_actions::id,
            plan_actions::description,
            plan_actions::completion_note,
            plan_actions::completed_at,
            improvement_plans::location_id,
        ))
        .order(plan_actions::id.desc())
        .limit(HIGHLIGHTS_PER_KIND)
        .into_boxed();
    if let Some(location) = &location {
        actions = actions.filter(improvement_plans::location_id.eq(*location));
    }
    for (id, description, note, done_at, location) in actions.load::<(
        RecordId,
        String,
        Option<String>,
        Option<NaiveDateTime>,
        Option<LocationId>,
    )>(conn)?
    {
        let at = done_at.map_or(since, to_utc);
        items.push(highlight(
            HighlightKind::ActionCompleted,
            at,
            description,
            note,
            (RecordKind::Action, id),
            location,
        ));
    }

    let mut plans = improvement_plans::table
        .filter(improvement_plans::organisation_id.eq(organisation_id.clone()))
        .filter(improvement_plans::status.eq(PlanStatus::Completed))
        .filter(improvement_plans::completed_at.ge(to_row(since)))
        .select((
            improvement_plans::id,
            improvement_plans::title,
            improvement_plans::objective,
            improvement_plans::completed_at,
            improvement_plans::location_id,
        ))
        .order(improvement_plans::id.desc())
        .limit(HIGHLIGHTS_PER_KIND)
        .into_boxed();
    if let Some(location) = &location {
        plans = plans.filter(improvement_plans::location_id.eq(*location));
    }
    for (id, title, objective, done_at, location) in plans.load::<(
        RecordId,
        String,
        String,
        Option<NaiveDateTime>,
        Option<LocationId>,
    )>(conn)?
    {
        let at = done_at.map_or(since, to_utc);
        items.push(highlight(
            HighlightKind::PlanCompleted,
            at,
            title,
            Some(objective),
            (RecordKind::ImprovementPlan, id),
            location,
        ));
    }

    let mut learning = learning_events::table
        .filter(learning_events::organisation_id.eq(organisation_id.clone()))
        .filter(learning_events::occurred_at.ge(to_row(since)))
        .select((
            learning_events::id,
            learning_events::title,
            learning_events::lessons,
            learning_events::occurred_at,
            learning_events::location_id,
        ))
        .order(learning_events::id.desc())
        .limit(HIGHLIGHTS_PER_KIND)
        .into_boxed();
    if let Some(location) = &location {
        learning = learning.filter(learning_events::location_id.eq(*location));
    }
    for (id, title, lessons, at, location) in learning.load::<(
        RecordId,
        String,
        JsonText<Vec<String>>,
        NaiveDateTime,
        Option<LocationId>,
    )>(conn)?
    {
        let JsonText(lessons) = lessons;
        if !lessons.is_empty() {
            items.push(highlight(
                HighlightKind::Lessons,
                to_utc(at),
                title,
                Some(lessons.join("; ")),
                (RecordKind::LearningEvent, id),
                location,
            ));
        }
    }

    let resolved = [ConcernStatus::Resolved, ConcernStatus::Closed];
    let mut outcomes = concerns::table
        .filter(concerns::organisation_id.eq(organisation_id))
        .filter(concerns::confidential.eq(false))
        .filter(concerns::status.eq_any(resolved))
        .filter(concerns::resolved_at.ge(to_row(since)))
        .filter(concerns::outcome.is_not_null())
        .select((
            concerns::id,
            concerns::category,
            concerns::outcome,
            concerns::resolved_at,
            concerns::location_id,
        ))
        .order(concerns::id.desc())
        .limit(HIGHLIGHTS_PER_KIND)
        .into_boxed();
    if let Some(location) = &location {
        outcomes = outcomes.filter(concerns::location_id.eq(*location));
    }
    for (id, category, outcome, resolved_at, location) in outcomes.load::<(
        RecordId,
        ConcernCategory,
        Option<String>,
        Option<NaiveDateTime>,
        Option<LocationId>,
    )>(conn)?
    {
        let title = format!("You said, we did: {}", category.as_str().replace('_', " "));
        items.push(highlight(
            HighlightKind::YouSaidWeDid,
            resolved_at.map_or(since, to_utc),
            title,
            outcome,
            (RecordKind::Concern, id),
            location,
        ));
    }

    items.sort_by_key(|item| std::cmp::Reverse(item.at));
    Ok(Paginated {
        items,
        next_cursor: None,
    })
}
