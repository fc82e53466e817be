//! Every example the OpenAPI document gives is valid against the schema it illustrates, so an
//! integrator can send a request body's example as it stands and trust an answer's example to
//! show every field. The schemas are the ones the contract checks requests with.

use std::collections::BTreeSet;

use careloop::api::docs::document;
use serde_json::{json, Value};

/// An example in the document: where it is, and where the schema it must match is (both JSON
/// pointers into the document).
struct Example {
    at: String,
    schema: String,
    value: Value,
}

#[test]
fn every_example_validates_against_its_schema() {
    let document = document();
    let components = &document["components"];
    let mut examples = Vec::new();
    for (name, schema) in entries(&components["schemas"]) {
        schema_examples(
            schema,
            &format!("/components/schemas/{}", escape(name)),
            &mut examples,
        );
    }
    holder_examples(&document["paths"], "/paths", &mut examples);
    for (part, value) in entries(components).filter(|(part, _)| *part != "schemas") {
        holder_examples(
            value,
            &format!("/components/{}", escape(part)),
            &mut examples,
        );
    }
    // The walk above reads the document as OpenAPI; a blind search for `example` and
    // `examples` keys must find no example it missed.
    let mut everywhere = Vec::new();
    every_example(document, "", &mut everywhere);
    let walked: BTreeSet<&str> = examples.iter().map(|e| e.at.as_str()).collect();
    let missed: Vec<&str> = everywhere
        .iter()
        .map(String::as_str)
        .filter(|at| !walked.contains(at))
        .collect();
    assert!(missed.is_empty(), "the walk missed {missed:#?}");
    assert_eq!(walked.len(), everywhere.len());

    let mut failures = Vec::new();
    for example in &examples {
        // The schema by reference, beside everything it may refer to, as the contract does.
        // As a URI fragment: a path template's braces percent-encoded.
        let pointer = example.schema.replace('{', "%7B").replace('}', "%7D");
        let mut root = json!({"$ref": format!("#{pointer}"), "components": components});
        if example.schema.starts_with("/paths/") {
            root["paths"] = document["paths"].clone();
        }
        let validator = match jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
        {
            Ok(validator) => validator,
            Err(error) => {
                failures.push(format!(
                    "{}: its schema does not compile: {error}",
                    example.at
                ));
                continue;
            }
        };
        for error in validator.iter_errors(&example.value) {
            let field = error.instance_path().to_string();
            let field = if field.is_empty() {
                "/".to_owned()
            } else {
                field
            };
            failures.push(format!("{} at {field}: {error}", example.at));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems with the {} examples of the OpenAPI document:\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n")
    );
}

#[test]
fn every_request_body_has_an_example() {
    let document = document();
    let mut missing = Vec::new();
    for (path, item) in entries(&document["paths"]) {
        for (method, operation) in entries(item) {
            for (media_type, media) in entries(&operation["requestBody"]["content"]) {
                let schema = match media["schema"]["$ref"].as_str() {
                    Some(reference) => {
                        let name = reference.rsplit('/').next().unwrap_or_default();
                        &document["components"]["schemas"][name]
                    }
                    None => &media["schema"],
                };
                let given = [&media["example"], &schema["example"]]
                    .iter()
                    .any(|e| !e.is_null())
                    || media["examples"].as_object().is_some_and(|e| !e.is_empty())
                    || schema["examples"].as_array().is_some_and(|e| !e.is_empty());
                if !given {
                    missing.push(format!("{} {path} ({media_type})", method.to_uppercase()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "request bodies without an example:\n{}",
        missing.join("\n")
    );
}

/// The examples of a schema and of every schema inside it, each to match the schema it is in.
fn schema_examples(schema: &Value, pointer: &str, found: &mut Vec<Example>) {
    let Some(object) = schema.as_object() else {
        return;
    };
    if let Some(value) = object.get("example") {
        found.push(Example {
            at: format!("{pointer}/example"),
            schema: pointer.to_owned(),
            value: value.clone(),
        });
    }
    for (index, value) in object
        .get("examples")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        found.push(Example {
            at: format!("{pointer}/examples/{index}"),
            schema: pointer.to_owned(),
            value: value.clone(),
        });
    }
    for (keyword, value) in object {
        let here = format!("{pointer}/{}", escape(keyword));
        match keyword.as_str() {
            // Names to schemas.
            "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                for (name, inner) in entries(value) {
                    schema_examples(inner, &format!("{here}/{}", escape(name)), found);
                }
            }
            // Lists of schemas.
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                for (index, inner) in value.as_array().into_iter().flatten().enumerate() {
                    schema_examples(inner, &format!("{here}/{index}"), found);
                }
            }
            // One schema.
            "items"
            | "additionalProperties"
            | "not"
            | "contains"
            | "if"
            | "then"
            | "else"
            | "propertyNames"
            | "unevaluatedItems"
            | "unevaluatedProperties" => {
                schema_examples(value, &here, found);
            }
            _ => {}
        }
    }
}

/// The examples of the parameters, headers and media types under `value` (the objects with a
/// `schema`), and those inside their schemas.
fn holder_examples(value: &Value, pointer: &str, found: &mut Vec<Example>) {
    match value {
        Value::Object(object) => {
            if object.get("schema").is_some_and(Value::is_object) {
                let schema = format!("{pointer}/schema");
                if let Some(example) = object.get("example") {
                    found.push(Example {
                        at: format!("{pointer}/example"),
                        schema: schema.clone(),
                        value: example.clone(),
                    });
                }
                // Here `examples` names Example Objects, each with its `value`.
                for (name, example) in entries(&value["examples"]) {
                    if let Some(example) = example.get("value") {
                        found.push(Example {
                            at: format!("{pointer}/examples/{}", escape(name)),
                            schema: schema.clone(),
                            value: example.clone(),
                        });
                    }
                }
                schema_examples(&value["schema"], &schema, found);
            }
            for (key, inner) in object {
                if !matches!(key.as_str(), "schema" | "example" | "examples") {
                    holder_examples(inner, &format!("{pointer}/{}", escape(key)), found);
                }
            }
        }
        Value::Array(list) => {
            for (index, inner) in list.iter().enumerate() {
                holder_examples(inner, &format!("{pointer}/{index}"), found);
            }
        }
        _ => {}
    }
}

/// Where every example under `value` is, found by key alone: the value of each `example`, each
/// item or entry of each `examples`. Names of properties are not keywords, and an example's own
/// contents are not searched.
fn every_example(value: &Value, pointer: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (key, inner) in object {
                let here = format!("{pointer}/{}", escape(key));
                match key.as_str() {
                    "example" => found.push(here),
                    "examples" if inner.is_array() => {
                        let count = inner.as_array().map_or(0, Vec::len);
                        found.extend((0..count).map(|index| format!("{here}/{index}")));
                    }
                    "examples" => {
                        found.extend(
                            entries(inner).map(|(name, _)| format!("{here}/{}", escape(name))),
                        );
                    }
                    "properties" | "patternProperties" | "$defs" => {
                        for (name, schema) in entries(inner) {
                            every_example(schema, &format!("{here}/{}", escape(name)), found);
                        }
                    }
                    _ => every_example(inner, &here, found),
                }
            }
        }
        Value::Array(list) => {
            for (index, inner) in list.iter().enumerate() {
                every_example(inner, &format!("{pointer}/{index}"), found);
            }
        }
        _ => {}
    }
}

/// The members of a JSON object (none for anything else).
fn entries(value: &Value) -> impl Iterator<Item = (&String, &Value)> {
    value.as_object().into_iter().flatten()
}

/// A name as a JSON pointer segment.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}
