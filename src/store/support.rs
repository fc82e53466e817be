//! Row conversions, the outcome of an optimistic save, and a list's repeatable filters.

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::error::{ApiError, ApiResult};
use crate::http::preconditions::IfMatch;

/// The one item a conversion of one row gives.
pub fn only<T>(mut items: Vec<T>) -> ApiResult<T> {
    match (items.pop(), items.is_empty()) {
        (Some(item), true) => Ok(item),
        _ => Err(ApiError::internal(
            "one row converted to other than one record",
        )),
    }
}

pub fn to_utc(time: NaiveDateTime) -> DateTime<Utc> {
    time.and_utc()
}

pub fn to_row(time: DateTime<Utc>) -> NaiveDateTime {
    time.naive_utc()
}

/// A list's boxed query `$select` narrowed to records whose `$column` is one of `$values` (a
/// query parameter that may be repeated), or as it is when none is given. One value, the usual
/// filter, is matched by `=`: the query's SQL is then the same on every request and diesel keeps
/// it prepared; `IN (?, …)` is prepared afresh each time on SQLite. `$equal` matches the one
/// value: `db::equal_to_any` where an index leads with the column after the organisation (and
/// ends with the list's order), so that PostgreSQL keeps the one plan through it; by default
/// `=`, with the value in the planner's view, where a rare value may want another plan.
macro_rules! one_of {
    ($select:expr, $column:expr, $values:expr) => {
        $crate::store::support::one_of!($select, $column, $values, diesel::ExpressionMethods::eq)
    };
    ($select:expr, $column:expr, $values:expr, $equal:path) => {
        match $values.as_slice() {
            [] => $select,
            [one] => $select.filter($equal($column, one.clone())),
            many => $select.filter($column.eq_any(many.to_vec())),
        }
    };
}
pub(crate) use one_of;

/// The one optimistic save: writes `$changes` (an `AsChangeset`) to the row `$id` of `$table`
/// only if it is still at `$version`, the version the request read, bumping the version and
/// stamping `updated_at`. Answers as [`guarded_update`] does; the caller reads the record back.
/// With `(id, version, not_before updated_at)`, `updated_at` never moves back (a concern an
/// anonymous raiser changed is dated to the end of the hour; see `Actor::changed_at`).
macro_rules! save_if_unchanged {
    ($conn:expr, $table:ident, ($id:expr, $version:expr $(, not_before $stamped:expr)?), $changes:expr, $if_match:expr) => {{
        let version: i64 = $version;
        let stamp = $crate::store::support::to_row($crate::domain::now());
        $(let stamp = stamp.max($stamped);)?
        let affected = diesel::update(
            $table::table
                .filter($table::id.eq($id))
                .filter($table::version.eq(version)),
        )
        .set((
            $changes,
            $table::version.eq(version + 1),
            $table::updated_at.eq(stamp),
        ))
        .execute($conn)?;
        $crate::store::support::guarded_update(affected, $if_match)
    }};
}
pub(crate) use save_if_unchanged;

/// Reads the outcome of an update guarded by the version it read: no row changed means another
/// writer got there first.
pub fn guarded_update(affected: usize, if_match: &IfMatch) -> ApiResult<()> {
    match affected {
        1 => Ok(()),
        _ if if_match.is_conditional() => Err(ApiError::PreconditionFailed),
        _ => Err(ApiError::conflict(
            "edit_conflict",
            "the record changed while this request was applied; read it again and retry",
        )),
    }
}
