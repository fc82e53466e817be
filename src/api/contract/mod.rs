//! The published OpenAPI document, applied to every request. Bodies and query strings are
//! checked against the very schemas integrators generate their clients from, so the document
//! and the wire cannot disagree, and one answer names every invalid field by its JSON path.
//! The same document tells which methods a known path allows (for 405 and `Allow`).

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::Method;
use jsonschema::{JsonType, Validator};
use serde_json::{json, Map, Value};

use crate::api::docs::conventions::{component_name, resolved};
use crate::error::FieldError;

mod messages;

use messages::{field_errors, sorted};

/// The pattern the document gives text that must not be blank.
pub const NOT_BLANK: &str = r"\S";

/// The pattern of a page cursor (`next_cursor`, sent back as `cursor`).
pub const CURSOR: &str = "^[0-9a-f]{10,2000}$";

/// The document's rules for each operation, and its path templates.
pub struct Contract {
    operations: HashMap<(Method, String), Operation>,
    /// Each path template, split into segments (`None` for a `{parameter}`), with its methods.
    paths: Vec<(Vec<Option<String>>, Vec<Method>)>,
}

#[derive(Default)]
struct Operation {
    body: Option<Validator>,
    query: Option<QueryRules>,
    /// The path parameters that are record ids (UUIDs).
    path_ids: Vec<String>,
    /// The fields of a form-encoded body, by the type each is read as (an HTML form's body is
    /// text; its schema is the JSON body's).
    form_fields: Option<HashMap<String, JsonType>>,
}

/// An operation's query parameters: how to read each one's text, and their joint schema.
struct QueryRules {
    kinds: HashMap<String, ParamKind>,
    validator: Validator,
}

/// How a query parameter's text is read: as one value of a type, or (an `array` parameter,
/// repeated as `id=…&id=…`, or with `explode: false` comma-separated as `types=a,b`) as a list
/// of them.
#[derive(Clone, Copy)]
struct ParamKind {
    scalar: JsonType,
    repeated: bool,
    comma_separated: bool,
}

/// The component schemas `schema` refers to, directly or through one another: all its
/// validator needs. (Each of the hundred-odd validators holding every component kept about
/// 100 MB alive.)
fn referred(schema: &Value, components: &Map<String, Value>) -> Map<String, Value> {
    let mut found = Map::new();
    let mut unread = vec![schema];
    while let Some(value) = unread.pop() {
        match value {
            Value::Object(fields) => {
                let name = fields
                    .get("$ref")
                    .and_then(Value::as_str)
                    .map(component_name);
                if let Some((name, component)) =
                    name.and_then(|name| components.get_key_value(name))
                {
                    if !found.contains_key(name) {
                        found.insert(name.clone(), component.clone());
                        unread.push(component);
                    }
                }
                unread.extend(fields.values());
            }
            Value::Array(items) => unread.extend(items),
            _ => {}
        }
    }
    found
}

static CONTRACT: LazyLock<Contract> = LazyLock::new(|| Contract::new(super::docs::document()));

/// The contract of this build's API (built once, on first use).
pub fn contract() -> &'static Contract {
    &CONTRACT
}

