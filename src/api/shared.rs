//! The API shapes several resources share: external refs and the lookups by them, linked
//! records, owners, participants.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::intake::DOOR_PREFIX;
use crate::domain::learning::may_be_named;
use crate::domain::PersonRole;
use crate::domain::{PersonKind, RecordKind};
use crate::http::validate::Checks;

/// A record's identity in another system, unique per organisation, so imports can upsert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"system": "care-records-vendor", "id": "INC-20931"}))]
pub struct ExternalRef {
    /// The system that owns the id.
    #[schema(max_length = 100, pattern = r"\S")]
    pub system: String,
    /// The record's id in that system.
    #[schema(max_length = 200, pattern = r"\S")]
    pub id: String,
}

impl ExternalRef {
    pub fn from_columns(system: Option<String>, id: Option<String>) -> Option<Self> {
        Some(Self {
            system: system?,
            id: id?,
        })
    }
}

/// How a list finds particular records: by their ids (a batch read) or by the id another system
/// gave one. Every list of records that can come from another system takes these.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Lookup {
    /// Only these records: repeat the parameter (`id=…&id=…`) to read up to 100 at once. Ids
    /// the caller may not see, or that do not exist, are left out.
    #[serde(default)]
    #[param(max_items = 100)]
    pub id: Vec<Uuid>,
    /// Only records from this system (with `external_ref.id`, the one it knows by that id).
    #[serde(rename = "external_ref.system")]
    #[param(max_length = 100, pattern = r"\S")]
    pub external_ref_system: Option<String>,
    /// Only records another system knows by this id.
    #[serde(rename = "external_ref.id")]
    #[param(max_length = 200, pattern = r"\S")]
    pub external_ref_id: Option<String>,
}

impl Lookup {
    /// The ids as stored.
    pub fn ids(&self) -> Vec<String> {
        self.id
            .iter()
            .map(|id| id.hyphenated().to_string())
            .collect()
    }
}

/// The sync filter of a list of records that never change once written (timeline entries,
/// reviews, scores): `updated_since` reads those written since.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangedSince {
    /// Only records changed (for these, written) at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

/// A reference to another record: the one shape of every link between records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkedRecord {
    pub kind: RecordKind,
    pub id: Uuid,
}

impl LinkedRecord {
    /// The ids of the references to records of one kind.
    pub fn ids_of(references: &[Self], kind: RecordKind) -> Vec<Uuid> {
        references
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.id)
            .collect()
    }

    /// References to records of one kind.
    pub fn to_all(kind: RecordKind, ids: impl IntoIterator<Item = Uuid>) -> Vec<Self> {
        ids.into_iter().map(|id| Self { kind, id }).collect()
    }
}

/// Declares the document's schema of the references a request may send in one field: `{kind,
/// id}` with the kinds it may name. The request reads them as `LinkedRecord`s; the store checks
/// each names a record of the organisation the caller may see.
macro_rules! reference_to {
    ($(#[$meta:meta])* $name:ident, $kinds:ident { $($variant:ident => $text:tt),+ $(,)? }) => {
        $crate::domain::text_enum!(
            #[doc = concat!("The kinds of record a `", stringify!($name), "` may name.")]
            $kinds { $($variant => $text),+ }
        );

        $(#[$meta])*
        #[derive(serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            #[schema(inline)]
            pub kind: $kinds,
            pub id: uuid::Uuid,
        }
    };
}
pub(crate) use reference_to;

reference_to!(
    /// Evidence a request cites: a record of the organisation.
    EvidenceReference,
    EvidenceReferenceKind { Evidence => "evidence" }
);

/// A person a request names (an owner): the subject of their token, and a name to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sub": "manager-1", "name": "Alex Manager"}))]
pub struct PersonInput {
    #[schema(max_length = 200, pattern = r"\S")]
    pub sub: String,
    #[schema(max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
}

/// Whoever an answer names, always in this one shape: who owns, raised, recorded, reviewed,
/// assessed or changed something.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"kind": "user", "sub": "manager-1", "name": "Alex Manager"}))]
pub struct Person {
    pub kind: PersonKind,
    /// The subject of their token, for a user.
    pub sub: Option<String>,
    /// A name to show, when careloop was given one.
    pub name: Option<String>,
}

impl Person {
    pub fn user(sub: impl Into<String>, name: Option<String>) -> Self {
        Self {
            kind: PersonKind::User,
            sub: Some(sub.into()),
            name,
        }
    }

    /// Who recorded something, by the `sub` kept: a user, or an intake point (whose `sub`
    /// names the door, never the person who came through it).
    pub fn recorder(sub: String) -> Self {
        Self {
            kind: if sub.starts_with(DOOR_PREFIX) {
                PersonKind::IntakePoint
            } else {
                PersonKind::User
            },
            sub: Some(sub),
            name: None,
        }
    }

    pub fn anonymous() -> Self {
        Self {
            kind: PersonKind::Anonymous,
            sub: None,
            name: None,
        }
    }

    pub fn system() -> Self {
        Self {
            kind: PersonKind::System,
            sub: None,
            name: Some("careloop".to_owned()),
        }
    }
}

/// Someone who took part, by role; names are optional, and a person using the service or a
/// relative is named only with `agreed_to_be_named: true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub role: PersonRole,
    #[schema(max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    /// They agreed to be named in the record (default `false`).
    #[serde(default)]
    pub agreed_to_be_named: bool,
}

impl Participant {
    /// 422 for each person using the service or relative named without their agreement.
    pub fn check_all(checks: &mut Checks, field: &str, participants: &[Participant]) {
        for (index, participant) in participants.iter().enumerate() {
            checks.check(
                participant.name.is_none()
                    || may_be_named(participant.role, participant.agreed_to_be_named),
                &format!("{field}[{index}].name"),
                "a person using the service or a relative is named only with their agreement \
                 (`agreed_to_be_named: true`); leave the name out otherwise",
            );
        }
    }
}

/// How to reach someone who came through an intake point and agreed to be contacted. Shown to
/// managers and admins only; kept only with that consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Sam", "details": "07700 900123"}))]
pub struct Contact {
    /// The name they gave, if any.
    pub name: Option<String>,
    /// A phone number or email address, as they wrote it.
    pub details: String,
}
