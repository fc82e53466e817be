//! SQL for what diesel's builder cannot express on both backends: placeholders, periods, days
//! and epochs in each backend's dialect, a list of values bound as one, and the multi-row
//! insert `MultiConnection` lacks; and a row's column list, written once rather than per query.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};

use diesel::dsl::AsSelect;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::{Pg, PgQueryBuilder};
use diesel::query_builder::{AstPass, QueryBuilder, QueryFragment, QueryId};
use diesel::query_dsl::methods::LoadQuery;
use diesel::sql_types::{Bool, Nullable, Text};
use diesel::sqlite::{Sqlite, SqliteQueryBuilder};
use diesel::{
    PgConnection, QueryResult, RunQueryDsl, Selectable, SelectableHelper, SqliteConnection,
};

use super::columns::StoredAsText;
use super::{Backend, DbConnection, MultiBackend};
use crate::domain::RecordKind;

/// Loads `query` on the connection's own backend rather than through `MultiConnection`, whose
/// wrapper writes a query's SQL afresh on each of the passes diesel makes over it (checking it
/// may be kept, collecting its binds): a fifth of a small read's CPU. For the hottest reads,
/// whose queries are not boxed and so serve both backends.
pub fn load_natively<'q, Q, U>(conn: &mut DbConnection, query: Q) -> QueryResult<Vec<U>>
where
    Q: LoadQuery<'q, SqliteConnection, U> + LoadQuery<'q, PgConnection, U>,
{
    match conn {
        DbConnection::Sqlite(conn) => RunQueryDsl::<SqliteConnection>::load(query, conn),
        DbConnection::Pg(conn) => RunQueryDsl::<PgConnection>::load(query, conn),
    }
}

/// `column` is one of `values`, with the values bound as one JSON array that the backend's JSON
/// functions read back. Its SQL is the same however many values there are, so the statement
/// can be kept prepared; on SQLite diesel's `eq_any` binds one parameter a value, and so is
/// prepared afresh for every length (a page of 50 records' tags, say). PostgreSQL takes it as
/// `= ANY(array)`, as its `eq_any`, which an index answers. For [`load_natively`].
#[derive(Debug, Clone, QueryId)]
pub struct Among<C> {
    column: C,
    values: String,
}

/// `column` is one of `values`, each as its column stores it.
pub fn among<C, T: StoredAsText>(column: C, values: &[T]) -> Among<C> {
    let values: Vec<_> = values.iter().map(StoredAsText::to_text).collect();
    Among {
        column,
        values: serde_json::to_string(&values).expect("a list of strings is JSON"),
    }
}

impl<C: Expression<SqlType = Text>> Expression for Among<C> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for Among<C> where Self: Expression {}

impl<C: ValidGrouping<G>, G> ValidGrouping<G> for Among<C> {
    type IsAggregate = C::IsAggregate;
}

impl<C> Among<C> {
    /// The column, `open`, the values, `close`.
    fn walk<'b, DB>(
        &'b self,
        mut out: AstPass<'_, 'b, DB>,
        open: &str,
        close: &str,
    ) -> QueryResult<()>
    where
        DB: diesel::backend::Backend,
        C: QueryFragment<DB>,
        String: diesel::serialize::ToSql<Text, DB>,
    {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(open);
        out.push_bind_param::<Text, _>(&self.values)?;
        out.push_sql(close);
        Ok(())
    }
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for Among<C> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.walk(out, " IN (SELECT value FROM json_each(", "))")
    }
}

impl<C: QueryFragment<Pg>> QueryFragment<Pg> for Among<C> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.walk(
            out,
            " = ANY(ARRAY(SELECT json_array_elements_text(CAST(",
            " AS json))))",
        )
    }
}

/// A record's quality-statement tags as one more column of the query that reads it (`record`
/// is its id column): a JSON array of its statements, for `links::joined_tags`. One record's
/// read then takes one statement rather than two; on PostgreSQL the round trip saved was most
/// of the read's cost. The kind is bound, so the SQL is the same for every kind and the
/// statement can be kept prepared. (A page's tags stay one query of their own: a subquery for
/// each row measured slower.)
pub fn tags_joined<C>(record: C, kind: RecordKind) -> TagsJoined<C> {
    TagsJoined {
        record,
        kind: kind.as_str(),
    }
}

