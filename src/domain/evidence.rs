//! Evidence: what a provider gathers to show the quality of its care.

use chrono::{DateTime, Utc};

use super::text_enum;

text_enum!(
    /// Where the evidence came from.
    EvidenceSource {
        Audit => "audit",
        IncidentAnalysis => "incident_analysis",
        ComplaintAnalysis => "complaint_analysis",
        OutcomeMeasure => "outcome_measure",
        Feedback => "feedback",
        TrainingCompliance => "training_compliance",
        EnvironmentalCheck => "environmental_check",
        Compliment => "compliment",
        Observation => "observation",
    }
);

text_enum!(
    /// Whether a manager has looked at a piece of evidence: what came in through a public intake
    /// point is `unverified` until one has; what an account recorded is `verified`.
    Verification {
        Verified => "verified",
        Unverified => "unverified",
    }
);

text_enum!(
    /// Whether a metric meets its target by reaching it or by staying under it.
    MetricDirection {
        /// Higher is better: met when value ≥ target (an audit score).
        AtLeast => "at_least",
        /// Lower is better: met when value ≤ target (falls per month).
        AtMost => "at_most",
    }
);

text_enum!(
    /// The width of a metric series' buckets.
    SeriesInterval {
        Month => "month",
        Quarter => "quarter",
        Year => "year",
    }
);

/// Staff may record what they hear and see; the rest is for managers, admins and integrations.
pub fn staff_may_record(source: EvidenceSource) -> bool {
    matches!(
        source,
        EvidenceSource::Feedback | EvidenceSource::Observation
    )
}

/// Whether a metric's value meets its target: reaching it (`at_least`, the default) or staying
/// at or under it (`at_most`). `None` without a target.
pub fn meets_target(
    value: f64,
    target: Option<f64>,
    direction: Option<MetricDirection>,
) -> Option<bool> {
    let target = target?;
    Some(match direction {
        Some(MetricDirection::AtMost) => value <= target,
        _ => value >= target,
    })
}

/// When a piece of evidence speaks of: the moment observed, or the start of its period.
/// Exactly one of the two must be given, and a period must not end before it starts.
pub fn dated_at(
    observed_at: Option<DateTime<Utc>>,
    period: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) -> Result<DateTime<Utc>, &'static str> {
    match (observed_at, period) {
        (Some(at), (None, None)) => Ok(at),
        (None, (Some(start), Some(end))) if start <= end => Ok(start),
        (None, (Some(_), Some(_))) => Err("period_end_at must not be before period_start_at"),
        (Some(_), _) => Err("give observed_at or a period, not both"),
        (None, _) => Err("give observed_at, or both period_start_at and period_end_at"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn targets_are_met_from_their_side() {
        assert_eq!(meets_target(90.0, None, None), None);
        assert_eq!(meets_target(90.0, Some(90.0), None), Some(true));
        assert_eq!(
            meets_target(89.9, Some(90.0), Some(MetricDirection::AtLeast)),
            Some(false)
        );
        assert_eq!(
            meets_target(2.0, Some(3.0), Some(MetricDirection::AtMost)),
            Some(true)
        );
        assert_eq!(
            meets_target(4.0, Some(3.0), Some(MetricDirection::AtMost)),
            Some(false)
        );
    }

    #[test]
    fn dated_at_needs_one_kind_of_date() {
        assert_eq!(
            dated_at(Some(at(2026, 3, 1)), (None, None)),
            Ok(at(2026, 3, 1))
        );
        assert_eq!(
            dated_at(None, (Some(at(2026, 3, 1)), Some(at(2026, 3, 31)))),
            Ok(at(2026, 3, 1))
        );
        assert!(dated_at(None, (Some(at(2026, 3, 31)), Some(at(2026, 3, 1)))).is_err());
        assert!(dated_at(Some(at(2026, 3, 1)), (Some(at(2026, 3, 1)), None)).is_err());
        assert!(dated_at(None, (Some(at(2026, 3, 1)), None)).is_err());
        assert!(dated_at(None, (None, None)).is_err());
    }

    #[test]
    fn staff_record_feedback_and_observation_only() {
        assert!(staff_may_record(EvidenceSource::Feedback));
        assert!(!staff_may_record(EvidenceSource::Audit));
    }
}
