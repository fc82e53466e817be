//! The rules behind the insights a governance meeting reads: calendar periods, medians,
//! percentages, the signal rule and the trend of a metric.

use std::collections::HashMap;

use chrono::{Datelike, Duration, Months, NaiveDate};

use super::concern::{ConcernCategory, ConcernStatus, RiskLevel};
use super::improvement::{ActionStatus, Effectiveness};
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

/// The median of `values`, in any order; `None` when there are none. With an even count, the
/// mean of the two middle values.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// What the concern figures read of one concern: its moments as Unix seconds.
#[derive(Debug, Clone, Copy)]
pub struct ConcernFacts {
    pub raised_at: i64,
    pub category: ConcernCategory,
    pub risk: RiskLevel,
    pub status: ConcernStatus,
    pub acknowledged_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub acknowledge_by: i64,
    pub feedback_by: i64,
}

/// The concerns raised in one period, counted.
#[derive(Debug, Default)]
pub struct ConcernTally {
    pub raised: i64,
    pub by_category: HashMap<ConcernCategory, i64>,
    pub by_risk: HashMap<RiskLevel, i64>,
    /// Where they are now.
    pub by_status: HashMap<ConcernStatus, i64>,
    /// Acknowledged by their acknowledge-by deadline.
    pub acknowledged_in_time: i64,
    /// Acknowledged, or past their deadline without: those the clock has judged.
    pub acknowledgement_due: i64,
    pub resolved_in_time: i64,
    pub resolution_due: i64,
    hours_to_acknowledge: Vec<f64>,
    days_to_resolve: Vec<f64>,
}

impl ConcernTally {
    /// Counts one concern, as its clocks stand at `now` (Unix seconds).
    pub fn add(&mut self, concern: &ConcernFacts, now: i64) {
        self.raised += 1;
        *self.by_category.entry(concern.category).or_default() += 1;
        *self.by_risk.entry(concern.risk).or_default() += 1;
        *self.by_status.entry(concern.status).or_default() += 1;
        let judged = |done: Option<i64>, by: i64| {
            (done.is_some_and(|at| at <= by), done.is_some() || by < now)
        };
        let (in_time, due) = judged(concern.acknowledged_at, concern.acknowledge_by);
        self.acknowledged_in_time += i64::from(in_time);
        self.acknowledgement_due += i64::from(due);
        let (in_time, due) = judged(concern.resolved_at, concern.feedback_by);
        self.resolved_in_time += i64::from(in_time);
        self.resolution_due += i64::from(due);
        if let Some(at) = concern.acknowledged_at {
            self.hours_to_acknowledge
                .push((at - concern.raised_at) as f64 / 3600.0);
        }
        if let Some(at) = concern.resolved_at {
            self.days_to_resolve
                .push((at - concern.raised_at) as f64 / 86400.0);
        }
    }

    /// The median time to acknowledge, in hours to one decimal place.
    pub fn median_hours_to_acknowledge(&self) -> Option<f64> {
        median(&self.hours_to_acknowledge).map(to_tenths)
    }

    /// The median time to resolve, in days to one decimal place.
    pub fn median_days_to_resolve(&self) -> Option<f64> {
        median(&self.days_to_resolve).map(to_tenths)
    }
}

