use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::shared::{reference_to, Contact, ExternalRef, LinkedRecord, Lookup, Person};
use crate::domain::evidence::{EvidenceSource, MetricDirection, SeriesInterval, Verification};
use crate::domain::framework::Catalogue;
use crate::domain::PersonRole;
use crate::error::ApiResult;
use crate::http::respond::{unversioned, versioned};
use crate::http::validate::{nullable, Checks};

reference_to!(
    /// A record evidence came from: a learning event or a concern of the organisation.
    EvidenceSourceRecord,
    EvidenceSourceKind {
        LearningEvent => "learning_event",
        Concern => "concern",
    }
);

/// A document held elsewhere: an `http` or `https` URL, without spaces.
// The document's schema of an item of `links` (read as text): it states the rule.
#[derive(ToSchema)]
#[schema(max_length = 2000, pattern = r"^https?://\S*$")]
pub struct Link(pub String);

/// A measured value, so trends can be drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "medication_audit_score", "value": 92.5, "unit": "%", "target": 95.0, "direction": "at_least"}))]
pub struct Metric {
    /// The series it belongs to, for example `medication_audit_score`.
    #[schema(max_length = 100, pattern = r"\S")]
    pub name: String,
    /// Within ±10^15, so sums and means of many values stay finite.
    #[schema(minimum = -1e15, maximum = 1e15)]
    pub value: f64,
    #[schema(max_length = 30, pattern = r"\S")]
    pub unit: Option<String>,
    #[schema(minimum = -1e15, maximum = 1e15)]
    pub target: Option<f64>,
    /// `at_least` (default: met when value ≥ target) or `at_most` (met when value ≤ target).
    pub direction: Option<MetricDirection>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-6666-7000-8000-000000000001",
    "source": "audit",
    "evidence_category": "processes",
    "quality_statements": ["safe.medicines_optimisation"],
    "title": "October medication audit",
    "summary": "MAR charts complete; two missed signatures.",
    "observed_at": null,
    "period_start_at": "2026-10-01T00:00:00Z",
    "period_end_at": "2026-10-31T23:59:59Z",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "respondent": null,
    "metric": {"name": "medication_audit_score", "value": 92.5, "unit": "%", "target": 95.0, "direction": "at_least"},
    "links": ["https://records.example/audits/2026-10"],
    "linked_records": [],
    "external_ref": null,
    "recorded_by": {"kind": "user", "sub": "manager-1", "name": null},
    "verification": "verified",
    "contact": null,
    "archived_at": null,
    "version": 1,
    "created_at": "2026-11-02T09:00:00Z",
    "updated_at": "2026-11-02T09:00:00Z"
}))]
pub struct Evidence {
    pub id: Uuid,
    pub source: EvidenceSource,
    /// One of the framework's evidence categories.
    pub evidence_category: String,
    pub quality_statements: Vec<String>,
    pub title: String,
    pub summary: Option<String>,
    pub observed_at: Option<DateTime<Utc>>,
    #[serde(rename = "period_start_at")]
    pub period_start: Option<DateTime<Utc>>,
    #[serde(rename = "period_end_at")]
    pub period_end: Option<DateTime<Utc>>,
    pub location_id: Option<Uuid>,
    pub respondent: Option<PersonRole>,
    pub metric: Option<Metric>,
    /// Documents held elsewhere.
    pub links: Vec<String>,
    /// The learning events and concerns it came from.
    pub linked_records: Vec<LinkedRecord>,
    pub external_ref: Option<ExternalRef>,
    pub recorded_by: Person,
    /// `unverified` while feedback that came in through a public intake point waits for a
    /// manager to look at it (`POST /v1/evidence/{id}/verification`); `verified` otherwise.
    pub verification: Verification,
    /// How to reach the person who gave it, when they agreed to be contacted (feedback through
    /// an intake point). Shown to managers and admins only: `null` for everyone else.
    pub contact: Option<Contact>,
    /// Set when archived: hidden from lists unless asked for, kept for the record.
    pub archived_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "source": "audit",
    "evidence_category": "processes",
    "quality_statements": ["safe.medicines_optimisation"],
    "title": "October medication audit",
    "period_start_at": "2026-10-01T00:00:00Z",
    "period_end_at": "2026-10-31T23:59:59Z",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "metric": {"name": "medication_audit_score", "value": 92.5, "unit": "%", "target": 95.0}
}))]
pub struct NewEvidence {
    /// Staff may record only `feedback` and `observation` (403 otherwise).
    pub source: EvidenceSource,
    /// One of an assessment framework's evidence categories (`GET /v1/frameworks/{id}`).
    pub evidence_category: String,
    /// The quality statements it speaks to: each one of an assessment framework's.
    #[schema(min_items = 1)]
    pub quality_statements: Vec<String>,
    #[schema(max_length = 200, pattern = r"\S")]
    pub title: String,
    #[schema(max_length = 10000, pattern = r"\S")]
    pub summary: Option<String>,
    /// When it was observed. Give this, or both `period_start_at` and `period_end_at`, not both.
    pub observed_at: Option<DateTime<Utc>>,
    /// The start of the period it covers (with `period_end_at`, instead of `observed_at`).
    #[serde(rename = "period_start_at")]
    pub period_start: Option<DateTime<Utc>>,
    /// The end of the period it covers: not before `period_start_at`.
    #[serde(rename = "period_end_at")]
    pub period_end: Option<DateTime<Utc>>,
    /// One of the organisation's locations; a caller whose token limits them to some locations
    /// must name one of theirs.
    pub location_id: Option<Uuid>,
    /// Who gave it: required when `source` is `feedback`.
    pub respondent: Option<PersonRole>,
    pub metric: Option<Metric>,
    /// Documents held elsewhere.
    #[serde(default)]
    #[schema(value_type = Vec<Link>, inline, max_items = 20)]
    pub links: Vec<String>,
    /// Learning events and concerns of the organisation it came from.
    #[serde(default)]
    #[schema(value_type = Vec<EvidenceSourceRecord>, max_items = 100)]
    pub linked_records: Vec<LinkedRecord>,
    pub external_ref: Option<ExternalRef>,
}

