//! The inspection pack: the CSV files an inspector asks for, of one location (or all the
//! caller may see) over a period, in one zip with a README.txt saying what each holds. Every
//! file is read through its list's own store call as the caller, so the pack shows exactly what
//! the lists show them.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::IntoParams;
use uuid::Uuid;
use zip::write::SimpleFileOptions;

use crate::api::imports::columns::{self, Cell, Column};
use crate::api::shared::ChangedSince;
use crate::api::{concerns, evidence, improvement_plans, learning_events, locations};
use crate::api::{organisation, recognitions};
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::domain::ids::LocationId;
use crate::domain::now;
use crate::error::{ApiError, ApiResult};
use crate::http::export::{csv_file, every_item};

/// Which records the pack holds.
#[derive(Debug, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PackQuery {
    /// Only this location's records (a caller limited to some locations names one of theirs);
    /// every location the caller may see when left out.
    pub location_id: Option<Uuid>,
    /// The period's start: records of this moment on (by when they happened, or for plans,
    /// those still open then).
    pub from: Option<DateTime<Utc>>,
    /// The period's end: records up to this moment.
    pub to: Option<DateTime<Utc>>,
}

/// A file of the pack: its name, what it holds, and its columns and rows.
struct PackFile {
    name: &'static str,
    about: &'static str,
    columns: Vec<Column>,
    rows: Vec<Value>,
}

fn json_of<T: Serialize>(items: Vec<T>) -> ApiResult<Vec<Value>> {
    items
        .into_iter()
        .map(|item| Ok(serde_json::to_value(item)?))
        .collect()
}

fn query<Q: serde::de::DeserializeOwned>(value: Value) -> ApiResult<Q> {
    serde_json::from_value(value).map_err(ApiError::internal)
}

