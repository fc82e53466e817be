//! The rules of the monthly governance meeting: which month may be reviewed when, and which
//! months missed their review.

use chrono::NaiveDate;

use super::insights::Interval;

/// The month (its first day) as words: "October 2026".
pub fn month_name(month: NaiveDate) -> String {
    month.format("%B %Y").to_string()
}

/// Why a review of `month` (its first day) held on `held_on` cannot be recorded on `today`:
/// the field at fault and the message. A month is reviewed once it has begun, at a meeting held
/// after it began.
pub fn review_refusal(
    month: NaiveDate,
    held_on: NaiveDate,
    today: NaiveDate,
) -> Option<(&'static str, &'static str)> {
    if month > Interval::Month.start_of(today) {
        Some((
            "month",
            "is in the future: a month is reviewed once it has begun",
        ))
    } else if held_on < month {
        Some(("occurred_at", "must not be before the month it reviews"))
    } else {
        None
    }
}

/// Whether a location missed the governance review of `month` (its first day), holding
/// `reviews` of it: a month over by `today` without one, since the location `joined` (a day).
pub fn missed(month: NaiveDate, reviews: i64, joined: NaiveDate, today: NaiveDate) -> bool {
    reviews == 0
        && Interval::Month.shift(month, 1) <= today
        && month >= Interval::Month.start_of(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn months_in_words() {
        assert_eq!(month_name(day(2026, 10, 1)), "October 2026");
    }

    #[test]
    fn a_month_is_reviewed_after_it_begins() {
        let today = day(2026, 11, 27);
        assert_eq!(
            review_refusal(day(2026, 10, 1), day(2026, 11, 4), today),
            None
        );
        // The month still running may be reviewed (a meeting late in the month).
        assert_eq!(
            review_refusal(day(2026, 11, 1), day(2026, 11, 27), today),
            None
        );
        assert_eq!(
            review_refusal(day(2026, 12, 1), day(2026, 11, 27), today).map(|r| r.0),
            Some("month")
        );
        assert_eq!(
            review_refusal(day(2026, 10, 1), day(2026, 9, 30), today).map(|r| r.0),
            Some("occurred_at")
        );
    }

    #[test]
    fn a_month_is_missed_once_over_and_only_since_the_location_joined() {
        let today = day(2026, 11, 27);
        let joined = day(2026, 3, 10);
        assert!(missed(day(2026, 4, 1), 0, joined, today));
        assert!(!missed(day(2026, 4, 1), 1, joined, today));
        // The month it joined counts; the months before do not.
        assert!(missed(day(2026, 3, 1), 0, joined, today));
        assert!(!missed(day(2026, 2, 1), 0, joined, today));
        // A month still running has not missed its review yet.
        assert!(!missed(day(2026, 11, 1), 0, joined, today));
        assert!(missed(day(2026, 10, 1), 0, joined, day(2026, 11, 1)));
    }
}
