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
use super::rows::{self, FileColumns, Unread};
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
#[derive(Debug, Clone, Copy, serde::Serialize)]
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

/// Leaves out of a JSON row what only the record as read has (an export's `version`, a
/// plan's `owner.kind`): the fields `read_only` names, nested ones too.
fn without_read_only(fields: &mut Map<String, Value>, shape: &Shape) {
    fields.retain(|name, _| name == "id" || !shape.read_only.contains(name));
    for column in &shape.columns.read_only {
        if let Some((parent, leaf)) = column.name.rsplit_once('.') {
            let inner = parent.split('.').try_fold(&mut *fields, |object, key| {
                object.get_mut(key)?.as_object_mut()
            });
            if let Some(inner) = inner {
                inner.remove(leaf);
            }
        }
    }
}

/// A row's problems are the report's; anything else (the database failing) stops the import.
fn row_errors(error: ApiError) -> ApiResult<Vec<FieldError>> {
    Ok(match error {
        ApiError::Validation(errors) | ApiError::ConflictsWithRecord(errors) => errors,
        ApiError::Internal(_)
        | ApiError::TooManyRequests { .. }
        | ApiError::DatabaseUnavailable(_) => return Err(error),
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

/// Rows waiting to be done together, in file order: their external references are looked up
/// at once, and the new records among them created at once (a few hundred rows to a
/// statement, where the kind's store can). A row that fails its checks waits too, so the
/// report names rows in file order.
struct Pending<New> {
    rows: Vec<(u64, Waiting<New>)>,
    references: HashSet<(String, String)>,
}

/// A waiting row: checked, or what is wrong with it.
type Waiting<New> = Result<Checked<New>, Vec<FieldError>>;

/// The most rows done together.
const BATCH: usize = 500;

/// The most errors a report keeps (the count of failed rows is always whole).
const MAX_ERRORS: usize = 10_000;

/// Counts what became of a row, and names what was wrong with it.
fn tally(report: &mut ImportReport, line: u64, outcome: Result<RowOutcome, Vec<FieldError>>) {
    match outcome {
        Ok(RowOutcome::Created) => report.created += 1,
        Ok(RowOutcome::Updated) => report.updated += 1,
        Ok(RowOutcome::Unchanged) => report.unchanged += 1,
        Err(errors) => {
            report.failed += 1;
            for error in errors {
                if report.errors.len() == MAX_ERRORS {
                    report.errors_truncated = true;
                    break;
                }
                report.errors.push(RowError {
                    row: line,
                    field: (!error.field.is_empty()).then_some(error.field),
                    message: error.message,
                });
            }
        }
    }
}

/// A row's outcome for the report: its problems, or the import's end when the database fails.
fn counted(outcome: ApiResult<RowOutcome>) -> ApiResult<Result<RowOutcome, Vec<FieldError>>> {
    match outcome {
        Ok(outcome) => Ok(Ok(outcome)),
        Err(error) => Ok(Err(row_errors(error)?)),
    }
}

/// Does the waiting rows: those whose external reference a record holds bring it up to date,
/// the others are created together; then each row is counted, in file order.
fn flush<K: Importable>(
    conn: &mut DbConnection,
    context: &Context,
    shape: &Shape,
    pending: &mut Pending<K::New>,
    report: &mut ImportReport,
) -> ApiResult<()> {
    let references: Vec<(String, String)> = pending.references.drain().collect();
    let held = K::holders(conn, &context.principal.organisation_id, &references)?;
    let mut outcomes = Vec::with_capacity(pending.rows.len());
    let mut creating = Vec::new();
    let mut news = Vec::new();
    for (line, checked) in pending.rows.drain(..) {
        let checked = match checked {
            Ok(checked) => checked,
            Err(errors) => {
                outcomes.push((line, Some(Err(errors))));
                continue;
            }
        };
        let holder = K::external_ref(&checked.new)
            .and_then(|external| held.get(&(external.system.clone(), external.id.clone())));
        let current = match holder {
            Some(holder) => record_as(conn, context.principal, K::RECORD, *holder)?,
            None => None,
        };
        // A reference held by a record the caller may not see is refused by the create, as
        // the endpoint refuses it.
        match current {
            Some(current) => {
                let outcome = conn.transaction(|conn| {
                    up_to_date::<K>(conn, context, shape, &checked, current).map(|(o, _)| o)
                });
                outcomes.push((line, Some(counted(outcome)?)));
            }
            None => {
                creating.push(outcomes.len());
                outcomes.push((line, None));
                news.push(checked.new);
            }
        }
    }
    if !news.is_empty() {
        let answers = K::create_all(conn, context.principal, &news)?;
        for (at, answer) in creating.into_iter().zip(answers) {
            outcomes[at].1 = Some(counted(answer.map(|_| RowOutcome::Created))?);
        }
    }
    for (line, outcome) in outcomes {
        let outcome =
            outcome.ok_or_else(|| ApiError::internal("a created row without an answer"))?;
        tally(report, line, outcome);
    }
    Ok(())
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
    let mut pending = Pending {
        rows: Vec::new(),
        references: HashSet::new(),
    };
    let done = conn.transaction::<_, Abort, _>(|conn| {
        let read = rows::read(
            options.format,
            body,
            &shape.columns,
            options.date_format,
            &mut |row| {
                report.rows += 1;
                progress(report.rows);
                let prepared = match row.fields {
                    Ok(fields) => match prepare::<K>(context, shape, fields) {
                        Ok(prepared) => Ok(prepared),
                        Err(error) => Err(row_errors(error)?),
                    },
                    Err(errors) => Err(errors),
                };
                let (checked, actions) = match prepared {
                    Ok(prepared) => prepared,
                    Err(errors) => {
                        pending.rows.push((row.line, Err(errors)));
                        return Ok(());
                    }
                };
                if checked.id.is_some() || actions.is_some() {
                    // Done at once, after the rows before it.
                    flush::<K>(conn, context, shape, &mut pending, &mut report)?;
                    let outcome = conn.transaction(|conn| {
                        import_now::<K>(conn, context, shape, checked, actions)
                    });
                    tally(&mut report, row.line, counted(outcome)?);
                    return Ok(());
                }
                // A second row for one record comes after the first is done.
                if let Some(external) = K::external_ref(&checked.new) {
                    let reference = (external.system.clone(), external.id.clone());
                    if pending.references.contains(&reference) {
                        flush::<K>(conn, context, shape, &mut pending, &mut report)?;
                    }
                    pending.references.insert(reference);
                }
                pending.rows.push((row.line, Ok(checked)));
                if pending.rows.len() >= BATCH {
                    flush::<K>(conn, context, shape, &mut pending, &mut report)?;
                }
                Ok(())
            },
        );
        match read {
            Ok(_) => flush::<K>(conn, context, shape, &mut pending, &mut report)
                .map_err(Abort::Failed)?,
            Err(Unread::Failed(error)) => return Err(Abort::Failed(error)),
            // The file cannot be read: nothing of it is kept, and the report says where.
            // A refused file fails every row it had: nothing of it is stored.
            Err(Unread::Refused(errors)) => {
                report.refused = true;
                report.failed = report.rows;
                (report.created, report.updated, report.unchanged) = (0, 0, 0);
                report.errors.extend(errors);
                return Err(Abort::Discard);
            }
        }
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

/// A row checked as its endpoint checks a new record, with a plan's actions set aside.
fn prepare<K: Importable>(
    context: &Context,
    shape: &Shape,
    mut fields: Map<String, Value>,
) -> ApiResult<(Checked<K::New>, Option<Value>)> {
    let actions = if K::RECORD == ChangeType::ImprovementPlan {
        fields.remove(ACTIONS)
    } else {
        None
    };
    without_read_only(&mut fields, shape);
    Ok((check_row::<K>(context, fields)?, actions))
}

/// Does a row at once: one that names its record by id, or a plan with actions (which need
/// their plan).
fn import_now<K: Importable>(
    conn: &mut DbConnection,
    context: &Context,
    shape: &Shape,
    checked: Checked<K::New>,
    actions: Option<Value>,
) -> ApiResult<RowOutcome> {
    let current = match checked.id {
        Some(id) => Some(
            record_as(conn, context.principal, K::RECORD, RecordId::from(id))?
                .ok_or_else(|| ApiError::field("id", "names no record you may see"))?,
        ),
        None => match K::external_ref(&checked.new) {
            Some(external) => {
                match K::holder(conn, &context.principal.organisation_id, external)? {
                    Some(holder) => record_as(conn, context.principal, K::RECORD, holder)?,
                    None => None,
                }
            }
            None => None,
        },
    };
    let (outcome, record) = match current {
        Some(current) => up_to_date::<K>(conn, context, shape, &checked, current)?,
        None => (
            RowOutcome::Created,
            K::create(conn, context.principal, &checked.new)?,
        ),
    };
    let changed = match actions {
        Some(actions) => import_actions(conn, context, &record, actions)?,
        None => false,
    };
    Ok(match outcome {
        RowOutcome::Unchanged if changed => RowOutcome::Updated,
        other => other,
    })
}

/// A row checked as the single-record endpoint checks a new record: the id it names, the
/// fields it gives, and the record it describes.
struct Checked<New> {
    id: Option<Uuid>,
    given: Vec<String>,
    new: New,
}

fn check_row<K: Importable>(
    context: &Context,
    mut fields: Map<String, Value>,
) -> ApiResult<Checked<K::New>> {
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
    Ok(Checked { id, given, new })
}

/// Brings the record a row names up to date: only the fields the row gives, and only when
/// they differ, through the endpoint's `PATCH`.
fn up_to_date<K: Importable>(
    conn: &mut DbConnection,
    context: &Context,
    shape: &Shape,
    checked: &Checked<K::New>,
    current: Value,
) -> ApiResult<(RowOutcome, Value)> {
    let sent = serde_json::to_value(&checked.new)?;
    let mut patch = Map::new();
    let mut fixed = Vec::new();
    for name in &checked.given {
        let value = &sent[name];
        let stored = &current[name];
        if agrees(value, stored) {
            continue;
        }
        if shape.patchable.contains(name) {
            patch.insert(name.clone(), completed(value, stored));
        } else {
            fixed.push(FieldError::new(
                name.clone(),
                "cannot be changed once recorded",
            ));
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

/// The value a patch sends for a field the row changes: an object keeps the stored values of
/// the parts the row leaves empty (a new `metric.value` keeps the stored `metric.unit`).
fn completed(sent: &Value, stored: &Value) -> Value {
    match (sent, stored) {
        (Value::Object(sent), Value::Object(stored)) => Value::Object(
            sent.iter()
                .map(|(name, value)| {
                    let kept = match (value, stored.get(name)) {
                        (Value::Null, Some(stored)) => stored.clone(),
                        _ => value.clone(),
                    };
                    (name.clone(), kept)
                })
                .collect(),
        ),
        _ => sent.clone(),
    }
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
        // Lists compare as sets: the stores keep tags and links sorted and once each.
        (Value::Array(sent), Value::Array(stored)) => {
            let mut unique: Vec<&Value> = Vec::with_capacity(sent.len());
            for item in sent {
                if !unique.contains(&item) {
                    unique.push(item);
                }
            }
            unique.len() == stored.len()
                && unique.iter().all(|a| stored.iter().any(|b| agrees(a, b)))
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
        without_read_only(&mut fields, &SHAPE);
        let outcome = check_row::<kinds::PlanActions>(context, fields)
            .and_then(|checked| {
                let new = &checked.new;
                let matches = |stored: &&Value| match (checked.id, &new.external_ref) {
                    (Some(id), _) => stored["id"] == id.to_string(),
                    (None, Some(external)) => {
                        stored["external_ref"]["system"] == external.system.as_str()
                            && stored["external_ref"]["id"] == external.id.as_str()
                    }
                    (None, None) => stored["description"] == new.description.trim(),
                };
                match existing.iter().find(matches) {
                    Some(found) => up_to_date::<kinds::PlanActions>(
                        conn,
                        context,
                        &SHAPE,
                        &checked,
                        found.clone(),
                    )
                    .map(|(outcome, _)| outcome),
                    None if checked.id.is_some() => {
                        Err(ApiError::field("id", "names no action of this plan"))
                    }
                    None => {
                        kinds::create_action(conn, context.principal, plan_id, new)?;
                        Ok(RowOutcome::Created)
                    }
                }
            })
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
            .map(|e| {
                let field = match e.field.as_str() {
                    "" => prefix.to_owned(),
                    field => format!("{prefix}.{field}"),
                };
                FieldError::new(field, e.message)
            })
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
    fn a_changed_object_keeps_the_stored_parts_the_row_leaves_empty() {
        assert_eq!(
            completed(
                &json!({"name": "score", "value": 97.5, "unit": null}),
                &json!({"name": "score", "value": 95.0, "unit": "%"})
            ),
            json!({"name": "score", "value": 97.5, "unit": "%"})
        );
        assert_eq!(completed(&json!("x"), &json!("y")), json!("x"));
    }

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
        assert!(agrees(&json!(["b", "a", "b"]), &json!(["a", "b"])));
        assert!(agrees(&json!([]), &json!(null)));
        assert!(!agrees(&json!(true), &json!(false)));
    }
}
