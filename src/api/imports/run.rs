//! Running an import: every row through the single-record endpoint's schema, rules,
//! permissions and store, each in its own savepoint, the whole file in one transaction that a
//! dry run, or a bad row of an all-or-nothing file, rolls back. The HTTP endpoint and the
//! command line both run this.

use std::collections::HashSet;
use std::io::Read;
use std::sync::LazyLock;

use actix_web::http::Method;
use diesel::Connection;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::columns::{self, Cell, Column};
use super::dto::{Import, ImportReport, RowError};
use super::kinds::{self, Importable};
use super::rows::{self, FileColumns};
use crate::api::changes::store::record_as;
use crate::api::contract::contract;
use crate::api::docs::document;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::domain::change::ChangeType;
use crate::domain::framework::Catalogue;
use crate::domain::ids::RecordId;
use crate::domain::import::{
    stores, DateFormat, ImportFormat, ImportKind, ImportMode, OnError, RowOutcome,
};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::typed;

/// How to run an import.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub kind: ImportKind,
    pub mode: ImportMode,
    pub on_error: OnError,
    pub format: ImportFormat,
    pub date_format: DateFormat,
}

/// Runs an import inside the caller's transaction and keeps it as a record. `progress` hears
/// the count of rows read.
pub fn import(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    principal: &Principal,
    options: &Options,
    body: impl Read,
    progress: &mut dyn FnMut(u64),
) -> ApiResult<Import> {
    let report = run(conn, catalogue, principal, options, body, progress)?;
    super::store::record(conn, principal, options, report)
}

fn run(
    conn: &mut DbConnection,
    catalogue: &Catalogue,
    principal: &Principal,
    options: &Options,
    body: impl Read,
    progress: &mut dyn FnMut(u64),
) -> ApiResult<ImportReport> {
    let context = Context {
        catalogue,
        principal,
    };
    match options.kind {
        ImportKind::Concerns => {
            run_kind::<kinds::Concerns>(conn, &context, options, body, progress)
        }
        ImportKind::LearningEvents => {
            run_kind::<kinds::LearningEvents>(conn, &context, options, body, progress)
        }
        ImportKind::Evidence => {
            run_kind::<kinds::Evidence>(conn, &context, options, body, progress)
        }
        ImportKind::ImprovementPlans => {
            run_kind::<kinds::ImprovementPlans>(conn, &context, options, body, progress)
        }
        ImportKind::Recognitions => {
            run_kind::<kinds::Recognitions>(conn, &context, options, body, progress)
        }
        ImportKind::Locations => {
            run_kind::<kinds::Locations>(conn, &context, options, body, progress)
        }
    }
}

struct Context<'a> {
    catalogue: &'a Catalogue,
    principal: &'a Principal,
}

/// The field of a plan's row that holds its actions (an import-only field: a JSON list of
/// what `POST …/actions` takes).
const ACTIONS: &str = "actions";

/// A kind's fields as the document gives them.
struct Shape {
    columns: FileColumns,
    /// Top-level fields only the record as read has (an export's `version`, `created_at`).
    read_only: HashSet<String>,
    /// Top-level fields a `PATCH` may change.
    patchable: HashSet<String>,
}

