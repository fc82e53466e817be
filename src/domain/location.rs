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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in LocationKind::ALL {
            assert_eq!(LocationKind::parse(kind.as_str()), Some(*kind));
        }
    }
}