impl Contract {
    fn new(document: &Value) -> Self {
        let empty = Map::new();
        let components = document["components"]["schemas"]
            .as_object()
            .unwrap_or(&empty);
        let compile = |schema: Value| -> Validator {
            let reached = referred(&schema, components);
            let mut root = schema;
            root["components"] = json!({ "schemas": reached });
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .expect("the OpenAPI document's schemas compile")
        };
        let resolve = |schema: &Value| resolved(schema, &document["components"]["schemas"]).clone();
        let mut operations = HashMap::new();
        let mut paths = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap_or(&empty) {
            let mut methods = Vec::new();
            for (method, operation) in item.as_object().unwrap_or(&empty) {
                let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                    continue;
                };
                methods.push(method.clone());
                let body = operation["requestBody"]["content"]["application/json"]["schema"]
                    .as_object()
                    .map(|schema| compile(Value::Object(schema.clone())));
                let parameters: Vec<&Value> = operation["parameters"]
                    .as_array()
                    .map(|list| list.iter().filter(|p| p["in"] == "query").collect())
                    .unwrap_or_default();
                let query = (!parameters.is_empty()).then(|| {
                    let mut properties = Map::new();
                    let mut required = Vec::new();
                    let mut kinds = HashMap::new();
                    for parameter in parameters {
                        let name = parameter["name"].as_str().unwrap_or_default().to_owned();
                        let schema = resolve(&parameter["schema"]);
                        let repeated = schema["type"] == "array";
                        let scalar = if repeated {
                            scalar_kind(&resolve(&schema["items"]))
                        } else {
                            scalar_kind(&schema)
                        };
                        let comma_separated = repeated && parameter["explode"] == false;
                        kinds.insert(
                            name.clone(),
                            ParamKind {
                                scalar,
                                repeated,
                                comma_separated,
                            },
                        );
                        if parameter["required"] == true {
                            required.push(Value::String(name.clone()));
                        }
                        properties.insert(name, parameter["schema"].clone());
                    }
                    QueryRules {
                        kinds,
                        validator: compile(json!({
                            "type": "object", "properties": properties, "required": required
                        })),
                    }
                });
                let form_fields = operation["requestBody"]["content"]
                    ["application/x-www-form-urlencoded"]["schema"]
                    .as_object()
                    .map(|schema| {
                        let schema = resolve(&Value::Object(schema.clone()));
                        schema["properties"]
                            .as_object()
                            .unwrap_or(&empty)
                            .iter()
                            .map(|(name, field)| (name.clone(), scalar_kind(&resolve(field))))
                            .collect()
                    });
                let path_ids = operation["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "path" && p["schema"]["format"] == "uuid")
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect();
                operations.insert(
                    (method, path.clone()),
                    Operation {
                        body,
                        query,
                        path_ids,
                        form_fields,
                    },
                );
            }
            let segments = path
                .split('/')
                .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                .collect();
            paths.push((segments, methods));
        }
        Self { operations, paths }
    }

    /// Checks a JSON body against the operation's request schema.
    pub fn check_body(&self, method: &Method, pattern: &str, body: &Value) -> Vec<FieldError> {
        match self
            .operation(method, pattern)
            .and_then(|o| o.body.as_ref())
        {
            Some(validator) => field_errors(validator.iter_errors(body)),
            None => Vec::new(),
        }
    }

    /// Reads a query string as the operation declares it: each parameter as its type (an empty
    /// value counts as absent; an `array` one is repeated, each value one item), checked against
    /// its schema. An undeclared parameter is an error,
    /// so a misspelt filter is not silently ignored. Answers the parameters as a JSON object, or
    /// every invalid one.
    pub fn read_query(
        &self,
        method: &Method,
        pattern: &str,
        pairs: Vec<(String, String)>,
    ) -> Result<Value, Vec<FieldError>> {
        let Some(rules) = self
            .operation(method, pattern)
            .and_then(|o| o.query.as_ref())
        else {
            return Ok(Value::Object(Map::new()));
        };
        let mut object = Map::new();
        let mut errors = Vec::new();
        for (name, text) in pairs {
            let Some(kind) = rules.kinds.get(&name) else {
                errors.push(FieldError::new(name, "is not a parameter of this request"));
                continue;
            };
            if text.is_empty() {
                continue;
            }
            if kind.repeated {
                let list = object
                    .entry(name)
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = list {
                    if kind.comma_separated {
                        items.extend(text.split(',').map(|item| typed(kind.scalar, item.into())));
                    } else {
                        items.push(typed(kind.scalar, text));
                    }
                }
                continue;
            }
            if object.contains_key(&name) {
                errors.push(FieldError::new(name, "must be given once"));
                continue;
            }
            object.insert(name, typed(kind.scalar, text));
        }
        let object = Value::Object(object);
        // A query parameter is named as sent, not by the index of one of its repeats.
        errors.extend(
            field_errors(rules.validator.iter_errors(&object))
                .into_iter()
                .map(|mut error| {
                    if let Some((name, _)) = error.field.split_once('[') {
                        error.field = name.to_owned();
                    }
                    error
                }),
        );
        if errors.is_empty() {
            Ok(object)
        } else {
            Err(sorted(errors))
        }
    }

