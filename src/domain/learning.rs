//! Learning events: debriefs, reviews and reflective discussions, and what they taught.

use super::{text_enum, PersonRole};

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

/// People using the service and their relatives are named in a record only if they agreed to
/// be; staff, managers and professionals may be named.
pub fn may_be_named(role: PersonRole, agreed: bool) -> bool {
    agreed || !speaks_for_people(role)
}

/// Whether someone took part as a person using the service or one of their relatives.
pub fn speaks_for_people(role: PersonRole) -> bool {
    matches!(role, PersonRole::PersonUsingService | PersonRole::Relative)
}

/// A joint review: a learning event or plan review that people using the service or their
/// relatives took part in (a joint review with people is one by its kind).
pub fn is_joint(kind: Option<LearningKind>, roles: impl IntoIterator<Item = PersonRole>) -> bool {
    kind == Some(LearningKind::JointReviewWithPeople) || roles.into_iter().any(speaks_for_people)
}

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
    fn people_and_relatives_are_named_only_with_their_agreement() {
        assert!(!may_be_named(PersonRole::Relative, false));
        assert!(may_be_named(PersonRole::Relative, true));
        assert!(may_be_named(PersonRole::Staff, false));
        assert!(is_joint(
            None,
            [PersonRole::Staff, PersonRole::PersonUsingService]
        ));
        assert!(is_joint(Some(LearningKind::JointReviewWithPeople), []));
        assert!(!is_joint(
            Some(LearningKind::Supervision),
            [PersonRole::Manager]
        ));
    }

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
