//! Locations: the registered services of a provider.

use super::text_enum;

text_enum!(
    /// What kind of registered service a location is.
    LocationKind {
        CareHome => "care_home",
        NursingHome => "nursing_home",
        HomeCare => "home_care",
        SupportedLiving => "supported_living",
        Other => "other",
    }
);

/// A CQC provider or location id: `1-` followed by digits (for example `1-101234567`).
pub fn is_cqc_id(text: &str) -> bool {
    text.strip_prefix("1-").is_some_and(|digits| {
        (5..=12).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// An NHS ODS organisation code: 3 to 10 upper-case letters and digits (for example `VNH12`).
pub fn is_ods_code(text: &str) -> bool {
    (3..=10).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cqc_ids() {
        assert!(is_cqc_id("1-101234567"));
        assert!(!is_cqc_id("1-12"));
        assert!(!is_cqc_id("2-101234567"));
        assert!(!is_cqc_id("1-10123456a"));
    }

    #[test]
    fn ods_codes() {
        assert!(is_ods_code("VNH12"));
        assert!(is_ods_code("RX1"));
        assert!(!is_ods_code("rx1"));
        assert!(!is_ods_code("AB"));
    }

    #[test]
    fn kinds_round_trip() {
        for kind in LocationKind::ALL {
            assert_eq!(LocationKind::parse(kind.as_str()), Some(*kind));
        }
    }
}
