//! Improvement plans, their actions and review cycle, and recognition.

use chrono::{Months, NaiveDate};

use super::{text_enum, IllegalMove};

text_enum!(
    /// Where a plan is in its life.
    PlanStatus {
        Draft => "draft",
        Active => "active",
        Completed => "completed",
        Archived => "archived",
    }
);

text_enum!(
    Priority {
        Low => "low",
        Medium => "medium",
        High => "high",
        Urgent => "urgent",
    }
);

text_enum!(
    /// How often an active plan is reviewed.
    ReviewCadence {
        Monthly => "monthly",
        Quarterly => "quarterly",
        Annually => "annually",
    }
);

text_enum!(
    /// Where an action is.
    ActionStatus {
        Open => "open",
        InProgress => "in_progress",
        Done => "done",
        Cancelled => "cancelled",
    }
);

text_enum!(
    /// Whether a done action's change was checked, and whether it worked.
    Effectiveness {
        NotChecked => "not_checked",
        Effective => "effective",
        NotEffective => "not_effective",
    }
);

text_enum!(
    /// A review's view of progress.
    Progress {
        Red => "red",
        Amber => "amber",
        Green => "green",
    }
);

text_enum!(
    RecognitionKind {
        Compliment => "compliment",
        StaffAward => "staff_award",
        ImprovementMilestone => "improvement_milestone",
        Thanks => "thanks",
    }
);

text_enum!(
    /// Whether a recognition may be shown: a compliment that came in through a public intake
    /// point waits for a manager's approval; what an account records is approved.
    Approval {
        Approved => "approved",
        AwaitingApproval => "awaiting_approval",
        Declined => "declined",
    }
);

impl PlanStatus {
    pub fn allowed_next(self) -> &'static [PlanStatus] {
        use PlanStatus::*;
        match self {
            Draft => &[Active, Archived],
            Active => &[Completed, Archived],
            Completed => &[Active, Archived],
            Archived => &[],
        }
    }
}

impl ActionStatus {
    pub fn allowed_next(self) -> &'static [ActionStatus] {
        use ActionStatus::*;
        match self {
            Open => &[InProgress, Cancelled],
            InProgress => &[Done, Cancelled],
            Done => &[InProgress],
            Cancelled => &[],
        }
    }

    /// Still to be done: a plan cannot complete while one of its actions is.
    pub fn is_open(self) -> bool {
        matches!(self, ActionStatus::Open | ActionStatus::InProgress)
    }
}

