//! Pagination: the page a list asks for, and a page of records with the next cursor.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};

/// A page of a list, in creation order; pass `next_cursor` back as `cursor` for the next one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T: ToSchema> {
    pub items: Vec<T>,
    /// An opaque cursor: pass it back as `cursor` for the next page. `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Which page to read: at most `limit` records after the cursor's record.
#[derive(Debug, Clone)]
pub struct Page {
    pub limit: i64,
    pub after: Option<String>,
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;
/// How many batches [`Page::read_kept`] reads for one page at most.
pub const MAX_BATCHES: usize = 10;

impl Page {
    pub fn new(limit: Option<i64>, cursor: Option<&str>) -> ApiResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = cursor
            .map(|c| {
                Uuid::parse_str(c)
                    .map(|id| id.hyphenated().to_string())
                    .map_err(|_| ApiError::field("cursor", "is not a cursor careloop issued"))
            })
            .transpose()?;
        Ok(Self { limit, after })
    }

    /// How many rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the fetched rows to the page and answers the cursor of the next page, if any.
    fn cursor_after<R>(&self, rows: &mut Vec<R>, id: impl Fn(&R) -> Uuid) -> Option<String> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        more.then(|| rows.last().map(|r| id(r).simple().to_string()))
            .flatten()
    }

    /// Like [`Page::finish`], converting the page's rows together (to read what they link to in
    /// one query per table).
    pub fn finish_all<R, T: ToSchema>(
        &self,
        mut rows: Vec<R>,
        id: impl Fn(&R) -> Uuid,
        convert: impl FnOnce(Vec<R>) -> ApiResult<Vec<T>>,
    ) -> ApiResult<Paginated<T>> {
        let next_cursor = self.cursor_after(&mut rows, id);
        Ok(Paginated {
            items: convert(rows)?,
            next_cursor,
        })
    }

    /// The rows of this page when whether the caller may see a row is judged after reading it:
    /// reads `batch(conn, after, limit)` on from the cursor, keeping what `keep` keeps, until a
    /// page (and one more) is kept, the rows run out, or [`MAX_BATCHES`] were read. In that last
    /// case the page may be short, and its cursor resumes after the last row read, so a caller
    /// who may see little of a long list pays a bounded price per page.
    pub fn read_kept<R, T: ToSchema>(
        &self,
        conn: &mut DbConnection,
        mut batch: impl FnMut(&mut DbConnection, Option<String>, i64) -> ApiResult<Vec<R>>,
        id: impl Fn(&R) -> Uuid,
        mut keep: impl FnMut(&mut DbConnection, Vec<R>) -> ApiResult<Vec<R>>,
        mut into: impl FnMut(R) -> T,
    ) -> ApiResult<Paginated<T>> {
        let wanted = self.fetch();
        let mut kept = Vec::new();
        let mut after = self.after.clone();
        let mut read_to = None;
        for _ in 0..MAX_BATCHES {
            let rows = batch(conn, after.clone(), wanted)?;
            let exhausted = (rows.len() as i64) < wanted;
            read_to = rows.last().map(&id);
            if let Some(last) = read_to {
                after = Some(last.hyphenated().to_string());
            }
            kept.extend(keep(conn, rows)?);
            if exhausted {
                read_to = None;
                break;
            }
            if kept.len() as i64 >= wanted {
                break;
            }
        }
        let full = kept.len() as i64 > self.limit;
        let mut page = self.finish(kept, &id, |row| Ok(into(row)))?;
        if !full {
            page.next_cursor = read_to.map(|last| last.simple().to_string());
        }
        Ok(page)
    }

    /// Cuts the fetched rows to the page and makes the cursor from its last record.
    pub fn finish<R, T: ToSchema>(
        &self,
        rows: Vec<R>,
        id: impl Fn(&R) -> Uuid,
        into: impl FnMut(R) -> ApiResult<T>,
    ) -> ApiResult<Paginated<T>> {
        self.finish_all(rows, id, |rows| rows.into_iter().map(into).collect())
    }
}

/// The query of a list that takes only a page: its size and the cursor.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page, as it was sent.
    #[param(pattern = "^[0-9a-f]{32}$")]
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_limits() {
        assert_eq!(Page::new(None, None).unwrap().limit, 50);
        assert!(Page::new(Some(0), None).is_err());
        assert!(Page::new(Some(201), None).is_err());
        assert!(Page::new(Some(200), None).is_ok());
        assert!(Page::new(None, Some("nonsense")).is_err());
    }

    #[test]
    fn page_cursor_round_trips() {
        let page = Page::new(Some(2), None).unwrap();
        let ids: Vec<Uuid> = (1..=3).map(|_| Uuid::now_v7()).collect();
        let paginated = page
            .finish(ids.clone(), |id| *id, |id| Ok(id.to_string()))
            .unwrap();
        assert_eq!(paginated.items.len(), 2);
        let next = Page::new(Some(2), paginated.next_cursor.as_deref()).unwrap();
        assert_eq!(next.after, Some(ids[1].to_string()));
        let last = next
            .finish(vec![ids[2]], |id| *id, |id| Ok(id.to_string()))
            .unwrap();
        assert_eq!(last.next_cursor, None);
    }
}
