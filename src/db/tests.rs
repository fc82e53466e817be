use super::*;

#[test]
fn a_database_url_never_shows_its_password() {
    let url = DatabaseUrl::parse("postgres://careloop:s3cret@db.internal:5432/care");
    let shown = format!("{url:?} {}", url.describe());
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("db.internal:5432/care"), "{shown}");
    let url = DatabaseUrl::parse("postgres://localhost/care");
    assert_eq!(url.describe(), "the PostgreSQL database localhost/care");
}

/// A database analysed before a migration added an index (as `concerns_by_status` was
/// rebuilt) gets that index's statistics at start-up, and the pool's connections plan with
/// them: the unfiltered page of concerns walks `concerns_by_organisation` rather than sort
/// the organisation's every concern.
#[test]
fn start_up_analyses_an_index_without_statistics() {
    use diesel::sql_types::Text;
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Step {
        #[diesel(sql_type = Text)]
        detail: String,
    }
    let dir = tempfile::tempdir().expect("a folder");
    let url = DatabaseUrl::Sqlite(dir.path().join("careloop.db").display().to_string());
    let pooling = Pooling {
        size: 2,
        long_reads: 1,
        prepared_statements: true,
    };
    let at = "'2026-01-01 00:00:00'";
    let mut conn = Db::open(&url, pooling)
        .expect("open")
        .get()
        .expect("a connection");
    // A new database is not analysed: statistics of its empty tables would mislead the planner
    // as they fill.
    let kept: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1')",
    ))
    .get_result(&mut **conn)
    .expect("the schema");
    assert_eq!(kept, 0);
    conn.batch_execute(&format!(
        "INSERT INTO organisations (id, name, created_at, updated_at) \
         VALUES ('o', 'Care', {at}, {at}); \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) \
         INSERT INTO concerns (id, organisation_id, title, description, category, risk, \
           status, confidential, anonymous, acknowledge_by, feedback_by, created_at, \
           updated_at) \
         SELECT printf('%08d', i), 'o', 't', 'd', 'care_practice', 'medium', 'raised', \
           0, 0, {at}, {at}, {at}, {at} FROM n; \
         ANALYZE; DELETE FROM sqlite_stat1 WHERE idx = 'concerns_by_status';"
    ))
    .expect("an old database's statistics");
    drop(conn);

    let db = Db::open(&url, pooling).expect("open again");
    let mut conn = db.get().expect("a pooled connection");
    let analysed: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM sqlite_stat1 WHERE idx = 'concerns_by_status')",
    ))
    .get_result(&mut **conn)
    .expect("the statistics");
    assert_eq!(analysed, 1);
    let plan: Vec<Step> = diesel::sql_query(
        "EXPLAIN QUERY PLAN SELECT id, title FROM concerns WHERE organisation_id = 'o' \
         ORDER BY id DESC LIMIT 50",
    )
    .load(&mut **conn)
    .expect("the plan");
    let plan: Vec<&str> = plan.iter().map(|step| step.detail.as_str()).collect();
    assert!(
        plan.iter().all(|step| !step.contains("TEMP B-TREE"))
            && plan
                .iter()
                .any(|step| step.contains("concerns_by_organisation")),
        "{plan:?}"
    );
}

/// `.cargo/config.toml`'s flags reached the bundled SQLite: without them each kept
/// statement with a `LIMIT ?` (or one planned from STAT4 samples) is prepared again on
/// every use, and every call into SQLite takes its connection's mutex.
#[test]
fn bundled_sqlite_is_built_as_configured() {
    use diesel::dsl::sql;
    use diesel::sql_types::Bool;
    use diesel::RunQueryDsl;
    let mut conn = diesel::SqliteConnection::establish(":memory:").expect("in memory");
    let mut used = |option: &str| {
        diesel::select(sql::<Bool>(&format!(
            "sqlite_compileoption_used('{option}')"
        )))
        .get_result::<bool>(&mut conn)
        .expect("a compile option")
    };
    assert!(used("ENABLE_QPSG"));
    assert!(!used("ENABLE_STAT4"));
    assert!(used("DEFAULT_MEMSTATUS=0"));
    assert!(used("THREADSAFE=2"));
}

