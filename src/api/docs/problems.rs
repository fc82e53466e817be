//! The problems each operation can answer, derived from what the operation takes (a body, a
//! query, path ids, `If-Match`, `Idempotency-Key`, a token or a receipt) and, for the 409s and
//! 410s, from the one table of which operation can meet which conflict with what is stored. Each error status is
//! documented with exactly the codes it carries there, so a client branches on what can happen.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::error::PROBLEM_CODES;

/// The 409 (and 410) codes each operation can answer, by operationId. `conflict` (a lost race for
/// a unique value, retried once by the service) is possible wherever a unique value is written:
/// an idempotency key, an `external_ref`, a score's version.
const CONFLICTS: &[(&str, &[&str])] = &[
    ("create_concern", &[DUPLICATE, "conflict"]),
    ("update_concern", &[SET_ONCE, DUPLICATE, EDITED]),
    ("transition_concern", &["illegal_transition", EDITED]),
    ("add_concern_update", &["conflict"]),
    ("create_evidence", &[DUPLICATE, "conflict"]),
    (
        "update_evidence",
        &["archived", SET_ONCE, DUPLICATE, EDITED],
    ),
    ("archive_evidence", &[EDITED]),
    ("create_learning_event", &[DUPLICATE, "conflict"]),
    ("update_learning_event", &[SET_ONCE, DUPLICATE, EDITED]),
    ("create_plan", &[DUPLICATE, "conflict"]),
    ("update_plan", &[SET_ONCE, DUPLICATE, EDITED]),
    (
        "transition_plan",
        &["illegal_transition", "open_actions", EDITED],
    ),
    (
        "create_plan_action",
        &["plan_closed", DUPLICATE, "conflict"],
    ),
    (
        "update_plan_action",
        &["plan_closed", SET_ONCE, DUPLICATE, EDITED],
    ),
    (
        "transition_plan_action",
        &["illegal_transition", "plan_closed", EDITED],
    ),
    ("create_review", &["plan_not_reviewable", "conflict"]),
    ("create_location", &[DUPLICATE, "conflict"]),
    ("update_location", &[SET_ONCE, DUPLICATE, EDITED]),
    ("update_organisation", &[EDITED]),
    ("create_recognition", &[DUPLICATE, "conflict"]),
    ("set_statement_score", &["conflict"]),
    ("record_score", &["conflict"]),
    ("set_statement_score_alias", &["conflict"]),
    ("add_receipt_message", &["conflict"]),
    ("list_changes", &["cursor_expired"]),
    ("rotate_api_client_secret", &["revoked"]),
    (
        "record_governance_review",
        &["already_reviewed", "conflict"],
    ),
    ("publish_plan_action", &["not_done", EDITED]),
    ("unpublish_plan_action", &[EDITED]),
    ("verify_evidence", &[EDITED]),
    ("decide_recognition", &[EDITED]),
    ("update_intake_point", &[EDITED]),
    ("rotate_intake_point_slug", &[EDITED]),
];

/// Operations that never use the database, so are never 503 `database_unavailable`.
const WITHOUT_DATABASE: &[&str] = &["check_liveness", "get_jwks", "get_dashboard"];

/// Operations that exist only in development mode, and are 404 anywhere else.
const DEVELOPMENT_ONLY: &[&str] = &["issue_dashboard_token"];

/// A change that breaks the record's rules as stored: among them, another `external_ref` on a
/// record that has one.
const SET_ONCE: &str = "conflicts_with_record";
const DUPLICATE: &str = "duplicate_external_ref";
const EDITED: &str = "edit_conflict";

/// The conflicts an operation can meet (none for one not in the table).
pub fn conflicts_of(operation_id: &str) -> &'static [&'static str] {
    CONFLICTS
        .iter()
        .find(|(id, _)| *id == operation_id)
        .map_or(&[], |(_, codes)| codes)
}

