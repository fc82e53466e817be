//! The month a pack is of, and the record of the meeting that read it.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

use crate::api::learning_events::dto::{LearningEvent, NewLearningEvent};
use crate::api::{learning_events, locations};
use crate::auth::Principal;
use crate::db::schema::learning_events as learning_rows;
use crate::db::DbConnection;
use crate::domain::governance::month_name;
use crate::domain::ids::{LearningEventId, LocationId};
use crate::error::{ApiError, ApiResult};
use crate::store::visibility;

/// A pack's month, from its `YYYY-MM`: the first day.
pub fn month_of(text: &str) -> ApiResult<NaiveDate> {
    let invalid = || ApiError::field("month", "is not a month as YYYY-MM");
    let (year, month) = text.split_once('-').ok_or_else(invalid)?;
    let digits =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(year, 4) || !digits(month, 2) {
        return Err(invalid());
    }
    let (year, month) = (
        year.parse().map_err(|_| invalid())?,
        month.parse().map_err(|_| invalid())?,
    );
    NaiveDate::from_ymd_opt(year, month, 1)
        .filter(|d| (2000..3000).contains(&d.year()))
        .ok_or_else(invalid)
}

/// Records the month's meeting as its governance review (`new`, made by
/// [`NewPackReview::for_month`]). One per month and location: a second is a conflict naming the
/// first.
pub fn record_review(
    conn: &mut DbConnection,
    principal: &Principal,
    month: NaiveDate,
    new: &NewLearningEvent,
) -> ApiResult<LearningEvent> {
    // The location first: whether another location has its review is not the caller's to learn.
    let location = new.location_id.map(LocationId::from);
    locations::store::check_reference(conn, principal, location)?;
    let month_text = month.format("%Y-%m").to_string();
    let mut earlier = visibility::learning_events(principal)
        .filter(learning_rows::governance_month.eq(&month_text))
        .select(learning_rows::id);
    earlier = match location {
        Some(location) => earlier.filter(learning_rows::location_id.eq(location)),
        None => earlier.filter(learning_rows::location_id.is_null()),
    };
    if let Some(first) = earlier.first::<LearningEventId>(conn).optional()? {
        return Err(ApiError::conflict(
            "already_reviewed",
            format!(
                "the governance review of {} is already recorded: /v1/learning-events/{first}",
                month_name(month)
            ),
        ));
    }
    learning_events::store::create_for_month(conn, principal, new, Some(month_text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_read_strictly() {
        assert_eq!(
            month_of("2026-10").unwrap(),
            NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
        );
        for bad in [
            "2026-13",
            "2026-1",
            "26-10",
            "2026-10-01",
            "1999-12",
            "october",
            "2026-+1",
            "+026-10",
            "3000-01",
        ] {
            assert!(month_of(bad).is_err(), "{bad}");
        }
    }
}
