//! A record kind's CSV columns, read from the OpenAPI document, so a file's columns are the
//! API's own fields and cannot drift from them: nested fields as dotted headers
//! (`metric.value`), lists of values in one cell joined by `|`, lists of objects as JSON.

use serde_json::{Map, Value};

use crate::api::docs::{conventions::resolved, document};
use crate::domain::import::{neutralised, uk_to_iso, unneutralised, DateFormat, LIST_SEPARATOR};

/// How one cell reads as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Text,
    DateTime,
    Date,
    Number,
    Integer,
    Boolean,
    /// Values of one kind, separated by `|`.
    List(Scalar),
    /// A list of objects, or anything else without columns of its own, as JSON.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Text,
    DateTime,
    Date,
    Number,
    Integer,
    Boolean,
}

/// A column: its dotted header and how its cells read.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub cell: Cell,
}

/// The columns of a component schema of the document (`NewEvidence`, `Evidence`), in the
/// order the document lists its fields.
pub fn of(schema: &str) -> Vec<Column> {
    of_in(&document()["components"]["schemas"], schema)
}

/// The columns of one of `schemas` (the document's, as it is being completed).
pub fn of_in(schemas: &Value, schema: &str) -> Vec<Column> {
    let mut columns = Vec::new();
    walk(&schemas[schema], schemas, "", &mut columns);
    // A record's id first, as a spreadsheet reader looks for it.
    columns.sort_by_key(|column| column.name != "id");
    columns
}

fn walk(schema: &Value, schemas: &Value, prefix: &str, out: &mut Vec<Column>) {
    let schema = not_null(schema, schemas);
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            walk(property, schemas, &format!("{prefix}{name}."), out);
        }
        return;
    }
    let name = prefix.trim_end_matches('.').to_owned();
    let cell = match type_of(schema) {
        "array" => {
            let items = not_null(&schema["items"], schemas);
            match scalar(items) {
                Some(scalar) if items["properties"].is_null() => Cell::List(scalar),
                _ => Cell::Json,
            }
        }
        _ => match scalar(schema) {
            Some(Scalar::Text) => Cell::Text,
            Some(Scalar::DateTime) => Cell::DateTime,
            Some(Scalar::Date) => Cell::Date,
            Some(Scalar::Number) => Cell::Number,
            Some(Scalar::Integer) => Cell::Integer,
            Some(Scalar::Boolean) => Cell::Boolean,
            None => Cell::Json,
        },
    };
    out.push(Column { name, cell });
}

/// The schema a nullable one allows besides `null`, resolved.
fn not_null<'a>(schema: &'a Value, schemas: &'a Value) -> &'a Value {
    let schema = resolved(schema, schemas);
    match schema["oneOf"].as_array() {
        Some(choices) => choices
            .iter()
            .find(|choice| choice["type"] != "null")
            .map_or(schema, |choice| resolved(choice, schemas)),
        None => schema,
    }
}

fn type_of(schema: &Value) -> &str {
    match &schema["type"] {
        Value::String(name) => name,
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .find(|name| *name != "null")
            .unwrap_or_default(),
        _ => "",
    }
}

fn scalar(schema: &Value) -> Option<Scalar> {
    Some(match (type_of(schema), schema["format"].as_str()) {
        ("string", Some("date-time")) => Scalar::DateTime,
        ("string", Some("date")) => Scalar::Date,
        ("string", _) => Scalar::Text,
        ("number", _) => Scalar::Number,
        ("integer", _) => Scalar::Integer,
        ("boolean", _) => Scalar::Boolean,
        _ => return None,
    })
}

/// Reads one cell as its column's value: `None` for an empty cell (the field is left out).
pub fn read(cell: &str, kind: Cell, dates: DateFormat) -> Option<Result<Value, String>> {
    if cell.trim().is_empty() {
        return None;
    }
    Some(match kind {
        Cell::Text => Ok(Value::String(unneutralised(cell).to_owned())),
        Cell::DateTime => read_scalar(cell, Scalar::DateTime, dates),
        Cell::Date => read_scalar(cell, Scalar::Date, dates),
        Cell::Number => read_scalar(cell, Scalar::Number, dates),
        Cell::Integer => read_scalar(cell, Scalar::Integer, dates),
        Cell::Boolean => read_scalar(cell, Scalar::Boolean, dates),
        Cell::List(scalar) => unneutralised(cell)
            .split(LIST_SEPARATOR)
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| read_scalar(item, scalar, dates))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Cell::Json => serde_json::from_str(unneutralised(cell))
            .map_err(|_| "must be JSON (a list of objects is written as a JSON array)".to_owned()),
    })
}

