//! What every operation shares, written into the generated document in one place, as the code
//! applies it in one place: response headers, each operation's problems, empty query values,
//! required fields of answers, page items by reference, and the list of problem codes.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::error::PROBLEM_CODES;
use crate::http::deprecation::{DEPRECATED, SINCE, SUNSET};
use crate::http::idempotency::ONE_TIME_SECRETS;

/// What careloop posts to webhook endpoints (OpenAPI 3.1 `webhooks`): the feed's changes and
/// the test `ping`, each with the Standard Webhooks headers.
fn describe_webhooks(document: &mut Value) {
    let header = |name: &str, description: &str| {
        json!({"name": name, "in": "header", "required": true, "description": description,
               "schema": {"type": "string"}})
    };
    let headers = json!([
        header("webhook-id", "The message's id (the delivery's id), the same on every attempt: ignore a message whose id you have seen."),
        header("webhook-timestamp", "When this attempt was signed, in Unix seconds: refuse one far from your clock (Standard Webhooks suggests 5 minutes)."),
        header("webhook-signature", "Space-separated `v1,<base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{body}\">`, one per secret in use (two for a day after a rotation), keyed with the secret's bytes after `whsec_` (base64-decoded). Accept the message if any one matches."),
    ]);
    let event = |summary: &str, description: &str, schema: &str| {
        json!({"post": {
            "summary": summary,
            "description": description,
            "operationId": format!("receive_{}", schema.to_lowercase()),
            "tags": ["webhooks"],
            "parameters": headers.clone(),
            "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"$ref": format!("#/components/schemas/{schema}")}}}},
            "responses": {"2XX": {"description": "Received. Any other answer, or none within 10 seconds, is a failed attempt: careloop tries again after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (each ±20%), and disables an endpoint that has failed every attempt for `CARELOOP_WEBHOOK_DISABLE_AFTER_HOURS`."}}
        }})
    };
    document["webhooks"] = json!({
        "change": event(
            "A change the endpoint subscribed to",
            "A committed change of the feed that the endpoint's `event_types` name and its `scope` may read, with the record as that scope reads it. Sent at least once, in the feed's order as far as retries allow.",
            "ChangeEvent",
        ),
        "ping": event(
            "A test message",
            "What `POST /v1/webhooks/{webhook_id}/test` sends.",
            "PingEvent",
        ),
    });
}

/// Every list also answers `Accept: text/csv`: the whole filtered list as CSV, its header the
/// record's fields as an import reads them.
fn describe_csv_lists(document: &mut Value) {
    let schemas = document["components"]["schemas"].clone();
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(answer) = item
            .get_mut("get")
            .and_then(|get| get.get_mut("responses"))
            .and_then(|responses| responses.get_mut("200"))
        else {
            continue;
        };
        let Some(page) = answer["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .and_then(|r| r.rsplit('/').next())
            .and_then(|name| name.strip_prefix("Paginated_"))
            .map(str::to_owned)
        else {
            continue;
        };
        let header: Vec<String> = crate::api::imports::columns::of_in(&schemas, &page)
            .into_iter()
            .map(|column| column.name)
            .collect();
        answer["content"]["text/csv"] = json!({
            "schema": {"type": "string"},
            "example": format!("{}\n", header.join(",")),
        });
        let description = answer["description"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        answer["description"] = json!(format!(
            "{description}. With `Accept: text/csv`: the whole list its filters select, from the \
             cursor on (no page limit), as CSV with a header row of the record's fields as \
             `POST /v1/imports` reads them (nested fields dotted, lists of values joined by `|`, \
             lists of objects as JSON; cells that begin `=`, `+`, `-` or `@` start with `'`)"
        ));
    }
}

/// A request body that is a file (an import's CSV or NDJSON) and an answer that is one (the
/// inspection pack's zip) are binary strings, so a generated client passes and returns them as
/// files. (A list's CSV answer stays text.)
fn describe_files(document: &mut Value) {
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let bodies = operation
            .get_mut("requestBody")
            .and_then(|body| body.get_mut("content"))
            .and_then(Value::as_object_mut);
        if let Some(bodies) = bodies.filter(|bodies| bodies.contains_key("text/csv")) {
            // A file is never empty (422): its JSON form has a row at least.
            for (media, content) in bodies.iter_mut() {
                if media == "application/json" {
                    content["schema"]["minItems"] = json!(1);
                } else {
                    content["schema"] =
                        json!({"type": "string", "format": "binary", "minLength": 1});
                }
            }
        }
        let answers = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|responses| responses.values_mut())
            .filter_map(|response| response.get_mut("content").and_then(Value::as_object_mut));
        for content in answers {
            if let Some(zip) = content.get_mut("application/zip") {
                zip["schema"] = json!({"type": "string", "format": "binary"});
            }
        }
    }
}

