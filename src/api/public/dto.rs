use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::concern::ConcernCategory;
use crate::domain::intake::{Experience, IntakeKind, Respondent};
use crate::http::respond::unversioned;

/// An intake point's form, for an app: what the page says, and the token to submit with.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "organisation_name": "Sunrise Care Ltd",
    "location_name": "Sunrise House",
    "title": "Tell us how we are doing",
    "welcome": "We read every message. You do not have to give your name.",
    "kinds": ["feedback", "compliment", "concern"],
    "form_token": "1795777200.c2FtcGxlbm9uY2U.3q2-7w",
    "submit_after_seconds": 3,
    "expires_in_seconds": 7200,
    "you_said_we_did_url": "/i/q3Vn2m8ZxJk1tPz0aB7cDw/you-said-we-did"
}))]
pub struct IntakeForm {
    pub organisation_name: String,
    pub location_name: String,
    pub title: String,
    pub welcome: String,
    /// What this door takes.
    pub kinds: Vec<IntakeKind>,
    /// Send back as `form_token` with the submission: it binds the submission to this form.
    pub form_token: String,
    /// A submission sooner than this after the form was served is refused (people take longer).
    pub submit_after_seconds: i64,
    /// The token works for this long.
    pub expires_in_seconds: i64,
    /// The location's published changes.
    pub you_said_we_did_url: String,
}

/// A submission through an intake point: `kind` says which form, and which fields it takes.
/// **feedback** takes `respondent` and `experience` (both required), `what_was_good`,
/// `what_could_be_better` and contact details; **compliment** takes `for_whom` and `message`
/// (required) and `name`; **concern** takes `title`, `description` and `category` (required)
/// and contact details. Contact details (`contact_details`, with an optional `contact_name`)
/// need `consent_to_contact: true`. A field of another form is refused.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "feedback",
    "form_token": "1795777200.c2FtcGxlbm9uY2U.3q2-7w",
    "respondent": "relative_or_friend",
    "experience": "good",
    "what_was_good": "Staff always make time to talk to Mum.",
    "what_could_be_better": "The lounge is cold in the evenings."
}))]
pub struct IntakeSubmission {
    pub kind: IntakeKind,
    /// The `form_token` of the form as served (`GET /i/{slug}`).
    #[schema(max_length = 200)]
    pub form_token: String,
    /// Leave out or empty: the page hides it from people; only scripts fill it in.
    #[schema(max_length = 200)]
    pub website: Option<String>,
    /// Who is answering (feedback).
    pub respondent: Option<Respondent>,
    /// "Overall, how was your experience of our service?" (feedback).
    pub experience: Option<Experience>,
    /// At most 4,900 characters, as the next: together they are the evidence's summary.
    #[schema(max_length = 4900, pattern = r"\S")]
    pub what_was_good: Option<String>,
    #[schema(max_length = 4900, pattern = r"\S")]
    pub what_could_be_better: Option<String>,
    /// Who the compliment is for: a name or a team.
    #[schema(max_length = 150, pattern = r"\S")]
    pub for_whom: Option<String>,
    /// The compliment.
    #[schema(max_length = 5000, pattern = r"\S")]
    pub message: Option<String>,
    /// The complimenter's name, if they want to give it.
    #[schema(max_length = 100, pattern = r"\S")]
    pub name: Option<String>,
    /// The concern in a few words.
    #[schema(max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    /// What happened.
    #[schema(max_length = 10000, pattern = r"\S")]
    pub description: Option<String>,
    pub category: Option<ConcernCategory>,
    #[schema(max_length = 100, pattern = r"\S")]
    pub contact_name: Option<String>,
    /// A phone number or email address.
    #[schema(max_length = 200, pattern = r"\S")]
    pub contact_details: Option<String>,
    /// Agreement to be contacted about it, with the contact details given.
    pub consent_to_contact: Option<bool>,
}

/// What was received. A concern's `receipt_code` is shown this once: with it (as
/// `Authorization: Receipt <code>`) its raiser follows it at `GET /v1/receipt`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "kind": "concern",
    "message": "Thank you. Your concern has reached the managers of Sunrise House.",
    "receipt_code": "3f2a-91c4-0b7e-66d1-a8f0-2c9b-e413-5d70"
}))]
pub struct IntakeReceipt {
    pub kind: IntakeKind,
    pub message: String,
    /// For a concern only; careloop keeps only its hash, so it cannot be shown again.
    pub receipt_code: Option<String>,
}

/// Which intake point's published changes to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YouSaidWeDidQuery {
    /// The intake point's slug, as in its address (`/i/{slug}`).
    #[param(min_length = 22, max_length = 22, pattern = "^[A-Za-z0-9_-]{22}$")]
    pub slug: String,
}

/// A location's published changes: what people told it, and what it changed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "organisation_name": "Sunrise Care Ltd",
    "location_name": "Sunrise House",
    "items": [{
        "you_said": "Evenings in the lounge are too cold.",
        "we_did": "We fitted new radiators and check the temperature at 6pm every day.",
        "month": "2026-10"
    }]
}))]
pub struct YouSaidWeDid {
    pub organisation_name: String,
    pub location_name: String,
    /// Latest first, at most 100.
    pub items: Vec<PublishedChange>,
}

/// One published change, in a manager's words written for the public.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedChange {
    /// The theme of what people told us (never their own words).
    pub you_said: String,
    /// What changed.
    pub we_did: String,
    /// The month it was done, `YYYY-MM`.
    #[schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: String,
}

unversioned!(IntakeForm, YouSaidWeDid);
