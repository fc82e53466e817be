//! Typed columns: record ids and enums are TEXT on both backends, and rows hold them typed, so a
//! row converts to its API shape without parsing and two kinds of id cannot be swapped.
//!
//! A type is read and written as TEXT by [`StoredAsText`] and `text_column!`, which implements
//! diesel's `ToSql`/`FromSql` for SQLite, PostgreSQL and the `MultiBackend` that serves both.
//! Text the code never wrote fails the read, which the handler answers 500: it is a bug.

use std::borrow::Cow;

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::Sqlite;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// How a value is kept in a TEXT column.
pub trait StoredAsText: Sized {
    /// What the column holds, for the error when it holds something else.
    const WHAT: &'static str;
    fn to_text(&self) -> Cow<'static, str>;
    fn from_text(text: &str) -> Option<Self>;
}

/// Implements diesel's TEXT serialisation for a [`StoredAsText`] type (with its generic
/// parameter, and that parameter's bound, after `for`).
macro_rules! text_column {
    ($ty:ty $(, for $param:ident $(: $bound:path)?)?) => {
        impl$(<$param: 'static $(+ $bound)?>)? diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                match $crate::db::columns::StoredAsText::to_text(self) {
                    std::borrow::Cow::Borrowed(text) => out.set_value(text),
                    std::borrow::Cow::Owned(text) => out.set_value(text),
                }
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl$(<$param: 'static $(+ $bound)?>)? diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                use std::io::Write;
                out.write_all($crate::db::columns::StoredAsText::to_text(self).as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl$(<$param: 'static $(+ $bound)?>)? diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl$(<$param: 'static $(+ $bound)?>)? diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $ty {
            // Read in place: every id and state of every row read would otherwise be copied
            // into a String only to be parsed and dropped.
            fn from_sql(
                mut value: diesel::sqlite::SqliteValue<'_, '_, '_>,
            ) -> diesel::deserialize::Result<Self> {
                let text = value.read_text();
                if !text.contains(char::REPLACEMENT_CHARACTER) {
                    return $crate::db::columns::read_text(text);
                }
                // `read_text` replaces bytes that are not UTF-8: such a value fails, as
                // diesel's String fails it, rather than being read as something else.
                $crate::db::columns::read_text(std::str::from_utf8(value.read_blob())?)
            }
        }

        impl$(<$param: 'static $(+ $bound)?>)? diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                $crate::db::columns::read_text(std::str::from_utf8(value.as_bytes())?)
            }
        }

        impl$(<$param: 'static $(+ $bound)?>)? diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn from_sql(
                value: <$crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                value.from_sql::<Self, diesel::sql_types::Text>()
            }
        }
    };
}
pub(crate) use text_column;

/// Reads a stored value back; text the code never writes is an error.
pub fn read_text<T: StoredAsText>(text: &str) -> diesel::deserialize::Result<T> {
    T::from_text(text)
        .ok_or_else(|| format!("unexpected {} {text:?} in the database", T::WHAT).into())
}

/// A value kept as JSON text (a list of participants, say), read back typed.
#[derive(Debug, Clone, PartialEq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct JsonText<T>(pub T);

/// What a [`JsonText`] column can hold.
pub trait StoredJson:
    Serialize + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static
{
}
impl<T: Serialize + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static> StoredJson for T {}

impl<T: StoredJson> StoredAsText for JsonText<T> {
    const WHAT: &'static str = "JSON value";

    fn to_text(&self) -> Cow<'static, str> {
        // The types kept this way are plain data with string keys: failing to serialise one
        // is a bug.
        Cow::Owned(serde_json::to_string(&self.0).expect("a stored value serialises to JSON"))
    }

    fn from_text(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok().map(JsonText)
    }
}

text_column!(JsonText<T>, for T: StoredJson);

/// A timestamp column read as careloop writes it on SQLite (`YYYY-MM-DD HH:MM:SS[.fraction]`)
/// by a direct parse, rather than by diesel's, which runs chrono's format parser (a tenth of a
/// list's time went there); anything else is read as diesel reads it. For a row's
/// `#[diesel(deserialize_as = Moment)]` (and [`MaybeMoment`] for a nullable column).
#[derive(Debug, Clone, Copy, diesel::FromSqlRow)]
pub struct Moment(NaiveDateTime);