impl Shape {
    fn of<K: Importable>() -> Self {
        let schemas = &document()["components"]["schemas"];
        let names = |schema: &Value| -> HashSet<String> {
            schema["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default()
        };
        let writable_names = names(&schemas[K::NEW_SCHEMA]);
        let mut read_only = names(&schemas[K::RECORD_SCHEMA]);
        read_only.retain(|name| !writable_names.contains(name));
        let patch_schema = &document()["paths"][K::UPDATE_PATH]["patch"]["requestBody"]["content"]
            ["application/json"]["schema"];
        let patchable = names(crate::api::docs::conventions::resolved(
            patch_schema,
            schemas,
        ));
        let mut writable = columns::of(K::NEW_SCHEMA);
        if K::RECORD == ChangeType::ImprovementPlan {
            read_only.remove(ACTIONS);
            writable.push(Column {
                name: ACTIONS.to_owned(),
                cell: Cell::Json,
            });
        }
        let read_only_columns = columns::of(K::RECORD_SCHEMA)
            .into_iter()
            .filter(|c| !writable.iter().any(|w| w.name == c.name))
            .collect();
        Self {
            columns: FileColumns {
                writable,
                read_only: read_only_columns,
            },
            read_only,
            patchable,
        }
    }
}

/// What a kind's file may hold: for the `import` documentation and exports.
pub fn file_columns(kind: ImportKind) -> Vec<Column> {
    match kind {
        ImportKind::Concerns => Shape::of::<kinds::Concerns>(),
        ImportKind::LearningEvents => Shape::of::<kinds::LearningEvents>(),
        ImportKind::Evidence => Shape::of::<kinds::Evidence>(),
        ImportKind::ImprovementPlans => Shape::of::<kinds::ImprovementPlans>(),
        ImportKind::Recognitions => Shape::of::<kinds::Recognitions>(),
        ImportKind::Locations => Shape::of::<kinds::Locations>(),
    }
    .columns
    .writable
}

/// A row's problems are the report's; anything else (the database failing) stops the import.
fn row_errors(error: ApiError) -> ApiResult<Vec<FieldError>> {
    Ok(match error {
        ApiError::Validation(errors) | ApiError::ConflictsWithRecord(errors) => errors,
        ApiError::Internal(_) | ApiError::TooManyRequests { .. } => return Err(error),
        other => vec![FieldError::new("", other.detail())],
    })
}

/// Rolls the savepoint of the whole file back: a dry run, or a bad row of an all-or-nothing
/// file.
enum Abort {
    Discard,
    Failed(ApiError),
}

impl From<diesel::result::Error> for Abort {
    fn from(error: diesel::result::Error) -> Self {
        Self::Failed(error.into())
    }
}

fn run_kind<K: Importable>(
    conn: &mut DbConnection,
    context: &Context,
    options: &Options,
    body: impl Read,
    progress: &mut dyn FnMut(u64),
) -> ApiResult<ImportReport> {
    context.principal.require(K::CREATE)?;
    let shape = &Shape::of::<K>();
    let mut report = ImportReport::default();
    let done = conn.transaction::<_, Abort, _>(|conn| {
        rows::read(
            options.format,
            body,
            &shape.columns,
            options.date_format,
            &mut |row| {
                report.rows += 1;
                progress(report.rows);
                let outcome = match row.fields {
                    Err(errors) => Err(errors),
                    Ok(fields) => match conn.transaction::<_, ApiError, _>(|conn| {
                        import_row::<K>(conn, context, shape, fields)
                    }) {
                        Ok(outcome) => Ok(outcome),
                        Err(error) => Err(row_errors(error)?),
                    },
                };
                match outcome {
                    Ok(RowOutcome::Created) => report.created += 1,
                    Ok(RowOutcome::Updated) => report.updated += 1,
                    Ok(RowOutcome::Unchanged) => report.unchanged += 1,
                    Err(_) => report.failed += 1,
                }
                if let Err(errors) = outcome {
                    report.errors.extend(errors.into_iter().map(|e| RowError {
                        row: row.line,
                        field: (!e.field.is_empty()).then_some(e.field),
                        message: e.message,
                    }));
                }
                Ok(())
            },
        )
        .map_err(Abort::Failed)?;
        if stores(options.mode, options.on_error, report.failed) {
            Ok(())
        } else {
            Err(Abort::Discard)
        }
    });
    match done {
        Ok(()) | Err(Abort::Discard) => Ok(report),
        Err(Abort::Failed(error)) => Err(error),
    }
}

fn import_row<K: Importable>(
    conn: &mut DbConnection,
    context: &Context,
    shape: &Shape,
    mut fields: Map<String, Value>,
) -> ApiResult<RowOutcome> {
    let actions = if K::RECORD == ChangeType::ImprovementPlan {
        fields.remove(ACTIONS)
    } else {
        None
    };
    fields.retain(|name, _| name == "id" || !shape.read_only.contains(name));
    let found = |conn: &mut DbConnection, id: Option<Uuid>, new: &K::New| match id {
        Some(id) => record_as(conn, context.principal, K::RECORD, RecordId::from(id))?
            .map(Some)
            .ok_or_else(|| ApiError::field("id", "names no record you may see")),
        None => match K::external_ref(new) {
            Some(external) => {
                match K::holder(conn, &context.principal.organisation_id, external)? {
                    Some(holder) => record_as(conn, context.principal, K::RECORD, holder),
                    None => Ok(None),
                }
            }
            None => Ok(None),
        },
    };
    let (outcome, record) = upsert::<K>(conn, context, shape, fields, found, K::create)?;
    let Some(actions) = actions else {
        return Ok(outcome);
    };
    let changed = import_actions(conn, context, &record, actions)?;
    Ok(match outcome {
        RowOutcome::Unchanged if changed => RowOutcome::Updated,
        other => other,
    })
}

/// Creates the record a row describes, or brings the one it names (`find`) up to date: only
/// the fields the row gives, and only when they differ.
fn upsert<K: Importable>(
    conn: &mut DbConnection,
    context: &Context,
    shape: &Shape,
    mut fields: Map<String, Value>,
    find: impl FnOnce(&mut DbConnection, Option<Uuid>, &K::New) -> ApiResult<Option<Value>>,
    create: impl FnOnce(&mut DbConnection, &Principal, &K::New) -> ApiResult<Value>,
) -> ApiResult<(RowOutcome, Value)> {
    let id = match fields.remove("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(
            Uuid::parse_str(&id).map_err(|_| ApiError::field("id", "must be a record's UUID"))?,
        ),
        Some(_) => return Err(ApiError::field("id", "must be a record's UUID")),
    };
    let given: Vec<String> = fields.keys().cloned().collect();
    let body = Value::Object(fields);
    let errors = contract().check_body(&Method::POST, K::CREATE_PATH, &body);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let new: K::New = typed(body)?;
    K::validate(&new, context.catalogue)?;
    let Some(current) = find(conn, id, &new)? else {
        let record = create(conn, context.principal, &new)?;
        return Ok((RowOutcome::Created, record));
    };
    let sent = serde_json::to_value(&new)?;
    let mut patch = Map::new();
    let mut fixed = Vec::new();
    for name in given {
        let value = &sent[&name];
        if agrees(value, &current[&name]) {
            continue;
        }
        if shape.patchable.contains(&name) {
            patch.insert(name, value.clone());
        } else {
            fixed.push(FieldError::new(name, "cannot be changed once recorded"));
        }
    }
    if !fixed.is_empty() {
        return Err(ApiError::ConflictsWithRecord(fixed));
    }
    if patch.is_empty() {
        return Ok((RowOutcome::Unchanged, current));
    }
    context.principal.require(K::EDIT)?;
    let body = Value::Object(patch);
    let errors = contract().check_body(&Method::PATCH, K::UPDATE_PATH, &body);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let patch: K::Patch = typed(body)?;
    let record_id = current["id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| ApiError::internal("a record without an id"))?;
    let record = K::update(
        conn,
        context.catalogue,
        context.principal,
        record_id,
        &patch,
    )?;
    Ok((RowOutcome::Updated, record))
}

/// Whether what a row sends is what the record holds: text as the store keeps it (trimmed),
/// numbers by value, an object by the fields the row gives.
fn agrees(sent: &Value, stored: &Value) -> bool {
    match (sent, stored) {
        (Value::Null, _) => true,
        (Value::Bool(false), Value::Null) => true,
        (Value::Array(items), Value::Null) if items.is_empty() => true,
        (Value::String(sent), Value::String(stored)) => sent.trim() == stored,
        (Value::Number(sent), Value::Number(stored)) => sent.as_f64() == stored.as_f64(),
        (Value::Object(sent), Value::Object(stored)) => sent
            .iter()
            .all(|(name, value)| agrees(value, stored.get(name).unwrap_or(&Value::Null))),
        (Value::Object(sent), Value::Null) => sent.values().all(Value::is_null),
        (Value::Array(sent), Value::Array(stored)) => {
            sent.len() == stored.len() && sent.iter().zip(stored).all(|(a, b)| agrees(a, b))
        }
        (sent, stored) => sent == stored,
    }
}

/// A plan row's actions: each matched to one of the plan's by `id`, else by `external_ref`,
/// else by its description, and created or brought up to date; the plan's other actions are
/// left as they are. Answers whether any changed.
fn import_actions(
    conn: &mut DbConnection,
    context: &Context,
    plan: &Value,
    actions: Value,
) -> ApiResult<bool> {
    let Value::Array(actions) = actions else {
        return Err(ApiError::field(ACTIONS, "must be a JSON array of actions"));
    };
    let plan_id = plan["id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| ApiError::internal("a plan without an id"))?;
    let existing = plan[ACTIONS].as_array().cloned().unwrap_or_default();
    static SHAPE: LazyLock<Shape> = LazyLock::new(Shape::of::<kinds::PlanActions>);
    let mut changed = false;
    for (index, action) in actions.into_iter().enumerate() {
        let Value::Object(mut fields) = action else {
            return Err(ApiError::field(
                format!("{ACTIONS}[{index}]"),
                "must be an object",
            ));
        };
        fields.retain(|name, _| name == "id" || !SHAPE.read_only.contains(name));
        let find = |_: &mut DbConnection,
                    id: Option<Uuid>,
                    new: &<kinds::PlanActions as Importable>::New| {
            let matches = |stored: &&Value| match (id, &new.external_ref) {
                (Some(id), _) => stored["id"] == id.to_string(),
                (None, Some(external)) => {
                    stored["external_ref"] == serde_json::to_value(external).unwrap_or_default()
                }
                (None, None) => stored["description"] == new.description.trim(),
            };
            match existing.iter().find(matches) {
                Some(found) => Ok(Some(found.clone())),
                None if id.is_some() => Err(ApiError::field("id", "names no action of this plan")),
                None => Ok(None),
            }
        };
        let create = |conn: &mut DbConnection, principal: &Principal, new: &_| {
            kinds::create_action(conn, principal, plan_id, new)
        };
        let (outcome, _) =
            upsert::<kinds::PlanActions>(conn, context, &SHAPE, fields, find, create)
                .map_err(|error| within(error, &format!("{ACTIONS}[{index}]")))?;
        changed |= outcome != RowOutcome::Unchanged;
    }
    Ok(changed)
}

/// An action's problems, named within the plan's row (`actions[0].due_on`).
fn within(error: ApiError, prefix: &str) -> ApiError {
    let named = |errors: Vec<FieldError>| {
        errors
            .into_iter()
            .map(|e| FieldError::new(format!("{prefix}.{}", e.field), e.message))
            .collect()
    };
    match error {
        ApiError::Validation(errors) => ApiError::Validation(named(errors)),
        ApiError::ConflictsWithRecord(errors) => ApiError::ConflictsWithRecord(named(errors)),
        other => match row_errors(other) {
            Ok(errors) => ApiError::Validation(
                errors
                    .into_iter()
                    .map(|e| FieldError::new(prefix.to_owned(), e.message))
                    .collect(),
            ),
            Err(error) => error,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_a_row_leaves_out_agrees_with_anything() {
        assert!(agrees(&json!(null), &json!("kept")));
        assert!(agrees(&json!(" Title "), &json!("Title")));
        assert!(agrees(&json!(92.5), &json!(92.5)));
        assert!(agrees(
            &json!({"sub": "m-1", "name": null}),
            &json!({"kind": "user", "sub": "m-1", "name": "Alex"})
        ));
        assert!(!agrees(&json!({"sub": "m-2"}), &json!({"sub": "m-1"})));
        assert!(!agrees(&json!(["a"]), &json!(["a", "b"])));
        assert!(agrees(&json!([]), &json!(null)));
        assert!(!agrees(&json!(true), &json!(false)));
    }
}
