//! SQL for what diesel's builder cannot express on both backends: placeholders, periods, days
//! and epochs in each backend's dialect, and a page's LIMIT written into PostgreSQL's SQL; and
//! a row's column list, written once rather than per query.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};

use diesel::dsl::AsSelect;
use diesel::dsl::{AsExprOf, Eq};
use diesel::expression::{
    AppearsOnTable, AsExpression, Expression, SelectableExpression, ValidGrouping,
};
use diesel::pg::{Pg, PgQueryBuilder};
use diesel::query_builder::{AstPass, Query, QueryBuilder, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::SqlType;
use diesel::sql_types::{BigInt, HasSqlType};
use diesel::sqlite::{Sqlite, SqliteQueryBuilder};
use diesel::ExpressionMethods;
use diesel::{QueryResult, RunQueryDsl, Selectable, SelectableHelper};

use super::{Backend, DbConnection, MultiBackend};

/// SQL written with PostgreSQL's `$n` placeholders, in the form the connection's backend takes
/// (SQLite numbers its parameters `?n`). For the few aggregate queries diesel's builder cannot
/// express on both backends.
pub fn portable(conn: &DbConnection, sql: &str) -> String {
    match conn {
        DbConnection::Pg(_) => sql.to_owned(),
        DbConnection::Sqlite(_) => sql.replace('$', "?"),
    }
}

/// SQL for the first day (`YYYY-MM-DD`) of the calendar period holding `column`'s moment or
/// day, on the connection's backend: `unit` is `week` (from Monday), `month`, `quarter` or
/// `year`. For aggregates grouped by period, which diesel's builder cannot express.
pub fn period_start_sql(conn: &DbConnection, unit: &str, column: &str) -> String {
    match (conn, unit) {
        // As a timestamp without time zone, so a DATE column is not read in the session's zone.
        (DbConnection::Pg(_), unit) => {
            format!("to_char(date_trunc('{unit}', CAST({column} AS TIMESTAMP)), 'YYYY-MM-DD')")
        }
        (DbConnection::Sqlite(_), "week") => format!("date({column}, '-6 days', 'weekday 1')"),
        (DbConnection::Sqlite(_), "quarter") => format!(
            "strftime('%Y', {column}) || '-' || \
             printf('%02d', ((CAST(strftime('%m', {column}) AS INTEGER) - 1) / 3) * 3 + 1) || '-01'"
        ),
        (DbConnection::Sqlite(_), "year") => format!("strftime('%Y-01-01', {column})"),
        (DbConnection::Sqlite(_), _) => format!("strftime('%Y-%m-01', {column})"),
    }
}

/// SQL for the day (`YYYY-MM-DD`, comparable with a date column) of the moment `column`.
pub fn day_of_sql(conn: &DbConnection, column: &str) -> String {
    match conn {
        DbConnection::Pg(_) => format!("CAST({column} AS DATE)"),
        DbConnection::Sqlite(_) => format!("date({column})"),
    }
}

/// SQL for the moment `column` as whole seconds since the Unix epoch (NULL for NULL).
pub fn epoch_sql(conn: &DbConnection, column: &str) -> String {
    match conn {
        DbConnection::Pg(_) => format!("CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"),
        DbConnection::Sqlite(_) => format!("unixepoch({column})"),
    }
}

/// Each row type's column list as SQL on each backend (`true`: PostgreSQL), written once (`None`
/// for a selection not to be pasted): a few dozen short strings kept for the life of the
/// process.
type Written = HashMap<(TypeId, bool), Option<&'static str>>;
static WRITTEN: LazyLock<RwLock<Written>> = LazyLock::new(Default::default);

/// The row `T`'s columns, selected as `T::as_select()` selects them, with their SQL written
/// once and pasted from then on. diesel writes a boxed query's SQL afresh each time, and
/// `MultiConnection` any query's once for each of the passes diesel makes over it, quoting
/// every column's name into a new string: 15% of the CPU of reading one concern. A plain
/// column list binds nothing and never stops a statement being kept, so pasting its SQL is the
/// same to every pass; a selection that is more than that is walked as diesel walks it.
pub fn columns_of<T: Selectable<Backend>>() -> ColumnsOf<T> {
    ColumnsOf(T::as_select())
}

/// See [`columns_of`].
pub struct ColumnsOf<T: Selectable<Backend>>(AsSelect<T, Backend>);

/// The selection's SQL on `DB`, written by `DB`'s own query builder, `out`; `None` unless it is
/// a plain column list.
fn written<T, DB>(backend: &DB, mut out: DB::QueryBuilder) -> QueryResult<Option<String>>
where
    DB: diesel::backend::Backend,
    T: Selectable<DB>,
    T::SelectExpression: QueryFragment<DB>,
{
    let selection = T::construct_selection();
    if !selection.is_safe_to_cache_prepared(backend)? {
        return Ok(None);
    }
    selection.to_sql(&mut out, backend)?;
    let sql = out.finish();
    // A bound value is written as a placeholder (`?`, `$1`), which no column name here has.
    Ok((!sql.contains(['?', '$'])).then_some(sql))
}

/// What `WRITTEN` holds under `key`, written by `write` the first time.
fn cached(
    key: (TypeId, bool),
    write: impl FnOnce() -> QueryResult<Option<String>>,
) -> QueryResult<Option<&'static str>> {
    if let Some(sql) = WRITTEN
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Ok(*sql);
    }
    let sql = write()?;
    let mut written = WRITTEN.write().unwrap_or_else(PoisonError::into_inner);
    Ok(*written
        .entry(key)
        .or_insert_with(|| sql.map(|sql| &*Box::leak(sql.into_boxed_str()))))
}