/// Completes the generated document.
pub fn apply(document: &mut Value) {
    describe_webhooks(document);
    describe_csv_lists(document);
    describe_files(document);
    refer_to_page_items(document);
    split_shared_objects(document);
    describe_merge_patches(document);
    require_every_answered_field(document);
    open_to_evolution(document);
    describe_problem_codes(document);
    let headers = &mut document["components"]["headers"];
    *headers = json!({
        "RequestId": header("The request's id: the client's `x-request-id` when it sent one, else a new one. Quote it when reporting a problem.", json!({"type": "string", "maxLength": 128})),
        "Location": header("Where the new record is read.", json!({"type": "string"})),
        "ETag": header("The record's version, as a strong validator: send it back in `If-Match` to update only what you read.", json!({"type": "string", "pattern": "^\"[0-9]+\"$"})),
        "RetryAfter": header("Seconds to wait before trying again.", json!({"type": "integer", "minimum": 0})),
        "WwwAuthenticate": header("`Bearer realm=\"careloop\"` with the token error; `Receipt realm=\"careloop\"` on the receipt endpoints; `Basic realm=\"careloop\"` at the token endpoint.", json!({"type": "string"})),
        "CacheControl": header("`no-store`: the answer holds a secret (a receipt code, a client secret, a token), or what a receipt code opens; no browser or proxy may keep it.", json!({"type": "string", "enum": ["no-store"]})),
        "RateLimitPolicy": header("The caller's quota (IETF httpapi RateLimit headers draft): `\"default\";q=<requests>;w=60`, per token subject and minute, counted on each node.", json!({"type": "string"})),
        "RateLimit": header("Where the caller stands: `\"default\";r=<requests left>;t=<seconds until the window resets>`.", json!({"type": "string"})),
        "Deprecation": header("When this operation was deprecated, as `@` and a Unix time (RFC 9745).", json!({"type": "string", "pattern": "^@[0-9]+$"})),
        "Sunset": header("The HTTP date after which this operation may be gone (RFC 8594).", json!({"type": "string"})),
        "Link": header("`<successor path>; rel=\"successor-version\"`: the operation to use instead.", json!({"type": "string"})),
        "IdempotentReplayed": header("`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.", json!({"type": "string", "enum": ["true"]})),
    });
    let schemas = document["components"]["schemas"].clone();
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if let Some(parameters) = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
            {
                // The contract reads an empty query value as absent (so a required one may not
                // be empty), and a list parameter repeated (`status=raised&status=acknowledged`)
                // unless it says it is comma-separated (`explode: false`).
                for parameter in parameters.iter_mut().filter(|p| p["in"] == "query") {
                    if parameter["required"] != true {
                        parameter["allowEmptyValue"] = Value::Bool(true);
                    }
                    if parameter["schema"]["type"] == "array" && parameter["explode"] != false {
                        parameter["style"] = json!("form");
                        parameter["explode"] = Value::Bool(true);
                    }
                }
            }
            // A token-free operation says so with `security(())`, which utoipa writes as `[{}]`
            // ("any or none"); `[]` is OpenAPI's way to lift the document's bearer requirement.
            if operation.get("security") == Some(&json!([{}])) {
                operation["security"] = json!([]);
            }
            super::problems::document(operation);
            let deprecated = DEPRECATED
                .iter()
                .find(|d| d.path == path && d.method.eq_ignore_ascii_case(method));
            if let Some(deprecated) = deprecated {
                operation["deprecated"] = Value::Bool(true);
                let note = format!(
                    "\n\n**Deprecated** since {SINCE}: use `{} {}`. Kept until the next minor \
                     version, and at least until {SUNSET}; every answer carries `Deprecation`, \
                     `Sunset` and a `Link` to the successor.",
                    deprecated.method, deprecated.successor
                );
                let description = operation["description"].as_str().unwrap_or_default();
                operation["description"] = Value::String(format!("{description}{note}"));
            }
            let by_receipt = operation["security"] == json!([{"receipt": []}]);
            let by_bearer = operation.get("security").is_none();
            let keyed = operation["parameters"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["name"] == "Idempotency-Key"));
            let Some(responses) = operation["responses"].as_object_mut() else {
                continue;
            };
            for (status, response) in responses.iter_mut() {
                let mut names = vec![("x-request-id", "RequestId")];
                let success = status.starts_with('2');
                match status.as_str() {
                    "201" => names.push(("Location", "Location")),
                    "401" => names.push(("WWW-Authenticate", "WwwAuthenticate")),
                    "429" | "503" => names.push(("Retry-After", "RetryAfter")),
                    _ => {}
                }
                if success
                    && has_version(&response["content"]["application/json"]["schema"], &schemas)
                {
                    names.push(("ETag", "ETag"));
                }
                let schema = resolved(&response["content"]["application/json"]["schema"], &schemas);
                let holds_secret = ONE_TIME_SECRETS
                    .iter()
                    .chain(&["access_token"])
                    .any(|field| schema["properties"].get(*field).is_some());
                if success && (by_receipt || holds_secret) {
                    names.push(("Cache-Control", "CacheControl"));
                }
                // Counted once the token is verified: every answer but a refused token's.
                if by_bearer && status != "401" {
                    names.extend([
                        ("RateLimit-Policy", "RateLimitPolicy"),
                        ("RateLimit", "RateLimit"),
                    ]);
                }
                if deprecated.is_some() {
                    names.extend([
                        ("Deprecation", "Deprecation"),
                        ("Sunset", "Sunset"),
                        ("Link", "Link"),
                    ]);
                }
                if success && keyed && method == "post" {
                    names.push(("Idempotent-Replayed", "IdempotentReplayed"));
                }
                let headers: Map<String, Value> = names
                    .into_iter()
                    .map(|(name, component)| {
                        (
                            name.to_owned(),
                            json!({"$ref": format!("#/components/headers/{component}")}),
                        )
                    })
                    .collect();
                response["headers"] = Value::Object(headers);
            }
        }
    }
}

