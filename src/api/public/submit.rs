//! A submission through an intake point: the rules beside the schema's, and what it becomes
//! (feedback → unverified evidence, a compliment → a recognition awaiting approval, a concern →
//! an anonymous concern), stored as the door, never as the person who came through it.

use serde_json::Value;

use super::dto::{IntakeReceipt, IntakeSubmission};
use crate::api::concerns::dto::NewConcern;
use crate::api::evidence::dto::{Metric, NewEvidence};
use crate::api::intake_points::store::Door;
use crate::api::shared::Contact;
use crate::api::{concerns, evidence, recognitions};
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::domain::concern::RiskLevel;
use crate::domain::evidence::EvidenceSource;
use crate::domain::intake::{
    allowed_fields, contact_problem, required_fields, IntakeKind, DOOR_PREFIX, FEEDBACK_STATEMENT,
    SCORE_METRIC,
};
use crate::domain::now;
use crate::error::{ApiError, ApiResult, FieldError};

/// The fields every form carries beside its own.
const COMMON_FIELDS: [&str; 3] = ["kind", "form_token", "website"];

/// The errors of a submission the schema cannot see: the honeypot filled in, a kind the door
/// does not take, another form's fields, a field the kind needs left out, contact details
/// without consent. Added to `errors` (the schema's), one per field at most, all in the order
/// of the form's fields (as the page lists them).
pub fn check(value: &Value, kinds: &[IntakeKind], errors: &mut Vec<FieldError>) {
    let text = |name: &str| value.get(name).and_then(Value::as_str);
    let given = |name: &str| value.get(name).is_some_and(|v| !v.is_null());
    let mut found = Vec::new();
    if text("website").is_some_and(|v| !v.is_empty()) {
        found.push(FieldError::new("website", "please leave this field empty"));
    }
    if let Some(kind) = text("kind").and_then(IntakeKind::parse) {
        if !kinds.contains(&kind) {
            found.push(FieldError::new(
                "kind",
                format!("this page does not take {kind}"),
            ));
        }
        let allowed = allowed_fields(kind);
        for name in value.as_object().into_iter().flat_map(|o| o.keys()) {
            let foreign =
                !allowed.contains(&name.as_str()) && !COMMON_FIELDS.contains(&name.as_str());
            if foreign && given(name) {
                found.push(FieldError::new(
                    name,
                    format!("is not part of the {kind} form"),
                ));
            }
        }
        for name in required_fields(kind) {
            if value.get(*name).is_none_or(Value::is_null) {
                found.push(FieldError::new(*name, "is required"));
            }
        }
        if kind != IntakeKind::Compliment {
            let consent = value.get("consent_to_contact").and_then(Value::as_bool) == Some(true);
            if let Some((field, message)) =
                contact_problem(text("contact_details"), text("contact_name"), consent)
            {
                found.push(FieldError::new(field, message));
            }
        }
    }
    for error in found {
        if !errors.iter().any(|e| e.field == error.field) {
            errors.push(error);
        }
    }
    let order: Vec<&str> = match text("kind").and_then(IntakeKind::parse) {
        Some(kind) => COMMON_FIELDS
            .iter()
            .chain(allowed_fields(kind))
            .copied()
            .collect(),
        None => COMMON_FIELDS.to_vec(),
    };
    errors.sort_by_key(|e| {
        order
            .iter()
            .position(|f| *f == e.field)
            .unwrap_or(order.len())
    });
}

/// Stores a checked submission as the door: answers what to tell the person.
pub fn store(
    conn: &mut DbConnection,
    door: &Door,
    sent: &IntakeSubmission,
) -> ApiResult<IntakeReceipt> {
    let point = &door.point;
    let principal = Principal {
        sub: format!("{DOOR_PREFIX}{}", point.id),
        organisation_id: point.organisation_id.clone(),
        roles: Vec::new(),
        locations: Some(vec![point.location_id]),
        name: None,
    };
    let place = &door.location_name;
    let contact = sent.contact_details.as_ref().map(|details| Contact {
        name: sent.contact_name.as_ref().map(|n| n.trim().to_owned()),
        details: details.trim().to_owned(),
    });
    let (message, receipt_code) = match sent.kind {
        IntakeKind::Feedback => {
            let (Some(respondent), Some(experience)) = (sent.respondent, sent.experience) else {
                return Err(ApiError::field("experience", "is required"));
            };
            let said: Vec<String> = [
                ("What was good", &sent.what_was_good),
                ("What could be better", &sent.what_could_be_better),
            ]
            .into_iter()
            .filter_map(|(heading, said)| Some(format!("{heading}: {}", said.as_deref()?.trim())))
            .collect();
            let new = NewEvidence {
                source: EvidenceSource::Feedback,
                evidence_category: respondent.evidence_category().to_owned(),
                quality_statements: vec![FEEDBACK_STATEMENT.to_owned()],
                title: format!(
                    "Feedback ({}): {}",
                    respondent.label().to_lowercase(),
                    experience.label().to_lowercase()
                ),
                summary: (!said.is_empty()).then(|| said.join("\n\n")),
                observed_at: Some(now()),
                period_start: None,
                period_end: None,
                location_id: Some(point.location_id.uuid()),
                respondent: Some(respondent.person_role()),
                metric: experience.score().map(|value| Metric {
                    name: SCORE_METRIC.to_owned(),
                    value,
                    unit: Some("points of 5".to_owned()),
                    target: None,
                    direction: None,
                }),
                links: Vec::new(),
                linked_records: Vec::new(),
                external_ref: None,
            };
            evidence::store::record_from_intake(conn, &principal, &new, contact)?;
            let message =
                format!("Thank you for your feedback. It has reached the team at {place}.");
            (message, None)
        }
        IntakeKind::Compliment => {
            recognitions::store::record_from_intake(
                conn,
                &principal,
                point.location_id,
                sent.for_whom.as_deref().unwrap_or_default(),
                sent.message.as_deref().unwrap_or_default(),
                sent.name.as_deref(),
            )?;
            let message = format!(
                "Thank you for your compliment. It has reached the team at {place}, and a \
                 manager will pass it on."
            );
            (message, None)
        }
        IntakeKind::Concern => {
            let Some(category) = sent.category else {
                return Err(ApiError::field("category", "is required"));
            };
            let new = NewConcern {
                title: sent.title.clone().unwrap_or_default(),
                description: sent.description.clone().unwrap_or_default(),
                category,
                // Not the public's to judge: the managers triage it.
                risk: RiskLevel::Medium,
                location_id: Some(point.location_id.uuid()),
                confidential: None,
                anonymous: true,
                external_ref: None,
                quality_statements: Vec::new(),
            };
            let code = concerns::store::raise_from_intake(conn, &principal, &new, contact)?;
            let message = format!(
                "Thank you for telling us. Your concern has reached the managers of {place}."
            );
            (message, Some(code))
        }
    };
    Ok(IntakeReceipt {
        kind: sent.kind,
        message,
        receipt_code,
    })
}
