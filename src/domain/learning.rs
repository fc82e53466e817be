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
    /// Who took part, by role.
    ParticipantRole {
        Staff => "staff",
        Manager => "manager",
        PersonUsingService => "person_using_service",
        Relative => "relative",
        Professional => "professional",
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

/// The reflection fields a kind of event must fill: a governance review asks what went well,
/// what did not, and what needs to change.
pub fn required_reflections(kind: LearningKind) -> &'static [&'static str] {
    match kind {
        LearningKind::GovernanceReview => &["went_well", "did_not_go_well", "to_change"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_governance_review_requires_all_three() {
        assert_eq!(
            required_reflections(LearningKind::GovernanceReview).len(),
            3
        );
        assert!(required_reflections(LearningKind::PostIncidentDebrief).is_empty());
    }
}