fn header(description: &str, schema: Value) -> Value {
    json!({"description": description, "schema": schema})
}

/// Whether an answer's schema is a record with a `version` (sent as its `ETag`).
fn has_version(schema: &Value, schemas: &Value) -> bool {
    resolved(schema, schemas)["properties"]
        .get("version")
        .is_some()
}

/// A schema as written, or the component among `schemas` its `$ref` names.
pub fn resolved<'a>(schema: &'a Value, schemas: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => &schemas[component_name(reference)],
        None => schema,
    }
}

/// The name of the component schema a `$ref` points to.
pub fn component_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or_default()
}

/// A PATCH body is a JSON Merge Patch (RFC 7396): its schema says so and names the fields `null`
/// may clear (those typed nullable); `null` on any other is refused by the schema itself.
fn describe_merge_patches(document: &mut Value) {
    let bodies: Vec<String> = document["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(|item| {
            item["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
        })
        .map(|reference| component_name(reference).to_owned())
        .collect();
    for name in bodies {
        let schema = &mut document["components"]["schemas"][&name];
        let clearable: Vec<String> = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, field)| is_nullable(field))
            .map(|(field, _)| format!("`{field}`"))
            .collect();
        let rule =
            format!(
            "A JSON Merge Patch (RFC 7396): a field left out is unchanged, a field sent is set. \
             `null` clears a field that may be cleared ({}); on any other field it is a 422 \
             naming the field.",
            if clearable.is_empty() { "none here".to_owned() } else { clearable.join(", ") }
        );
        let description = match schema["description"].as_str() {
            Some(own) => format!("{own}\n\n{rule}"),
            None => rule,
        };
        schema["description"] = Value::String(description);
    }
}

/// Whether a property's schema admits `null` (`type: [.., "null"]` or a `oneOf` with a null branch).
pub fn is_nullable(field: &Value) -> bool {
    let null = json!("null");
    field["type"].as_array().is_some_and(|t| t.contains(&null))
        || field["oneOf"]
            .as_array()
            .is_some_and(|branches| branches.iter().any(|b| b["type"] == null))
}

/// utoipa writes each page's item schema out again; a page refers to its item instead, so a
/// generated client has one type per record.
fn refer_to_page_items(document: &mut Value) {
    let Some(schemas) = document["components"]["schemas"].as_object_mut() else {
        return;
    };
    let names: BTreeSet<String> = schemas.keys().cloned().collect();
    for (name, schema) in schemas.iter_mut() {
        if let Some(item) = name
            .strip_prefix("Paginated_")
            .filter(|i| names.contains(*i))
        {
            schema["properties"]["items"]["items"] =
                json!({"$ref": format!("#/components/schemas/{item}")});
        }
    }
}

/// The schemas requests use and those answers use, by name.
fn usage(document: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut requested = BTreeSet::new();
    let mut answered = BTreeSet::new();
    let schemas = &document["components"]["schemas"];
    if let Some(paths) = document["paths"].as_object() {
        for operation in paths
            .values()
            .filter_map(Value::as_object)
            .flat_map(|i| i.values())
        {
            reach(&operation["requestBody"], schemas, &mut requested);
            if let Some(parameters) = operation["parameters"].as_array() {
                parameters
                    .iter()
                    .for_each(|p| reach(p, schemas, &mut requested));
            }
            reach(&operation["responses"], schemas, &mut answered);
        }
    }
    (requested, answered)
}

