//! The change feed's rules: what kind of change a write is, the event types webhooks subscribe
//! to, the feed's cursors, and when an anonymous raiser's change may be shown.

use chrono::{DateTime, Utc};

use super::{end_of_hour, text_enum, AuditAction, AuditResource};

text_enum!(
    /// The kind of record a change is to.
    ChangeType {
        Organisation => "organisation",
        Location => "location",
        Concern => "concern",
        /// A concern's timeline entry (or a message by its receipt).
        ConcernUpdate => "concern_update",
        LearningEvent => "learning_event",
        Evidence => "evidence",
        /// A score of a quality statement.
        SelfAssessment => "self_assessment",
        ImprovementPlan => "improvement_plan",
        Action => "action",
        /// A plan's review.
        Review => "review",
        Recognition => "recognition",
    }
);

text_enum!(
    /// What a change did to its record.
    ChangeAction {
        Created => "created",
        Updated => "updated",
        /// Moved to another state: `to_state` says which.
        Transitioned => "transitioned",
        Archived => "archived",
    }
);

impl ChangeType {
    /// The feed's kind of record for an audited one; `None` for what the feed leaves out
    /// (machine clients, webhook endpoints and intake points, which only admins and managers
    /// see).
    pub fn of(resource: AuditResource) -> Option<Self> {
        Some(match resource {
            AuditResource::Organisation => Self::Organisation,
            AuditResource::Location => Self::Location,
            AuditResource::Concern => Self::Concern,
            AuditResource::ConcernUpdate => Self::ConcernUpdate,
            AuditResource::LearningEvent => Self::LearningEvent,
            AuditResource::Evidence => Self::Evidence,
            AuditResource::ImprovementPlan => Self::ImprovementPlan,
            AuditResource::Action => Self::Action,
            AuditResource::Recognition => Self::Recognition,
            AuditResource::SelfAssessment => Self::SelfAssessment,
            AuditResource::ApiClient | AuditResource::Webhook | AuditResource::IntakePoint => {
                return None
            }
        })
    }
}

impl From<AuditAction> for ChangeAction {
    fn from(action: AuditAction) -> Self {
        match action {
            // A score is a new record; a review changes its plan's cycle.
            AuditAction::Create | AuditAction::Assess => Self::Created,
            AuditAction::Update | AuditAction::Review => Self::Updated,
            AuditAction::Transition | AuditAction::Revoke | AuditAction::Delete => {
                Self::Transitioned
            }
            AuditAction::Archive => Self::Archived,
        }
    }
}

/// From when a change may be shown in the feed: at once, or for an anonymous raiser's change
/// once the hour it was made in is over, so its place among other changes says no more than
/// its hour does.
pub fn publish_after(by_anonymous: bool, now: DateTime<Utc>) -> DateTime<Utc> {
    if by_anonymous {
        end_of_hour(now)
    } else {
        now
    }
}

/// A feed cursor: the number of the last change read, as 16 hex digits.
pub fn cursor(seq: i64) -> String {
    format!("{:016x}", seq.max(0))
}

/// The change number a cursor stands for; `None` when it is not one careloop gave out.
pub fn parse_cursor(cursor: &str) -> Option<i64> {
    if cursor.len() != 16 {
        return None;
    }
    i64::from_str_radix(cursor, 16).ok().filter(|seq| *seq >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_others() {
        assert_eq!(cursor(0), "0000000000000000");
        assert_eq!(parse_cursor(&cursor(42)), Some(42));
        assert_eq!(parse_cursor("2a"), None);
        assert_eq!(parse_cursor("ffffffffffffffff"), None);
        assert_eq!(parse_cursor("000000000000002g"), None);
    }

    #[test]
    fn an_anonymous_change_waits_for_its_hour_to_end() {
        let at = "2026-11-26T14:43:47Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(publish_after(false, at), at);
        assert_eq!(
            publish_after(true, at).to_rfc3339(),
            "2026-11-26T15:00:00+00:00"
        );
    }
}
