//! The doors' pages: server-rendered from askama templates, plain HTML that works without
//! script, on a phone, zoomed, and with a screen reader (labels, hints and errors tied to their
//! fields, an error summary linking to each, one heading per form).

use askama::Template;
use serde_json::Value;

use crate::api::intake_points::store::Door;
use crate::domain::concern::ConcernCategory;
use crate::domain::governance::month_name;
use crate::domain::intake::{Experience, IntakeKind, Respondent};
use crate::error::{ApiError, ApiResult, FieldError};

/// What a field is called on the page, for the error summary.
fn label(field: &str) -> &'static str {
    match field {
        "respondent" => "Who is answering",
        "experience" => "How was your experience",
        "what_was_good" => "What was good",
        "what_could_be_better" => "What could be better",
        "contact_name" | "name" => "Your name",
        "contact_details" => "Phone number or email address",
        "consent_to_contact" => "Agreeing to be contacted",
        "for_whom" => "Who the compliment is for",
        "message" => "Your compliment",
        "title" => "Your concern in a few words",
        "description" => "What happened",
        "category" => "What it is about",
        "website" => "The field to leave empty",
        _ => "This form",
    }
}

/// A concern's category in plain English.
fn category_label(category: ConcernCategory) -> &'static str {
    match category {
        ConcernCategory::Safeguarding => "Someone may be at risk of harm or abuse (safeguarding)",
        ConcernCategory::CarePractice => "How care is given",
        ConcernCategory::Medication => "Medicines",
        ConcernCategory::Staffing => "Staffing",
        ConcernCategory::Environment => "The building or surroundings",
        ConcernCategory::Culture => "How people are treated or spoken to",
        ConcernCategory::Whistleblowing => "Wrongdoing at work (whistleblowing)",
        ConcernCategory::Complaint => "A complaint about the service",
        ConcernCategory::Other => "Something else",
    }
}

#[derive(Template)]
#[template(path = "public/intake.html")]
struct IntakePage<'a> {
    organisation_name: &'a str,
    location_name: &'a str,
    title: &'a str,
    welcome: &'a str,
    slug: &'a str,
    kinds: &'a [IntakeKind],
    form_token: &'a str,
    /// The form that was sent, when it is shown again.
    sent: Option<IntakeKind>,
    /// What that form held.
    values: &'a Value,
    errors: &'a [FieldError],
    respondents: Vec<(&'static str, &'static str)>,
    experiences: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
}