/// Adds the operation's error responses, each described by the codes it carries there.
pub fn document(operation: &mut Value) {
    let parameters = operation["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let takes = |place: &str| parameters.iter().any(|p| p["in"] == place);
    let header = |name: &str| parameters.iter().any(|p| p["name"] == name);
    let id = operation["operationId"].as_str().unwrap_or_default();
    let server_errors: &[&str] = if WITHOUT_DATABASE.contains(&id) {
        &["internal_error"]
    } else {
        &["internal_error", "database_unavailable"]
    };
    // A form-encoded body is the token endpoint's, which answers OAuth 2.0 errors and lists
    // them itself, all but the server's own.
    if operation.get("requestBody").is_some()
        && !operation["requestBody"]["content"]["application/json"].is_object()
    {
        return describe(operation, server_errors, false);
    }
    let body = operation.get("requestBody").is_some();
    // The public front door: no token; an unknown or closed door is 404, submissions are
    // limited, and a page's errors come as pages too.
    let door = operation["tags"]
        .as_array()
        .is_some_and(|tags| tags.contains(&json!("public")));
    let receipt = operation["security"] == json!([{"receipt": []}]);
    let bearer = operation.get("security").is_none();
    let if_match = header("If-Match");
    let keyed = header("Idempotency-Key");
    let mut codes: Vec<&str> = Vec::new();
    if body {
        codes.push("unreadable_body");
    }
    if bearer || receipt {
        codes.push("unauthorized");
    }
    if bearer {
        codes.push("forbidden");
    }
    if takes("path") || receipt || door || DEVELOPMENT_ONLY.contains(&id) {
        codes.push("not_found");
    }
    codes.extend(conflicts_of(
        operation["operationId"].as_str().unwrap_or_default(),
    ));
    if if_match {
        codes.push("precondition_failed");
    }
    if body {
        codes.extend(["payload_too_large", "unsupported_media_type"]);
    }
    if body || takes("path") || takes("query") || if_match || keyed {
        codes.push("validation_failed");
    }
    if keyed {
        codes.push("idempotency_key_reused");
    }
    if receipt || bearer || (door && body) {
        codes.push("too_many_requests");
    }
    codes.extend(server_errors);
    // A door's page answers a browser's errors with a page (a form shown again with its errors,
    // a page saying the door is closed, to wait, or to try again soon); an app asking for JSON
    // gets the problem.
    let pages = door && operation["responses"]["200"]["content"]["text/html"].is_object();
    describe(operation, &codes, pages);
}

/// Documents each status of `codes`, with what each code means there.
fn describe(operation: &mut Value, codes: &[&str], pages: bool) {
    let mut by_status: BTreeMap<u16, Vec<String>> = BTreeMap::new();
    for code in codes {
        let (_, status, meaning) = PROBLEM_CODES
            .iter()
            .find(|(known, _, _)| known == code)
            .expect("every documented problem code is in PROBLEM_CODES");
        by_status
            .entry(*status)
            .or_default()
            .push(format!("- `{code}`: {meaning}"));
    }
    for (status, lines) in by_status {
        let mut content = json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
        if pages && (status < 500 || status == 503) && status != 415 {
            content["text/html"] = json!({"schema": {"type": "string"}});
        }
        operation["responses"][status.to_string()] = json!({
            "description": lines.join("\n"),
            "content": content
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_in_the_table_exists() {
        let document = crate::api::docs::document();
        let ids: Vec<&str> = document["paths"]
            .as_object()
            .into_iter()
            .flat_map(|paths| paths.values())
            .filter_map(Value::as_object)
            .flat_map(|item| item.values())
            .filter_map(|operation| operation["operationId"].as_str())
            .collect();
        for (operation, _) in CONFLICTS {
            assert!(ids.contains(operation), "{operation} is not an operation");
        }
    }

    #[test]
    fn every_conflict_code_is_a_409_or_410() {
        for (operation, codes) in CONFLICTS {
            for code in *codes {
                assert!(
                    PROBLEM_CODES
                        .iter()
                        .any(|(c, s, _)| c == code && matches!(*s, 409 | 410)),
                    "{operation}: {code} is not a 409 or 410 in PROBLEM_CODES"
                );
            }
        }
    }
}
