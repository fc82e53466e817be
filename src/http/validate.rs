//! Validation the document cannot state, date ranges, and PATCH's `null` told from absent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

use crate::domain::framework::Catalogue;
use crate::error::{ApiError, ApiResult, FieldError};

/// Collects every invalid field of a request, so one answer names them all: the rules the
/// OpenAPI document cannot state (it states the rest, and the contract applies them first).
#[derive(Debug, Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn check(&mut self, ok: bool, field: &str, message: &str) -> &mut Self {
        if !ok {
            self.0.push(FieldError::new(field, message));
        }
        self
    }

    /// Quality-statement ids, each known to the catalogue.
    pub fn quality_statements(&mut self, catalogue: &Catalogue, ids: &[String]) -> &mut Self {
        let unknown: Vec<&str> = ids
            .iter()
            .filter(|id| !catalogue.has_statement(id))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            self.0.push(FieldError::new(
                "quality_statements",
                format!("unknown quality statement: {}", unknown.join(", ")),
            ));
        }
        self
    }

    /// A time that has already happened (allowing a few minutes of clock difference).
    pub fn not_future(&mut self, field: &str, at: Option<DateTime<Utc>>) -> &mut Self {
        if at.is_some_and(|at| at > crate::domain::now() + chrono::Duration::minutes(5)) {
            self.0
                .push(FieldError::new(field, "must not be in the future"));
        }
        self
    }

    pub fn finish(&mut self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(std::mem::take(&mut self.0)))
        }
    }
}

/// For PATCH bodies: tells a field set to `null` (`Some(None)`) from one left out (`None`).
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Checks a `*_since`/`from`/`to` style range is in order.
pub fn check_range(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    from_field: &str,
) -> ApiResult<()> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => {
            Err(ApiError::field(from_field, "must not be after `to`"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_collect_every_field() {
        let catalogue = Catalogue::load(None).unwrap();
        let error = Checks::new()
            .quality_statements(
                &catalogue,
                &["safe.learning_culture".into(), "safe.x".into()],
            )
            .check(false, "occurred_on", "must not be in the future")
            .check(true, "risk", "never")
            .finish()
            .unwrap_err();
        match error {
            ApiError::Validation(fields) => {
                assert_eq!(fields.len(), 2);
                assert_eq!(fields[0].field, "quality_statements");
                assert_eq!(fields[0].message, "unknown quality statement: safe.x");
                assert_eq!(fields[1].field, "occurred_on");
            }
            other => panic!("{other:?}"),
        }
        assert!(Checks::new().check(true, "risk", "never").finish().is_ok());
    }
}
