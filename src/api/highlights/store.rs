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
use crate::domain::improvement::{ActionStatus, Approval, PlanStatus, RecognitionKind};
use crate::domain::{now, RecordKind};
use crate::error::{ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::store::support::{to_row, to_utc};

/// Records strictly before a position in the feed's order: an earlier moment, or the same
/// moment and a lower id.
macro_rules! before {
    ($at:expr, $id:expr, $position:expr) => {
        $at.lt(to_row($position.at)).or($at
            .eq(to_row($position.at))
            .and($id.lt($position.id.clone())))
    };
}

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
    page: &Page,
) -> ApiResult<Paginated<Highlight>> {
    let since = query.from.unwrap_or_else(|| now() - Duration::days(30));
    let after = page.after.as_deref().map(Position::read).transpose()?;
    let fetch = page.fetch();
    let location = query.location_id.map(LocationId::from);
    if principal.locations.is_some() || location.is_some() {
        locations::store::check_reference(conn, principal, location)?;
    }
    let organisation_id = principal.organisation_id.clone();
    let mut items = Vec::new();

    // The highlights go to newsletters and handovers: only approved recognitions.
    let mut recognised = recognitions::table
        .filter(recognitions::organisation_id.eq(organisation_id.clone()))
        .filter(recognitions::approval.eq(Approval::Approved))
        .filter(recognitions::occurred_on.ge(since.date_naive()))
        .select((
            recognitions::id,
            recognitions::kind,
            recognitions::title,
            recognitions::message,
            recognitions::occurred_on,
            recognitions::location_id,
        ))
        .order((recognitions::occurred_on.desc(), recognitions::id.desc()))
        .limit(fetch)
        .into_boxed();
    if let Some(location) = &location {
        recognised = recognised.filter(recognitions::location_id.eq(*location));
    }
    // A recognition's moment is the start of its day: before the position's moment is before
    // its day, or on its day when the position is later in the day (or the same, with a lower id).
    if let Some(after) = &after {
        let day = after.at.date_naive();
        recognised = if after.at.time() == chrono::NaiveTime::MIN {
            recognised.filter(
                recognitions::occurred_on
                    .lt(day)
                    .or(recognitions::occurred_on
                        .eq(day)
                        .and(recognitions::id.lt(after.id.clone()))),
            )
        } else {
            recognised.filter(recognitions::occurred_on.le(day))
        };
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
        .order((plan_actions::completed_at.desc(), plan_actions::id.desc()))
        .limit(fetch)
        .into_boxed();
    if let Some(location) = &location {
        actions = actions.filter(improvement_plans::location_id.eq(*location));
    }
    if let Some(after) = &after {
        actions = actions.filter(before!(plan_actions::completed_at, plan_actions::id, after));
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
        .order((
            improvement_plans::completed_at.desc(),
            improvement_plans::id.desc(),
        ))
        .limit(fetch)
        .into_boxed();
    if let Some(location) = &location {
        plans = plans.filter(improvement_plans::location_id.eq(*location));
    }
    if let Some(after) = &after {
        plans = plans.filter(before!(
            improvement_plans::completed_at,
            improvement_plans::id,
            after
        ));
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
        // In SQL, so that a page of events without lessons cannot hide the next with some.
        .filter(learning_events::lessons.ne("[]"))
        .select((
            learning_events::id,
            learning_events::title,
            learning_events::lessons,
            learning_events::occurred_at,
            learning_events::location_id,
        ))
        .order((
            learning_events::occurred_at.desc(),
            learning_events::id.desc(),
        ))
        .limit(fetch)
        .into_boxed();
    if let Some(location) = &location {
        learning = learning.filter(learning_events::location_id.eq(*location));
    }
    if let Some(after) = &after {
        learning = learning.filter(before!(
            learning_events::occurred_at,
            learning_events::id,
            after
        ));
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
        items.push(highlight(
            HighlightKind::Lessons,
            to_utc(at),
            title,
            Some(lessons.join("; ")),
            (RecordKind::LearningEvent, id),
            location,
        ));
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
        .order((concerns::resolved_at.desc(), concerns::id.desc()))
        .limit(fetch)
        .into_boxed();
    if let Some(location) = &location {
        outcomes = outcomes.filter(concerns::location_id.eq(*location));
    }
    if let Some(after) = &after {
        outcomes = outcomes.filter(before!(concerns::resolved_at, concerns::id, after));
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

    // Each kind gave its newest page after the position, in the feed's order (its moment, then
    // id, newest first); together, the first page of them is the feed's.
    items.sort_by_key(|item| std::cmp::Reverse((item.at, item.record.id)));
    page.finish_keyed(items, |item| Position::of(item).write(), Ok)
}

/// Where a page of the feed ends: a highlight's moment and its record's id (newest first).
struct Position {
    at: DateTime<Utc>,
    id: String,
}

impl Position {
    fn of(item: &Highlight) -> Self {
        Self {
            at: item.at,
            id: item.record.id.hyphenated().to_string(),
        }
    }

    fn write(&self) -> String {
        format!(
            "{}/{}",
            self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            self.id
        )
    }

    fn read(text: &str) -> ApiResult<Self> {
        text.split_once('/')
            .and_then(|(at, id)| {
                Some(Self {
                    at: DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
                    id: id.to_owned(),
                })
            })
            .ok_or_else(|| ApiError::field("cursor", "is not a cursor careloop issued"))
    }
}
