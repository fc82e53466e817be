//! The rules behind the insights a governance meeting reads: calendar periods, medians,
//! percentages, the signal rule and the trend of a metric.

use chrono::{Datelike, Duration, Months, NaiveDate};

use super::text_enum;

text_enum!(
    /// The length of the periods a series is counted in: calendar weeks (from Monday),
    /// months, or quarters (from January, April, July and October).
    Interval {
        Week => "week",
        Month => "month",
        Quarter => "quarter",
    }
);

/// How many periods a series may span, so one request cannot ask for years of weeks.
pub const MOST_PERIODS: usize = 104;

/// How many periods before the latest one its baseline is taken from.
pub const BASELINE_PERIODS: usize = 6;

/// A latest count below this is never a signal: one or two concerns where there were none is
/// chance, not a trend.
pub const SIGNAL_FLOOR: i64 = 3;

impl Interval {
    /// The first day of the period `day` falls in.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Interval::Week => day - Duration::days(day.weekday().num_days_from_monday().into()),
            Interval::Month => day.with_day(1).unwrap_or(day),
            Interval::Quarter => {
                let month = (day.month0() / 3) * 3 + 1;
                NaiveDate::from_ymd_opt(day.year(), month, 1).unwrap_or(day)
            }
        }
    }

    /// The first day of the period `n` periods after the one starting on `start` (`n` may be
    /// negative).
    pub fn shift(self, start: NaiveDate, n: i32) -> NaiveDate {
        let months = |m: i32| {
            let step = Months::new(m.unsigned_abs());
            if m >= 0 {
                start.checked_add_months(step)
            } else {
                start.checked_sub_months(step)
            }
            .unwrap_or(start)
        };
        match self {
            Interval::Week => start + Duration::weeks(n.into()),
            Interval::Month => months(n),
            Interval::Quarter => months(3 * n),
        }
    }

    /// The starts of the periods from the one holding `from` to the one holding `to`.
    pub fn periods(self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let mut starts = Vec::new();
        let mut start = self.start_of(from);
        while start <= to && starts.len() <= MOST_PERIODS {
            starts.push(start);
            start = self.shift(start, 1);
        }
        starts
    }
}

/// The median of values given as `(value, how many times)`, in any order; `None` when there
/// are none. With an even count, the mean of the two middle values.
pub fn median(counts: &[(f64, i64)]) -> Option<f64> {
    let mut sorted: Vec<(f64, i64)> = counts.iter().copied().filter(|&(_, n)| n > 0).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: i64 = sorted.iter().map(|&(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    // The values at (1-based) positions `low` and `high` of the sorted list.
    let (low, high) = ((total + 1) / 2, total / 2 + 1);
    let at = |position: i64| {
        let mut seen = 0;
        sorted.iter().find_map(|&(value, n)| {
            seen += n;
            (seen >= position).then_some(value)
        })
    };
    Some((at(low)? + at(high)?) / 2.0)
}

/// `part` as a percentage of `whole`, to one decimal place; `None` of nothing.
pub fn percentage(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (1000.0 * part as f64 / whole as f64).round() / 10.0)
}

/// What a count's own recent history says about its latest value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    pub mean: f64,
    pub standard_deviation: f64,
    /// Above this the latest count is a signal: the mean plus two standard deviations.
    pub threshold: f64,
}

