//! The permission table: which role may do what. Every handler checks exactly one line of it.

use super::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadOrganisation,
    ManageOrganisation,
    ReadLocations,
    ManageLocations,
    RaiseConcern,
    ReadConcerns,
    EditConcern,
    TriageConcern,
    AddConcernUpdate,
    ReadAuditEvents,
    ReadFrameworks,
    RecordLearning,
    ReadLearning,
    /// Staff may record feedback and observations only; the evidence store checks the source.
    RecordEvidence,
    EditEvidence,
    ReadEvidence,
    SelfAssess,
    ReadSelfAssessments,
    ReadPlans,
    /// Create and edit plans and their actions.
    ManagePlans,
    /// Activate, complete, archive and review plans: sign-off.
    SignOffPlans,
    /// Staff move the actions they own; the action store checks ownership.
    MoveActions,
    Recognise,
    ReadRecognitions,
    /// The change feed: each change shown only with a record the caller may read.
    ReadChanges,
    /// Register, rotate and revoke machine clients.
    ManageApiClients,
    /// Set up webhook endpoints and read their deliveries.
    ManageWebhooks,
    /// Import files of records (each row also needs the permission to create or change its
    /// record) and read one's own imports (admins read everyone's).
    ImportRecords,
    /// Download the inspection pack (each file shows what the lists show the caller).
    ExportInspectionPack,
    /// Read the insights (each figure counts only records the caller may read).
    ReadInsights,
    /// Read the month's governance pack (each list shows only what the caller may read).
    ReadGovernancePacks,
    /// Record the governance meeting's review of a month's pack.
    RecordGovernanceReview,
    /// Create, change, disable and rotate the public intake points.
    ManageIntakePoints,
    /// Decide on what came in through an intake point (verify feedback, approve compliments)
    /// and publish actions as "you said, we did"; see recognitions awaiting approval.
    ModerateSubmissions,
    /// See the contact details someone gave through an intake point.
    ReadContactDetails,
}

/// Whether `role` grants `permission`. Which records a permitted caller then sees is a matter of
/// visibility, decided by the resource's store (confidential concerns, locations).
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    use Role::*;
    match permission {
        ReadOrganisation | ReadLocations | ReadConcerns | ReadFrameworks | ReadLearning
        | ReadEvidence | ReadSelfAssessments | ReadPlans | ReadRecognitions | ReadChanges
        | ReadInsights | ReadGovernancePacks => true,
        ManageOrganisation | ManageLocations | ManageApiClients | ManageWebhooks => {
            matches!(role, Admin)
        }
        RaiseConcern => matches!(role, Admin | Manager | Staff | Integration),
        EditConcern => matches!(role, Admin | Manager | Integration),
        TriageConcern => matches!(role, Admin | Manager),
        AddConcernUpdate => matches!(role, Admin | Manager | Staff | Integration),
        ReadAuditEvents => matches!(role, Admin | Viewer),
        RecordLearning | RecordEvidence => matches!(role, Admin | Manager | Staff | Integration),
        EditEvidence => matches!(role, Admin | Manager | Integration),
        SelfAssess
        | SignOffPlans
        | RecordGovernanceReview
        | ManageIntakePoints
        | ModerateSubmissions
        | ReadContactDetails => matches!(role, Admin | Manager),
        ImportRecords => matches!(role, Admin | Manager | Integration),
        ExportInspectionPack => matches!(role, Admin | Manager | Viewer),
        ManagePlans => matches!(role, Admin | Manager | Integration),
        MoveActions => matches!(role, Admin | Manager | Staff),
        Recognise => matches!(role, Admin | Manager | Staff | Integration),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_only_read() {
        assert!(allows(Role::Viewer, Permission::ReadConcerns));
        assert!(!allows(Role::Viewer, Permission::RaiseConcern));
        assert!(!allows(Role::Viewer, Permission::AddConcernUpdate));
    }

    #[test]
    fn integrations_never_triage() {
        assert!(allows(Role::Integration, Permission::RaiseConcern));
        assert!(!allows(Role::Integration, Permission::TriageConcern));
    }
}
