//! Record ids: a UUID (v7, so ids sort in creation order) typed by the kind of record it names,
//! so a plan's id cannot be passed where a concern's is wanted. Kept as TEXT on both backends.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::db::columns::{text_column, StoredAsText};

/// The id of a record of kind `K` (one of the marker types below).
#[derive(diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct Id<K>(Uuid, PhantomData<fn() -> K>);

impl<K> Id<K> {
    /// A new id, later in order than every id made before it. (No `Default`: an id is made on
    /// purpose, never filled in by a derive.)
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self::from(Uuid::now_v7())
    }

    /// A new id that says no more of when it was made than `moment` (for what an anonymous
    /// raiser does, whose ids must not encode the millisecond they acted).
    pub fn at(moment: chrono::DateTime<chrono::Utc>) -> Self {
        let seconds = u64::try_from(moment.timestamp()).unwrap_or_default();
        let timestamp =
            uuid::Timestamp::from_unix(uuid::NoContext, seconds, moment.timestamp_subsec_nanos());
        Self::from(Uuid::new_v7(timestamp))
    }

    /// The moment a v7 id encodes (to the millisecond).
    pub fn moment(self) -> Option<chrono::DateTime<chrono::Utc>> {
        let (seconds, nanos) = self.0.get_timestamp()?.to_unix();
        chrono::DateTime::from_timestamp(i64::try_from(seconds).ok()?, nanos)
    }

    pub fn uuid(self) -> Uuid {
        self.0
    }

    /// The same id, as one of any kind of record (for links, tags and the trail).
    pub fn any(self) -> RecordId {
        Id(self.0, PhantomData)
    }

    /// The id read as one of this kind (a link's target, once its kind is known).
    pub fn of<L>(id: Id<L>) -> Self {
        Id(id.0, PhantomData)
    }
}

impl<K> From<Uuid> for Id<K> {
    fn from(id: Uuid) -> Self {
        Self(id, PhantomData)
    }
}

impl<K> From<Id<K>> for Uuid {
    fn from(id: Id<K>) -> Self {
        id.0
    }
}

// By hand: derives would ask the marker type for the same traits.
impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for Id<K> {}
impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<K> Eq for Id<K> {}
impl<K> Hash for Id<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}
impl<K> PartialOrd for Id<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<K> Ord for Id<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl<K> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<K> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<K> Serialize for Id<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, K> Deserialize<'de> for Id<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Uuid::deserialize(deserializer).map(Self::from)
    }
}

impl<K> StoredAsText for Id<K> {
    const WHAT: &'static str = "record id";

    fn to_text(&self) -> Cow<'static, str> {
        Cow::Owned(self.0.to_string())
    }

    fn from_text(text: &str) -> Option<Self> {
        Uuid::parse_str(text).ok().map(Self::from)
    }
}

text_column!(Id<K>, for K);

/// The kinds of record an id can name.
pub mod kinds {
    pub enum Organisation {}
    pub enum Location {}
    pub enum Concern {}
    pub enum ConcernUpdate {}
    pub enum LearningEvent {}
    pub enum Evidence {}
    pub enum ImprovementPlan {}
    pub enum PlanAction {}
    pub enum PlanReview {}
    pub enum Recognition {}
    pub enum SelfAssessment {}
    pub enum AuditEvent {}
    pub enum Change {}
    pub enum ApiClient {}
    pub enum Webhook {}
    pub enum WebhookDelivery {}
    pub enum Import {}
    pub enum IntakePoint {}
    /// Any kind: a link's or a tag's record, whose kind is kept beside it.
    pub enum AnyRecord {}
}

pub type OrganisationId = Id<kinds::Organisation>;
pub type LocationId = Id<kinds::Location>;
pub type ConcernId = Id<kinds::Concern>;
pub type ConcernUpdateId = Id<kinds::ConcernUpdate>;
pub type LearningEventId = Id<kinds::LearningEvent>;
pub type EvidenceId = Id<kinds::Evidence>;
pub type PlanId = Id<kinds::ImprovementPlan>;
pub type ActionId = Id<kinds::PlanAction>;
pub type ReviewId = Id<kinds::PlanReview>;
pub type RecognitionId = Id<kinds::Recognition>;
pub type SelfAssessmentId = Id<kinds::SelfAssessment>;
pub type AuditEventId = Id<kinds::AuditEvent>;
pub type ApiClientId = Id<kinds::ApiClient>;
pub type WebhookId = Id<kinds::Webhook>;
pub type DeliveryId = Id<kinds::WebhookDelivery>;
pub type ImportId = Id<kinds::Import>;
pub type IntakePointId = Id<kinds::IntakePoint>;
pub type RecordId = Id<kinds::AnyRecord>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kept_as_hyphenated_text_and_read_back() {
        let id = ConcernId::new();
        let text = id.to_text();
        assert_eq!(text.len(), 36);
        assert_eq!(ConcernId::from_text(&text), Some(id));
        assert_eq!(ConcernId::from_text("not a uuid"), None);
    }

    /// Keyset pagination orders by the TEXT column, so the text must sort as the ids were made.
    #[test]
    fn new_ids_sort_in_creation_order_as_text() {
        let ids: Vec<PlanId> = (0..100).map(|_| PlanId::new()).collect();
        let texts: Vec<String> = ids.iter().map(|id| id.to_text().into_owned()).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
        assert_eq!(ids[0].any(), RecordId::from(ids[0].uuid()));
    }
}