#[derive(Debug, Clone, QueryId)]
pub struct TagsJoined<C> {
    record: C,
    kind: &'static str,
}

impl<C: Expression<SqlType = Text>> Expression for TagsJoined<C> {
    type SqlType = Nullable<Text>;
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for TagsJoined<C> where Self: Expression {}

impl<C: SelectableExpression<QS>, QS> SelectableExpression<QS> for TagsJoined<C> where
    Self: AppearsOnTable<QS>
{
}

impl<C: ValidGrouping<G>, G> ValidGrouping<G> for TagsJoined<C> {
    type IsAggregate = C::IsAggregate;
}

impl<C> TagsJoined<C> {
    /// The subquery, its statements gathered by `gathered`, its record matched by `matched`
    /// (the record's id column, then what follows it).
    fn walk<'b, DB>(
        &'b self,
        mut out: AstPass<'_, 'b, DB>,
        gathered: &str,
        matched: &str,
    ) -> QueryResult<()>
    where
        DB: diesel::backend::Backend,
        C: QueryFragment<DB>,
        str: diesel::serialize::ToSql<Text, DB>,
    {
        out.push_sql("(SELECT ");
        out.push_sql(gathered);
        out.push_sql(" FROM quality_statement_tags WHERE record_type = ");
        out.push_bind_param::<Text, str>(self.kind)?;
        out.push_sql(" AND record_id = ");
        self.record.walk_ast(out.reborrow())?;
        out.push_sql(matched);
        out.push_sql(")");
        Ok(())
    }
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for TagsJoined<C> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.walk(out, "json_group_array(quality_statement_id)", "")
    }
}

impl<C: QueryFragment<Pg>> QueryFragment<Pg> for TagsJoined<C> {
    /// Record ids are `COLLATE "C"` and the tags' `record_id` is not: compared in the tags'
    /// collation, the match is answered by their primary key rather than a scan of every tag.
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.walk(
            out,
            "CAST(json_agg(quality_statement_id) AS TEXT)",
            " COLLATE \"default\"",
        )
    }
}

impl<C: QueryFragment<Sqlite> + QueryFragment<Pg>> QueryFragment<MultiBackend> for TagsJoined<C> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, pass)
    }
}

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

/// Inserts `rows` (a slice of insertable rows) into `table` a few hundred to a statement: the
/// multi-row insert `MultiConnection` does not offer, on each backend. Answers the rows
/// inserted. (At most 200 rows a statement keeps a wide row's parameters under SQLite's
/// limit.) A single row, the common case of a request's write, is inserted by the one-row
/// statement, which diesel keeps prepared; a multi-row one it prepares afresh each time.
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let mut inserted = 0usize;
        for chunk in $rows.chunks(200) {
            inserted += match (&mut *$conn, chunk) {
                ($crate::db::DbConnection::Sqlite(conn), [row]) => {
                    diesel::insert_into($table).values(row).execute(conn)?
                }
                ($crate::db::DbConnection::Pg(conn), [row]) => {
                    diesel::insert_into($table).values(row).execute(conn)?
                }
                ($crate::db::DbConnection::Sqlite(conn), rows) => {
                    diesel::insert_into($table).values(rows).execute(conn)?
                }
                ($crate::db::DbConnection::Pg(conn), rows) => {
                    diesel::insert_into($table).values(rows).execute(conn)?
                }
            };
        }
        inserted
    }};
}
pub(crate) use insert_all;

/// Each row type's column list as SQL on each backend (`true`: PostgreSQL), written once (`None`
/// for a selection not to be pasted): a few dozen short strings kept for the life of the
/// process.
type Written = HashMap<(TypeId, bool), Option<&'static str>>;
static WRITTEN: LazyLock<RwLock<Written>> = LazyLock::new(Default::default);

/// The row `T`'s columns, selected as `T::as_select()` selects them, with their SQL written
/// once and pasted from then on. diesel writes a boxed query's SQL afresh each time, and
/// `MultiConnection` any query's once for each of its passes (see [`load_natively`]), quoting
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