impl<T> QueryFragment<Backend> for ColumnsOf<T>
where
    T: Selectable<Backend> + Selectable<Sqlite> + Selectable<Pg> + 'static,
    AsSelect<T, Backend>: QueryFragment<Backend>,
    <T as Selectable<Sqlite>>::SelectExpression: QueryFragment<Sqlite>,
    <T as Selectable<Pg>>::SelectExpression: QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        // Unqualified columns are asked for only in SQLite's RETURNING, which is written on the
        // backend's own terms, where this type does not go; should that change, diesel writes
        // them.
        if out.should_skip_from() {
            return self.0.walk_ast(out);
        }
        let row = TypeId::of::<T>();
        let sql = match out.backend() {
            MultiBackend::Sqlite(backend) => cached((row, false), || {
                written::<T, _>(backend, SqliteQueryBuilder::new())
            }),
            MultiBackend::Pg(backend) => cached((row, true), || {
                written::<T, _>(backend, PgQueryBuilder::default())
            }),
        }?;
        match sql {
            Some(sql) => {
                out.push_sql(sql);
                Ok(())
            }
            None => self.0.walk_ast(out),
        }
    }
}

impl<T: Selectable<Backend>> Expression for ColumnsOf<T>
where
    AsSelect<T, Backend>: Expression,
{
    type SqlType = <AsSelect<T, Backend> as Expression>::SqlType;
}

impl<T: Selectable<Backend>, QS> AppearsOnTable<QS> for ColumnsOf<T> where
    AsSelect<T, Backend>: AppearsOnTable<QS>
{
}

impl<T: Selectable<Backend>, QS> SelectableExpression<QS> for ColumnsOf<T> where
    AsSelect<T, Backend>: SelectableExpression<QS>
{
}

impl<T: Selectable<Backend>, G> ValidGrouping<G> for ColumnsOf<T>
where
    AsSelect<T, Backend>: ValidGrouping<G>,
{
    type IsAggregate = <AsSelect<T, Backend> as ValidGrouping<G>>::IsAggregate;
}

impl<T: Selectable<Backend>> QueryId for ColumnsOf<T>
where
    AsSelect<T, Backend>: QueryId,
{
    type QueryId = <AsSelect<T, Backend> as QueryId>::QueryId;
    const HAS_STATIC_QUERY_ID: bool = <AsSelect<T, Backend> as QueryId>::HAS_STATIC_QUERY_ID;
}

/// `query`, ordered, and at most so many of its rows: a list's page (see [`Limit`]).
#[derive(Debug, Clone)]
pub struct Limited<Q> {
    query: Q,
    limit: Limit,
}