impl IntakePage<'_> {
    fn takes(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k.as_str() == kind)
    }

    fn is_sent(&self, kind: &str) -> bool {
        self.sent.is_some_and(|sent| sent.as_str() == kind)
    }

    /// What the person wrote in a field of the form they sent (nothing in the other forms).
    fn value(&self, kind: &str, field: &str) -> String {
        if !self.is_sent(kind) {
            return String::new();
        }
        match self.values.get(field) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Bool(yes)) => yes.to_string(),
            Some(Value::Number(number)) => number.to_string(),
            _ => String::new(),
        }
    }

    fn error(&self, kind: &str, field: &str) -> Option<String> {
        if !self.is_sent(kind) {
            return None;
        }
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| sentence(&e.message))
    }

    /// The field's `aria-describedby` and `aria-invalid`, for its hint and its error.
    fn described(&self, kind: &str, field: &str, hint: &str) -> String {
        let mut ids = Vec::new();
        if !hint.is_empty() {
            ids.push(format!("{kind}-{field}-hint"));
        }
        let invalid = self.error(kind, field).is_some();
        if invalid {
            ids.push(format!("{kind}-{field}-error"));
        }
        let mut attributes = String::new();
        if !ids.is_empty() {
            attributes.push_str(&format!(r#" aria-describedby="{}""#, ids.join(" ")));
        }
        if invalid {
            attributes.push_str(r#" aria-invalid="true""#);
        }
        attributes
    }

    /// Each error as a link to its field, in the summary at the top.
    fn summary(&self) -> Vec<(String, String)> {
        self.errors
            .iter()
            .map(|error| {
                let link = match (self.sent, error.field.as_str()) {
                    // The hidden fields have nothing to focus: the summary links to the form.
                    (Some(kind), "kind" | "form_token" | "body" | "website") => {
                        kind.as_str().to_owned()
                    }
                    (Some(kind), field) => format!("{kind}-{field}"),
                    // A form this page does not have: the page itself.
                    (None, _) => "content".to_owned(),
                };
                (
                    link,
                    format!("{}: {}", label(&error.field), sentence(&error.message)),
                )
            })
            .collect()
    }
}

/// A field error's message as it reads on the page.
fn sentence(message: &str) -> String {
    match message {
        "is required" => "please answer this".to_owned(),
        other => other.to_owned(),
    }
}

/// The door's page: its forms, empty, or the one sent shown again with its errors.
pub fn intake(
    door: &Door,
    form_token: &str,
    sent: Option<(IntakeKind, &Value)>,
    errors: &[FieldError],
) -> ApiResult<String> {
    let point = &door.point;
    let empty = Value::Null;
    IntakePage {
        organisation_name: &door.organisation_name,
        location_name: &door.location_name,
        title: &point.title,
        welcome: &point.welcome,
        slug: &point.slug,
        kinds: &point.kinds.0,
        form_token,
        // A form is shown again only when the page has it.
        sent: sent
            .map(|(kind, _)| kind)
            .filter(|kind| point.kinds.0.contains(kind)),
        values: sent.map_or(&empty, |(_, values)| values),
        errors,
        respondents: Respondent::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        experiences: Experience::ALL
            .iter()
            .map(|e| (e.as_str(), e.label()))
            .collect(),
        categories: ConcernCategory::ALL
            .iter()
            .map(|c| (c.as_str(), category_label(*c)))
            .collect(),
    }
    .render()
    .map_err(rendering)
}

#[derive(Template)]
#[template(path = "public/received.html")]
struct ReceivedPage<'a> {
    organisation_name: &'a str,
    location_name: &'a str,
    slug: &'a str,
    message: &'a str,
    receipt_code: Option<&'a str>,
}

/// The thanks, with a concern's receipt code, shown this once.
pub fn received(door: &Door, message: &str, receipt_code: Option<&str>) -> ApiResult<String> {
    ReceivedPage {
        organisation_name: &door.organisation_name,
        location_name: &door.location_name,
        slug: &door.point.slug,
        message,
        receipt_code,
    }
    .render()
    .map_err(rendering)
}

/// One published change on the page.
pub struct ChangeShown {
    pub you_said: String,
    pub we_did: String,
    pub month_name: String,
}

#[derive(Template)]
#[template(path = "public/you_said_we_did.html")]
struct YouSaidWeDidPage<'a> {
    organisation_name: &'a str,
    location_name: &'a str,
    slug: &'a str,
    items: Vec<ChangeShown>,
}

/// The location's published changes, with their months in words.
pub fn you_said_we_did(
    door: &Door,
    items: &[crate::api::public::dto::PublishedChange],
) -> ApiResult<String> {
    YouSaidWeDidPage {
        organisation_name: &door.organisation_name,
        location_name: &door.location_name,
        slug: &door.point.slug,
        items: items
            .iter()
            .map(|item| ChangeShown {
                you_said: item.you_said.clone(),
                we_did: item.we_did.clone(),
                month_name: month_of(&item.month),
            })
            .collect(),
    }
    .render()
    .map_err(rendering)
}

fn month_of(month: &str) -> String {
    chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map(month_name)
        .unwrap_or_else(|_| month.to_owned())
}

#[derive(Template)]
#[template(path = "public/notice.html")]
struct NoticePage<'a> {
    organisation_name: &'a str,
    location_name: &'a str,
    heading: &'a str,
    text: &'a str,
}

/// A page that only says something (no such door; too many submissions).
pub fn notice(heading: &str, text: &str) -> ApiResult<String> {
    NoticePage {
        organisation_name: "careloop",
        location_name: "Feedback",
        heading,
        text,
    }
    .render()
    .map_err(rendering)
}

fn rendering(error: askama::Error) -> ApiError {
    ApiError::internal(format!("a public page did not render: {error}"))
}
