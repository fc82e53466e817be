//! Intake points: the public, token-free doors where people using the service, relatives,
//! professionals and staff give feedback, compliments or concerns. Their vocabulary, the rules
//! a submission follows, and the form token that binds a submission to a form careloop served.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use super::{text_enum, PersonRole};

text_enum!(
    /// What an intake point takes.
    IntakeKind {
        Feedback => "feedback",
        Compliment => "compliment",
        Concern => "concern",
    }
);

text_enum!(
    /// Who is answering a feedback form.
    Respondent {
        PersonUsingService => "person_using_service",
        RelativeOrFriend => "relative_or_friend",
        Professional => "professional",
        Staff => "staff",
        PreferNotToSay => "prefer_not_to_say",
    }
);

text_enum!(
    /// The answer to the Friends-and-Family-style question "Overall, how was your experience of
    /// our service?".
    Experience {
        VeryGood => "very_good",
        Good => "good",
        NeitherGoodNorPoor => "neither_good_nor_poor",
        Poor => "poor",
        VeryPoor => "very_poor",
        DontKnow => "dont_know",
    }
);

/// The metric a feedback answer's score is kept as, so trends and insights pick it up.
pub const SCORE_METRIC: &str = "ffr_score";

/// The prefix of the subject an intake point acts as: what it records is recorded by the door,
/// never by the person who came through it.
pub const DOOR_PREFIX: &str = "intake-point:";

/// The quality statement feedback through an intake point speaks to.
pub const FEEDBACK_STATEMENT: &str = "responsive.listening_to_and_involving_people";

impl Respondent {
    /// The person's part in care as the records say it.
    pub fn person_role(self) -> PersonRole {
        match self {
            Self::PersonUsingService => PersonRole::PersonUsingService,
            Self::RelativeOrFriend => PersonRole::Relative,
            Self::Professional => PersonRole::Professional,
            Self::Staff => PersonRole::Staff,
            Self::PreferNotToSay => PersonRole::NotSaid,
        }
    }

    /// The CQC evidence category their feedback falls in.
    pub fn evidence_category(self) -> &'static str {
        match self {
            Self::Professional => "feedback_partners",
            Self::Staff => "feedback_staff_leaders",
            Self::PersonUsingService | Self::RelativeOrFriend | Self::PreferNotToSay => {
                "peoples_experience"
            }
        }
    }

    /// In words, for the form and the record's title.
    pub fn label(self) -> &'static str {
        match self {
            Self::PersonUsingService => "I use the service",
            Self::RelativeOrFriend => "A relative or friend",
            Self::Professional => "A visiting professional",
            Self::Staff => "A member of staff",
            Self::PreferNotToSay => "I prefer not to say",
        }
    }
}

impl Experience {
    /// The score, 5 for very good down to 1 for very poor; `None` for "don't know".
    pub fn score(self) -> Option<f64> {
        match self {
            Self::VeryGood => Some(5.0),
            Self::Good => Some(4.0),
            Self::NeitherGoodNorPoor => Some(3.0),
            Self::Poor => Some(2.0),
            Self::VeryPoor => Some(1.0),
            Self::DontKnow => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::VeryGood => "Very good",
            Self::Good => "Good",
            Self::NeitherGoodNorPoor => "Neither good nor poor",
            Self::Poor => "Poor",
            Self::VeryPoor => "Very poor",
            Self::DontKnow => "Don't know",
        }
    }
}

/// A new public name for an intake point: 128 bits from the operating system's CSPRNG, in
/// URL-safe base64 (22 characters), so nobody finds a door by guessing.
pub fn new_slug() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether text could be a slug careloop made (anything else is not looked up).
pub fn is_slug(text: &str) -> bool {
    text.len() == 22
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// How long a served form may be submitted.
pub const FORM_VALID_SECONDS: i64 = 2 * 60 * 60;

/// Why a form token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormTokenError {
    /// Not one careloop made for this intake point's form.
    Invalid,
    /// Submitted sooner after the form was served than a person could fill it in.
    TooSoon,
    /// The form was served too long ago.
    Expired,
}

impl FormTokenError {
    pub fn message(self) -> &'static str {
        match self {
            Self::Invalid => "this form has expired or was not ours: please reload the page and try again",
            Self::TooSoon => "that was quicker than we expect a person to fill in the form: please check your answers and send it again",
            Self::Expired => "this form has been open for more than two hours: please reload the page and try again",
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], slug: &str, issued_at: i64, nonce: &str) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(format!("intake-form\0{slug}\0{issued_at}\0{nonce}").as_bytes());
    Some(mac)
}

/// A token for a form served at `issued_at` (Unix seconds) for the intake point `slug`: the
/// time, a nonce and their HMAC under the instance's secret. It binds a submission to a form
/// careloop served for that door, and says when, without storing anything.
pub fn form_token(secret: &[u8], slug: &str, issued_at: i64) -> String {
    let nonce = URL_SAFE_NO_PAD.encode(rand::rng().random::<[u8; 12]>());
    let signature = mac(secret, slug, issued_at, &nonce)
        .map(|mac| URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
        .unwrap_or_default();
    format!("{issued_at}.{nonce}.{signature}")
}

/// Checks a form token for `slug` at `now`: made here, for this door, at least `min_seconds`
/// and at most [`FORM_VALID_SECONDS`] ago.
pub fn check_form_token(
    secret: &[u8],
    slug: &str,
    token: &str,
    now: i64,
    min_seconds: i64,
) -> Result<(), FormTokenError> {
    let mut parts = token.splitn(3, '.');
    let (Some(issued), Some(nonce), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(FormTokenError::Invalid);
    };
    let issued_at: i64 = issued.parse().map_err(|_| FormTokenError::Invalid)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| FormTokenError::Invalid)?;
    mac(secret, slug, issued_at, nonce)
        .ok_or(FormTokenError::Invalid)?
        .verify_slice(&signature)
        .map_err(|_| FormTokenError::Invalid)?;
    let age = now - issued_at;
    if age < min_seconds {
        Err(FormTokenError::TooSoon)
    } else if age > FORM_VALID_SECONDS {
        Err(FormTokenError::Expired)
    } else {
        Ok(())
    }
}

