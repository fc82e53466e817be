//! Imports through HTTP: every format, dry runs, all-or-nothing and skipping files, upserts by
//! external reference and by id, the report's rows and fields, refused files, and the import
//! kept as a record.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{Response, TestApp, IMPORT_MAX_BYTES};

const EVIDENCE_HEADER: &str = "source,evidence_category,quality_statements,title,observed_at,location_id,metric.name,metric.value,metric.unit,external_ref.system,external_ref.id";

fn evidence_csv(app: &TestApp, rows: &[&str]) -> String {
    let mut file = format!("{EVIDENCE_HEADER}\n");
    for row in rows {
        file.push_str(&row.replace("LOC", &app.location));
        file.push('\n');
    }
    file
}

const MAR_OCT: &str = "audit,processes,safe.medicines_optimisation|safe.safeguarding,October MAR audit,31/10/2026,LOC,mar_score,92.5,%,audit-tool,MA-10";
const MAR_NOV: &str = "audit,processes,safe.medicines_optimisation,November MAR audit,30/11/2026 17:30,LOC,mar_score,95,%,audit-tool,MA-11";

async fn import(
    app: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: &str,
) -> Response {
    app.send_raw(
        Method::POST,
        &format!("/v1/imports?{query}"),
        token,
        &[("Content-Type", content_type)],
        body,
    )
    .await
}

async fn evidence_titles(app: &TestApp) -> Vec<String> {
    let list = app
        .get(&app.admin, "/v1/evidence?limit=100")
        .await
        .expect(200);
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap().to_owned())
        .collect()
}

fn report(response: &Response) -> &Value {
    &response.body["report"]
}

#[actix_web::test]
async fn a_csv_file_of_evidence_is_imported_with_dotted_columns_lists_and_uk_dates() {
    let app = TestApp::new().await;
    let file = evidence_csv(&app, &[MAR_OCT, MAR_NOV]);
    let answer = import(
        &app,
        &app.manager,
        "kind=evidence&date_format=uk",
        "text/csv",
        &file,
    )
    .await
    .expect(201);
    assert_eq!(
        *report(&answer),
        json!({"rows": 2, "created": 2, "updated": 0, "unchanged": 0, "failed": 0, "errors": [], "errors_truncated": false, "refused": false})
    );
    assert_eq!(answer.body["stored"], true);
    assert_eq!(answer.body["kind"], "evidence");
    assert_eq!(answer.body["format"], "csv");
    assert_eq!(answer.body["imported_by"]["sub"], "user-manager");
    let location = answer.header("location").unwrap().to_owned();
    assert_eq!(
        app.get(&app.manager, &location).await.expect(200).body["report"],
        answer.body["report"]
    );

    let found = app
        .get(
            &app.manager,
            "/v1/evidence?external_ref.system=audit-tool&external_ref.id=MA-11",
        )
        .await
        .expect(200);
    let evidence = &found.body["items"][0];
    assert_eq!(evidence["observed_at"], "2026-11-30T17:30:00Z");
    assert_eq!(evidence["metric"]["value"], 95.0);
    assert_eq!(evidence["metric"]["unit"], "%");
    assert_eq!(evidence["location_id"], app.location.as_str());
    assert_eq!(evidence["recorded_by"]["sub"], "user-manager");
    let october = app
        .get(&app.manager, "/v1/evidence?external_ref.id=MA-10")
        .await
        .expect(200);
    assert_eq!(
        october.body["items"][0]["quality_statements"],
        json!(["safe.medicines_optimisation", "safe.safeguarding"])
    );
    // Audited and in the change feed as a POST of each would be.
    let id = evidence["id"].as_str().unwrap();
    let audit = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?resource_type=evidence&resource_id={id}"),
        )
        .await
        .expect(200);
    assert_eq!(audit.body["items"][0]["action"], "create");
    assert_eq!(audit.body["items"][0]["actor"]["sub"], "user-manager");
    let changes = app
        .get(&app.admin, "/v1/changes?types=evidence")
        .await
        .expect(200);
    assert_eq!(changes.body["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn the_same_file_twice_changes_nothing_and_a_changed_row_updates_its_record() {
    let app = TestApp::new().await;
    let file = evidence_csv(&app, &[MAR_OCT, MAR_NOV]);
    import(
        &app,
        &app.manager,
        "kind=evidence&date_format=uk",
        "text/csv",
        &file,
    )
    .await
    .expect(201);
    let again = import(
        &app,
        &app.manager,
        "kind=evidence&date_format=uk",
        "text/csv",
        &file,
    )
    .await
    .expect(201);
    assert_eq!(
        *report(&again),
        json!({"rows": 2, "created": 0, "updated": 0, "unchanged": 2, "failed": 0, "errors": [], "errors_truncated": false, "refused": false})
    );
    assert_eq!(evidence_titles(&app).await.len(), 2);

    let changed = evidence_csv(&app, &[MAR_OCT, &MAR_NOV.replace(",95,", ",97.5,")]);
    let update = import(
        &app,
        &app.manager,
        "kind=evidence&date_format=uk",
        "text/csv",
        &changed,
    )
    .await
    .expect(201);
    assert_eq!(report(&update)["updated"], 1);
    assert_eq!(report(&update)["unchanged"], 1);
    let november = app
        .get(&app.manager, "/v1/evidence?external_ref.id=MA-11")
        .await
        .expect(200);
    let record = &november.body["items"][0];
    assert_eq!(record["metric"]["value"], 97.5);
    assert_eq!(record["version"], 2);
    let id = record["id"].as_str().unwrap();
    let audit = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?resource_type=evidence&resource_id={id}"),
        )
        .await
        .expect(200);
    let actions: Vec<&Value> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["action"])
        .collect();
    assert_eq!(actions, [&json!("create"), &json!("update")]);
    assert_eq!(audit.body["items"][1]["changed_fields"], json!(["metric"]));
}

