//! Pagination: the page a list asks for, and a page of records with the next cursor.
//!
//! A cursor is opaque to clients: the position after which the next page starts (a record's id,
//! or the sort key of a list in another order) and a fingerprint of the query it was issued
//! for, so a cursor sent with other filters is refused rather than silently mixing two lists.

use diesel::query_dsl::methods::LoadQuery;
use diesel::RunQueryDsl;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db::{limited, DbConnection, Limit, Limited};
use crate::error::{ApiError, ApiResult};

/// A page of a list in its documented order; pass `next_cursor` back as `cursor` for the next.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T: ToSchema> {
    pub items: Vec<T>,
    /// An opaque cursor: pass it back as `cursor`, with the same filters, for the next page.
    /// `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Which page to read: at most `limit` records after the cursor's position.
#[derive(Debug, Clone)]
pub struct Page {
    pub limit: i64,
    /// Where the page starts: after this key (for most lists, a record's hyphenated id).
    pub after: Option<String>,
    /// The fingerprint of the query, which every cursor of this list carries.
    query: [u8; 4],
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;
/// The LIMITs [`Page::read`] reads by: common page sizes (the default 50 among them), each
/// with the one row more that tells whether another page follows.
pub const READ_SIZES: [i64; 5] = [11, 26, DEFAULT_LIMIT + 1, 101, MAX_LIMIT + 1];
/// How many batches [`Page::read_kept`] reads for one page at most.
pub const MAX_BATCHES: usize = 10;

/// The fingerprint of a list's query: its path and every parameter but `limit` and `cursor`.
pub fn fingerprint(path: &str, pairs: &[(String, String)]) -> [u8; 4] {
    let mut kept: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(name, value)| name != "limit" && name != "cursor" && !value.is_empty())
        .collect();
    kept.sort();
    let mut hasher = Sha256::new();
    hasher.update(path);
    for (name, value) in kept {
        hasher.update([0]);
        hasher.update(name);
        hasher.update([1]);
        hasher.update(value);
    }
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

impl Page {
    /// The page a list's query asks for; `query` is its [`fingerprint`].
    pub fn new(limit: Option<i64>, cursor: Option<&str>, query: [u8; 4]) -> ApiResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = cursor
            .map(|cursor| {
                let bytes = hex::decode(cursor)
                    .ok()
                    .filter(|b| b.len() > 4)
                    .ok_or_else(|| ApiError::field("cursor", "is not a cursor careloop issued"))?;
                if bytes[..4] != query {
                    return Err(ApiError::field(
                        "cursor",
                        "was issued for another query: send it with the filters of the page it \
                         came with",
                    ));
                }
                String::from_utf8(bytes[4..].to_vec())
                    .map_err(|_| ApiError::field("cursor", "is not a cursor careloop issued"))
            })
            .transpose()?;
        Ok(Self {
            limit,
            after,
            query,
        })
    }

    /// The same page at the largest size: an export reads its list this way.
    pub fn widest(self) -> Self {
        Self {
            limit: MAX_LIMIT,
            ..self
        }
    }

    /// The page that follows, from the `next_cursor` a page of this list answered.
    pub fn following(&self, cursor: &str) -> ApiResult<Self> {
        Self::new(Some(self.limit), Some(cursor), self.query)
    }

    /// How many rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// The rows of `query`, in the list's order, that this page reads ([`Page::fetch`] of them),
    /// by a statement PostgreSQL can keep planned (see [`Limit::Written`]). There its LIMIT is
    /// the first of [`READ_SIZES`] that holds the page, the rows past it dropped: each size is
    /// a statement of its own, so a list keeps a few per set of filters, whatever sizes its
    /// callers ask for.
    pub fn read<'q, Q, U>(&self, conn: &mut DbConnection, query: Q) -> ApiResult<Vec<U>>
    where
        Limited<Q>: LoadQuery<'q, DbConnection, U>,
    {
        let limit = match conn {
            DbConnection::Pg(_) => Limit::Written(self.read_size()),
            DbConnection::Sqlite(_) => Limit::Bound(self.fetch()),
        };
        let mut rows = limited(query, limit).load(conn)?;
        rows.truncate(usize::try_from(self.fetch()).unwrap_or(usize::MAX));
        Ok(rows)
    }

    /// The LIMIT [`Page::read`] reads this page by.
    fn read_size(&self) -> i64 {
        let fetch = self.fetch();
        READ_SIZES
            .into_iter()
            .find(|&size| size >= fetch)
            .unwrap_or(fetch)
    }

    /// The cursor of the page after `key`.
    fn cursor(&self, key: &str) -> String {
        let mut bytes = self.query.to_vec();
        bytes.extend_from_slice(key.as_bytes());
        hex::encode(bytes)
    }

