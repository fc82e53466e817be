use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::common::{nullable, Checks, ExternalRef};
use crate::api::concerns::dto::{TEXT_MAX, TITLE_MAX};
use crate::domain::evidence::{EvidenceSource, MetricDirection, Respondent, SeriesInterval};
use crate::domain::framework::Catalogue;
use crate::error::ApiResult;

const LINKS_MAX: usize = 20;
const URL_MAX: usize = 2_000;
const IDS_MAX: usize = 100;

/// A measured value, so trends can be drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "medication_audit_score", "value": 92.5, "unit": "%", "target": 95.0}))]
pub struct Metric {
    /// The series it belongs to, for example `medication_audit_score`.
    pub name: String,
    pub value: f64,
    pub unit: Option<String>,
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
    "period_start": "2026-10-01T00:00:00Z",
    "period_end": "2026-10-31T23:59:59Z",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "respondent": null,
    "metric": {"name": "medication_audit_score", "value": 92.5, "unit": "%", "target": 95.0, "direction": "at_least"},
    "links": ["https://records.example/audits/2026-10"],
    "learning_event_ids": [],
    "concern_ids": [],
    "external_ref": null,
    "recorded_by": "manager-1",
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
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub location_id: Option<Uuid>,
    pub respondent: Option<Respondent>,
    pub metric: Option<Metric>,
    /// Documents held elsewhere.
    pub links: Vec<String>,
    pub learning_event_ids: Vec<Uuid>,
    pub concern_ids: Vec<Uuid>,
    pub external_ref: Option<ExternalRef>,
    pub recorded_by: String,
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
    "period_start": "2026-10-01T00:00:00Z",
    "period_end": "2026-10-31T23:59:59Z",
    "location_id": "0192f0c4-2222-7000-8000-000000000001",
    "metric": {"name": "medication_audit_score", "value": 92.5, "unit": "%", "target": 95.0}
}))]
pub struct NewEvidence {
    pub source: EvidenceSource,
    pub evidence_category: String,
    /// At least one.
    pub quality_statements: Vec<String>,
    pub title: String,
    pub summary: Option<String>,
    /// When it was observed; or give a period instead.
    pub observed_at: Option<DateTime<Utc>>,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub location_id: Option<Uuid>,
    /// Required for feedback: who gave it.
    pub respondent: Option<Respondent>,
    pub metric: Option<Metric>,
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default)]
    pub learning_event_ids: Vec<Uuid>,
    #[serde(default)]
    pub concern_ids: Vec<Uuid>,
    pub external_ref: Option<ExternalRef>,
}

/// The fields to change; lists given replace the stored ones, `null` clears an optional field.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"summary": "MAR charts complete; two missed signatures, both followed up."}))]
pub struct EvidencePatch {
    pub source: Option<EvidenceSource>,
    pub evidence_category: Option<String>,
    pub quality_statements: Option<Vec<String>>,
    pub title: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub summary: Option<Option<String>>,
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
    pub period_start: Option<Option<DateTime<Utc>>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub period_end: Option<Option<DateTime<Utc>>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Uuid>)]
    pub location_id: Option<Option<Uuid>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Respondent>)]
    pub respondent: Option<Option<Respondent>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Metric>)]
    pub metric: Option<Option<Metric>>,
    pub links: Option<Vec<String>>,
    pub learning_event_ids: Option<Vec<Uuid>>,
    pub concern_ids: Option<Vec<Uuid>>,
}

/// The checks every stored evidence record must pass, on its merged fields.
pub struct EvidenceFields<'a> {
    pub source: EvidenceSource,
    pub evidence_category: &'a str,
    pub quality_statements: &'a [String],
    pub title: &'a str,
    pub summary: Option<&'a str>,
    pub respondent: Option<Respondent>,
    pub metric: Option<&'a Metric>,
    pub links: &'a [String],
    pub linked_ids: usize,
}

impl EvidenceFields<'_> {
    pub fn validate(&self, catalogue: &Catalogue) -> ApiResult<()> {
        let mut checks = Checks::new();
        self.check(&mut checks, catalogue);
        checks.finish()
    }

    fn check(&self, checks: &mut Checks, catalogue: &Catalogue) {
        checks
            .text("title", self.title, TITLE_MAX)
            .optional_text("summary", self.summary, TEXT_MAX)
            .check(
                catalogue.has_evidence_category(self.evidence_category),
                "evidence_category",
                "is not an evidence category of any framework",
            )
            .quality_statements(catalogue, self.quality_statements, true)
            .check(
                self.source != EvidenceSource::Feedback || self.respondent.is_some(),
                "respondent",
                "is required for feedback",
            )
            .check(
                self.links.len() <= LINKS_MAX,
                "links",
                "must have at most 20 entries",
            )
            .check(
                self.linked_ids <= IDS_MAX,
                "learning_event_ids",
                "must link at most 100 records",
            );
        for (index, link) in self.links.iter().enumerate() {
            let field = format!("links[{index}]");
            checks.check(
                (link.starts_with("https://") || link.starts_with("http://"))
                    && link.len() <= URL_MAX
                    && !link.chars().any(char::is_whitespace),
                &field,
                "must be an http(s) URL of at most 2000 characters",
            );
        }
        if let Some(metric) = self.metric {
            checks
                .text("metric.name", &metric.name, 100)
                .optional_text("metric.unit", metric.unit.as_deref(), 30)
                .check(
                    metric.value.is_finite(),
                    "metric.value",
                    "must be a finite number",
                )
                .check(
                    metric.target.is_none_or(f64::is_finite),
                    "metric.target",
                    "must be a finite number",
                );
        }
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
            title: &self.title,
            summary: self.summary.as_deref(),
            respondent: self.respondent,
            metric: self.metric.as_ref(),
            links: &self.links,
            linked_ids: self.learning_event_ids.len() + self.concern_ids.len(),
        }
        .check(&mut checks, catalogue);
        checks.external_ref(self.external_ref.as_ref()).finish()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EvidenceQuery {
    pub source: Option<EvidenceSource>,
    pub evidence_category: Option<String>,
    /// Only evidence tagged with this quality statement id.
    pub quality_statement: Option<String>,
    pub location_id: Option<Uuid>,
    /// Only evidence with a metric of this name.
    pub metric: Option<String>,
    /// Only evidence dated (observed, or its period starting) at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only evidence dated at or before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only evidence changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    /// Include archived evidence.
    #[serde(default)]
    pub include_archived: bool,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SeriesQuery {
    /// One location's values; a caller limited to some locations must name one of theirs.
    pub location_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Bucket width: `month` (default), `quarter` or `year`.
    pub interval: Option<SeriesInterval>,
}

/// One bucket of a metric's series.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesPoint {
    /// The first day of the bucket.
    pub period_start: chrono::NaiveDate,
    pub count: i64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// How many values had a target.
    pub with_target: i64,
    /// How many of those met it.
    pub met_target: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "metric": "medication_audit_score",
    "interval": "month",
    "location_id": null,
    "points": [
        {"period_start": "2026-09-01", "count": 2, "mean": 91.0, "min": 90.0, "max": 92.0, "with_target": 2, "met_target": 0},
        {"period_start": "2026-10-01", "count": 1, "mean": 96.0, "min": 96.0, "max": 96.0, "with_target": 1, "met_target": 1}
    ]
}))]
pub struct MetricSeries {
    pub metric: String,
    pub interval: SeriesInterval,
    pub location_id: Option<Uuid>,
    /// Buckets with values, oldest first.
    pub points: Vec<SeriesPoint>,
}