#[actix_web::test]
async fn a_bad_row_stores_nothing_by_default_and_skip_stores_the_good_rows() {
    let app = TestApp::new().await;
    let bad = "audit,processes,safe.no_such_statement,Bad audit,01/11/2026,LOC,mar_score,ninety,%,audit-tool,MA-X";
    let file = evidence_csv(&app, &[MAR_OCT, bad, MAR_NOV]);
    let all_or_nothing = import(
        &app,
        &app.manager,
        "kind=evidence&date_format=uk",
        "text/csv",
        &file,
    )
    .await
    .expect(201);
    assert_eq!(all_or_nothing.body["stored"], false);
    let errors = report(&all_or_nothing)["errors"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(report(&all_or_nothing)["failed"], 1);
    // Line 3: the header is line 1.
    assert!(errors.iter().all(|e| e["row"] == 3), "{errors:#?}");
    assert!(
        errors.iter().any(|e| e["field"] == "metric.value"),
        "{errors:#?}"
    );
    assert!(evidence_titles(&app).await.is_empty());

    let skipping = import(
        &app,
        &app.manager,
        "kind=evidence&date_format=uk&on_error=skip",
        "text/csv",
        &file,
    )
    .await
    .expect(201);
    assert_eq!(skipping.body["stored"], true);
    assert_eq!(report(&skipping)["created"], 2);
    assert_eq!(report(&skipping)["failed"], 1);
    assert_eq!(evidence_titles(&app).await.len(), 2);

    // A row that passes its cells but not the store's rules is named by its field too.
    let unknown = evidence_csv(
        &app,
        &[&MAR_OCT
            .replace("safe.safeguarding", "safe.nope")
            .replace("MA-10", "MA-12")],
    );
    let refused = import(
        &app,
        &app.manager,
        "kind=evidence&date_format=uk",
        "text/csv",
        &unknown,
    )
    .await
    .expect(201);
    let errors = &report(&refused)["errors"];
    assert_eq!(errors[0]["row"], 2, "{errors:#}");
    assert!(
        errors[0]["field"]
            .as_str()
            .unwrap()
            .starts_with("quality_statements"),
        "{errors:#}"
    );
}

#[actix_web::test]
async fn a_dry_run_checks_every_row_and_stores_nothing() {
    let app = TestApp::new().await;
    let file = evidence_csv(&app, &[MAR_OCT, MAR_NOV]);
    let dry = import(
        &app,
        &app.manager,
        "kind=evidence&date_format=uk&mode=dry_run",
        "text/csv",
        &file,
    )
    .await
    .expect(201);
    assert_eq!(report(&dry)["created"], 2);
    assert_eq!(dry.body["mode"], "dry_run");
    assert_eq!(dry.body["stored"], false);
    assert!(evidence_titles(&app).await.is_empty());
    let changes = app.get(&app.admin, "/v1/changes").await.expect(200);
    assert!(changes.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["type"] != "evidence"));
    // The dry run is itself kept, with its report.
    let imports = app.get(&app.manager, "/v1/imports").await.expect(200);
    assert_eq!(imports.body["items"][0]["mode"], "dry_run");
}