fn read_scalar(cell: &str, kind: Scalar, dates: DateFormat) -> Result<Value, String> {
    let trimmed = cell.trim();
    match kind {
        Scalar::Text => Ok(Value::String(unneutralised(cell).to_owned())),
        Scalar::DateTime | Scalar::Date => {
            let uk = match dates {
                DateFormat::Uk => uk_to_iso(trimmed, kind == Scalar::Date),
                DateFormat::Iso => None,
            };
            Ok(Value::String(uk.unwrap_or_else(|| trimmed.to_owned())))
        }
        Scalar::Number => trimmed
            .parse::<f64>()
            .ok()
            .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number))
            .ok_or_else(|| "must be a number".to_owned()),
        Scalar::Integer => trimmed
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| "must be a whole number".to_owned()),
        Scalar::Boolean => match trimmed.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("must be true or false".to_owned()),
        },
    }
}

/// Sets a dotted field in an object (`metric.value` inside `metric`).
pub fn set(object: &mut Map<String, Value>, dotted: &str, value: Value) {
    match dotted.split_once('.') {
        None => {
            object.insert(dotted.to_owned(), value);
        }
        Some((head, rest)) => {
            let inner = object
                .entry(head)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = inner {
                set(inner, rest, value);
            }
        }
    }
}

/// A record's cell in an export: what [`read`] reads back as the same value, and safe to open
/// in a spreadsheet.
pub fn write(record: &Value, column: &Column) -> String {
    let value = column
        .name
        .split('.')
        .try_fold(record, |value, key| value.get(key))
        .unwrap_or(&Value::Null);
    let text = match (value, column.cell) {
        (Value::Null, _) => return String::new(),
        (Value::String(text), _) => text.clone(),
        (Value::Array(items), Cell::List(_)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(&LIST_SEPARATOR.to_string()),
        (other, _) => other.to_string(),
    };
    neutralised(&text, value.is_number()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_columns_are_the_documents_fields() {
        let columns = of("NewEvidence");
        let cell = |name: &str| {
            columns
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.cell)
                .unwrap_or_else(|| panic!("no column {name}"))
        };
        assert_eq!(cell("title"), Cell::Text);
        assert_eq!(cell("metric.value"), Cell::Number);
        assert_eq!(cell("external_ref.system"), Cell::Text);
        assert_eq!(cell("observed_at"), Cell::DateTime);
        assert_eq!(cell("quality_statements"), Cell::List(Scalar::Text));
        assert_eq!(cell("linked_records"), Cell::Json);
        assert!(columns.iter().all(|c| c.name != "metric"));
    }

    #[test]
    fn cells_read_back_what_an_export_writes() {
        let record = json!({"title": "=HYPERLINK(\"x\")", "metric": {"value": -2.5},
            "quality_statements": ["safe.a", "safe.b"], "linked_records": [{"kind": "concern"}]});
        let columns = [
            ("title", Cell::Text),
            ("metric.value", Cell::Number),
            ("quality_statements", Cell::List(Scalar::Text)),
            ("linked_records", Cell::Json),
        ];
        let mut back = Map::new();
        for (name, cell) in columns {
            let column = Column {
                name: name.to_owned(),
                cell,
            };
            let written = write(&record, &column);
            let value = read(&written, cell, DateFormat::Iso).unwrap().unwrap();
            set(&mut back, name, value);
        }
        assert_eq!(Value::Object(back), record);
        assert!(write(
            &record,
            &Column {
                name: "title".to_owned(),
                cell: Cell::Text
            }
        )
        .starts_with("'="));
    }

    #[test]
    fn uk_dates_and_bad_cells() {
        assert_eq!(
            read("31/10/2026", Cell::DateTime, DateFormat::Uk),
            Some(Ok(json!("2026-10-31T00:00:00Z")))
        );
        assert_eq!(
            read("31/10/2026", Cell::DateTime, DateFormat::Iso),
            Some(Ok(json!("31/10/2026")))
        );
        assert_eq!(read("  ", Cell::Number, DateFormat::Iso), None);
        assert!(read("ninety", Cell::Number, DateFormat::Iso)
            .unwrap()
            .is_err());
        assert!(read("yes", Cell::Boolean, DateFormat::Iso)
            .unwrap()
            .is_err());
    }
}
