//! Schema errors as the API says them: each at its field's JSON path (`metric.value`,
//! `participants[0].role`), in plain words, each once and in field order.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::{JsonType, ValidationError};
use serde_json::Value;

use super::{CURSOR, NOT_BLANK};
use crate::error::FieldError;

/// Schema errors as the API names them: dotted paths with `[index]`, plain words.
pub(super) fn field_errors<'a>(
    errors: impl Iterator<Item = ValidationError<'a>>,
) -> Vec<FieldError> {
    let mut found = Vec::new();
    for error in errors {
        collect(&error, &mut found);
    }
    // A value of the wrong type breaks its other rules too; its type is the one to name.
    let mistyped: Vec<String> = found
        .iter()
        .filter(|(_, is_type)| *is_type)
        .map(|(f, _)| f.field.clone())
        .collect();
    let fields = found
        .into_iter()
        .filter(|(f, is_type)| *is_type || !mistyped.contains(&f.field))
        .map(|(f, _)| f)
        .collect();
    sorted(fields)
}

/// Errors in field order (a field's own in the order found), each once.
pub(super) fn sorted(mut fields: Vec<FieldError>) -> Vec<FieldError> {
    fields.sort_by(|a, b| a.field.cmp(&b.field));
    fields.dedup();
    fields
}

/// Adds an error's fields, each marked whether it is a wrong type.
fn collect(error: &ValidationError<'_>, fields: &mut Vec<(FieldError, bool)>) {
    let path = field_path(error);
    let is_type = matches!(error.kind(), ValidationErrorKind::Type { .. });
    let mut push =
        |field: String, message: String| fields.push((FieldError::new(field, message), is_type));
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            push(
                child(&path, property.as_str().unwrap_or_default()),
                "is required".into(),
            );
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for name in unexpected {
                push(child(&path, name), "is not a field of this request".into());
            }
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            // A nullable field is `oneOf: [schema, {type: null}]`: a wrong value breaks only the
            // non-null branch, whose own errors say what is wrong.
            let telling: Vec<_> = context
                .iter()
                .filter(|branch| !branch.iter().all(is_type_mismatch_at(error)))
                .collect();
            match telling.as_slice() {
                [branch] => branch.iter().for_each(|e| collect(e, fields)),
                _ => push(path, "does not match any of the allowed forms".into()),
            }
        }
        // JSON Merge Patch: `null` clears a field, so on one that cannot be cleared say that.
        _ if error.instance().is_null() => push(
            path,
            "cannot be null: it cannot be cleared (leave it out to keep it as it is)".into(),
        ),
        kind => push(path, message(kind)),
    }
}

fn is_type_mismatch_at<'e>(
    outer: &'e ValidationError<'_>,
) -> impl Fn(&ValidationError<'_>) -> bool + 'e {
    move |inner| {
        matches!(inner.kind(), ValidationErrorKind::Type { .. })
            && inner.instance_path() == outer.instance_path()
    }
}

fn message(kind: &ValidationErrorKind) -> String {
    match kind {
        ValidationErrorKind::Type { kind } => {
            let names: Vec<&str> = match kind {
                TypeKind::Single(one) => vec![type_name(*one)],
                TypeKind::Multiple(set) => set.iter().map(type_name).collect(),
            };
            format!("must be {}", names.join(" or "))
        }
        ValidationErrorKind::Enum { options } => {
            let options: Vec<String> = options
                .as_array()
                .map(|list| list.iter().map(plain).collect())
                .unwrap_or_default();
            format!("must be one of: {}", options.join(", "))
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!("must be {}", plain(expected_value))
        }
        ValidationErrorKind::MaxLength { limit } => format!("must be at most {limit} characters"),
        ValidationErrorKind::MinLength { limit: 1 } => "must not be empty".into(),
        ValidationErrorKind::MinLength { limit } => format!("must be at least {limit} characters"),
        ValidationErrorKind::Pattern { pattern } if pattern == NOT_BLANK => {
            "must not be blank".into()
        }
        ValidationErrorKind::Pattern { pattern } if pattern == CURSOR => {
            "must be a next_cursor careloop sent".into()
        }
        ValidationErrorKind::Pattern { pattern } => format!("must match the pattern {pattern}"),
        ValidationErrorKind::Minimum { limit } => format!("must be at least {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("must be at most {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("must be more than {limit}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("must be less than {limit}"),
        ValidationErrorKind::MaxItems { limit } => format!("must have at most {limit} entries"),
        ValidationErrorKind::MinItems { limit } => format!("must have at least {limit} entries"),
        ValidationErrorKind::UniqueItems => "must not repeat an entry".into(),
        ValidationErrorKind::Format { format } => match format.as_str() {
            "date-time" => "must be a date and time in RFC 3339 (2026-11-26T14:00:00Z)".into(),
            "date" => "must be a date (2026-11-26)".into(),
            "uuid" => "must be a UUID".into(),
            "uri" => "must be an absolute URL".into(),
            other => format!("must be a valid {other}"),
        },
        other => format!("is not valid ({other:?})"),
    }
}

fn type_name(kind: JsonType) -> &'static str {
    match kind {
        JsonType::Null => "null",
        JsonType::Boolean => "true or false",
        JsonType::Integer => "a whole number",
        JsonType::Number => "a number",
        JsonType::String => "text",
        JsonType::Array => "a list",
        JsonType::Object => "an object",
    }
}

/// A value as a person reads it: text without quotes.
fn plain(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), ToOwned::to_owned)
}

/// The API's name for where an error is: `metric.value`, `participants[0].role`, or `body`.
fn field_path(error: &ValidationError<'_>) -> String {
    let mut path = String::new();
    for segment in error.instance_path().segments() {
        match segment {
            LocationSegment::Property(name) => path = child(&path, &name),
            LocationSegment::Index(index) => path.push_str(&format!("[{index}]")),
        }
    }
    if path.is_empty() {
        "body".to_owned()
    } else {
        path
    }
}

fn child(parent: &str, name: &str) -> String {
    if parent.is_empty() || parent == "body" {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}