#[actix_web::test]
async fn ndjson_and_json_arrays_are_rows_as_the_single_record_endpoint_takes_them() {
    let app = TestApp::new().await;
    let row = |id: &str, title: &str| {
        json!({"source": "audit", "evidence_category": "processes",
               "quality_statements": ["safe.medicines_optimisation"], "title": title,
               "observed_at": "2026-10-31T00:00:00Z", "external_ref": {"system": "tool", "id": id}})
    };
    let ndjson = format!("{}\n\n{}\n", row("A", "First"), row("B", "Second"));
    let answer = import(
        &app,
        &app.integration,
        "kind=evidence",
        "application/x-ndjson",
        &ndjson,
    )
    .await
    .expect(201);
    assert_eq!(report(&answer)["created"], 2);
    assert_eq!(answer.body["format"], "ndjson");

    let mut bad = row("C", "Third");
    bad["title"] = json!("");
    bad["colour"] = json!("blue");
    let array = json!([row("A", "First"), bad, row("B", "Second renamed")]);
    let answer = import(
        &app,
        &app.integration,
        "kind=evidence&on_error=skip",
        "application/json",
        &array.to_string(),
    )
    .await
    .expect(201);
    assert_eq!(
        (
            report(&answer)["unchanged"].clone(),
            report(&answer)["updated"].clone(),
            report(&answer)["failed"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    let fields: Vec<&Value> = report(&answer)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|e| assert_eq!(e["row"], 2))
        .map(|e| &e["field"])
        .collect();
    assert!(
        fields.contains(&&json!("title")) && fields.contains(&&json!("colour")),
        "{fields:?}"
    );
    let titles = evidence_titles(&app).await;
    assert!(titles.contains(&"Second renamed".to_owned()), "{titles:?}");
}

#[actix_web::test]
async fn files_that_cannot_be_read_are_refused_whole() {
    let app = TestApp::new().await;
    // The wrong content type.
    import(
        &app,
        &app.manager,
        "kind=evidence",
        "text/plain",
        "title\nx\n",
    )
    .await
    .expect_problem(415, "unsupported_media_type");
    // An empty file, or a header alone.
    for empty in ["", "title\n"] {
        import(&app, &app.manager, "kind=evidence", "text/csv", empty)
            .await
            .expect_problem(422, "validation_failed");
    }
    import(
        &app,
        &app.manager,
        "kind=evidence",
        "application/json",
        "[]",
    )
    .await
    .expect_problem(422, "validation_failed");
    // A JSON body is an array of objects, as the document says.
    for not_rows in ["{}", "[1]", "[{\"title\": \"x\"}, \"x\"]", "[{\"title\""] {
        import(
            &app,
            &app.manager,
            "kind=evidence",
            "application/json",
            not_rows,
        )
        .await
        .expect_problem(422, "validation_failed");
    }
    // An unknown column is named, with the closest field as a hint.
    let misspelt = evidence_csv(&app, &[MAR_OCT]).replacen("title", "titel", 1);
    let refused = import(
        &app,
        &app.manager,
        "kind=evidence&date_format=uk",
        "text/csv",
        &misspelt,
    )
    .await
    .expect(201);
    assert_eq!(refused.body["stored"], false);
    assert_eq!(report(&refused)["refused"], true);
    assert_eq!(report(&refused)["errors"][0]["row"], 1);
    assert_eq!(report(&refused)["errors"][0]["field"], "titel");
    assert!(report(&refused)["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `title`"));
    // A quote never closed names the line it opens on; the rows before it are not stored.
    let open_quote = evidence_csv(
        &app,
        &[
            MAR_OCT,
            "audit,processes,safe.medicines_optimisation,\"Unclosed,01/11/2026,LOC,,,,,",
        ],
    );
    let refused = import(
        &app,
        &app.manager,
        "kind=evidence&date_format=uk",
        "text/csv",
        &open_quote,
    )
    .await
    .expect(201);
    assert_eq!(report(&refused)["refused"], true, "{:#}", refused.body);
    // A refused file fails every row it had.
    assert_eq!(report(&refused)["failed"], 2, "{:#}", refused.body);
    assert_eq!(report(&refused)["created"], 0);
    assert_eq!(
        report(&refused)["errors"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["row"],
        3,
        "{:#}",
        refused.body
    );
    // Text that is not UTF-8 names its line.
    let mut latin1 = evidence_csv(&app, &[MAR_OCT]).into_bytes();
    latin1.extend_from_slice(
        b"audit,processes,safe.medicines_optimisation,Caf\xe9 audit,01/11/2026,,,,,,\n",
    );
    let request = actix_web::test::TestRequest::default()
        .method(Method::POST)
        .uri("/v1/imports?kind=evidence&date_format=uk")
        .insert_header(("Authorization", format!("Bearer {}", app.manager)))
        .insert_header(("Content-Type", "text/csv"))
        .set_payload(latin1);
    let refused = app.send(request).await.expect(201);
    assert_eq!(report(&refused)["refused"], true);
    assert_eq!(report(&refused)["errors"][0]["row"], 3);
    assert_eq!(report(&refused)["errors"][0]["field"], Value::Null);
    assert!(evidence_titles(&app).await.is_empty());
    // The refused imports are kept, saying so; nothing of them is stored.
    let imports = app.get(&app.manager, "/v1/imports").await.expect(200);
    let kept = imports.body["items"].as_array().unwrap();
    assert_eq!(kept.len(), 3);
    assert!(kept
        .iter()
        .all(|i| i["stored"] == false && i["report"]["refused"] == true));
    // Too large.
    let huge = "x".repeat(IMPORT_MAX_BYTES + 1);
    import(&app, &app.manager, "kind=evidence", "text/csv", &huge)
        .await
        .expect_problem(413, "payload_too_large");
    // Options that are not the documented ones.
    import(&app, &app.manager, "kind=audits", "text/csv", "title\nx\n")
        .await
        .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn each_row_needs_the_permission_of_its_record() {
    let app = TestApp::new().await;
    import(
        &app,
        &app.staff,
        "kind=evidence",
        "text/csv",
        &evidence_csv(&app, &[MAR_OCT]),
    )
    .await
    .expect_problem(403, "forbidden");
    // Managers import, but only admins create locations.
    import(
        &app,
        &app.manager,
        "kind=locations",
        "text/csv",
        "name,kind\nRiverside,care_home\n",
    )
    .await
    .expect_problem(403, "forbidden");
    let admin = import(
        &app,
        &app.admin,
        "kind=locations",
        "text/csv",
        "name,kind,external_ref.system,external_ref.id\nRiverside,care_home,crm,R-1\n",
    )
    .await
    .expect(201);
    assert_eq!(report(&admin)["created"], 1);
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_import() {
    let app = TestApp::new().await;
    let file = evidence_csv(&app, &[MAR_OCT]);
    let send = |key: &'static str, body: String| {
        let app = &app;
        async move {
            app.send_raw(
                Method::POST,
                "/v1/imports?kind=evidence&date_format=uk",
                &app.manager,
                &[("Content-Type", "text/csv"), ("Idempotency-Key", key)],
                &body,
            )
            .await
        }
    };
    let first = send("import-1", file.clone()).await.expect(201);
    let replay = send("import-1", file.clone()).await.expect(201);
    assert_eq!(first.body["id"], replay.body["id"]);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    send("import-1", evidence_csv(&app, &[MAR_NOV]))
        .await
        .expect_problem(422, "idempotency_key_reused");
    assert_eq!(evidence_titles(&app).await.len(), 1);
}

#[actix_web::test]
async fn plans_come_with_their_actions_and_imports_are_kept_for_who_ran_them() {
    let app = TestApp::new().await;
    let plan = |description: &str| {
        json!({"title": "Medicines", "objective": "No missed signatures by March",
               "owner": {"sub": "manager-1"}, "priority": "high", "review_cadence": "monthly",
               "external_ref": {"system": "qms", "id": "P-1"},
               "actions": [{"description": "Retrain night staff", "due_on": "2026-12-31",
                            "owner": {"sub": "manager-1"}},
                           {"description": description, "due_on": "2027-01-31",
                            "owner": {"sub": "manager-1"}}]})
    };
    let first = import(
        &app,
        &app.manager,
        "kind=improvement_plans",
        "application/x-ndjson",
        &plan("Weekly MAR audit").to_string(),
    )
    .await
    .expect(201);
    assert_eq!(report(&first)["created"], 1, "{:#}", first.body);
    let plans = app
        .get(&app.manager, "/v1/improvement-plans?external_ref.id=P-1")
        .await
        .expect(200);
    let stored = &plans.body["items"][0];
    assert_eq!(stored["actions"].as_array().unwrap().len(), 2);
    // The same row again changes nothing; a new action is added to the plan.
    let again = import(
        &app,
        &app.manager,
        "kind=improvement_plans",
        "application/x-ndjson",
        &plan("Weekly MAR audit").to_string(),
    )
    .await
    .expect(201);
    assert_eq!(report(&again)["unchanged"], 1, "{:#}", again.body);
    let more = import(
        &app,
        &app.manager,
        "kind=improvement_plans",
        "application/x-ndjson",
        &plan("Pharmacist review").to_string(),
    )
    .await
    .expect(201);
    assert_eq!(report(&more)["updated"], 1, "{:#}", more.body);
    let plans = app
        .get(&app.manager, "/v1/improvement-plans?external_ref.id=P-1")
        .await
        .expect(200);
    assert_eq!(
        plans.body["items"][0]["actions"].as_array().unwrap().len(),
        3
    );
    // A bad action is named within its row.
    let mut bad = plan("Weekly MAR audit");
    bad["actions"][0]["due_on"] = json!("soon");
    let refused = import(
        &app,
        &app.manager,
        "kind=improvement_plans",
        "application/x-ndjson",
        &bad.to_string(),
    )
    .await
    .expect(201);
    assert_eq!(
        report(&refused)["errors"][0]["field"],
        "actions[0].due_on",
        "{:#}",
        refused.body
    );

    // The integration's own imports only; managers read everyone's.
    import(
        &app,
        &app.integration,
        "kind=evidence&date_format=uk",
        "text/csv",
        &evidence_csv(&app, &[MAR_OCT]),
    )
    .await
    .expect(201);
    let own = app.get(&app.integration, "/v1/imports").await.expect(200);
    assert_eq!(own.body["items"].as_array().unwrap().len(), 1);
    let all = app.get(&app.manager, "/v1/imports").await.expect(200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 5);
    let first_id = first.body["id"].as_str().unwrap();
    app.get(&app.integration, &format!("/v1/imports/{first_id}"))
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn rows_are_named_by_their_line_whatever_the_line_endings() {
    let app = TestApp::new().await;
    let bad = "audit,processes,safe.nope,Bad,01/11/2026,LOC,,,,,";
    // Windows line endings, a blank line, a line of spaces, a quoted cell over two lines, and a
    // quote inside an unquoted cell.
    let file = evidence_csv(&app, &[MAR_OCT, "", "   ", bad])
        .replace("October MAR audit", "\"October\nMAR audit\"")
        .replace('\n', "\r\n")
        + &evidence_csv(&app, &[bad])
            .lines()
            .nth(1)
            .unwrap()
            .replace("Bad", "5\" dressing audit");
    let answer = import(
        &app,
        &app.manager,
        "kind=evidence&date_format=uk&on_error=skip",
        "text/csv",
        &file,
    )
    .await
    .expect(201);
    let rows: Vec<&Value> = report(&answer)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["row"])
        .collect();
    // Header 1, the October audit 2-3, blank 4, spaces 5, bad 6, the dressing audit 7.
    assert_eq!(rows, [&json!(6), &json!(7)], "{:#}", answer.body);
    assert_eq!(report(&answer)["created"], 1);
    assert_eq!(report(&answer)["rows"], 3);
}

#[actix_web::test]
async fn a_changed_cell_changes_only_its_field() {
    let app = TestApp::new().await;
    import(
        &app,
        &app.manager,
        "kind=evidence&date_format=uk",
        "text/csv",
        &evidence_csv(&app, &[MAR_NOV]),
    )
    .await
    .expect(201);
    // A file without the unit column: the stored unit stays.
    let file = "source,evidence_category,quality_statements,title,observed_at,metric.name,metric.value,external_ref.system,external_ref.id\n\
                audit,processes,safe.medicines_optimisation,November MAR audit,30/11/2026 17:30,mar_score,96,audit-tool,MA-11\n";
    let answer = import(
        &app,
        &app.manager,
        "kind=evidence&date_format=uk",
        "text/csv",
        file,
    )
    .await
    .expect(201);
    assert_eq!(report(&answer)["updated"], 1, "{:#}", answer.body);
    let found = app
        .get(&app.manager, "/v1/evidence?external_ref.id=MA-11")
        .await
        .expect(200);
    let evidence = &found.body["items"][0];
    assert_eq!(
        evidence["metric"],
        json!({"name": "mar_score", "value": 96.0, "unit": "%", "target": null, "direction": "at_least"})
    );
    assert_eq!(evidence["location_id"], app.location.as_str());
    // Lists compare as sets: the statements in another order change nothing.
    let id = evidence["id"].as_str().unwrap();
    let reordered =
        format!("id,quality_statements\n{id},safe.safeguarding|safe.medicines_optimisation\n");
    let answer = import(&app, &app.manager, "kind=evidence", "text/csv", &reordered)
        .await
        .expect(201);
    // A row naming a record by id must still be a whole record as POST takes it.
    assert_eq!(report(&answer)["failed"], 1);
    let whole = format!(
        "id,source,evidence_category,quality_statements,title,observed_at\n\
         {id},audit,processes,safe.medicines_optimisation,November MAR audit (checked),2026-11-30T17:30:00Z\n"
    );
    let answer = import(&app, &app.manager, "kind=evidence", "text/csv", &whole)
        .await
        .expect(201);
    assert_eq!(report(&answer)["updated"], 1, "{:#}", answer.body);
    let read = app
        .get(&app.manager, &format!("/v1/evidence/{id}"))
        .await
        .expect(200);
    assert_eq!(read.body["title"], "November MAR audit (checked)");
    assert_eq!(read.body["version"], 3);
}

#[actix_web::test]
async fn headers_twice_a_byte_order_mark_and_anonymous_rows() {
    let app = TestApp::new().await;
    let twice = "title,title\nx,y\n";
    let refused = import(&app, &app.manager, "kind=evidence", "text/csv", twice)
        .await
        .expect(201);
    assert_eq!(report(&refused)["refused"], true);
    assert_eq!(report(&refused)["errors"][0]["field"], "title");
    assert_eq!(
        report(&refused)["errors"][0]["message"],
        "is a column twice"
    );
    let row = json!({"source": "audit", "evidence_category": "processes",
                     "quality_statements": ["safe.medicines_optimisation"], "title": "With a BOM",
                     "observed_at": "2026-10-31T00:00:00Z"});
    for (content_type, body) in [
        ("application/x-ndjson", format!("\u{feff}{row}\n")),
        ("application/json", format!("\u{feff}[{row}]")),
    ] {
        let answer = import(&app, &app.manager, "kind=evidence", content_type, &body)
            .await
            .expect(201);
        assert_eq!(
            report(&answer)["created"],
            1,
            "{content_type}: {:#}",
            answer.body
        );
    }
    let anonymous = json!({"title": "Night staffing", "description": "One carer for 14 residents",
                           "category": "staffing", "risk": "high", "anonymous": true});
    let answer = import(
        &app,
        &app.manager,
        "kind=concerns",
        "application/json",
        &json!([anonymous]).to_string(),
    )
    .await
    .expect(201);
    assert_eq!(report(&answer)["errors"][0]["field"], "anonymous");
    let concerns = app.get(&app.admin, "/v1/concerns").await.expect(200);
    assert_eq!(concerns.body["items"], json!([]));
}

#[actix_web::test]
async fn rows_take_effect_in_file_order() {
    let app = TestApp::new().await;
    let plan = |title: &str| {
        json!({"title": title, "objective": "Fewer falls", "owner": {"sub": "manager-1"},
               "priority": "medium", "review_cadence": "quarterly",
               "external_ref": {"system": "qms", "id": "P-9"}})
    };
    let mut second = plan("Second");
    second["actions"] = json!([{"description": "Sensor mats", "due_on": "2027-01-31", "owner": {"sub": "manager-1"}}]);
    let mut bad = plan("Bad");
    bad["priority"] = json!("whenever");
    let body = [plan("First"), bad, second]
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let answer = import(
        &app,
        &app.manager,
        "kind=improvement_plans&on_error=skip",
        "application/x-ndjson",
        &body,
    )
    .await
    .expect(201);
    let report = report(&answer);
    assert_eq!(
        (
            report["created"].clone(),
            report["updated"].clone(),
            report["failed"].clone()
        ),
        (json!(1), json!(1), json!(1)),
        "{report:#}"
    );
    assert_eq!(report["errors"][0]["row"], 2);
    let plans = app
        .get(&app.manager, "/v1/improvement-plans?external_ref.id=P-9")
        .await
        .expect(200);
    assert_eq!(plans.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(plans.body["items"][0]["title"], "Second");
    assert_eq!(
        plans.body["items"][0]["actions"].as_array().unwrap().len(),
        1
    );
}
