//! The span an insights request counts over, cut into calendar periods.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use super::dto::{InsightsQuery, Span};
use crate::api::locations;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::domain::ids::LocationId;
use crate::domain::insights::{Interval, MOST_PERIODS};
use crate::error::{ApiError, ApiResult};

pub struct Periods {
    pub interval: Interval,
    /// The first day of each period shown, oldest first.
    pub starts: Vec<NaiveDate>,
    /// The last day counted.
    pub to: NaiveDate,
    pub location: Option<LocationId>,
}

impl Periods {
    /// The periods a query asks for, on `today`'s calendar: a location it names must be in the
    /// caller's reach.
    pub fn read(
        conn: &mut DbConnection,
        principal: &Principal,
        query: &InsightsQuery,
        today: NaiveDate,
    ) -> ApiResult<Self> {
        let interval = query.interval.unwrap_or(Interval::Month);
        let to = query.to.unwrap_or(today);
        let from = query
            .from
            .unwrap_or_else(|| interval.shift(interval.start_of(to), -11));
        if from > to {
            return Err(ApiError::field("from", "must not be after `to`"));
        }
        let starts = interval.periods(from, to);
        if starts.len() > MOST_PERIODS {
            return Err(ApiError::field(
                "to",
                format!("spans more than {MOST_PERIODS} periods of a {interval}"),
            ));
        }
        let location = query.location_id.map(LocationId::from);
        if location.is_some() {
            locations::store::check_reference(conn, principal, location)?;
        }
        Ok(Self {
            interval,
            starts,
            to,
            location,
        })
    }

    pub fn span(&self) -> Span {
        Span {
            interval: self.interval,
            from_on: self.starts[0],
            to_on: self.to,
            location_id: self.location.map(Into::into),
        }
    }

    /// The last day of the period starting on `start`, or of the span.
    pub fn end_on(&self, start: NaiveDate) -> NaiveDate {
        (self.interval.shift(start, 1) - Duration::days(1)).min(self.to)
    }

    /// The first moment counted, `earlier` periods before the first period shown (a baseline
    /// looks back further than the periods it is shown for).
    pub fn from_row(&self, earlier: usize) -> NaiveDateTime {
        let back = i32::try_from(earlier).unwrap_or(i32::MAX);
        self.interval
            .shift(self.starts[0], -back)
            .and_time(NaiveTime::MIN)
    }

    /// The first moment after the span.
    pub fn until_row(&self) -> NaiveDateTime {
        (self.to + Duration::days(1)).and_time(NaiveTime::MIN)
    }

    /// The first day of a period as the database wrote it (`YYYY-MM-DD`).
    pub fn parse_start(text: &str) -> ApiResult<NaiveDate> {
        text.get(..10)
            .unwrap_or(text)
            .parse()
            .map_err(ApiError::internal)
    }
}