/// The fields to change; lists given replace the stored ones, `null` clears an optional field.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"summary": "MAR charts complete; two missed signatures, both followed up."}))]
pub struct EvidencePatch {
    #[schema(nullable = false)]
    pub source: Option<EvidenceSource>,
    /// One of an assessment framework's evidence categories.
    #[schema(nullable = false)]
    pub evidence_category: Option<String>,
    /// Each one of an assessment framework's quality statements.
    #[schema(nullable = false, min_items = 1)]
    pub quality_statements: Option<Vec<String>>,
    #[schema(nullable = false, max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, max_length = 10000, pattern = r"\S")]
    pub summary: Option<Option<String>>,
    /// After the change the record must have `observed_at`, or both `period_start_at`
    /// and `period_end_at` (not after each other), and not both.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub observed_at: Option<Option<DateTime<Utc>>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<DateTime<Utc>>)]
    #[serde(rename = "period_start_at")]
    pub period_start: Option<Option<DateTime<Utc>>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<DateTime<Utc>>)]
    #[serde(rename = "period_end_at")]
    pub period_end: Option<Option<DateTime<Utc>>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Uuid>)]
    pub location_id: Option<Option<Uuid>>,
    /// Required while `source` is `feedback`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<PersonRole>)]
    pub respondent: Option<Option<PersonRole>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Metric>)]
    pub metric: Option<Option<Metric>>,
    /// Documents held elsewhere.
    #[schema(nullable = false, value_type = Option<Vec<Link>>, inline, max_items = 20)]
    pub links: Option<Vec<String>>,
    #[schema(nullable = false, value_type = Option<Vec<EvidenceSourceRecord>>, max_items = 100)]
    pub linked_records: Option<Vec<LinkedRecord>>,
    /// Set once: while the record has none; the one it has may be sent again.
    #[schema(nullable = false)]
    pub external_ref: Option<ExternalRef>,
}

