//! Concerns: their vocabulary, workflow and clocks.

use chrono::{DateTime, Duration, Utc};

use super::{check_move, text_enum, IllegalMove};

text_enum!(
    /// What a concern is about.
    ConcernCategory {
        Safeguarding => "safeguarding",
        CarePractice => "care_practice",
        Medication => "medication",
        Staffing => "staffing",
        Environment => "environment",
        Culture => "culture",
        Whistleblowing => "whistleblowing",
        Complaint => "complaint",
        Other => "other",
    }
);

text_enum!(
    /// How much harm the concern could mean.
    RiskLevel {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

text_enum!(
    /// Where a concern is in its workflow.
    ConcernStatus {
        Raised => "raised",
        Acknowledged => "acknowledged",
        Investigating => "investigating",
        Escalated => "escalated",
        Resolved => "resolved",
        Closed => "closed",
    }
);

text_enum!(
    /// Who may read a timeline entry: the team only, or the raiser too.
    UpdateVisibility {
        Internal => "internal",
        Raiser => "raiser",
    }
);

text_enum!(
    /// What a timeline entry records.
    UpdateKind {
        /// A note from the team.
        Note => "note",
        /// A move between workflow states.
        Transition => "transition",
        /// A message from the raiser.
        Message => "message",
    }
);

/// Whistleblowing and safeguarding concerns are confidential unless the raiser says otherwise.
pub fn confidential_by_default(category: ConcernCategory) -> bool {
    matches!(
        category,
        ConcernCategory::Safeguarding | ConcernCategory::Whistleblowing
    )
}

impl ConcernStatus {
    /// The states a concern may move to from this one.
    pub fn allowed_next(self) -> &'static [ConcernStatus] {
        use ConcernStatus::*;
        match self {
            Raised => &[Acknowledged, Escalated],
            Acknowledged => &[Investigating, Escalated],
            Investigating => &[Resolved, Escalated],
            Escalated => &[Investigating, Resolved],
            Resolved => &[Closed, Investigating],
            Closed => &[],
        }
    }

    /// Still being worked on: not yet resolved or closed.
    pub fn is_open(self) -> bool {
        !matches!(self, ConcernStatus::Resolved | ConcernStatus::Closed)
    }
}

/// The facts of a concern a transition reads and may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub status: ConcernStatus,
    /// When the concern first left `raised`: the acknowledgement the clock waits for.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When it was last resolved; cleared when it is reopened.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// What a transition asks for beyond its target state.
#[derive(Debug, Clone, Copy, Default)]
pub struct TransitionDetails<'a> {
    pub outcome: Option<&'a str>,
    pub escalated_to: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// The move is not an edge of the workflow.
    Illegal(IllegalMove<ConcernStatus>),
    /// The move needs a field the request lacks (`outcome` to resolve, `escalated_to` to escalate).
    Missing(&'static str),
}

/// Moves a concern to `to` at `now`, or says why it cannot.
pub fn transition(
    current: Progress,
    to: ConcernStatus,
    details: TransitionDetails<'_>,
    now: DateTime<Utc>,
) -> Result<Progress, TransitionError> {
    check_move(current.status, to, current.status.allowed_next())
        .map_err(TransitionError::Illegal)?;
    let given = |text: Option<&str>| text.is_some_and(|t| !t.trim().is_empty());
    match to {
        ConcernStatus::Resolved if !given(details.outcome) => {
            return Err(TransitionError::Missing("outcome"))
        }
        ConcernStatus::Escalated if !given(details.escalated_to) => {
            return Err(TransitionError::Missing("escalated_to"))
        }
        _ => {}
    }
    Ok(Progress {
        status: to,
        acknowledged_at: current.acknowledged_at.or(Some(now)),
        resolved_at: match to {
            ConcernStatus::Resolved => Some(now),
            ConcernStatus::Closed => current.resolved_at,
            _ => None,
        },
    })
}

/// The organisation's promises to a raiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSettings {
    pub acknowledge_within_hours: i32,
    pub feedback_within_days: i32,
}

impl Default for ClockSettings {
    fn default() -> Self {
        Self {
            acknowledge_within_hours: 72,
            feedback_within_days: 90,
        }
    }
}

/// The deadlines a concern raised at `raised_at` is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub acknowledge_due_at: DateTime<Utc>,
    pub feedback_due_at: DateTime<Utc>,
}

pub fn deadlines(raised_at: DateTime<Utc>, settings: ClockSettings) -> Deadlines {
    Deadlines {
        acknowledge_due_at: raised_at + Duration::hours(settings.acknowledge_within_hours.into()),
        feedback_due_at: raised_at + Duration::days(settings.feedback_within_days.into()),
    }
}

/// Past a deadline without reaching its state: not acknowledged by `acknowledge_due_at`, or not
/// resolved by `feedback_due_at`. The store's `overdue` filter states the same rule in SQL.
pub fn is_overdue(deadlines: Deadlines, progress: Progress, now: DateTime<Utc>) -> bool {
    (progress.acknowledged_at.is_none() && now > deadlines.acknowledge_due_at)
        || (progress.resolved_at.is_none() && now > deadlines.feedback_due_at)
}