/// The signal rule: a count is a signal when it is at least [`SIGNAL_FLOOR`] and above the mean
/// plus two (population) standard deviations of the [`BASELINE_PERIODS`] periods before it.
/// With fewer periods of history there is no baseline, so no signal. Answers the baseline when
/// `latest` is a signal.
pub fn signal(history: &[i64], latest: i64) -> Option<Baseline> {
    if history.len() < BASELINE_PERIODS || latest < SIGNAL_FLOOR {
        return None;
    }
    let recent = &history[history.len() - BASELINE_PERIODS..];
    let n = recent.len() as f64;
    let mean = recent.iter().sum::<i64>() as f64 / n;
    let variance = recent
        .iter()
        .map(|&c| (c as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    let standard_deviation = variance.sqrt();
    let threshold = mean + 2.0 * standard_deviation;
    (latest as f64 > threshold).then_some(Baseline {
        mean,
        standard_deviation,
        threshold,
    })
}

text_enum!(
    /// Which way a metric has moved over its recent periods.
    Trend {
        Rising => "rising",
        Falling => "falling",
        Steady => "steady",
        /// Fewer than two periods with a value.
        Unknown => "unknown",
    }
);

/// The trend of a metric's per-period values, oldest first: the least-squares slope over the
/// periods, called steady when the fitted line moves less than 5% of the mean (or, around
/// zero, less than 0.05) from the first period to the last.
pub fn trend(values: &[f64]) -> Trend {
    if values.len() < 2 {
        return Trend::Unknown;
    }
    let n = values.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = values.iter().sum::<f64>() / n;
    let (mut covariance, mut spread) = (0.0, 0.0);
    for (i, y) in values.iter().enumerate() {
        let dx = i as f64 - mean_x;
        covariance += dx * (y - mean_y);
        spread += dx * dx;
    }
    let change = covariance / spread * (n - 1.0);
    let tolerance = (0.05 * mean_y.abs()).max(0.05);
    if change.abs() < tolerance {
        Trend::Steady
    } else if change > 0.0 {
        Trend::Rising
    } else {
        Trend::Falling
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn periods_start_on_monday_the_first_and_the_quarter() {
        // 27 November 2026 is a Friday.
        assert_eq!(
            Interval::Week.start_of(day(2026, 11, 27)),
            day(2026, 11, 23)
        );
        assert_eq!(
            Interval::Week.start_of(day(2026, 11, 23)),
            day(2026, 11, 23)
        );
        assert_eq!(
            Interval::Month.start_of(day(2026, 11, 27)),
            day(2026, 11, 1)
        );
        assert_eq!(
            Interval::Quarter.start_of(day(2026, 11, 27)),
            day(2026, 10, 1)
        );
        assert_eq!(
            Interval::Quarter.start_of(day(2026, 3, 31)),
            day(2026, 1, 1)
        );
    }

    #[test]
    fn shifting_crosses_years_both_ways() {
        assert_eq!(Interval::Month.shift(day(2026, 1, 1), -1), day(2025, 12, 1));
        assert_eq!(
            Interval::Quarter.shift(day(2026, 10, 1), 1),
            day(2027, 1, 1)
        );
        assert_eq!(Interval::Week.shift(day(2026, 12, 28), 1), day(2027, 1, 4));
        assert_eq!(
            Interval::Quarter.shift(day(2026, 1, 1), -6),
            day(2024, 7, 1)
        );
    }

    #[test]
    fn periods_cover_both_ends() {
        let months = Interval::Month.periods(day(2026, 9, 15), day(2026, 11, 27));
        assert_eq!(
            months,
            vec![day(2026, 9, 1), day(2026, 10, 1), day(2026, 11, 1)]
        );
        assert_eq!(
            Interval::Week
                .periods(day(2026, 11, 27), day(2026, 11, 27))
                .len(),
            1
        );
        let many = Interval::Week.periods(day(2000, 1, 1), day(2026, 1, 1));
        assert!(
            many.len() > MOST_PERIODS,
            "the caller refuses too long a span"
        );
    }

    #[test]
    fn medians_of_counted_values() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[(4.0, 0)]), None);
        assert_eq!(median(&[(5.0, 1)]), Some(5.0));
        // 1, 2, 2, 9: the mean of 2 and 2.
        assert_eq!(median(&[(9.0, 1), (2.0, 2), (1.0, 1)]), Some(2.0));
        // 1, 3: the mean of the two.
        assert_eq!(median(&[(3.0, 1), (1.0, 1)]), Some(2.0));
        // 1, 1, 1, 10, 10: the third.
        assert_eq!(median(&[(10.0, 2), (1.0, 3)]), Some(1.0));
    }

    #[test]
    fn percentages_to_one_place() {
        assert_eq!(percentage(1, 3), Some(33.3));
        assert_eq!(percentage(2, 3), Some(66.7));
        assert_eq!(percentage(0, 5), Some(0.0));
        assert_eq!(percentage(0, 0), None);
    }

    #[test]
    fn a_spike_above_two_standard_deviations_is_a_signal() {
        // Six months of 2, 3, 2, 4, 3, 4: mean 3, standard deviation sqrt(4/6) = 0.816, so the
        // threshold is 4.63. Five concerns is a signal; four is not.
        let history = [2, 3, 2, 4, 3, 4];
        let baseline = signal(&history, 5).expect("5 is above 4.63");
        assert_eq!(baseline.mean, 3.0);
        assert!((baseline.standard_deviation - 0.8165).abs() < 1e-4);
        assert!((baseline.threshold - 4.633).abs() < 1e-3);
        assert_eq!(signal(&history, 4), None);
    }

    #[test]
    fn only_the_six_periods_before_count() {
        // An old busy spell does not raise the baseline: only the last six periods do.
        let history = [40, 40, 1, 1, 1, 1, 1, 1];
        let baseline = signal(&history, 3).expect("3 is above a flat 1");
        assert_eq!(baseline.threshold, 1.0);
    }

    #[test]
    fn small_counts_and_short_histories_are_never_signals() {
        // From none to two is chance, however flat the history.
        assert_eq!(signal(&[0, 0, 0, 0, 0, 0], 2), None);
        assert!(signal(&[0, 0, 0, 0, 0, 0], 3).is_some());
        // Five periods of history are not a baseline.
        assert_eq!(signal(&[0, 0, 0, 0, 0], 30), None);
        // Equal to the threshold is not above it.
        assert_eq!(signal(&[3, 3, 3, 3, 3, 3], 3), None);
    }

    #[test]
    fn trends_of_worked_series() {
        assert_eq!(trend(&[]), Trend::Unknown);
        assert_eq!(trend(&[80.0]), Trend::Unknown);
        assert_eq!(trend(&[80.0, 85.0, 90.0]), Trend::Rising);
        assert_eq!(trend(&[90.0, 85.0, 80.0]), Trend::Falling);
        // 92 to 93 over four periods is within 5% of the mean.
        assert_eq!(trend(&[92.0, 93.0, 92.0, 93.0]), Trend::Steady);
        // Around zero, a tiny wobble is steady.
        assert_eq!(trend(&[0.0, 0.01, 0.0]), Trend::Steady);
        assert_eq!(trend(&[0.0, 1.0, 2.0]), Trend::Rising);
    }
}
