//! Lists as spreadsheets. With `Accept: text/csv` a list answers the whole of what its filters
//! select (no page limit), in the list's order, as CSV whose columns are the record's fields
//! as an import reads them: nested fields dotted, lists of values joined by `|`, lists of
//! objects as JSON, cells a spreadsheet would run as formulas neutralised. It is read and sent
//! a page at a time, through the list's own reader, so it shows exactly what the JSON list
//! shows the caller.

use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::http::header::{self, Header};
use actix_web::{web, HttpRequest, HttpResponse, Responder};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::api::imports::columns::{self, Column};
use crate::db::{Db, DbConnection};
use crate::error::{ApiError, ApiResult};
use crate::http::paging::{Page, Paginated};
use crate::http::respond::Answer;

/// A list's answer: a page of JSON, or the whole list as CSV.
pub enum Listing {
    Page(Answer),
    Csv(HttpResponse),
}

impl Responder for Listing {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        match self {
            Self::Page(answer) => answer.respond_to(req),
            Self::Csv(response) => response,
        }
    }
}

impl Listing {
    /// The same answer, never to be kept by a browser or a proxy.
    pub fn no_store(self) -> Self {
        match self {
            Self::Page(answer) => Self::Page(answer.no_store()),
            Self::Csv(mut response) => {
                response.headers_mut().insert(
                    header::CACHE_CONTROL,
                    header::HeaderValue::from_static("no-store"),
                );
                Self::Csv(response)
            }
        }
    }
}

/// Whether the caller asks for CSV first (`Accept: text/csv`, ranked above JSON).
pub fn wants_csv(req: &HttpRequest) -> bool {
    prefers(req, "text", "csv")
}

/// Whether the `Accept` header ranks `kind/subtype` first.
pub fn prefers(req: &HttpRequest, kind: &str, subtype: &str) -> bool {
    header::Accept::parse(req).is_ok_and(|accept| {
        accept
            .ranked()
            .first()
            .is_some_and(|mime| mime.type_() == kind && mime.subtype() == subtype)
    })
}

/// Answers a list: the page `read` reads, or with `Accept: text/csv` every page from this one
/// on, as CSV. `read` is the list's store call, so both forms show the caller the same records.
pub async fn list<T, F>(req: &HttpRequest, db: &Db, page: Page, read: F) -> ApiResult<Listing>
where
    T: Serialize + ToSchema + Send + 'static,
    F: Fn(&mut DbConnection, &Page) -> ApiResult<Paginated<T>> + Send + Sync + 'static,
{
    if !wants_csv(req) {
        let items = db.run(move |conn| read(conn, &page)).await?;
        return Ok(Listing::Page(Answer::ok(&items)?));
    }
    let columns = Arc::new(columns::of(&T::name()));
    let read = Arc::new(read);
    let page = page.widest();
    // The first page is read before answering, so a refusal is still a problem, not a cut
    // file.
    let first = {
        let (read, page) = (read.clone(), page.clone());
        db.run_long(move |conn| read(conn, &page)).await?
    };
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<web::Bytes, ApiError>>(4);
    let mut head = csv_text(columns.iter().map(|c| c.name.clone()))?;
    head.extend(rows(&first.items, &columns)?);
    let mut cursor = first.next_cursor;
    let db = db.clone();
    // Each page is read on a long read's connection, given back before the page is sent: a
    // slow reader holds no connection. A failure part way ends the answer without its last
    // chunk, which an HTTP client reports as an incomplete transfer.
    actix_web::rt::spawn(async move {
        let mut chunk = Ok(web::Bytes::from(head));
        loop {
            let failed = chunk.is_err();
            if sender.send(chunk).await.is_err() || failed {
                return;
            }
            let Some(after) = cursor.take() else { return };
            let (read, columns, page) = (read.clone(), columns.clone(), page.clone());
            let next = db
                .run_long(move |conn| {
                    let next = read(conn, &page.following(&after)?)?;
                    Ok((rows(&next.items, &columns)?, next.next_cursor))
                })
                .await;
            chunk = match next {
                Ok((bytes, next_cursor)) => {
                    cursor = next_cursor;
                    Ok(bytes.into())
                }
                Err(error) => {
                    log::error!("a CSV export stopped part way: {error}");
                    Err(error)
                }
            };
        }
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Ok(Listing::Csv(
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .streaming(body),
    ))
}

/// Answers a list careloop holds in memory (the frameworks' catalogue): the page, or with
/// `Accept: text/csv` all of it from this page on.
pub fn list_held<T>(
    req: &HttpRequest,
    page: &Page,
    items: Vec<T>,
    key: impl Fn(&T) -> String,
) -> ApiResult<Listing>
where
    T: Serialize + ToSchema,
{
    if !wants_csv(req) {
        return Ok(Listing::Page(Answer::ok(&page.slice(items, key)?)?));
    }
    let items = page.rest(items, key);
    let body = csv_file(&columns::of(&T::name()), &items)?;
    Ok(Listing::Csv(
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(body),
    ))
}

/// A whole CSV file: a header row of `columns`, and a line for each record.
pub fn csv_file<T: Serialize>(columns: &[Column], items: &[T]) -> ApiResult<Vec<u8>> {
    let mut file = csv_text(columns.iter().map(|c| c.name.clone()))?;
    file.extend(rows(items, columns)?);
    Ok(file)
}

/// Every item of a list, read through its store call a page at a time and handed to `take` a
/// page at a time: however long the list, one page of it is held at once.
pub fn each_page<T: ToSchema>(
    conn: &mut DbConnection,
    read: impl Fn(&mut DbConnection, &Page) -> ApiResult<Paginated<T>>,
    mut take: impl FnMut(Vec<T>) -> ApiResult<()>,
) -> ApiResult<()> {
    let first = Page::new(None, None, [0; 4])?.widest();
    let mut page = read(conn, &first)?;
    loop {
        let next = page.next_cursor.take();
        take(page.items)?;
        match next {
            Some(cursor) => page = read(conn, &first.following(&cursor)?)?,
            None => return Ok(()),
        }
    }
}

/// A record's cells in `columns`, as its CSV line holds them.
pub fn cells<'a>(record: &'a Value, columns: &'a [Column]) -> impl Iterator<Item = String> + 'a {
    columns.iter().map(|column| columns::write(record, column))
}

/// One CSV line of cells.
fn csv_text(cells: impl IntoIterator<Item = String>) -> ApiResult<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(cells.into_iter().collect::<Vec<_>>())
        .map_err(ApiError::internal)?;
    writer.into_inner().map_err(ApiError::internal)
}

/// The records as CSV lines of `columns`.
fn rows<T: Serialize>(items: &[T], columns: &[Column]) -> ApiResult<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for item in items {
        let record = serde_json::to_value(item)?;
        writer
            .write_record(cells(&record, columns))
            .map_err(ApiError::internal)?;
    }
    writer.into_inner().map_err(ApiError::internal)
}
