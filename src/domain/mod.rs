//! Domain types and rules: plain data and functions, no HTTP and no queries, unit-tested here.
//! (An enum declares that it is kept as TEXT, so rows can hold it typed.)

pub mod change;
pub mod concern;
pub mod evidence;
pub mod framework;
pub mod governance;
pub mod ids;
pub mod import;
pub mod improvement;
pub mod insights;
pub mod intake;
pub mod learning;
pub mod location;
pub mod receipt;
pub mod webhook;

use chrono::{DateTime, SubsecRound, Timelike, Utc};

/// Declares an enum stored and sent as fixed snake_case text.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[derive(diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::db::columns::StoredAsText for $name {
            const WHAT: &'static str = stringify!($name);

            fn to_text(&self) -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(self.as_str())
            }

            fn from_text(text: &str) -> Option<Self> {
                Self::parse(text)
            }
        }

        $crate::db::columns::text_column!($name);
    };
}
pub(crate) use text_enum;

text_enum!(
    /// The kinds of record that link to each other and carry quality-statement tags.
    RecordKind {
        Concern => "concern",
        LearningEvent => "learning_event",
        Evidence => "evidence",
        ImprovementPlan => "improvement_plan",
        Action => "action",
        Recognition => "recognition",
    }
);

text_enum!(
    /// A person's part in care, wherever a record says who someone was: who took part in a
    /// learning event, who gave feedback, who a recognition comes from.
    PersonRole {
        Staff => "staff",
        Manager => "manager",
        PersonUsingService => "person_using_service",
        Relative => "relative",
        Professional => "professional",
        /// Someone who preferred not to say (feedback and compliments through an intake point).
        NotSaid => "not_said",
    }
);

text_enum!(
    /// What kind of actor a person is.
    PersonKind {
        /// Someone with a token: `sub` says who.
        User => "user",
        /// An anonymous raiser: careloop keeps nothing that says who.
        Anonymous => "anonymous",
        /// careloop itself (the command line, first-run data).
        System => "system",
        /// Someone through a public intake point: `sub` names the intake point, never the person.
        IntakePoint => "intake_point",
    }
);

text_enum!(
    /// What a change recorded in the audit trail did.
    AuditAction {
        Create => "create",
        Update => "update",
        Transition => "transition",
        /// A plan reviewed.
        Review => "review",
        /// Evidence archived.
        Archive => "archive",
        /// A quality statement scored.
        Assess => "assess",
        /// A machine client revoked.
        Revoke => "revoke",
        /// A webhook endpoint deleted.
        Delete => "delete",
    }
);

text_enum!(
    /// The kind of record a change in the audit trail was to.
    AuditResource {
        Organisation => "organisation",
        Location => "location",
        Concern => "concern",
        /// A concern's timeline entry, or a message by its receipt.
        ConcernUpdate => "concern_update",
        LearningEvent => "learning_event",
        Evidence => "evidence",
        ImprovementPlan => "improvement_plan",
        Action => "action",
        Recognition => "recognition",
        SelfAssessment => "self_assessment",
        /// A machine client (not in the change feed: only admins see clients).
        ApiClient => "api_client",
        /// A webhook endpoint (not in the change feed either).
        Webhook => "webhook",
        /// An intake point (not in the change feed: only managers and admins see them).
        IntakePoint => "intake_point",
    }
);

impl From<RecordKind> for AuditResource {
    fn from(kind: RecordKind) -> Self {
        match kind {
            RecordKind::Concern => Self::Concern,
            RecordKind::LearningEvent => Self::LearningEvent,
            RecordKind::Evidence => Self::Evidence,
            RecordKind::ImprovementPlan => Self::ImprovementPlan,
            RecordKind::Action => Self::Action,
            RecordKind::Recognition => Self::Recognition,
        }
    }
}

/// A move a workflow does not allow, with the moves it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IllegalMove<S: 'static> {
    pub from: S,
    pub to: S,
    pub allowed: &'static [S],
}

/// Whether `to` is one of the moves `allowed` from `from`.
pub fn check_move<S: Copy + PartialEq>(
    from: S,
    to: S,
    allowed: &'static [S],
) -> Result<(), IllegalMove<S>> {
    if allowed.contains(&to) {
        Ok(())
    } else {
        Err(IllegalMove { from, to, allowed })
    }
}

/// The current time at the precision both databases keep (microseconds), so what is returned
/// on create equals what is read back later.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The hour a moment falls in: all careloop keeps of when an anonymous raiser acted, so no
/// stored time can be matched against a rota, a door log or a proxy log.
pub fn hour_of(time: DateTime<Utc>) -> DateTime<Utc> {
    time.with_nanosecond(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_minute(0))
        .unwrap_or(time)
}

/// The end of the hour a moment falls in: what careloop says of when an anonymous raiser last
/// changed something, so that nothing syncing from an earlier moment misses it.
pub fn end_of_hour(time: DateTime<Utc>) -> DateTime<Utc> {
    hour_of(time) + chrono::Duration::hours(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_of_keeps_only_the_hour() {
        let time = "2026-11-26T14:43:47.123456Z"
            .parse::<DateTime<Utc>>()
            .unwrap();
        assert_eq!(hour_of(time).to_rfc3339(), "2026-11-26T14:00:00+00:00");
        assert_eq!(end_of_hour(time).to_rfc3339(), "2026-11-26T15:00:00+00:00");
    }

    #[test]
    fn now_keeps_microseconds_only() {
        assert_eq!(now().timestamp_subsec_nanos() % 1000, 0);
    }
}
