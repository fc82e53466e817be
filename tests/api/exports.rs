//! Lists as CSV: every list of the document answers `Accept: text/csv` with what its JSON form
//! shows the caller, all of it, safe to open in a spreadsheet; and an export edited in a
//! spreadsheet imports back changing only what was edited. The inspection pack and the long
//! reads are in `packs.rs`.

use actix_web::http::Method;
use careloop::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{claims, operations, sign, Response, TestApp};
use crate::privacy::{fill, scene};

/// `GET path` as `token` asking for CSV: the status, the content type, and the rows (header
/// first).
pub async fn csv(app: &TestApp, token: &str, path: &str) -> (u16, String, Vec<Vec<String>>) {
    let request =
        TestApp::request(Method::GET, path, Some(token)).insert_header(("Accept", "text/csv"));
    let (status, headers, body) = app.exchange(request).await;
    let status = status.as_u16();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let rows = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&body[..])
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (status, content_type, rows)
}

/// The items of a JSON list, read whole.
async fn every_item(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let joiner = if path.contains('?') { '&' } else { '?' };
    let page = app
        .get(token, &format!("{path}{joiner}limit=200"))
        .await
        .expect(200);
    assert_eq!(page.body["next_cursor"], Value::Null, "{path}");
    page.body["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn every_list_answers_csv_with_what_its_json_shows_the_caller() {
    let app = TestApp::new().await;
    let scene = scene(&app).await;
    let mut limited = claims(&app.org, &[Role::Manager], "user-manager");
    limited.locations = Some(vec![app.second_location.clone()]);
    let limited = sign(&limited);
    let document = careloop::api::docs::document();
    let mut lists = 0;
    for (method, template, operation) in operations(document) {
        let answer = &operation["responses"]["200"]["content"];
        if method != "GET" || answer["text/csv"].is_null() || template.starts_with("/v1/receipt") {
            continue;
        }
        lists += 1;
        let path = fill(template, &scene, &app);
        for (who, token) in [
            ("admin", &app.admin),
            ("viewer", &app.viewer),
            ("limited manager", &limited),
        ] {
            let json = app.get(token, &format!("{path}?limit=200")).await;
            let (status, content_type, rows) = csv(&app, token, &path).await;
            assert_eq!(status, json.status.as_u16(), "{who} {path}");
            if status != 200 {
                continue;
            }
            assert_eq!(content_type, "text/csv; charset=utf-8", "{who} {path}");
            let items = json.body["items"].as_array().unwrap();
            let header = &rows[0];
            assert!(!header.is_empty(), "{path}");
            assert_eq!(rows.len() - 1, items.len(), "{who} {path}: {rows:?}");
            if let Some(at) = header.iter().position(|h| h == "id") {
                let ids: Vec<&str> = rows[1..].iter().map(|r| r[at].as_str()).collect();
                let expected: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
                assert_eq!(ids, expected, "{who} {path}");
            }
        }
    }
    assert!(lists >= 20, "{lists} lists");
}

#[actix_web::test]
async fn an_export_is_the_whole_filtered_list_and_safe_in_a_spreadsheet() {
    let app = TestApp::new().await;
    let mut file = String::from("source,evidence_category,quality_statements,title,summary,observed_at,metric.name,metric.value\n");
    for i in 0..230 {
        file.push_str(&format!(
            "audit,processes,safe.medicines_optimisation,Audit {i},Fine,2026-10-01T09:00:00Z,falls,{}\n",
            i as f64 - 3.0
        ));
    }
    file.push_str("observation,observation,safe.safeguarding,=HYPERLINK(\"https://evil.example\"),\"-1 carer, @night\",2026-10-02T09:00:00Z,,\n");
    app.send_raw(
        Method::POST,
        "/v1/imports?kind=evidence",
        &app.manager,
        &[("Content-Type", "text/csv")],
        &file,
    )
    .await
    .expect(201);
    // More than a page, with the list's filters.
    let (_, _, audits) = csv(&app, &app.manager, "/v1/evidence?source=audit").await;
    assert_eq!(audits.len(), 231);
    let (_, _, all) = csv(&app, &app.manager, "/v1/evidence").await;
    assert_eq!(all.len(), 232);
    let header = &all[0];
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let observation = all
        .iter()
        .find(|r| r[at("source")] == "observation")
        .unwrap();
    assert_eq!(
        observation[at("title")],
        "'=HYPERLINK(\"https://evil.example\")"
    );
    assert_eq!(observation[at("summary")], "'-1 carer, @night");
    // Numbers stay numbers.
    let first = all.iter().find(|r| r[at("title")] == "Audit 0").unwrap();
    assert_eq!(first[at("metric.value")], "-3.0");
    assert_eq!(
        first[at("quality_statements")],
        "safe.medicines_optimisation"
    );
    // JSON still pages.
    let page = app
        .get(&app.manager, "/v1/evidence?limit=200")
        .await
        .expect(200);
    assert!(page.body["next_cursor"].is_string());
    // A refused query is a problem, not a file.
    let refused = app
        .send_with(
            Method::GET,
            "/v1/evidence?source=gossip",
            &app.manager,
            &[("Accept", "text/csv")],
            None,
        )
        .await;
    assert_eq!(refused.status, 422);
}

/// Edits one cell of a CSV file: the column `column` of the row whose `match_column` is `value`.
fn edit(rows: &mut [Vec<String>], find: (&str, &str), column: &str, to: &str) {
    let at = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    let (find_at, set_at) = (at(find.0), at(column));
    let row = rows.iter_mut().find(|r| r[find_at] == find.1).unwrap();
    row[set_at] = to.to_owned();
}

fn write(rows: &[Vec<String>]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(row).unwrap();
    }
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}

