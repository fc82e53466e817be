//! The inspection pack: the CSV files an inspector asks for, of one location (or all the
//! caller may see) over a period, in one zip with a README.txt saying what each holds. Every
//! file is read through its list's own store call as the caller, so the pack shows exactly what
//! the lists show them.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Seek, Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
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
use crate::http::export::{cells, each_page};
use crate::http::paging::{Page, Paginated};

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

/// The pack as it is written: a zip in a temporary file (a pack of every record can be far
/// larger than a request should hold in memory), and README.txt's line about each file.
struct Pack {
    zip: zip::ZipWriter<File>,
    contents: String,
}

/// The lines of one of the pack's CSV files, written as they are read.
struct Lines<'a> {
    csv: csv::Writer<&'a mut zip::ZipWriter<File>>,
    columns: &'a [Column],
    count: usize,
}

impl Lines<'_> {
    fn value(&mut self, record: &Value) -> ApiResult<()> {
        self.count += 1;
        self.csv
            .write_record(cells(record, self.columns))
            .map_err(ApiError::internal)
    }
}

impl Pack {
    fn new() -> ApiResult<Self> {
        let file = tempfile::tempfile().map_err(ApiError::internal)?;
        Ok(Self {
            zip: zip::ZipWriter::new(file),
            contents: String::new(),
        })
    }

    /// Adds the file `name` of `columns`, its lines written by `write`, and notes it in the
    /// README.
    fn file(
        &mut self,
        name: &str,
        about: &str,
        columns: &[Column],
        write: impl FnOnce(&mut Lines) -> ApiResult<()>,
    ) -> ApiResult<()> {
        self.zip
            .start_file(name, options())
            .map_err(ApiError::internal)?;
        let mut lines = Lines {
            csv: csv::Writer::from_writer(&mut self.zip),
            columns,
            count: 0,
        };
        lines
            .csv
            .write_record(columns.iter().map(|c| &c.name))
            .map_err(ApiError::internal)?;
        write(&mut lines)?;
        let count = lines.count;
        lines.csv.flush().map_err(ApiError::internal)?;
        self.contents
            .push_str(&format!("{name} ({count} rows)\r\n  {about}\r\n\r\n"));
        Ok(())
    }

    /// The finished zip, read from its start, and its length in bytes.
    fn finish(mut self, readme: String) -> ApiResult<(File, u64)> {
        self.zip
            .start_file("README.txt", options())
            .map_err(ApiError::internal)?;
        self.zip
            .write_all((readme + &self.contents).as_bytes())
            .map_err(ApiError::internal)?;
        let mut file = self.zip.finish().map_err(ApiError::internal)?;
        let length = file.stream_position().map_err(ApiError::internal)?;
        file.rewind().map_err(ApiError::internal)?;
        Ok((file, length))
    }
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)
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

/// Whether a plan was open at some time in the period: made by its end, and not closed before
/// its start (completed then, or archived: an archived plan's last change is its archiving).
fn open_in_period(plan: &Value, period: &PackQuery) -> bool {
    let closed = if !plan["completed_at"].is_null() {
        Some("completed_at")
    } else if plan["status"] == "archived" {
        Some("updated_at")
    } else {
        None
    };
    in_period(plan, "created_at", None, period.to)
        && closed.is_none_or(|field| in_period(plan, field, period.from, None))
}

/// Each item of a list as its JSON, which the pack's files and filters read, a page at a time.
fn each_record<T: Serialize + ToSchema>(
    conn: &mut DbConnection,
    read: impl Fn(&mut DbConnection, &Page) -> ApiResult<Paginated<T>>,
    mut take: impl FnMut(Value) -> ApiResult<()>,
) -> ApiResult<()> {
    each_page(conn, read, |page| {
        page.into_iter()
            .try_for_each(|item| take(serde_json::to_value(item)?))
    })
}

/// Each plan of the list `q` open in the period, as its JSON.
fn each_open_plan(
    conn: &mut DbConnection,
    principal: &Principal,
    q: &improvement_plans::plans::dto::PlanQuery,
    period: &PackQuery,
    mut take: impl FnMut(&Value) -> ApiResult<()>,
) -> ApiResult<()> {
    let read =
        |c: &mut DbConnection, p: &Page| improvement_plans::plans::store::list(c, principal, q, p);
    each_record(conn, read, |plan| {
        if open_in_period(&plan, period) {
            take(&plan)
        } else {
            Ok(())
        }
    })
}