    /// Cuts the fetched rows to the page and answers the cursor of the next page, if any.
    fn cursor_after<R>(&self, rows: &mut Vec<R>, key: impl Fn(&R) -> String) -> Option<String> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        more.then(|| rows.last().map(|r| self.cursor(&key(r))))
            .flatten()
    }

    /// Like [`Page::finish_all`], for a list in another order than by id: `key` gives a row's
    /// position in it, as the list's query reads `after`.
    pub fn finish_keyed<R, T: ToSchema>(
        &self,
        mut rows: Vec<R>,
        key: impl Fn(&R) -> String,
        convert: impl FnOnce(Vec<R>) -> ApiResult<Vec<T>>,
    ) -> ApiResult<Paginated<T>> {
        let next_cursor = self.cursor_after(&mut rows, key);
        Ok(Paginated {
            items: convert(rows)?,
            next_cursor,
        })
    }

    /// The page of a list held whole in memory, in its order: the items after the one whose
    /// `key` is the cursor's.
    pub fn slice<T: ToSchema>(
        &self,
        items: Vec<T>,
        key: impl Fn(&T) -> String,
    ) -> ApiResult<Paginated<T>> {
        let rows: Vec<T> = self
            .rest(items, &key)
            .into_iter()
            .take(self.fetch() as usize)
            .collect();
        self.finish_keyed(rows, key, Ok)
    }

    /// The items of a list held in memory from this page's start on.
    pub fn rest<T>(&self, items: Vec<T>, key: impl Fn(&T) -> String) -> Vec<T> {
        let start = match &self.after {
            Some(after) => items
                .iter()
                .position(|item| &key(item) == after)
                .map_or(items.len(), |at| at + 1),
            None => 0,
        };
        items.into_iter().skip(start).collect()
    }

    /// Like [`Page::finish`], converting the page's rows together (to read what they link to in
    /// one query per table).
    pub fn finish_all<R, T: ToSchema>(
        &self,
        rows: Vec<R>,
        id: impl Fn(&R) -> Uuid,
        convert: impl FnOnce(Vec<R>) -> ApiResult<Vec<T>>,
    ) -> ApiResult<Paginated<T>> {
        self.finish_keyed(rows, |r| id(r).hyphenated().to_string(), convert)
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
            read_to = rows.last().map(|row| id(row).hyphenated().to_string());
            if let Some(last) = &read_to {
                after = Some(last.clone());
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
            page.next_cursor = read_to.map(|last| self.cursor(&last));
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

/// A list's page: its size and the cursor. Every list takes these.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page, as it was sent, with the same filters.
    #[param(pattern = "^[0-9a-f]{10,2000}$")]
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY: [u8; 4] = [1, 2, 3, 4];

    #[test]
    fn page_limits() {
        assert_eq!(Page::new(None, None, QUERY).unwrap().limit, 50);
        assert!(Page::new(Some(0), None, QUERY).is_err());
        assert!(Page::new(Some(201), None, QUERY).is_err());
        assert!(Page::new(Some(200), None, QUERY).is_ok());
        assert!(Page::new(None, Some("nonsense"), QUERY).is_err());
    }

    #[test]
    fn a_page_is_read_by_one_of_a_few_limits_that_holds_it() {
        let read = |limit| Page::new(Some(limit), None, QUERY).unwrap().read_size();
        assert_eq!(read(1), 11);
        assert_eq!(read(10), 11);
        assert_eq!(read(11), 26);
        assert_eq!(read(20), 26);
        assert_eq!(read(50), 51);
        assert_eq!(read(51), 101);
        assert_eq!(read(100), 101);
        assert_eq!(read(200), 201);
        let sizes: std::collections::BTreeSet<i64> = (1..=MAX_LIMIT).map(read).collect();
        assert_eq!(sizes.len(), READ_SIZES.len());
    }

    #[test]
    fn page_cursor_round_trips_with_its_query_only() {
        let page = Page::new(Some(2), None, QUERY).unwrap();
        let ids: Vec<Uuid> = (1..=3).map(|_| Uuid::now_v7()).collect();
        let paginated = page
            .finish(ids.clone(), |id| *id, |id| Ok(id.to_string()))
            .unwrap();
        assert_eq!(paginated.items.len(), 2);
        let cursor = paginated.next_cursor.unwrap();
        let next = Page::new(Some(2), Some(&cursor), QUERY).unwrap();
        assert_eq!(next.after, Some(ids[1].to_string()));
        let last = next
            .finish(vec![ids[2]], |id| *id, |id| Ok(id.to_string()))
            .unwrap();
        assert_eq!(last.next_cursor, None);
        assert!(Page::new(Some(2), Some(&cursor), [4, 3, 2, 1]).is_err());
    }

    #[test]
    fn the_fingerprint_ignores_paging_order_and_empty_values() {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let one = fingerprint(
            "/v1/concerns",
            &pairs(&[("status", "raised"), ("risk", "low")]),
        );
        let same = fingerprint(
            "/v1/concerns",
            &pairs(&[
                ("risk", "low"),
                ("limit", "5"),
                ("status", "raised"),
                ("cursor", "ab"),
                ("location_id", ""),
            ]),
        );
        assert_eq!(one, same);
        assert_ne!(
            one,
            fingerprint("/v1/concerns", &pairs(&[("status", "raised")]))
        );
        assert_ne!(
            one,
            fingerprint(
                "/v1/evidence",
                &pairs(&[("status", "raised"), ("risk", "low")])
            )
        );
    }
}
