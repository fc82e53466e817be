//! Reading an import's body one row at a time (CSV, NDJSON or a JSON array), so a large file
//! is never held as values all at once. A row becomes the JSON object the single-record
//! endpoint would have been sent; what cannot be read at all refuses the whole file.

use std::io::{BufRead, BufReader, Read};

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::columns::{self, Column};
use crate::domain::import::{closest, DateFormat, ImportFormat};
use crate::error::{ApiError, ApiResult, FieldError};

/// One row as read: its line (CSV and NDJSON; the header is line 1) or its position in a JSON
/// array (from 1), and its fields, or what is wrong with its cells.
pub struct Row {
    pub line: u64,
    pub fields: Result<Map<String, Value>, Vec<FieldError>>,
}

/// The columns a file of one kind may have: those of a new record (read), and those only an
/// export of the record has (its id, versions, dates: accepted, and left to the record).
pub struct FileColumns {
    pub writable: Vec<Column>,
    pub read_only: Vec<Column>,
}

/// A file careloop cannot read: every row-1 (header) or line problem named; nothing is stored.
fn refused(line: u64, field: Option<&str>, message: impl std::fmt::Display) -> ApiError {
    let field = field.map_or_else(|| format!("line {line}"), |f| format!("line {line}: {f}"));
    ApiError::Validation(vec![FieldError::new(field, message.to_string())])
}

/// Reads every row of `body`, handing each to `each` in order; answers how many were read.
pub fn read(
    format: ImportFormat,
    body: impl Read,
    columns: &FileColumns,
    dates: DateFormat,
    each: &mut dyn FnMut(Row) -> ApiResult<()>,
) -> ApiResult<u64> {
    match format {
        ImportFormat::Csv => read_csv(body, columns, dates, each),
        ImportFormat::Ndjson => read_ndjson(body, each),
        ImportFormat::Json => read_json(body, each),
    }
}

/// Counts the quotes that go by, to tell a quote left open (which swallows the rest of the
/// file into one cell) from a well-formed file: in one, quotes come in pairs.
struct QuoteCounter<R> {
    inner: R,
    quotes: u64,
}

impl<R: Read> Read for QuoteCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.quotes += buf[..n].iter().filter(|b| **b == b'"').count() as u64;
        Ok(n)
    }
}

enum Header<'a> {
    Writable(&'a Column),
    Id,
    Ignored,
}

fn read_csv(
    body: impl Read,
    columns: &FileColumns,
    dates: DateFormat,
    each: &mut dyn FnMut(Row) -> ApiResult<()>,
) -> ApiResult<u64> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(QuoteCounter {
            inner: body,
            quotes: 0,
        });
    let headers = reader
        .byte_headers()
        .map_err(|error| csv_refusal(&error, 1))?
        .clone();
    if headers.is_empty() || headers.iter().all(|h| h.is_empty()) {
        return Err(ApiError::field("body", "the file is empty"));
    }
    let mut resolved = Vec::with_capacity(headers.len());
    let mut problems = Vec::new();
    for header in &headers {
        let Ok(name) = std::str::from_utf8(header) else {
            return Err(refused(1, None, "is not UTF-8 text"));
        };
        let name = name.trim().trim_start_matches('\u{feff}');
        resolved.push(if name == "id" {
            Header::Id
        } else if let Some(column) = columns.writable.iter().find(|c| c.name == name) {
            Header::Writable(column)
        } else if columns.read_only.iter().any(|c| c.name == name) {
            Header::Ignored
        } else {
            let hint = closest(name, columns.writable.iter().map(|c| c.name.as_str()))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            problems.push(FieldError::new(
                format!("line 1: {name}"),
                format!("is not a column of this kind of record{hint}"),
            ));
            Header::Ignored
        });
    }
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    let mut last_line = 1;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => return Err(csv_refusal(&error, last_line + 1)),
        }
        let line = record.position().map_or(last_line + 1, |p| p.line());
        last_line = line;
        if record
            .iter()
            .all(|cell| cell.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        let mut fields = Map::new();
        let mut errors = Vec::new();
        for (header, cell) in resolved.iter().zip(record.iter()) {
            let Ok(cell) = std::str::from_utf8(cell) else {
                return Err(refused(line, None, "is not UTF-8 text"));
            };
            match header {
                Header::Ignored => {}
                Header::Id if cell.trim().is_empty() => {}
                Header::Id => {
                    fields.insert("id".to_owned(), Value::String(cell.trim().to_owned()));
                }
                Header::Writable(column) => match columns::read(cell, column.cell, dates) {
                    None => {}
                    Some(Ok(value)) => columns::set(&mut fields, &column.name, value),
                    Some(Err(message)) => {
                        errors.push(FieldError::new(column.name.clone(), message))
                    }
                },
            }
        }
        rows += 1;
        each(Row {
            line,
            fields: if errors.is_empty() {
                Ok(fields)
            } else {
                Err(errors)
            },
        })?;
    }
    if reader.get_ref().quotes % 2 == 1 {
        return Err(refused(
            last_line,
            None,
            "a quoted cell that starts on this line is never closed",
        ));
    }
    if rows == 0 {
        return Err(ApiError::field("body", "the file has a header but no rows"));
    }
    Ok(rows)
}