/// The pack as a zip file (a temporary one, read from its start), and its length in bytes.
/// Each list is read and written a page at a time.
pub fn build(
    conn: &mut DbConnection,
    principal: &Principal,
    period: &PackQuery,
) -> ApiResult<(File, u64)> {
    let organisation = organisation::store::get(conn, &principal.organisation_id)?;
    let place = match period.location_id {
        Some(id) => locations::store::get(conn, principal, LocationId::from(id))?.name,
        None => "every location the exporter may see".to_owned(),
    };
    let location = period.location_id;
    let filters = json!({"location_id": location});
    let dated = json!({"location_id": location, "from": period.from, "to": period.to});
    let mut pack = Pack::new()?;

    let q: concerns::dto::ConcernQuery = query(filters.clone())?;
    pack.file(
        "concerns.csv",
        "Concerns raised in the period, with their status, risk and outcome (`outcome.*`: what was done, the \"you said, we did\"). Confidential concerns appear only to those who may see them; anonymous raisers are never named.",
        &without_contact(columns::of("Concern")),
        |lines| {
            let read = |c: &mut DbConnection, p: &Page| concerns::store::list(c, principal, &q, p);
            each_record(conn, read, |concern| {
                if in_period(&concern, "created_at", period.from, period.to) {
                    lines.value(&concern)
                } else {
                    Ok(())
                }
            })
        },
    )?;

    let q: learning_events::dto::LearningEventQuery = query(dated.clone())?;
    pack.file(
        "learning_events.csv",
        "Learning events (debriefs, reviews, supervision, lessons shared) that took place in the period: what went well, what did not, and the lessons.",
        &columns::of("LearningEvent"),
        |lines| {
            let read = |c: &mut DbConnection, p: &Page| learning_events::store::list(c, principal, &q, p);
            each_record(conn, read, |event| lines.value(&event))
        },
    )?;

    let mut statement_columns = vec![Column {
        name: "quality_statement_id".to_owned(),
        cell: Cell::Text,
    }];
    statement_columns.extend(without_contact(columns::of("Evidence")));
    let q: evidence::dto::EvidenceQuery = query(dated.clone())?;
    // One pass finds the statements the evidence speaks to; then each statement's evidence is
    // read through the list's own filter, in the list's order, so no line waits in memory.
    let mut statements = BTreeSet::new();
    each_page(
        conn,
        |c, p| evidence::store::list(c, principal, &q, p),
        |page| {
            statements.extend(
                page.into_iter()
                    .flat_map(|record| record.quality_statements),
            );
            Ok(())
        },
    )?;
    pack.file(
        "evidence_by_quality_statement.csv",
        "Evidence dated in the period, one line for each quality statement it speaks to (`quality_statement_id`), in the order of the statements; archived evidence is left out.",
        &statement_columns,
        |lines| {
            statements.into_iter().try_for_each(|statement| {
                let mut filters = dated.clone();
                filters["quality_statement_id"] = Value::from(statement.as_str());
                let q: evidence::dto::EvidenceQuery = query(filters)?;
                let read = |c: &mut DbConnection, p: &Page| evidence::store::list(c, principal, &q, p);
                each_record(conn, read, |mut record| {
                    record["quality_statement_id"] = Value::from(statement.as_str());
                    lines.value(&record)
                })
            })
        },
    )?;

    let q: improvement_plans::plans::dto::PlanQuery = query(filters.clone())?;
    let mut plans = Vec::new();
    pack.file(
        "improvement_plans.csv",
        "Improvement plans open at some time in the period: their objective, owner, status, review cadence and the records they came from.",
        &columns::of("ImprovementPlan"),
        |lines| {
            each_open_plan(conn, principal, &q, period, |plan| {
                plans.extend(plan["id"].as_str().and_then(|id| Uuid::parse_str(id).ok()));
                lines.value(plan)
            })
        },
    )?;
    // The same plans read again for their actions, rather than every action held meanwhile.
    pack.file(
        "plan_actions.csv",
        "The actions of those plans (`plan_id` names the plan): owner, due date, status, and whether the change was checked as effective.",
        &columns::of("PlanAction"),
        |lines| {
            each_open_plan(conn, principal, &q, period, |plan| {
                plan["actions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .try_for_each(|action| lines.value(action))
            })
        },
    )?;
    pack.file(
        "plan_reviews.csv",
        "The monthly, quarterly and annual reviews of those plans (`plan_id` names the plan): progress and notes.",
        &columns::of("PlanReview"),
        |lines| {
            let since = ChangedSince::default();
            plans.into_iter().try_for_each(|plan| {
                let read = |c: &mut DbConnection, p: &Page| {
                    improvement_plans::reviews::store::list_reviews(c, principal, plan.into(), &since, p)
                };
                each_record(conn, read, |review| lines.value(&review))
            })
        },
    )?;

    let q: recognitions::dto::RecognitionQuery = query(filters)?;
    pack.file(
        "recognitions.csv",
        "Compliments, thanks, staff awards and improvement milestones of the period.",
        &columns::of("Recognition"),
        |lines| {
            let read =
                |c: &mut DbConnection, p: &Page| recognitions::store::list(c, principal, &q, p);
            each_record(conn, read, |recognition| {
                // A compliment still awaiting a manager's approval, or declined, is no evidence
                // yet.
                if recognition["approval"] == "approved"
                    && in_period(&recognition, "occurred_on", period.from, period.to)
                {
                    lines.value(&recognition)
                } else {
                    Ok(())
                }
            })
        },
    )?;

    let period_text = match (period.from, period.to) {
        (None, None) => "all time".to_owned(),
        (from, to) => format!(
            "{} to {}",
            from.map_or("the start".to_owned(), |t| t.to_rfc3339()),
            to.map_or("now".to_owned(), |t| t.to_rfc3339())
        ),
    };
    let readme = format!(
        "Inspection pack\r\n\r\nOrganisation: {}\r\nLocation: {place}\r\nPeriod: {period_text}\r\nMade: {} by {}\r\n\r\n\
         Each file is CSV (UTF-8) with a header row of the record's fields, as careloop's API names \
         them: nested fields dotted (outcome.summary), lists of values joined by |, lists of \
         records as JSON. A cell that begins with =, +, - or @ starts with ' so that a spreadsheet \
         shows it as text. The files show what the person who made the pack may see.\r\n\r\n",
        organisation.name,
        now().to_rfc3339(),
        principal.sub,
    );
    pack.finish(readme)
}

/// The columns but the contact details someone left through an intake point: those are for the
/// managers to reach them, never for an inspection pack.
fn without_contact(columns: Vec<Column>) -> Vec<Column> {
    columns
        .into_iter()
        .filter(|column| column.name != "contact" && !column.name.starts_with("contact."))
        .collect()
}