fn to_tenths(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Concerns counted by the period (of `interval`) they were raised in, as their clocks stand
/// at `now` (Unix seconds).
pub fn tally_concerns(
    concerns: &[ConcernFacts],
    interval: Interval,
    now: i64,
) -> HashMap<NaiveDate, ConcernTally> {
    let mut tallies: HashMap<NaiveDate, ConcernTally> = HashMap::new();
    for concern in concerns {
        let Some(raised) = chrono::DateTime::from_timestamp(concern.raised_at, 0) else {
            continue;
        };
        let period = interval.start_of(raised.date_naive());
        tallies.entry(period).or_default().add(concern, now);
    }
    tallies
}

/// What the action figures read of one action.
#[derive(Debug, Clone, Copy)]
pub struct ActionFacts {
    pub opened_on: NaiveDate,
    /// The day it was done, for a done action.
    pub done_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub status: ActionStatus,
    pub effectiveness: Effectiveness,
    pub checked_on: Option<NaiveDate>,
}

impl ActionFacts {
    /// Open or in progress.
    pub fn is_open(&self) -> bool {
        matches!(self.status, ActionStatus::Open | ActionStatus::InProgress)
    }

    /// Not done by its due day: still open past it, or done after it.
    pub fn missed_its_day(&self, today: NaiveDate) -> bool {
        match (self.due_on, self.done_on) {
            (Some(due), _) if self.is_open() => due < today,
            (Some(due), Some(done)) => self.status == ActionStatus::Done && done > due,
            _ => false,
        }
    }
}

/// The actions of one period, counted: each by the period it was opened, done, due and
/// checked in.
#[derive(Debug, Default)]
pub struct ActionTally {
    pub opened: i64,
    pub done: i64,
    /// Due in the period (cancelled ones aside).
    pub due: i64,
    /// Of those, not done by their due day.
    pub overdue: i64,
    pub checked_effective: i64,
    pub checked_not_effective: i64,
}

/// Actions counted by period (of `interval`) as they stand on `today`.
pub fn tally_actions(
    actions: &[ActionFacts],
    interval: Interval,
    today: NaiveDate,
) -> HashMap<NaiveDate, ActionTally> {
    let mut tallies: HashMap<NaiveDate, ActionTally> = HashMap::new();
    for action in actions {
        tallies
            .entry(interval.start_of(action.opened_on))
            .or_default()
            .opened += 1;
        if let (ActionStatus::Done, Some(done)) = (action.status, action.done_on) {
            tallies.entry(interval.start_of(done)).or_default().done += 1;
        }
        if let Some(due) = action
            .due_on
            .filter(|_| action.status != ActionStatus::Cancelled)
        {
            let tally = tallies.entry(interval.start_of(due)).or_default();
            tally.due += 1;
            tally.overdue += i64::from(action.missed_its_day(today));
        }
        if let Some(checked) = action.checked_on {
            let tally = tallies.entry(interval.start_of(checked)).or_default();
            match action.effectiveness {
                Effectiveness::Effective => tally.checked_effective += 1,
                Effectiveness::NotEffective => tally.checked_not_effective += 1,
                Effectiveness::NotChecked => {}
            }
        }
    }
    tallies
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
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5.0]), Some(5.0));
        // 1, 2, 2, 9: the mean of 2 and 2.
        assert_eq!(median(&[9.0, 2.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[3.0, 1.0]), Some(2.0));
        assert_eq!(median(&[10.0, 1.0, 10.0, 1.0, 1.0]), Some(1.0));
    }

    #[test]
    fn concerns_counted_by_period_and_clock() {
        let hour = 3600;
        let day = 24 * hour;
        // Raised Monday 4 May 2026 09:00 UTC.
        let monday = 1_777_885_200;
        let concern =
            |raised: i64, acknowledged: Option<i64>, resolved: Option<i64>| ConcernFacts {
                raised_at: raised,
                category: ConcernCategory::Medication,
                risk: RiskLevel::Low,
                status: ConcernStatus::Raised,
                acknowledged_at: acknowledged.map(|h| raised + h * hour),
                resolved_at: resolved.map(|d| raised + d * day),
                acknowledge_by: raised + 72 * hour,
                feedback_by: raised + 90 * day,
            };
        let now = monday + 200 * day;
        let concerns = [
            concern(monday, Some(10), Some(20)),
            concern(monday + 6 * day + 14 * hour, Some(100), None),
            concern(monday + 7 * day, None, None),
        ];
        let weeks = tally_concerns(&concerns, Interval::Week, now);
        let first = &weeks[&NaiveDate::from_ymd_opt(2026, 5, 4).unwrap()];
        // The Sunday 23:00 concern is in the week from Monday.
        assert_eq!(first.raised, 2);
        assert_eq!(first.by_category[&ConcernCategory::Medication], 2);
        assert_eq!(
            (first.acknowledged_in_time, first.acknowledgement_due),
            (1, 2)
        );
        // The second's feedback clock ran out unresolved: due, and missed.
        assert_eq!((first.resolved_in_time, first.resolution_due), (1, 2));
        assert_eq!(first.median_hours_to_acknowledge(), Some(55.0));
        assert_eq!(first.median_days_to_resolve(), Some(20.0));
        let second = &weeks[&NaiveDate::from_ymd_opt(2026, 5, 11).unwrap()];
        assert_eq!(second.raised, 1);
        assert_eq!(second.median_hours_to_acknowledge(), None);
        // Before its clock runs out a concern is not yet judged.
        let early = tally_concerns(&concerns[2..], Interval::Month, monday + 8 * day);
        let may = &early[&NaiveDate::from_ymd_opt(2026, 5, 1).unwrap()];
        assert_eq!((may.acknowledged_in_time, may.acknowledgement_due), (0, 0));
    }

    #[test]
    fn actions_counted_by_the_day_of_each_step() {
        let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let action = |status, done_on, due_on, effectiveness, checked_on| ActionFacts {
            opened_on: day(3, 2),
            done_on,
            due_on,
            status,
            effectiveness,
            checked_on,
        };
        use ActionStatus::*;
        use Effectiveness::*;
        let actions = [
            // Done on time in March, checked and working in April.
            action(
                Done,
                Some(day(3, 19)),
                Some(day(3, 20)),
                Effective,
                Some(day(4, 15)),
            ),
            // Done late in April, checked and not working.
            action(
                Done,
                Some(day(4, 2)),
                Some(day(3, 20)),
                NotEffective,
                Some(day(4, 20)),
            ),
            // Still open past its day.
            action(Open, None, Some(day(3, 31)), NotChecked, None),
            // Cancelled: never due.
            action(Cancelled, None, Some(day(3, 10)), NotChecked, None),
        ];
        let today = day(11, 27);
        let months = tally_actions(&actions, Interval::Month, today);
        let march = &months[&day(3, 1)];
        assert_eq!(
            (march.opened, march.done, march.due, march.overdue),
            (4, 1, 3, 2)
        );
        let april = &months[&day(4, 1)];
        assert_eq!(
            (
                april.done,
                april.checked_effective,
                april.checked_not_effective
            ),
            (1, 1, 1)
        );
        assert!(actions[2].missed_its_day(today));
        assert!(!actions[2].missed_its_day(day(3, 31)));
        assert!(!actions[0].missed_its_day(today));
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