#[cfg(test)]
mod tests {
    use super::ConcernStatus::*;
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, hour, 0, 0).unwrap()
    }

    fn progress(status: ConcernStatus) -> Progress {
        Progress {
            status,
            acknowledged_at: (status != Raised).then(|| at(1)),
            resolved_at: matches!(status, Resolved | Closed).then(|| at(2)),
        }
    }

    const FULL: TransitionDetails<'static> = TransitionDetails {
        outcome: Some("Night staffing rota changed"),
        escalated_to: Some("Local authority safeguarding team"),
    };

    #[test]
    fn every_edge_of_the_workflow() {
        let edges = [
            (Raised, Acknowledged),
            (Raised, Escalated),
            (Acknowledged, Investigating),
            (Acknowledged, Escalated),
            (Investigating, Resolved),
            (Investigating, Escalated),
            (Escalated, Investigating),
            (Escalated, Resolved),
            (Resolved, Closed),
            (Resolved, Investigating),
        ];
        for from in ConcernStatus::ALL {
            for to in ConcernStatus::ALL {
                let result = transition(progress(*from), *to, FULL, at(5));
                assert_eq!(
                    result.is_ok(),
                    edges.contains(&(*from, *to)),
                    "{from} -> {to}: {result:?}"
                );
            }
        }
    }

    #[test]
    fn illegal_move_lists_the_allowed_ones() {
        let error = transition(progress(Raised), Resolved, FULL, at(5)).unwrap_err();
        assert_eq!(
            error,
            TransitionError::Illegal(IllegalMove {
                from: Raised,
                to: Resolved,
                allowed: &[Acknowledged, Escalated]
            })
        );
        assert!(transition(progress(Closed), Investigating, FULL, at(5)).is_err());
    }

    #[test]
    fn acknowledging_starts_nothing_twice() {
        let acknowledged = transition(progress(Raised), Acknowledged, FULL, at(5)).unwrap();
        assert_eq!(acknowledged.acknowledged_at, Some(at(5)));
        let investigating = transition(acknowledged, Investigating, FULL, at(6)).unwrap();
        assert_eq!(investigating.acknowledged_at, Some(at(5)));
    }

    #[test]
    fn escalating_a_raised_concern_acknowledges_it() {
        let escalated = transition(progress(Raised), Escalated, FULL, at(5)).unwrap();
        assert_eq!(escalated.acknowledged_at, Some(at(5)));
    }

    #[test]
    fn resolving_needs_an_outcome_and_escalating_a_recipient() {
        let none = TransitionDetails::default();
        assert_eq!(
            transition(progress(Investigating), Resolved, none, at(5)),
            Err(TransitionError::Missing("outcome"))
        );
        let blank = TransitionDetails {
            outcome: Some("  "),
            escalated_to: None,
        };
        assert_eq!(
            transition(progress(Investigating), Resolved, blank, at(5)),
            Err(TransitionError::Missing("outcome"))
        );
        assert_eq!(
            transition(progress(Acknowledged), Escalated, none, at(5)),
            Err(TransitionError::Missing("escalated_to"))
        );
    }

    #[test]
    fn resolving_stamps_and_reopening_clears_the_resolution() {
        let resolved = transition(progress(Investigating), Resolved, FULL, at(5)).unwrap();
        assert_eq!(resolved.resolved_at, Some(at(5)));
        let closed = transition(resolved, Closed, FULL, at(6)).unwrap();
        assert_eq!(closed.resolved_at, Some(at(5)));
        let reopened = transition(resolved, Investigating, FULL, at(6)).unwrap();
        assert_eq!(reopened.resolved_at, None);
    }

    #[test]
    fn deadlines_follow_the_settings() {
        let d = deadlines(at(0), ClockSettings::default());
        assert_eq!(d.acknowledge_due_at, at(0) + Duration::hours(72));
        assert_eq!(d.feedback_due_at, at(0) + Duration::days(90));
        let quick = deadlines(
            at(0),
            ClockSettings {
                acknowledge_within_hours: 2,
                feedback_within_days: 1,
            },
        );
        assert_eq!(quick.acknowledge_due_at, at(2));
    }

    #[test]
    fn overdue_when_a_deadline_passes_unmet() {
        let d = Deadlines {
            acknowledge_due_at: at(2),
            feedback_due_at: at(10),
        };
        let raised = progress(Raised);
        assert!(!is_overdue(d, raised, at(2)));
        assert!(is_overdue(d, raised, at(3)));
        let acknowledged = Progress {
            status: Acknowledged,
            acknowledged_at: Some(at(1)),
            resolved_at: None,
        };
        assert!(!is_overdue(d, acknowledged, at(9)));
        assert!(is_overdue(d, acknowledged, at(11)));
        let resolved = Progress {
            resolved_at: Some(at(9)),
            ..acknowledged
        };
        assert!(!is_overdue(d, resolved, at(11)));
    }

    #[test]
    fn confidential_categories() {
        assert!(confidential_by_default(ConcernCategory::Whistleblowing));
        assert!(confidential_by_default(ConcernCategory::Safeguarding));
        assert!(!confidential_by_default(ConcernCategory::Medication));
    }
}
