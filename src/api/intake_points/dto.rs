use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::shared::Person;
use crate::domain::intake::IntakeKind;
use crate::http::respond::versioned;

/// A public door to one location: its page takes feedback, compliments or concerns without
/// a token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-bbbb-7000-8000-000000000001",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "kinds": ["feedback", "compliment", "concern"],
    "title": "Tell us how we are doing",
    "welcome": "We read every message. You do not have to give your name.",
    "enabled": true,
    "slug": "q3Vn2m8ZxJk1tPz0aB7cDw",
    "url": "https://careloop.example/i/q3Vn2m8ZxJk1tPz0aB7cDw",
    "you_said_we_did_url": "https://careloop.example/i/q3Vn2m8ZxJk1tPz0aB7cDw/you-said-we-did",
    "created_by": {"kind": "user", "sub": "manager-1", "name": null},
    "version": 1,
    "created_at": "2026-11-27T09:00:00Z",
    "updated_at": "2026-11-27T09:00:00Z"
}))]
pub struct IntakePoint {
    pub id: Uuid,
    pub location_id: Uuid,
    /// What its page takes.
    pub kinds: Vec<IntakeKind>,
    pub title: String,
    pub welcome: String,
    /// A disabled door answers 404, as if it did not exist.
    pub enabled: bool,
    /// Its public name: 128 random bits, so nobody finds the door by guessing. Rotating it
    /// (`POST /v1/intake-points/{id}/slug`) closes the old address at once.
    #[schema(min_length = 22, max_length = 22, pattern = "^[A-Za-z0-9_-]{22}$")]
    pub slug: String,
    /// The page's address, ready for a QR code or a newsletter.
    pub url: String,
    /// The location's published "you said, we did" page.
    pub you_said_we_did_url: String,
    pub created_by: Person,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

versioned!(IntakePoint);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "kinds": ["feedback", "compliment", "concern"],
    "title": "Tell us how we are doing",
    "welcome": "We read every message. You do not have to give your name."
}))]
pub struct NewIntakePoint {
    /// One of the organisation's locations in the caller's reach.
    pub location_id: Uuid,
    /// What its page takes (a kind named twice is taken once).
    #[schema(min_items = 1, max_items = 3)]
    pub kinds: Vec<IntakeKind>,
    /// The page's heading.
    #[schema(max_length = 120, pattern = r"\S")]
    pub title: String,
    /// A few words of welcome under the heading, in plain English.
    #[schema(max_length = 2000, pattern = r"\S")]
    pub welcome: String,
    /// Default `true`.
    pub enabled: Option<bool>,
}

/// The fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": false}))]
pub struct IntakePointPatch {
    #[schema(nullable = false, min_items = 1, max_items = 3)]
    pub kinds: Option<Vec<IntakeKind>>,
    #[schema(nullable = false, max_length = 120, pattern = r"\S")]
    pub title: Option<String>,
    #[schema(nullable = false, max_length = 2000, pattern = r"\S")]
    pub welcome: Option<String>,
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
}