/// [`Moment`] for a nullable timestamp column.
#[derive(Debug, Clone, Copy, diesel::FromSqlRow)]
pub struct MaybeMoment(Option<NaiveDateTime>);

impl From<Moment> for NaiveDateTime {
    fn from(moment: Moment) -> Self {
        moment.0
    }
}

impl From<MaybeMoment> for Option<NaiveDateTime> {
    fn from(moment: MaybeMoment) -> Self {
        moment.0
    }
}

/// `YYYY-MM-DD HH:MM:SS` and an optional `.` with 1 to 9 digits; `None` for anything else.
fn parse_stored_moment(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes.get(range)?.iter().try_fold(0u32, |value, &byte| {
            byte.is_ascii_digit()
                .then(|| value * 10 + u32::from(byte - b'0'))
        })
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if bytes.len() < 19 || separators.iter().any(|&(at, byte)| bytes[at] != byte) {
        return None;
    }
    let nanos = match bytes.len() {
        19 => 0,
        20 => return None,
        len if len <= 29 && bytes[19] == b'.' => number(20..len)? * 10u32.pow(29 - len as u32),
        _ => return None,
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    chrono::NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)?.and_hms_nano_opt(
        number(11..13)?,
        number(14..16)?,
        number(17..19)?,
        nanos,
    )
}

impl FromSql<Timestamp, Sqlite> for Moment {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if let Some(moment) = parse_stored_moment(value.read_text()) {
            return Ok(Self(moment));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, Pg> for Moment {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, super::Backend> for Moment {
    fn from_sql(value: <super::Backend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl FromSql<Nullable<Timestamp>, super::Backend> for MaybeMoment {
    fn from_sql(value: <super::Backend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <Moment as FromSql<Timestamp, super::Backend>>::from_sql(value).map(|m| Self(Some(m.0)))
    }

    fn from_nullable_sql(
        value: Option<<super::Backend as Backend>::RawValue<'_>>,
    ) -> deserialize::Result<Self> {
        value.map_or(Ok(Self(None)), Self::from_sql)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_moment_reads_as_chrono_reads_it() {
        let moments = [
            "2026-11-27 07:45:12",
            "2026-11-27 07:45:12.5",
            "2026-11-27 07:45:12.123",
            "2026-11-27 07:45:12.123456",
            "2026-11-27 07:45:12.123456789",
            "2024-02-29 23:59:59.000001",
            "0001-01-01 00:00:00",
        ];
        for text in moments {
            let chrono = NaiveDateTime::parse_from_str(text, "%F %T%.f").unwrap();
            assert_eq!(parse_stored_moment(text), Some(chrono), "{text}");
        }
        // What careloop writes reads back exactly.
        let now = chrono::Utc::now().naive_utc();
        let written = now.format("%F %T%.f").to_string();
        assert_eq!(parse_stored_moment(&written), Some(now));
    }

    #[test]
    fn sqlite_text_that_is_not_utf8_fails_the_read() {
        use diesel::{dsl::sql, sql_types::Text, Connection, RunQueryDsl, SqliteConnection};
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let mut read = |hex: &str| {
            diesel::select(sql::<Text>(&format!("CAST(x'{hex}' AS TEXT)")))
                .get_result::<JsonText<Vec<String>>>(&mut conn)
        };
        // `["\xff"]`: a byte that is not UTF-8 inside a JSON string.
        assert!(read("5b22ff225d").is_err());
        // `["\u{fffd}"]`: the replacement character itself is text like any other.
        assert_eq!(read("5b22efbfbd225d").unwrap().0, ["\u{fffd}"]);
    }

    #[test]
    fn anything_else_is_left_to_diesel() {
        for text in [
            "2026-11-27T07:45:12",
            "2026-11-27 07:45",
            "2026-11-27 07:45:12.",
            "2026-11-27 07:45:12.1234567890",
            "2026-11-27 07:45:12+00:00",
            "2026-02-30 07:45:12",
            "2026-11-27 24:00:00",
            "2026-1a-27 07:45:12",
            "",
        ] {
            assert_eq!(parse_stored_moment(text), None, "{text}");
        }
    }
}