    /// Reads a form-encoded body as the operation's JSON body: each field as its type (an empty
    /// value counts as absent; a checkbox's `on` is `true`), then checked against the body's
    /// schema. An undeclared field is an error. Answers the body as a JSON object, and every
    /// invalid field (the object keeps what was sent, for a form shown again).
    pub fn read_form(
        &self,
        method: &Method,
        pattern: &str,
        pairs: Vec<(String, String)>,
    ) -> (Value, Vec<FieldError>) {
        let Some(fields) = self
            .operation(method, pattern)
            .and_then(|o| o.form_fields.as_ref())
        else {
            let refused = FieldError::new("body", "this request takes no form-encoded body");
            return (Value::Object(Map::new()), vec![refused]);
        };
        let mut object = Map::new();
        let mut errors = Vec::new();
        for (name, text) in pairs {
            let Some(kind) = fields.get(&name) else {
                errors.push(FieldError::new(name, "is not a field of this form"));
                continue;
            };
            if text.is_empty() {
                continue;
            }
            if object.contains_key(&name) {
                errors.push(FieldError::new(name, "must be given once"));
                continue;
            }
            let text = match (kind, text.as_str()) {
                (JsonType::Boolean, "on" | "yes") => "true".to_owned(),
                _ => text,
            };
            object.insert(name, typed(*kind, text));
        }
        let object = Value::Object(object);
        errors.extend(self.check_body(method, pattern, &object));
        (object, sorted(errors))
    }

    /// The path's record ids that are not UUIDs, each named, for a path the router matched.
    pub fn check_path_ids<'a>(
        &self,
        method: &Method,
        pattern: &str,
        parameters: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Vec<FieldError> {
        let ids = self
            .operation(method, pattern)
            .map(|o| o.path_ids.as_slice())
            .unwrap_or_default();
        parameters
            .filter(|(name, value)| {
                ids.iter().any(|id| id == name) && uuid::Uuid::parse_str(value).is_err()
            })
            .map(|(name, _)| FieldError::new(name, "must be a UUID"))
            .collect()
    }

    /// The methods the document declares for a path, when some template matches it.
    pub fn methods_for(&self, path: &str) -> Option<Vec<Method>> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut methods: Vec<Method> = Vec::new();
        for (template, declared) in &self.paths {
            let matches = template.len() == segments.len()
                && template.iter().zip(&segments).all(|(t, s)| match t {
                    Some(fixed) => fixed == s,
                    None => !s.is_empty(),
                });
            if matches {
                for method in declared {
                    if !methods.contains(method) {
                        methods.push(method.clone());
                    }
                }
            }
        }
        methods.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        (!methods.is_empty()).then_some(methods)
    }

    fn operation(&self, method: &Method, pattern: &str) -> Option<&Operation> {
        self.operations.get(&(method.clone(), pattern.to_owned()))
    }
}

/// The JSON type a query parameter's text is read as.
fn scalar_kind(schema: &Value) -> JsonType {
    let named = match &schema["type"] {
        Value::String(name) => Some(name.as_str()),
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .find(|n| *n != "null"),
        _ => None,
    };
    match named {
        Some("integer") => JsonType::Integer,
        Some("number") => JsonType::Number,
        Some("boolean") => JsonType::Boolean,
        _ => JsonType::String,
    }
}