async fn import(
    app: &TestApp,
    token: &str,
    kind: &str,
    content_type: &str,
    body: &str,
) -> Response {
    app.send_raw(
        Method::POST,
        &format!("/v1/imports?kind={kind}"),
        token,
        &[("Content-Type", content_type)],
        body,
    )
    .await
    .expect(201)
}

#[actix_web::test]
async fn an_export_edited_in_a_spreadsheet_imports_back_changing_only_the_edit() {
    let app = TestApp::new().await;
    let location = &app.location;
    let seeds: Vec<(&str, &str, &str, Value)> = vec![
        (
            "locations",
            "/v1/locations",
            "name",
            json!([
            {"name": "Riverside", "kind": "care_home", "external_ref": {"system": "crm", "id": "L-1"}},
            {"name": "Hillview", "kind": "home_care", "cqc_location_id": "1-123456789"}]),
        ),
        (
            "concerns",
            "/v1/concerns",
            "title",
            json!([
            {"title": "Call bells", "description": "Slow at night", "category": "care_practice",
             "risk": "high", "location_id": location, "quality_statements": ["safe.safe_and_effective_staffing"]},
            {"title": "Menu choice", "description": "Little choice", "category": "other", "risk": "low",
             "external_ref": {"system": "crm", "id": "C-2"}}]),
        ),
        (
            "learning_events",
            "/v1/learning-events",
            "title",
            json!([
            {"kind": "supervision", "occurred_at": "2026-10-01T10:00:00Z", "title": "Supervision",
             "lessons": ["Check bells", "Handover notes"], "location_id": location,
             "participants": [{"role": "staff", "name": "Sam"}]},
            {"kind": "post_incident_debrief", "occurred_at": "2026-10-02T10:00:00Z", "title": "Fall debrief",
             "went_well": "=quick response"}]),
        ),
        (
            "evidence",
            "/v1/evidence",
            "title",
            json!([
            {"source": "audit", "evidence_category": "processes", "title": "MAR audit",
             "quality_statements": ["safe.medicines_optimisation", "safe.safeguarding"],
             "period_start_at": "2026-10-01T00:00:00Z", "period_end_at": "2026-10-31T23:59:59Z",
             "metric": {"name": "mar", "value": 92.5, "unit": "%", "target": 95.0}, "links": ["https://records.example/1"]},
            {"source": "feedback", "evidence_category": "peoples_experience", "title": "Survey",
             "quality_statements": ["safe.safeguarding"], "observed_at": "2026-10-03T00:00:00Z",
             "respondent": "relative"}]),
        ),
        (
            "improvement_plans",
            "/v1/improvement-plans",
            "title",
            json!([
            {"title": "Medicines", "objective": "No missed signatures", "owner": {"sub": "manager-1", "name": "Alex"},
             "priority": "high", "review_cadence": "monthly", "co_produced": true,
             "involved": [{"role": "relative", "name": "Jo", "agreed_to_be_named": true}],
             "actions": [{"description": "Retrain", "due_on": "2026-12-31", "owner": {"sub": "manager-1"}}]},
            {"title": "Falls", "objective": "Fewer falls", "owner": {"sub": "manager-1"},
             "priority": "medium", "review_cadence": "quarterly"}]),
        ),
        (
            "recognitions",
            "/v1/recognitions",
            "",
            json!([
            {"kind": "thanks", "title": "Thank you", "message": "For the garden party",
             "from": "relative", "recipients": ["Sam"], "occurred_on": "2026-10-05"}]),
        ),
    ];
    for (kind, list, column, rows) in seeds {
        let seeded = import(
            &app,
            &app.admin,
            kind,
            "application/json",
            &rows.to_string(),
        )
        .await;
        assert_eq!(
            seeded.body["report"]["failed"], 0,
            "{kind}: {:#}",
            seeded.body
        );
        let before = every_item(&app, &app.admin, list).await;
        let (_, _, mut exported) = csv(&app, &app.admin, list).await;
        assert_eq!(exported.len(), before.len() + 1, "{kind}");
        // Unedited, the export imports back as it is.
        let back = import(&app, &app.admin, kind, "text/csv", &write(&exported)).await;
        assert_eq!(
            back.body["report"]["unchanged"],
            before.len(),
            "{kind}: {:#}",
            back.body
        );
        let edited_id = before[0]["id"].as_str().unwrap().to_owned();
        if !column.is_empty() {
            edit(
                &mut exported,
                ("id", &edited_id),
                column,
                "Edited in a spreadsheet",
            );
            let back = import(&app, &app.admin, kind, "text/csv", &write(&exported)).await;
            assert_eq!(back.body["report"]["updated"], 1, "{kind}: {:#}", back.body);
            assert_eq!(
                back.body["report"]["unchanged"],
                before.len() - 1,
                "{kind}: {:#}",
                back.body
            );
        }
        let after = every_item(&app, &app.admin, list).await;
        assert_eq!(after.len(), before.len(), "{kind}");
        for (was, now) in before.iter().zip(&after) {
            if column.is_empty() || was["id"] != edited_id.as_str() {
                assert_eq!(was, now, "{kind}");
                continue;
            }
            assert_eq!(now[column], "Edited in a spreadsheet", "{kind}");
            assert_eq!(
                now["version"],
                was["version"].as_i64().unwrap() + 1,
                "{kind}"
            );
            let mut now = now.clone();
            for field in [column, "version", "updated_at", "latest_review", "overdue"] {
                if let Some(value) = was.get(field) {
                    now[field] = value.clone();
                }
            }
            assert_eq!(was, &now, "{kind}: nothing else changed");
        }
    }
}
