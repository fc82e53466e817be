//! Typed columns: record ids and enums are TEXT on both backends, and rows hold them typed, so a
//! row converts to its API shape without parsing and two kinds of id cannot be swapped.
//!
//! A type is read and written as TEXT by [`StoredAsText`] and `text_column!`, which implements
//! diesel's `ToSql`/`FromSql` for SQLite, PostgreSQL and the `MultiBackend` that serves both.
//! Text the code never wrote fails the read, which the handler answers 500: it is a bug.

use std::borrow::Cow;

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
            fn from_sql(
                value: diesel::sqlite::SqliteValue<'_, '_, '_>,
            ) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::sqlite::Sqlite,
                >>::from_sql(value)?;
                $crate::db::columns::read_text(&text)
            }
        }

        impl$(<$param: 'static $(+ $bound)?>)? diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(value)?;
                $crate::db::columns::read_text(&text)
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