/// Whether a record's date (`field`: a time, or a day) falls between `from` and `to`.
fn in_period(
    record: &Value,
    field: &str,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> bool {
    let Some(text) = record[field].as_str() else {
        return true;
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        let at = at.with_timezone(&Utc);
        return from.is_none_or(|from| at >= from) && to.is_none_or(|to| at <= to);
    }
    match text.parse::<chrono::NaiveDate>() {
        Ok(day) => {
            from.is_none_or(|from| day >= from.date_naive())
                && to.is_none_or(|to| day <= to.date_naive())
        }
        Err(_) => true,
    }
}

/// The pack as a zip file.
pub fn build(
    conn: &mut DbConnection,
    principal: &Principal,
    period: &PackQuery,
) -> ApiResult<Vec<u8>> {
    let organisation = organisation::store::get(conn, &principal.organisation_id)?;
    let place = match period.location_id {
        Some(id) => locations::store::get(conn, principal, LocationId::from(id))?.name,
        None => "every location the exporter may see".to_owned(),
    };
    let location = period.location_id;
    let filters = json!({"location_id": location});
    let dated = json!({"location_id": location, "from": period.from, "to": period.to});

    let concerns: Vec<Value> = {
        let q: concerns::dto::ConcernQuery = query(filters.clone())?;
        json_of(every_item(conn, |c, p| {
            concerns::store::list(c, principal, &q, p)
        })?)?
    }
    .into_iter()
    .filter(|c| in_period(c, "created_at", period.from, period.to))
    .collect();
    let learning = {
        let q: learning_events::dto::LearningEventQuery = query(dated.clone())?;
        json_of(every_item(conn, |c, p| {
            learning_events::store::list(c, principal, &q, p)
        })?)?
    };
    let evidence = {
        let q: evidence::dto::EvidenceQuery = query(dated.clone())?;
        json_of(every_item(conn, |c, p| {
            evidence::store::list(c, principal, &q, p)
        })?)?
    };
    let mut by_statement: Vec<Value> = evidence
        .iter()
        .flat_map(|record| {
            record["quality_statements"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |statement| {
                    let mut row = record.clone();
                    row["quality_statement_id"] = statement;
                    row
                })
        })
        .collect();
    by_statement.sort_by(|a, b| {
        (a["quality_statement_id"].as_str(), a["id"].as_str())
            .cmp(&(b["quality_statement_id"].as_str(), b["id"].as_str()))
    });
    let plans: Vec<Value> = {
        let q: improvement_plans::plans::dto::PlanQuery = query(filters.clone())?;
        json_of(every_item(conn, |c, p| {
            improvement_plans::plans::store::list(c, principal, &q, p)
        })?)?
    }
    .into_iter()
    // Plans open at some time in the period: made by its end, and not closed before its start
    // (completed then, or archived: an archived plan's last change is its archiving).
    .filter(|plan| {
        let closed = if !plan["completed_at"].is_null() {
            Some("completed_at")
        } else if plan["status"] == "archived" {
            Some("updated_at")
        } else {
            None
        };
        in_period(plan, "created_at", None, period.to)
            && closed.is_none_or(|field| in_period(plan, field, period.from, None))
    })
    .collect();
    let actions: Vec<Value> = plans
        .iter()
        .flat_map(|plan| plan["actions"].as_array().cloned().unwrap_or_default())
        .collect();
    let mut reviews = Vec::new();
    for plan in &plans {
        let Some(id) = plan["id"].as_str().and_then(|id| Uuid::parse_str(id).ok()) else {
            continue;
        };
        let since = ChangedSince::default();
        reviews.extend(json_of(every_item(conn, |c, p| {
            improvement_plans::reviews::store::list_reviews(c, principal, id.into(), &since, p)
        })?)?);
    }
    let recognitions: Vec<Value> = {
        let q: recognitions::dto::RecognitionQuery = query(filters)?;
        json_of(every_item(conn, |c, p| {
            recognitions::store::list(c, principal, &q, p)
        })?)?
    }
    .into_iter()
    // A compliment still awaiting a manager's approval, or declined, is no evidence yet.
    .filter(|r| r["approval"] == "approved")
    .filter(|r| in_period(r, "occurred_on", period.from, period.to))
    .collect();

    let mut statement_columns = vec![Column {
        name: "quality_statement_id".to_owned(),
        cell: Cell::Text,
    }];
    statement_columns.extend(without_contact(columns::of("Evidence")));
    let files = [
        PackFile {
            name: "concerns.csv",
            about: "Concerns raised in the period, with their status, risk and outcome (`outcome.*`: what was done, the \"you said, we did\"). Confidential concerns appear only to those who may see them; anonymous raisers are never named.",
            columns: without_contact(columns::of("Concern")),
            rows: concerns,
        },
        PackFile {
            name: "learning_events.csv",
            about: "Learning events (debriefs, reviews, supervision, lessons shared) that took place in the period: what went well, what did not, and the lessons.",
            columns: columns::of("LearningEvent"),
            rows: learning,
        },
        PackFile {
            name: "evidence_by_quality_statement.csv",
            about: "Evidence dated in the period, one line for each quality statement it speaks to (`quality_statement_id`), in the order of the statements; archived evidence is left out.",
            columns: statement_columns,
            rows: by_statement,
        },
        PackFile {
            name: "improvement_plans.csv",
            about: "Improvement plans open at some time in the period: their objective, owner, status, review cadence and the records they came from.",
            columns: columns::of("ImprovementPlan"),
            rows: plans,
        },
        PackFile {
            name: "plan_actions.csv",
            about: "The actions of those plans (`plan_id` names the plan): owner, due date, status, and whether the change was checked as effective.",
            columns: columns::of("PlanAction"),
            rows: actions,
        },
        PackFile {
            name: "plan_reviews.csv",
            about: "The monthly, quarterly and annual reviews of those plans (`plan_id` names the plan): progress and notes.",
            columns: columns::of("PlanReview"),
            rows: reviews,
        },
        PackFile {
            name: "recognitions.csv",
            about: "Compliments, thanks, staff awards and improvement milestones of the period.",
            columns: columns::of("Recognition"),
            rows: recognitions,
        },
    ];

    let period_text = match (period.from, period.to) {
        (None, None) => "all time".to_owned(),
        (from, to) => format!(
            "{} to {}",
            from.map_or("the start".to_owned(), |t| t.to_rfc3339()),
            to.map_or("now".to_owned(), |t| t.to_rfc3339())
        ),
    };
    let mut readme = format!(
        "Inspection pack\r\n\r\nOrganisation: {}\r\nLocation: {place}\r\nPeriod: {period_text}\r\nMade: {} by {}\r\n\r\n\
         Each file is CSV (UTF-8) with a header row of the record's fields, as careloop's API names \
         them: nested fields dotted (outcome.summary), lists of values joined by |, lists of \
         records as JSON. A cell that begins with =, +, - or @ starts with ' so that a spreadsheet \
         shows it as text. The files show what the person who made the pack may see.\r\n\r\n",
        organisation.name,
        now().to_rfc3339(),
        principal.sub,
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for file in &files {
        readme.push_str(&format!(
            "{} ({} rows)\r\n  {}\r\n\r\n",
            file.name,
            file.rows.len(),
            file.about
        ));
        zip.start_file(file.name, options)
            .map_err(ApiError::internal)?;
        zip.write_all(&csv_file(&file.columns, &file.rows)?)
            .map_err(ApiError::internal)?;
    }
    zip.start_file("README.txt", options)
        .map_err(ApiError::internal)?;
    zip.write_all(readme.as_bytes())
        .map_err(ApiError::internal)?;
    Ok(zip.finish().map_err(ApiError::internal)?.into_inner())
}

/// The columns but the contact details someone left through an intake point: those are for the
/// managers to reach them, never for an inspection pack.
fn without_contact(columns: Vec<Column>) -> Vec<Column> {
    columns
        .into_iter()
        .filter(|column| column.name != "contact" && !column.name.starts_with("contact."))
        .collect()
}