pub fn move_plan(from: PlanStatus, to: PlanStatus) -> Result<(), IllegalMove<PlanStatus>> {
    super::check_move(from, to, from.allowed_next())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionMoveError {
    Illegal(IllegalMove<ActionStatus>),
    /// The move needs a field the request lacks (`completion_note` for done, `reason` to cancel).
    Missing(&'static str),
}

/// Checks an action may move to `to` with what the request gives.
pub fn move_action(
    from: ActionStatus,
    to: ActionStatus,
    completion_note: Option<&str>,
    reason: Option<&str>,
) -> Result<(), ActionMoveError> {
    super::check_move(from, to, from.allowed_next()).map_err(ActionMoveError::Illegal)?;
    let given = |text: Option<&str>| text.is_some_and(|t| !t.trim().is_empty());
    match to {
        ActionStatus::Done if !given(completion_note) => {
            Err(ActionMoveError::Missing("completion_note"))
        }
        ActionStatus::Cancelled if !given(reason) => Err(ActionMoveError::Missing("cancel_reason")),
        _ => Ok(()),
    }
}

/// Checks an action's effectiveness record: only a done action is checked, a check has a date,
/// and the date has passed. The error names the field and what is wrong.
pub fn check_effectiveness(
    status: ActionStatus,
    effectiveness: Effectiveness,
    checked_on: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(), (&'static str, &'static str)> {
    let checked = effectiveness != Effectiveness::NotChecked;
    if checked && status != ActionStatus::Done {
        Err(("effectiveness", "can be recorded only for a done action"))
    } else if checked && checked_on.is_none() {
        Err(("checked_on", "is required with an effectiveness check"))
    } else if !checked && checked_on.is_some() {
        Err((
            "checked_on",
            "must be empty while the action is not checked",
        ))
    } else if checked_on.is_some_and(|day| day > today) {
        Err(("checked_on", "must not be in the future"))
    } else {
        Ok(())
    }
}

/// When the next review is due: one cadence after `anchor` (the last review, or the day the plan
/// became active). Month ends clamp: 31 January plus a month is the end of February.
pub fn next_review_due(cadence: ReviewCadence, anchor: NaiveDate) -> NaiveDate {
    let months = match cadence {
        ReviewCadence::Monthly => 1,
        ReviewCadence::Quarterly => 3,
        ReviewCadence::Annually => 12,
    };
    anchor
        .checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// Past its review date without a review.
pub fn review_overdue(next_review_due: Option<NaiveDate>, today: NaiveDate) -> bool {
    next_review_due.is_some_and(|due| due < today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn month_ends_clamp() {
        use ReviewCadence::*;
        assert_eq!(next_review_due(Monthly, day(2026, 1, 31)), day(2026, 2, 28));
        assert_eq!(next_review_due(Monthly, day(2028, 1, 31)), day(2028, 2, 29));
        assert_eq!(next_review_due(Monthly, day(2026, 3, 31)), day(2026, 4, 30));
        assert_eq!(
            next_review_due(Monthly, day(2026, 12, 15)),
            day(2027, 1, 15)
        );
        assert_eq!(
            next_review_due(Quarterly, day(2026, 11, 30)),
            day(2027, 2, 28)
        );
        assert_eq!(
            next_review_due(Quarterly, day(2026, 1, 15)),
            day(2026, 4, 15)
        );
        assert_eq!(
            next_review_due(Annually, day(2028, 2, 29)),
            day(2029, 2, 28)
        );
    }

    #[test]
    fn overdue_only_after_the_due_day() {
        assert!(!review_overdue(Some(day(2026, 5, 1)), day(2026, 5, 1)));
        assert!(review_overdue(Some(day(2026, 5, 1)), day(2026, 5, 2)));
        assert!(!review_overdue(None, day(2026, 5, 2)));
    }

    #[test]
    fn plan_edges() {
        use PlanStatus::*;
        let edges = [
            (Draft, Active),
            (Draft, Archived),
            (Active, Completed),
            (Active, Archived),
            (Completed, Active),
            (Completed, Archived),
        ];
        for from in PlanStatus::ALL {
            for to in PlanStatus::ALL {
                assert_eq!(
                    move_plan(*from, *to).is_ok(),
                    edges.contains(&(*from, *to)),
                    "{from} -> {to}"
                );
            }
        }
        let error = move_plan(Draft, Completed).unwrap_err();
        assert_eq!(error.allowed, &[Active, Archived]);
    }

    #[test]
    fn action_edges_and_their_requirements() {
        use ActionStatus::*;
        let edges = [
            (Open, InProgress),
            (Open, Cancelled),
            (InProgress, Done),
            (InProgress, Cancelled),
            (Done, InProgress),
        ];
        for from in ActionStatus::ALL {
            for to in ActionStatus::ALL {
                let result = move_action(*from, *to, Some("note"), Some("reason"));
                assert_eq!(
                    result.is_ok(),
                    edges.contains(&(*from, *to)),
                    "{from} -> {to}"
                );
            }
        }
        assert_eq!(
            move_action(InProgress, Done, None, None),
            Err(ActionMoveError::Missing("completion_note"))
        );
        assert_eq!(
            move_action(Open, Cancelled, None, Some(" ")),
            Err(ActionMoveError::Missing("cancel_reason"))
        );
        assert!(matches!(
            move_action(Open, Done, Some("n"), None),
            Err(ActionMoveError::Illegal(_))
        ));
    }

    #[test]
    fn effectiveness_is_checked_on_done_actions_with_a_date() {
        use ActionStatus::*;
        use Effectiveness::*;
        let today = day(2026, 6, 1);
        assert!(check_effectiveness(Done, Effective, Some(today), today).is_ok());
        assert!(check_effectiveness(Open, NotChecked, None, today).is_ok());
        assert_eq!(
            check_effectiveness(InProgress, Effective, Some(today), today)
                .unwrap_err()
                .0,
            "effectiveness"
        );
        assert_eq!(
            check_effectiveness(Done, NotEffective, None, today)
                .unwrap_err()
                .0,
            "checked_on"
        );
        assert_eq!(
            check_effectiveness(Done, Effective, Some(day(2026, 6, 2)), today)
                .unwrap_err()
                .0,
            "checked_on"
        );
        assert_eq!(
            check_effectiveness(Done, NotChecked, Some(today), today)
                .unwrap_err()
                .0,
            "checked_on"
        );
    }

    #[test]
    fn open_actions() {
        assert!(ActionStatus::Open.is_open() && ActionStatus::InProgress.is_open());
        assert!(!ActionStatus::Done.is_open() && !ActionStatus::Cancelled.is_open());
    }
}