/// A query value as its declared type; text that is not of it stays text, for the schema to
/// name the field.
fn typed(kind: JsonType, text: String) -> Value {
    let parsed = match kind {
        JsonType::Integer => text.parse::<i64>().ok().map(Value::from),
        JsonType::Number => text
            .parse::<f64>()
            .ok()
            .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number)),
        JsonType::Boolean => match text.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    };
    parsed.unwrap_or(Value::String(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validator_keeps_only_the_components_its_schema_reaches() {
        let components = json!({
            "Plan": {"properties": {"actions": {"items": {"$ref": "#/components/schemas/Action"}}}},
            "Action": {"oneOf": [{"$ref": "#/components/schemas/Status"}, {"$ref": "#/components/schemas/Plan"}]},
            "Status": {"enum": ["open"]},
            "Unrelated": {"type": "string"},
        });
        let components = components.as_object().unwrap();
        let reached = referred(&json!({"$ref": "#/components/schemas/Plan"}), components);
        let mut names: Vec<_> = reached.keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, ["Action", "Plan", "Status"]);
        assert_eq!(reached["Status"], components["Status"]);
        assert!(referred(&json!({"type": "integer"}), components).is_empty());
    }

    fn contract() -> Contract {
        Contract::new(&json!({
            "paths": {
                "/v1/things": {
                    "post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewThing"}}}}},
                    "get": {"parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                        {"name": "kind", "in": "query", "schema": {"$ref": "#/components/schemas/Kind"}},
                        {"name": "archived", "in": "query", "schema": {"type": "boolean"}},
                        {"name": "size", "in": "query", "schema": {"type": "array", "maxItems": 2, "items": {"$ref": "#/components/schemas/Kind"}}},
                        {"name": "id", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}}
                    ]}
                },
                "/v1/things/{id}": {"get": {}, "delete": {}}
            },
            "components": {"schemas": {
                "Kind": {"type": "string", "enum": ["big", "small"]},
                "Part": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 3}}},
                "NewThing": {
                    "type": "object", "additionalProperties": false,
                    "required": ["title", "kind"],
                    "properties": {
                        "title": {"type": "string", "pattern": "\\S", "maxLength": 5},
                        "kind": {"$ref": "#/components/schemas/Kind"},
                        "part": {"oneOf": [{"$ref": "#/components/schemas/Part"}, {"type": "null"}]},
                        "parts": {"type": "array", "items": {"$ref": "#/components/schemas/Part"}}
                    }
                }
            }}
        }))
    }

    fn fields(errors: Vec<FieldError>) -> Vec<(String, String)> {
        errors.into_iter().map(|e| (e.field, e.message)).collect()
    }

    #[test]
    fn names_every_invalid_field_of_a_body_at_once() {
        let body = json!({"title": "  ", "part": {"name": "long"}, "parts": [{}], "colour": 1});
        let errors = fields(contract().check_body(&Method::POST, "/v1/things", &body));
        assert_eq!(
            errors,
            vec![
                ("colour".into(), "is not a field of this request".into()),
                ("kind".into(), "is required".into()),
                ("part.name".into(), "must be at most 3 characters".into()),
                ("parts[0].name".into(), "is required".into()),
                ("title".into(), "must not be blank".into()),
            ]
        );
        let body = json!({"title": "ok", "kind": "huge", "part": null});
        let errors = fields(contract().check_body(&Method::POST, "/v1/things", &body));
        assert_eq!(
            errors,
            vec![("kind".into(), "must be one of: big, small".into())]
        );
        assert_eq!(
            fields(contract().check_body(&Method::POST, "/v1/things", &json!([]))),
            vec![("body".into(), "must be an object".into())]
        );
    }

    /// A query string of `/v1/things` as the contract reads it.
    fn read(query: &[(&str, &str)]) -> Result<Value, Vec<(String, String)>> {
        let pairs = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        contract()
            .read_query(&Method::GET, "/v1/things", pairs)
            .map_err(fields)
    }

    #[test]
    fn reads_query_parameters_as_their_types() {
        assert_eq!(
            read(&[("limit", "5"), ("archived", "true"), ("kind", "")]),
            Ok(json!({"limit": 5, "archived": true}))
        );
        assert_eq!(
            read(&[("colour", "red")]),
            Err(vec![(
                "colour".into(),
                "is not a parameter of this request".into()
            )])
        );
        assert_eq!(read(&[("limit", ""), ("kind", "")]), Ok(json!({})));
        assert_eq!(
            read(&[("limit", "abc"), ("kind", "huge"), ("archived", "yes")]),
            Err(vec![
                ("archived".into(), "must be true or false".into()),
                ("kind".into(), "must be one of: big, small".into()),
                ("limit".into(), "must be a whole number".into()),
            ])
        );
        assert_eq!(
            read(&[("limit", "0"), ("limit", "2")]),
            Err(vec![
                ("limit".into(), "must be given once".into()),
                ("limit".into(), "must be at least 1".into()),
            ])
        );
    }

    #[test]
    fn reads_a_repeated_parameter_as_a_list() {
        assert_eq!(
            read(&[
                ("size", "big"),
                ("id", "3"),
                ("size", "small"),
                ("size", "")
            ]),
            Ok(json!({"size": ["big", "small"], "id": [3]}))
        );
        assert_eq!(
            read(&[("size", "big"), ("size", "huge"), ("size", "small")]),
            Err(vec![
                ("size".into(), "must have at most 2 entries".into()),
                ("size".into(), "must be one of: big, small".into()),
            ])
        );
    }

    #[test]
    fn knows_the_methods_of_a_path() {
        let contract = contract();
        assert_eq!(
            contract.methods_for("/v1/things"),
            Some(vec![Method::GET, Method::POST])
        );
        assert_eq!(
            contract.methods_for("/v1/things/0190"),
            Some(vec![Method::DELETE, Method::GET])
        );
        assert_eq!(contract.methods_for("/v1/things//"), None);
        assert_eq!(contract.methods_for("/v1/nothing"), None);
    }
}
