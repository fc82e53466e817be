use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::shared::Person;
use crate::domain::import::{DateFormat, ImportFormat, ImportKind, ImportMode, OnError};
use crate::http::respond::unversioned;

/// How to import a file. The body is `text/csv` (a header row of the API's field names,
/// nested fields dotted as `metric.value`, lists of values joined by `|`, lists of objects as
/// JSON), `application/x-ndjson` (one JSON object a line) or `application/json` (an array of
/// objects); each row is what `POST` of one record takes. A row with an `id` (of a record the
/// caller may see) or an `external_ref` already held updates that record (a new version, only
/// when something differs; an empty cell leaves a field as it is); any other row creates one.
#[derive(Debug, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    pub kind: ImportKind,
    /// `commit` (the default) stores; `dry_run` checks every row as `commit` would and stores
    /// nothing.
    pub mode: Option<ImportMode>,
    /// `rollback` (the default): one bad row stores no row. `skip`: the good rows are stored.
    pub on_error: Option<OnError>,
    /// For CSV: `uk` also reads dates written `dd/mm/yyyy` (with an optional time `hh:mm`),
    /// in UTC. Default `iso`.
    pub date_format: Option<DateFormat>,
}

/// A row that could not be imported, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// The row's line in a CSV or NDJSON file (a CSV file's header is line 1), or its position
    /// in a JSON array (from 1).
    #[schema(minimum = 1)]
    pub row: u64,
    /// The field at fault (dotted for nested fields), or `null` for the row as a whole.
    pub field: Option<String>,
    pub message: String,
}

/// What an import did, row by row. In a dry run, what it would have done.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"rows": 3, "created": 1, "updated": 1, "unchanged": 0, "failed": 1,
    "errors": [{"row": 4, "field": "quality_statements", "message": "unknown quality statement: safe.medicine"}],
    "errors_truncated": false, "refused": false}))]
pub struct ImportReport {
    /// Rows read (blank lines are not counted).
    #[schema(minimum = 0)]
    pub rows: u64,
    #[schema(minimum = 0)]
    pub created: u64,
    /// Rows that changed the record they name (a new version).
    #[schema(minimum = 0)]
    pub updated: u64,
    /// Rows that name a record already as the row says.
    #[schema(minimum = 0)]
    pub unchanged: u64,
    #[schema(minimum = 0)]
    pub failed: u64,
    /// Every bad row, and each field at fault, in file order: the first 10,000.
    pub errors: Vec<RowError>,
    /// Whether there were more errors than `errors` holds.
    pub errors_truncated: bool,
    /// Whether the file could not be read as its kind of file (an unknown or repeated column, a
    /// quote never closed, text that is not UTF-8): then
    /// nothing of it is stored, every row it had counts as failed, and `errors` says where (a
    /// CSV header's problems are row 1).
    pub refused: bool,
}

/// An import: who imported what, when, how, and what came of it (the file is not kept).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c4-7777-7000-8000-000000000001",
    "kind": "evidence",
    "mode": "commit",
    "on_error": "rollback",
    "format": "csv",
    "date_format": "uk",
    "imported_by": {"kind": "user", "sub": "manager-1", "name": null},
    "stored": true,
    "report": {"rows": 2, "created": 2, "updated": 0, "unchanged": 0, "failed": 0, "errors": [], "errors_truncated": false, "refused": false},
    "created_at": "2026-11-26T09:00:00Z"
}))]
pub struct Import {
    pub id: Uuid,
    pub kind: ImportKind,
    pub mode: ImportMode,
    pub on_error: OnError,
    pub format: ImportFormat,
    pub date_format: DateFormat,
    pub imported_by: Person,
    /// Whether rows were stored: false for a dry run, a refused file, and a `rollback` import
    /// with a bad row.
    pub stored: bool,
    pub report: ImportReport,
    pub created_at: DateTime<Utc>,
}

unversioned!(Import);
