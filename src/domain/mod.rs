//! Domain types and rules: plain data and functions, no HTTP and no SQL, unit-tested here.

pub mod concern;
pub mod evidence;
pub mod framework;
pub mod improvement;
pub mod learning;
pub mod location;
pub mod receipt;

use chrono::{DateTime, SubsecRound, Utc};

/// Declares an enum stored and sent as fixed snake_case text.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
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

/// A new record id: UUIDv7, so ids sort in creation order (keyset pagination relies on it).
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_in_creation_order() {
        let ids: Vec<String> = (0..100).map(|_| new_id().to_string()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn now_keeps_microseconds_only() {
        assert_eq!(now().timestamp_subsec_nanos() % 1000, 0);
    }
}