fn csv_refusal(error: &csv::Error, line: u64) -> ApiError {
    let line = error.position().map_or(line, |p| p.line());
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => refused(
            line,
            None,
            format!(
                "has {len} cells where the header has {expected_len} (a quote left open on a \
                 line before swallows the lines after it)"
            ),
        ),
        csv::ErrorKind::Utf8 { .. } => refused(line, None, "is not UTF-8 text"),
        _ => refused(line, None, "cannot be read as CSV"),
    }
}

fn read_ndjson(body: impl Read, each: &mut dyn FnMut(Row) -> ApiResult<()>) -> ApiResult<u64> {
    let mut reader = BufReader::new(body);
    let mut line = 0;
    let mut rows = 0;
    let mut text = Vec::new();
    loop {
        text.clear();
        let read = reader
            .read_until(b'\n', &mut text)
            .map_err(|_| ApiError::bad_request("unreadable_body", "the body could not be read"))?;
        if read == 0 {
            break;
        }
        line += 1;
        let Ok(text) = std::str::from_utf8(&text) else {
            return Err(refused(line, None, "is not UTF-8 text"));
        };
        if text.trim().is_empty() {
            continue;
        }
        rows += 1;
        each(Row {
            line,
            fields: object(serde_json::from_str(text)),
        })?;
    }
    if rows == 0 {
        return Err(ApiError::field("body", "the file is empty"));
    }
    Ok(rows)
}

fn object(parsed: serde_json::Result<Value>) -> Result<Map<String, Value>, Vec<FieldError>> {
    match parsed {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(vec![FieldError::new(
            "body",
            "each row must be a JSON object",
        )]),
        Err(error) => Err(vec![FieldError::new(
            "body",
            format!("is not JSON: {error}"),
        )]),
    }
}

/// Reads a JSON array element by element (serde's sequence access), each handed on as read.
fn read_json(body: impl Read, each: &mut dyn FnMut(Row) -> ApiResult<()>) -> ApiResult<u64> {
    struct Rows<'a> {
        each: &'a mut dyn FnMut(Row) -> ApiResult<()>,
        failure: &'a mut Option<ApiError>,
    }
    impl<'de> Visitor<'de> for Rows<'_> {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON array of objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
            let mut rows = 0;
            while let Some(value) = seq.next_element::<Value>()? {
                rows += 1;
                let row = Row {
                    line: rows,
                    fields: object(Ok(value)),
                };
                if let Err(error) = (self.each)(row) {
                    *self.failure = Some(error);
                    return Err(serde::de::Error::custom("stopped"));
                }
            }
            Ok(rows)
        }
    }
    impl<'de> DeserializeSeed<'de> for Rows<'_> {
        type Value = u64;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
            d.deserialize_seq(self)
        }
    }
    let mut failure = None;
    let mut deserializer = serde_json::Deserializer::from_reader(BufReader::new(body));
    let read = Rows {
        each,
        failure: &mut failure,
    }
    .deserialize(&mut deserializer)
    .and_then(|rows| deserializer.end().map(|()| rows));
    if let Some(error) = failure {
        return Err(error);
    }
    match read {
        Ok(0) => Err(ApiError::field("body", "the array is empty")),
        Ok(rows) => Ok(rows),
        Err(error) if error.is_eof() && error.line() <= 1 && error.column() == 0 => {
            Err(ApiError::field("body", "the file is empty"))
        }
        Err(error) => Err(refused(
            error.line() as u64,
            None,
            format!("is not a JSON array of objects: {error}"),
        )),
    }
}