/// The fields each kind of submission needs, by name.
pub fn required_fields(kind: IntakeKind) -> &'static [&'static str] {
    match kind {
        IntakeKind::Feedback => &["respondent", "experience"],
        IntakeKind::Compliment => &["for_whom", "message"],
        IntakeKind::Concern => &["title", "description", "category"],
    }
}

/// The fields each kind of submission may carry beside `kind`, `form_token` and `website`.
pub fn allowed_fields(kind: IntakeKind) -> &'static [&'static str] {
    match kind {
        IntakeKind::Feedback => &[
            "respondent",
            "experience",
            "what_was_good",
            "what_could_be_better",
            "contact_name",
            "contact_details",
            "consent_to_contact",
        ],
        IntakeKind::Compliment => &["for_whom", "message", "name"],
        IntakeKind::Concern => &[
            "title",
            "description",
            "category",
            "contact_name",
            "contact_details",
            "consent_to_contact",
        ],
    }
}

/// Contact details are kept only with the person's consent to be contacted, and consent means
/// nothing without a way to contact them.
pub fn contact_problem(
    details: Option<&str>,
    name: Option<&str>,
    consent: bool,
) -> Option<(&'static str, &'static str)> {
    match (details.is_some(), consent) {
        (true, false) => Some((
            "consent_to_contact",
            "tick this box to agree to be contacted, or leave the contact details empty",
        )),
        (false, true) => Some((
            "contact_details",
            "give a phone number or email address to be contacted on",
        )),
        (false, false) if name.is_some() => Some((
            "contact_details",
            "give a phone number or email address with your name, or leave your name out",
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn slugs_are_long_and_unguessable() {
        let (one, two) = (new_slug(), new_slug());
        assert_ne!(one, two);
        assert!(is_slug(&one), "{one}");
        assert!(!is_slug("short"));
        assert!(!is_slug("../../../../etc/passwd/x"));
    }

    #[test]
    fn a_form_token_binds_the_door_and_the_time() {
        let token = form_token(SECRET, "door-one", 1_000);
        assert_eq!(
            check_form_token(SECRET, "door-one", &token, 1_005, 3),
            Ok(())
        );
        assert_eq!(
            check_form_token(SECRET, "door-one", &token, 1_001, 3),
            Err(FormTokenError::TooSoon)
        );
        assert_eq!(
            check_form_token(
                SECRET,
                "door-one",
                &token,
                1_000 + FORM_VALID_SECONDS + 1,
                3
            ),
            Err(FormTokenError::Expired)
        );
        assert_eq!(
            check_form_token(SECRET, "door-two", &token, 1_005, 3),
            Err(FormTokenError::Invalid)
        );
        assert_eq!(
            check_form_token(
                b"another secret of thirty-two byt",
                "door-one",
                &token,
                1_005,
                3
            ),
            Err(FormTokenError::Invalid)
        );
        // Moving the time on breaks the signature.
        let forged = token.replacen("1000", "0900", 1);
        assert_eq!(
            check_form_token(SECRET, "door-one", &forged, 1_005, 3),
            Err(FormTokenError::Invalid)
        );
        assert_eq!(
            check_form_token(SECRET, "door-one", "junk", 1_005, 3),
            Err(FormTokenError::Invalid)
        );
    }

    #[test]
    fn scores_run_from_very_poor_to_very_good() {
        assert_eq!(Experience::VeryGood.score(), Some(5.0));
        assert_eq!(Experience::VeryPoor.score(), Some(1.0));
        assert_eq!(Experience::DontKnow.score(), None);
    }

    #[test]
    fn contact_details_need_consent() {
        assert!(contact_problem(None, None, false).is_none());
        assert!(contact_problem(Some("07700 900123"), Some("Sam"), true).is_none());
        assert_eq!(
            contact_problem(Some("07700 900123"), None, false).map(|p| p.0),
            Some("consent_to_contact")
        );
        assert_eq!(
            contact_problem(None, None, true).map(|p| p.0),
            Some("contact_details")
        );
        assert_eq!(
            contact_problem(None, Some("Sam"), false).map(|p| p.0),
            Some("contact_details")
        );
    }

    #[test]
    fn who_answered_decides_the_evidence_category() {
        assert_eq!(
            Respondent::Professional.evidence_category(),
            "feedback_partners"
        );
        assert_eq!(
            Respondent::Staff.evidence_category(),
            "feedback_staff_leaders"
        );
        assert_eq!(
            Respondent::PreferNotToSay.person_role(),
            PersonRole::NotSaid
        );
        assert_eq!(
            Respondent::RelativeOrFriend.person_role(),
            PersonRole::Relative
        );
    }
}