/// careloop sends every field of an answer, `null` when it has no value, so each field of a
/// schema only answers use is `required` (nullable where it can be null). Schemas that requests
/// use too keep what their type says.
fn require_every_answered_field(document: &mut Value) {
    let (requested, answered) = usage(document);
    let Some(schemas) = document["components"]["schemas"].as_object_mut() else {
        return;
    };
    // A problem's extension members come only with the problems they belong to.
    for name in answered.difference(&requested).filter(|n| *n != "Problem") {
        let schema = &mut schemas[name];
        if let Some(properties) = schema["properties"].as_object() {
            let all: Vec<Value> = properties.keys().cloned().map(Value::String).collect();
            schema["required"] = Value::Array(all);
        }
    }
}

/// An object that requests and answers both use is two schemas: `{Name}` as answered, which may
/// gain fields, and `{Name}Input` as requested, which takes no field it does not name. So a
/// request stays strict while an answer stays open to evolution.
fn split_shared_objects(document: &mut Value) {
    let (requested, answered) = usage(document);
    let schemas = document["components"]["schemas"].clone();
    let shared: BTreeSet<String> = requested
        .intersection(&answered)
        .filter(|name| schemas[name.as_str()]["additionalProperties"] == false)
        .cloned()
        .collect();
    let to_input = |value: &mut Value| refer_to_inputs(value, &shared);
    for name in &shared {
        let mut input = schemas[name.as_str()].clone();
        to_input(&mut input);
        document["components"]["schemas"][format!("{name}Input")] = input;
    }
    for name in requested.difference(&answered) {
        to_input(&mut document["components"]["schemas"][name.as_str()]);
    }
    if let Some(paths) = document["paths"].as_object_mut() {
        for operation in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.values_mut())
        {
            for part in ["requestBody", "parameters"] {
                if let Some(part) = operation.get_mut(part) {
                    to_input(part);
                }
            }
        }
    }
}

/// Points every reference to one of `shared` at its `Input` schema.
fn refer_to_inputs(value: &mut Value, shared: &BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref") {
                if shared.contains(component_name(reference)) {
                    reference.push_str("Input");
                }
            }
            map.values_mut().for_each(|v| refer_to_inputs(v, shared));
        }
        Value::Array(list) => list.iter_mut().for_each(|v| refer_to_inputs(v, shared)),
        _ => {}
    }
}

/// Answers may gain fields and enum values (README, "Evolution"): no schema an answer uses
/// forbids unknown fields, and every enum tells clients to accept values it does not list.
/// Requests stay strict: every object a request uses forbids fields it does not name.
fn open_to_evolution(document: &mut Value) {
    let (_, answered) = usage(document);
    let Some(schemas) = document["components"]["schemas"].as_object_mut() else {
        return;
    };
    for (name, schema) in schemas.iter_mut() {
        if answered.contains(name) && schema["additionalProperties"] == false {
            if let Some(schema) = schema.as_object_mut() {
                schema.remove("additionalProperties");
            }
        }
        if schema.get("enum").is_some() {
            let own = schema["description"]
                .as_str()
                .unwrap_or_default()
                .trim_end();
            let rule = "Values may be added in a later version: a client must accept one it \
                        does not know (show it as it is, or treat it as \"other\"), as it \
                        ignores a field it does not know.";
            schema["description"] = Value::String(if own.is_empty() {
                rule.to_owned()
            } else {
                format!("{own}\n\n{rule}")
            });
        }
    }
}

/// Every schema `value` refers to, directly or through others.
fn reach(value: &Value, schemas: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                let name = component_name(reference).to_owned();
                if schemas.get(&name).is_some() && found.insert(name.clone()) {
                    reach(&schemas[&name], schemas, found);
                }
            }
            map.values().for_each(|v| reach(v, schemas, found));
        }
        Value::Array(list) => list.iter().for_each(|v| reach(v, schemas, found)),
        _ => {}
    }
}

/// The `code` of a problem: an extensible set, each listed with what it means.
fn describe_problem_codes(document: &mut Value) {
    let list: Vec<String> = PROBLEM_CODES
        .iter()
        .map(|(code, status, meaning)| format!("- `{code}` ({status}): {meaning}"))
        .collect();
    document["components"]["schemas"]["Problem"]["properties"]["code"] = json!({
        "type": "string",
        "description": format!(
            "A stable code to branch on. New codes may be added; treat an unknown one by its \
             `status`. The codes today:\n{}",
            list.join("\n")
        ),
        "examples": PROBLEM_CODES.iter().map(|(code, _, _)| *code).collect::<Vec<_>>(),
    });
}