/// How a page's LIMIT is sent.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// Written into the SQL, for PostgreSQL. It plans a statement kept prepared once for every
    /// value of its parameters (a generic plan) only when that plan costs no more than one made
    /// for the values at hand; with the LIMIT a parameter it reckons on reading a tenth of the
    /// table, so it planned every page of a list afresh (45 µs of its 180). The SQL is the same
    /// for every page of one size, and is kept as any query is (by its SQL, for a boxed one).
    Written(i64),
    /// Bound, as diesel's `limit` binds it: for SQLite, which keeps the statement either way
    /// (and with the LIMIT written took 5 MB more of peak RSS under a list's load).
    Bound(i64),
}

/// `query`, ordered, and at most `limit` of its rows.
pub fn limited<Q>(query: Q, limit: Limit) -> Limited<Q> {
    Limited { query, limit }
}

impl<Q: Query> Query for Limited<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> QueryId for Limited<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> QueryFragment<DB> for Limited<Q>
where
    Q: QueryFragment<DB>,
    DB: diesel::backend::Backend + HasSqlType<BigInt>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        match &self.limit {
            Limit::Written(rows) => out.push_sql(&format!(" LIMIT {rows}")),
            Limit::Bound(rows) => {
                out.push_sql(" LIMIT ");
                out.push_bind_param::<BigInt, i64>(rows)?;
            }
        }
        Ok(())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for Limited<Q> {}

/// `column = value`, with `value` bound as ever, but sent to PostgreSQL as `(SELECT $n)`, which it plans for without
/// looking at the value: the statement's plans are then the same for every value, so it plans a
/// statement kept prepared once and reuses that plan. With the value in view it reckoned a plan
/// made for a common one cheaper than the one kept for all (walking the table's key and
/// filtering, against walking the filter's index) and so planned every page afresh (57 µs of
/// 180); the plan kept walks the index, as fit for a rare value as for a common one. SQLite
/// plans each statement once whatever its values, and is sent the value as it is.
pub fn equal_to_any<C, T>(column: C, value: T) -> Eq<C, PlannedForAny<AsExprOf<T, C::SqlType>>>
where
    C: Expression + ExpressionMethods,
    C::SqlType: SqlType,
    T: AsExpression<C::SqlType>,
{
    column.eq(PlannedForAny(value.as_expression()))
}

/// See [`equal_to_any`].
#[derive(Debug, Clone, Copy)]
pub struct PlannedForAny<E>(E);

impl<E: Expression> Expression for PlannedForAny<E> {
    type SqlType = E::SqlType;
}

impl<E: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for PlannedForAny<E> {}

impl<E: SelectableExpression<QS>, QS> SelectableExpression<QS> for PlannedForAny<E> {}

impl<E: ValidGrouping<G>, G> ValidGrouping<G> for PlannedForAny<E> {
    type IsAggregate = E::IsAggregate;
}

impl<E: QueryId> QueryId for PlannedForAny<E> {
    type QueryId = PlannedForAny<E::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = E::HAS_STATIC_QUERY_ID;
}

impl<E: QueryFragment<Backend>> QueryFragment<Backend> for PlannedForAny<E> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        match out.backend() {
            MultiBackend::Pg(_) => {
                out.push_sql("(SELECT ");
                self.0.walk_ast(out.reborrow())?;
                out.push_sql(")");
                Ok(())
            }
            MultiBackend::Sqlite(_) => self.0.walk_ast(out),
        }
    }
}

/// `EXISTS (query)`, for a boxed `query` (a visibility rule's): diesel's own `exists` asks of
/// the query each backend's SQL, which a query boxed for [`Backend`] cannot give.
pub fn exists<Q>(query: Q) -> Exists<Q> {
    Exists(query)
}

/// See [`exists`].
#[derive(Debug, Clone)]
pub struct Exists<Q>(Q);

impl<Q> Expression for Exists<Q> {
    type SqlType = diesel::sql_types::Bool;
}

impl<Q, QS> AppearsOnTable<QS> for Exists<Q> {}

impl<Q, QS> SelectableExpression<QS> for Exists<Q> {}

impl<Q, G> ValidGrouping<G> for Exists<Q> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl<Q> QueryId for Exists<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<Backend>> QueryFragment<Backend> for Exists<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        out.push_sql("EXISTS (");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}