/// `columns_of` reads each of two row types of one table as `as_select` does, in boxed and
/// unboxed queries, from the SQL it wrote once for each; and a selection that binds a value as
/// diesel reads it.
#[test]
fn columns_of_reads_each_row_type_as_diesel_does() {
    use diesel::prelude::*;

    use super::schema::organisations;

    #[derive(Debug, PartialEq, Queryable, Selectable)]
    #[diesel(table_name = organisations)]
    struct Named {
        id: String,
        name: String,
    }
    #[derive(Debug, PartialEq, Queryable, Selectable)]
    #[diesel(table_name = organisations)]
    struct Dated {
        name: String,
        created_at: chrono::NaiveDateTime,
    }
    // A selection that binds a value is walked as diesel walks it, not pasted.
    #[derive(Debug, PartialEq, Queryable, Selectable)]
    #[diesel(table_name = organisations)]
    struct Flagged {
        id: String,
        #[diesel(
            select_expression = organisations::name.eq("Riverside"),
            select_expression_type = diesel::dsl::Eq<organisations::name, &'static str>
        )]
        riverside: bool,
    }
    let dir = tempfile::tempdir().expect("a folder");
    let url = DatabaseUrl::Sqlite(dir.path().join("careloop.db").display().to_string());
    let pooling = Pooling {
        size: 1,
        long_reads: 1,
        prepared_statements: true,
    };
    let db = Db::open(&url, pooling).expect("open");
    let mut conn = db.get().expect("a connection");
    conn.batch_execute(
        "INSERT INTO organisations (id, name, created_at, updated_at) VALUES \
         ('o1', 'Meadowbank', '2026-01-01 09:00:00', '2026-01-01 09:00:00'), \
         ('o2', 'Riverside', '2026-02-01 10:30:00', '2026-02-01 10:30:00');",
    )
    .expect("two organisations");
    for _ in 0..2 {
        let named: Vec<Named> = organisations::table
            .select(columns_of::<Named>())
            .order(organisations::id)
            .into_boxed()
            .load(&mut **conn)
            .expect("named");
        let expected: Vec<Named> = organisations::table
            .select(Named::as_select())
            .order(organisations::id)
            .load(&mut **conn)
            .expect("named by diesel");
        assert_eq!(named, expected);
        assert_eq!(named[1].name, "Riverside");
        let dated: Vec<Dated> = organisations::table
            .select(columns_of::<Dated>())
            .order(organisations::id)
            .load(&mut **conn)
            .expect("dated");
        let expected: Vec<Dated> = organisations::table
            .select(Dated::as_select())
            .order(organisations::id)
            .load(&mut **conn)
            .expect("dated by diesel");
        assert_eq!(dated, expected);
        assert_eq!(dated[0].created_at.to_string(), "2026-01-01 09:00:00");
        let flagged: Vec<Flagged> = organisations::table
            .select(columns_of::<Flagged>())
            .order(organisations::id)
            .into_boxed()
            .load(&mut **conn)
            .expect("flagged");
        let riverside: Vec<bool> = flagged.iter().map(|row| row.riverside).collect();
        assert_eq!(riverside, [false, true]);
    }
}

/// On PostgreSQL a page's LIMIT is in its SQL, not a parameter: PostgreSQL then keeps one plan
/// for every page of a list (with a bound LIMIT it planned each afresh), and the statement stays
/// one diesel may keep, by its SQL.
#[test]
fn a_page_is_limited_in_its_sql() {
    use diesel::pg::Pg;
    use diesel::prelude::*;
    use diesel::query_builder::QueryFragment;
    use diesel::sqlite::Sqlite;

    use super::schema::concerns;

    let page = || {
        limited(
            concerns::table
                .filter(concerns::organisation_id.eq("o"))
                .select(concerns::id)
                .order(concerns::id.asc())
                .into_boxed::<Pg>(),
            Limit::Written(51),
        )
    };
    assert_eq!(
        diesel::debug_query::<Pg, _>(&page()).to_string(),
        "SELECT \"concerns\".\"id\" FROM \"concerns\" WHERE (\"concerns\".\"organisation_id\" = $1) \
         ORDER BY \"concerns\".\"id\" ASC LIMIT 51 -- binds: [\"o\"]"
    );
    assert_eq!(page().is_safe_to_cache_prepared(&Pg), Ok(true));
    // SQLite's LIMIT stays bound, as diesel binds it.
    let on_sqlite = limited(
        concerns::table.select(concerns::id).into_boxed::<Sqlite>(),
        Limit::Bound(3),
    );
    assert!(diesel::debug_query::<Sqlite, _>(&on_sqlite)
        .to_string()
        .ends_with("LIMIT ? -- binds: [3]"));
}

/// A list's filter by one value is sent to PostgreSQL as a subquery it plans for without looking
/// at the value, so it keeps one plan for the statement (it planned every page afresh when it
/// saw a common value); SQLite is sent the value as diesel binds it.
#[test]
fn one_value_is_planned_for_as_any_value_on_postgresql() {
    use diesel::pg::{Pg, PgQueryBuilder};
    use diesel::prelude::*;
    use diesel::query_builder::{QueryBuilder, QueryFragment};
    use diesel::sqlite::{Sqlite, SqliteQueryBuilder};

    use super::schema::concerns;

    // The backend's query builder: one of each backend's, as a connection picks.
    type Builder = <Backend as diesel::backend::Backend>::QueryBuilder;
    let filter = equal_to_any(concerns::risk, "medium".to_owned());
    let written = |mut builder: Builder, backend: MultiBackend| {
        filter
            .to_sql(&mut builder, &backend)
            .map(|()| builder.finish())
    };
    assert_eq!(
        written(Builder::Pg(PgQueryBuilder::default()), MultiBackend::Pg(Pg)),
        Ok("(\"concerns\".\"risk\" = (SELECT $1))".to_owned())
    );
    assert_eq!(
        written(
            Builder::Sqlite(SqliteQueryBuilder::new()),
            MultiBackend::Sqlite(Sqlite)
        ),
        Ok("(`concerns`.`risk` = ?)".to_owned())
    );
    // The same statement for every value: diesel keeps a list's (boxed) query by its SQL.
    let list = concerns::table
        .select(concerns::id)
        .into_boxed::<Backend>()
        .filter(equal_to_any(concerns::risk, "medium".to_owned()));
    for backend in [MultiBackend::Pg(Pg), MultiBackend::Sqlite(Sqlite)] {
        assert_eq!(
            QueryFragment::<Backend>::is_safe_to_cache_prepared(&list, &backend),
            Ok(true)
        );
    }
}
