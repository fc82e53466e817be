//! Learning events: debriefs, reviews and reflective discussions, and what they taught.

use super::text_enum;

text_enum!(
    /// What kind of learning event it was.
    LearningKind {
        PostIncidentDebrief => "post_incident_debrief",
        AfterActionReview => "after_action_review",
        ReflectiveDiscussion => "reflective_discussion",
        PeerObservation => "peer_observation",
        LessonsShared => "lessons_shared",
        AuditReview => "audit_review",
        GovernanceReview => "governance_review",
        Supervision => "supervision",
        JointReviewWithPeople => "joint_review_with_people",
    }
);

text_enum!(
    /// Where the lessons were shared.
    SharedVia {
        TeamMeeting => "team_meeting",
        Newsletter => "newsletter",
        Handover => "handover",
        Supervision => "supervision",
        Training => "training",
        Other => "other",
    }
);

/// The reflections, in the order [`missing_reflections`] takes them.
pub const REFLECTIONS: [&str; 3] = ["went_well", "did_not_go_well", "to_change"];

/// The reflections a kind of event still lacks (absent or blank), given what went well, what did
/// not, and what needs to change: a governance review needs all three.
pub fn missing_reflections(kind: LearningKind, given: [Option<&str>; 3]) -> Vec<&'static str> {
    if kind != LearningKind::GovernanceReview {
        return Vec::new();
    }
    REFLECTIONS
        .into_iter()
        .zip(given)
        .filter(|(_, value)| value.is_none_or(|v| v.trim().is_empty()))
        .map(|(field, _)| field)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_governance_review_requires_all_three() {
        let none = [None, None, None];
        assert_eq!(
            missing_reflections(LearningKind::GovernanceReview, none),
            REFLECTIONS.to_vec()
        );
        assert!(missing_reflections(LearningKind::PostIncidentDebrief, none).is_empty());
        let partial = [Some("a"), Some(" "), None];
        assert_eq!(
            missing_reflections(LearningKind::GovernanceReview, partial),
            ["did_not_go_well", "to_change"]
        );
        let full = [Some("a"), Some("b"), Some("c")];
        assert!(missing_reflections(LearningKind::GovernanceReview, full).is_empty());
    }
}
