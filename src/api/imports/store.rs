//! The import store: keeping what each import did, and reading it back through the one
//! visibility rule of imports.

use diesel::prelude::*;

use super::dto::{Import, ImportReport};
use super::run::Options;
use crate::api::shared::Person;
use crate::auth::Principal;
use crate::db::schema::imports;
use crate::db::DbConnection;
use crate::db::{columns::JsonText, columns_of};
use crate::domain::ids::ImportId;
use crate::domain::import::{stores, DateFormat, ImportFormat, ImportKind, ImportMode, OnError};
use crate::domain::now;
use crate::error::{ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::store::support::{to_row, to_utc};
use crate::store::visibility::imports as visible;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = imports)]
struct ImportRow {
    id: ImportId,
    organisation_id: String,
    kind: ImportKind,
    mode: ImportMode,
    on_error: OnError,
    format: ImportFormat,
    date_format: DateFormat,
    imported_by: String,
    rows_read: i64,
    created: i64,
    updated: i64,
    unchanged: i64,
    failed: i64,
    errors: JsonText<Vec<super::dto::RowError>>,
    errors_truncated: bool,
    refused: bool,
    created_at: chrono::NaiveDateTime,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl ImportRow {
    fn into_dto(self) -> Import {
        let report = ImportReport {
            rows: self.rows_read.unsigned_abs(),
            created: self.created.unsigned_abs(),
            updated: self.updated.unsigned_abs(),
            unchanged: self.unchanged.unsigned_abs(),
            failed: self.failed.unsigned_abs(),
            errors_truncated: self.errors_truncated,
            refused: self.refused,
            errors: self.errors.0,
        };
        Import {
            id: self.id.uuid(),
            kind: self.kind,
            mode: self.mode,
            on_error: self.on_error,
            format: self.format,
            date_format: self.date_format,
            imported_by: Person::user(self.imported_by, None),
            stored: !report.refused && stores(self.mode, self.on_error, report.failed),
            report,
            created_at: to_utc(self.created_at),
        }
    }
}

/// Keeps what an import did.
pub fn record(
    conn: &mut DbConnection,
    principal: &Principal,
    options: &Options,
    report: ImportReport,
) -> ApiResult<Import> {
    let row = ImportRow {
        id: ImportId::new(),
        organisation_id: principal.organisation_id.clone(),
        kind: options.kind,
        mode: options.mode,
        on_error: options.on_error,
        format: options.format,
        date_format: options.date_format,
        imported_by: principal.sub.clone(),
        rows_read: count(report.rows),
        created: count(report.created),
        updated: count(report.updated),
        unchanged: count(report.unchanged),
        failed: count(report.failed),
        errors: JsonText(report.errors),
        errors_truncated: report.errors_truncated,
        refused: report.refused,
        created_at: to_row(now()),
    };
    diesel::insert_into(imports::table)
        .values(&row)
        .execute(conn)?;
    let mut import = row.into_dto();
    import.imported_by = Person::user(principal.sub.clone(), principal.name.clone());
    Ok(import)
}

/// The imports the caller may read, oldest first.
pub fn list(
    conn: &mut DbConnection,
    principal: &Principal,
    page: &Page,
) -> ApiResult<Paginated<Import>> {
    let mut select = visible(principal)
        .select(columns_of::<ImportRow>())
        .order(imports::id.asc());
    if let Some(after) = &page.after {
        select = select.filter(imports::id.gt(after.clone()));
    }
    let rows = page.read(conn, select)?;
    page.finish(rows, |r| r.id.uuid(), |r| Ok(r.into_dto()))
}

pub fn get(conn: &mut DbConnection, principal: &Principal, id: ImportId) -> ApiResult<Import> {
    visible(principal)
        .filter(imports::id.eq(id))
        .select(columns_of::<ImportRow>())
        .first(conn)
        .optional()?
        .map(ImportRow::into_dto)
        .ok_or(ApiError::NotFound("import"))
}