/// The rules every stored evidence record must keep that the document cannot state (they need the
/// frameworks, or span fields), on its merged fields. The document states the rest, such as the
/// lengths of `title` and `summary` and the form of `metric` and `links`, and the contract applies
/// them to each request.
pub struct EvidenceFields<'a> {
    pub source: EvidenceSource,
    pub evidence_category: &'a str,
    pub quality_statements: &'a [String],
    pub respondent: Option<PersonRole>,
}

impl EvidenceFields<'_> {
    pub fn validate(&self, catalogue: &Catalogue) -> ApiResult<()> {
        let mut checks = Checks::new();
        self.check(&mut checks, catalogue);
        checks.finish()
    }

    fn check(&self, checks: &mut Checks, catalogue: &Catalogue) {
        checks
            .check(
                catalogue.has_evidence_category(self.evidence_category),
                "evidence_category",
                "is not an evidence category of any framework",
            )
            .quality_statements(catalogue, self.quality_statements)
            .check(
                self.source != EvidenceSource::Feedback || self.respondent.is_some(),
                "respondent",
                "is required for feedback",
            );
    }
}

impl NewEvidence {
    /// Every rule of a new record, named in one answer.
    pub fn validate(&self, catalogue: &Catalogue) -> ApiResult<()> {
        let mut checks = Checks::new();
        EvidenceFields {
            source: self.source,
            evidence_category: &self.evidence_category,
            quality_statements: &self.quality_statements,
            respondent: self.respondent,
        }
        .check(&mut checks, catalogue);
        checks.finish()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceQuery {
    #[serde(flatten)]
    #[param(ignore)]
    pub lookup: Lookup,
    /// Only evidence from this source (repeat the parameter for any of several).
    #[serde(default)]
    #[param(max_items = 20)]
    pub source: Vec<EvidenceSource>,
    pub evidence_category: Option<String>,
    /// Only evidence tagged with this quality statement.
    pub quality_statement_id: Option<String>,
    pub location_id: Option<Uuid>,
    /// Only evidence with a metric of this name.
    pub metric: Option<String>,
    /// Only evidence dated (observed, or its period starting) at or after this time; not after
    /// `to`.
    pub from: Option<DateTime<Utc>>,
    /// Only evidence dated at or before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only evidence changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    /// Include archived evidence (with its `archived_at`). Default: `false`, but `true` in a
    /// sync read by `updated_since`, so a mirror learns what was archived.
    pub include_archived: Option<bool>,
    /// Only verified, or only unverified, evidence (feedback from intake points waiting for a
    /// manager is `unverified`).
    pub verification: Option<Verification>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// One location's values; a caller limited to some locations must name one of theirs.
    pub location_id: Option<Uuid>,
    /// Only values dated at or after this time; not after `to`.
    pub from: Option<DateTime<Utc>>,
    /// Only values dated at or before this time.
    pub to: Option<DateTime<Utc>>,
    /// Bucket width: `month` (default), `quarter` or `year`.
    pub interval: Option<SeriesInterval>,
}

/// One bucket of a metric's series.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesPoint {
    /// The first day of the bucket.
    #[serde(rename = "period_start_on")]
    pub period_start: chrono::NaiveDate,
    pub count: i64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// How many values had a target.
    pub with_target_count: i64,
    /// How many of those met it.
    pub met_target_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "metric": "medication_audit_score",
    "interval": "month",
    "location_id": null,
    "points": [
        {"period_start_on": "2026-09-01", "count": 2, "mean": 91.0, "min": 90.0, "max": 92.0, "with_target_count": 2, "met_target_count": 0},
        {"period_start_on": "2026-10-01", "count": 1, "mean": 96.0, "min": 96.0, "max": 96.0, "with_target_count": 1, "met_target_count": 1}
    ]
}))]
pub struct MetricSeries {
    pub metric: String,
    pub interval: SeriesInterval,
    pub location_id: Option<Uuid>,
    /// Buckets with values, oldest first.
    pub points: Vec<SeriesPoint>,
}

versioned!(Evidence);
unversioned!(MetricSeries);
