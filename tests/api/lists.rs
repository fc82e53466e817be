//! One list contract: every collection of the document pages with `limit` and `cursor`, and
//! walking it a record at a time gives the same list as one long page, each item once.

use serde_json::{json, Value};

use crate::helpers::{operations, TestApp};
use crate::privacy::{fill, scene};

#[actix_web::test]
async fn every_list_pages_to_the_same_items_as_one_long_page() {
    let app = TestApp::new().await;
    let scene = scene(&app).await;
    let document = careloop::api::docs::document();
    let mut walked = 0;
    for (method, template, operation) in operations(document) {
        let takes_cursor = operation["parameters"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["name"] == "cursor"));
        // The change feed is a log, not a list: its cursor is always set (changes.rs pages it).
        if method != "GET"
            || !takes_cursor
            || template.starts_with("/v1/receipt")
            || template == "/v1/changes"
        {
            continue;
        }
        let path = fill(template, &scene, &app);
        let whole = app
            .get(&app.admin, &format!("{path}?limit=200"))
            .await
            .expect(200);
        assert_eq!(whole.body["next_cursor"], Value::Null, "{path}");
        let mut paged: Vec<Value> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let ask = match &cursor {
                Some(cursor) => format!("{path}?limit=1&cursor={cursor}"),
                None => format!("{path}?limit=1"),
            };
            let page = app.get(&app.admin, &ask).await.expect(200);
            let items = page.body["items"].as_array().unwrap();
            assert!(items.len() <= 1, "{ask}");
            paged.extend(items.iter().cloned());
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
            assert!(paged.len() <= 200, "{path} does not end");
        }
        assert_eq!(&paged, whole.body["items"].as_array().unwrap(), "{path}");
        walked += 1;
    }
    assert!(walked >= 16, "{walked} lists");
}

#[actix_web::test]
async fn a_page_carries_each_records_own_tags() {
    // A page's tags are read for all its records at once: each must get its own, none another's.
    let app = TestApp::new().await;
    let tagged = [
        vec![
            "safe.safeguarding",
            "well_led.learning_improvement_innovation",
        ],
        vec![],
        vec!["caring.kindness_compassion_dignity"],
        vec!["safe.safeguarding"],
    ];
    let mut created = Vec::new();
    for (n, statements) in tagged.iter().enumerate() {
        let body = json!({"title": format!("Concern {n}"), "description": "d",
                          "category": "other", "risk": "low",
                          "quality_statements": statements});
        let answer = app
            .post(&app.manager, "/v1/concerns", body)
            .await
            .expect(201);
        created.push((answer.body["id"].clone(), json!(statements)));
    }
    let page = app
        .get(&app.manager, "/v1/concerns?limit=50")
        .await
        .expect(200);
    let listed: Vec<(Value, Value)> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| (item["id"].clone(), item["quality_statements"].clone()))
        .collect();
    assert_eq!(listed, created);
}
