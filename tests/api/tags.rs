//! Quality-statement tags: each record keeps its own in its row, and the index lists filter by
//! holds them again. The two agree through every write, and through the upgrade that made the
//! rows keep them, on each backend.

use careloop::db::DbConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use serde_json::{json, Value};

use crate::helpers::TestApp;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Takes the database back to before `version` (reverting it and every later migration), then
/// brings it up to date again, as a start of the new careloop does.
fn upgrade_through(app: &TestApp, version: &str) {
    let mut pooled = app.db.get().expect("a connection");
    let conn: &mut DbConnection = &mut pooled;
    // A constant, so each use is its own value.
    let migrations = |conn: &DbConnection| match conn {
        DbConnection::Sqlite(_) => SQLITE,
        DbConnection::Pg(_) => POSTGRES,
    };
    loop {
        let reverted = conn
            .revert_last_migration(migrations(conn))
            .expect("a revert");
        if reverted.to_string() == version {
            break;
        }
    }
    conn.run_pending_migrations(migrations(conn))
        .expect("the upgrade");
}

/// A new record of each tagged kind at `location`, tagged with `statements`: its list's path
/// and its body.
fn one_of_each_kind(location: &str, statements: &Value) -> [(&'static str, Value); 4] {
    [
        (
            "/v1/concerns",
            json!({"title": "Missed dose", "description": "Evening round", "category": "medication",
                   "risk": "high", "location_id": location, "quality_statements": statements}),
        ),
        (
            "/v1/learning-events",
            json!({"kind": "supervision", "occurred_at": "2026-11-01T10:00:00Z", "title": "Supervision",
                   "location_id": location, "quality_statements": statements}),
        ),
        (
            "/v1/evidence",
            json!({"source": "audit", "evidence_category": "processes", "title": "Medicines audit",
                   "observed_at": "2026-11-01T10:00:00Z", "location_id": location,
                   "quality_statements": statements}),
        ),
        (
            "/v1/improvement-plans",
            json!({"title": "Medicines plan", "objective": "o", "owner": {"sub": "user-manager"},
                   "priority": "high", "review_cadence": "monthly", "location_id": location,
                   "quality_statements": statements}),
        ),
    ]
}

/// The tags a record shows in the first page of its kind's list.
async fn listed_tags(app: &TestApp, path: &str, id: &str) -> Value {
    let page = app
        .get(&app.viewer, &format!("{path}?limit=100"))
        .await
        .expect(200);
    let item = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in {}", page.body));
    item["quality_statements"].clone()
}

/// Records made before each kept its tags in its own row (migration 000019) are read with the
/// tags they had, kept in order, and the filters by statement find them as before.
#[actix_web::test]
async fn records_tagged_before_their_rows_kept_tags_keep_them() {
    let app = TestApp::new().await;
    let location = &app.location;
    // Out of order and repeated, as a client may send them.
    let statements = json!([
        "safe.safeguarding",
        "safe.medicines_optimisation",
        "safe.safeguarding"
    ]);
    let kept = json!(["safe.medicines_optimisation", "safe.safeguarding"]);
    let untagged = (
        "/v1/concerns",
        json!({"title": "Untagged", "description": "No statements", "category": "other",
               "risk": "low", "location_id": location}),
    );
    let made = one_of_each_kind(location, &statements)
        .into_iter()
        .chain([untagged]);
    let mut records = Vec::new();
    for (path, body) in made {
        let made = app.post(&app.manager, path, body).await.expect(201);
        let expected = if made.body["title"] == "Untagged" {
            json!([])
        } else {
            kept.clone()
        };
        assert_eq!(made.body["quality_statements"], expected, "{path}");
        records.push((path, made.id(), expected));
    }

    upgrade_through(&app, "20261128000019");

    for (path, id, expected) in &records {
        let one = app
            .get(&app.viewer, &format!("{path}/{id}"))
            .await
            .expect(200);
        assert_eq!(one.body["quality_statements"], *expected, "{path}/{id}");
        assert_eq!(listed_tags(&app, path, id).await, *expected, "{path}");
    }
    for path in [
        "/v1/learning-events",
        "/v1/evidence",
        "/v1/improvement-plans",
    ] {
        let page = app
            .get(
                &app.viewer,
                &format!("{path}?quality_statement_id=safe.medicines_optimisation"),
            )
            .await
            .expect(200);
        assert_eq!(page.body["items"].as_array().unwrap().len(), 1, "{path}");
    }
}

/// Retagging a record changes what it shows and what the filters find it by, in one step.
#[actix_web::test]
async fn retagging_a_record_changes_what_it_shows_and_is_found_by() {
    let app = TestApp::new().await;
    let location = &app.location;
    let before = json!(["safe.medicines_optimisation"]);
    let kinds = one_of_each_kind(location, &before);
    let found_by = |path: &'static str, statement: &'static str| {
        let app = &app;
        async move {
            let page = app
                .get(
                    &app.viewer,
                    &format!("{path}?quality_statement_id={statement}"),
                )
                .await
                .expect(200);
            page.body["items"].as_array().unwrap().len()
        }
    };
    for (path, body) in kinds {
        let id = app.post(&app.manager, path, body).await.expect(201).id();
        let patched = app
            .patch(
                &app.manager,
                &format!("{path}/{id}"),
                json!({"quality_statements": ["safe.safeguarding", "safe.learning_culture"]}),
            )
            .await
            .expect(200);
        let after = json!(["safe.learning_culture", "safe.safeguarding"]);
        assert_eq!(patched.body["quality_statements"], after, "{path}");
        let read = app
            .get(&app.viewer, &format!("{path}/{id}"))
            .await
            .expect(200);
        assert_eq!(read.body["quality_statements"], after, "{path}");
        assert_eq!(listed_tags(&app, path, &id).await, after, "{path}");
        // Concerns are not listed by statement.
        if path != "/v1/concerns" {
            assert_eq!(
                found_by(path, "safe.medicines_optimisation").await,
                0,
                "{path}"
            );
            assert_eq!(found_by(path, "safe.learning_culture").await, 1, "{path}");
        }
    }
}
