//! Reading an import's body one row at a time (CSV, NDJSON or a JSON array), so a large file
//! is never held as values all at once. A row becomes the JSON object the single-record
//! endpoint would have been sent; what cannot be read at all refuses the whole file.

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read};

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::columns::{self, Column};
use super::dto::RowError;
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

/// Why a file was not read to its end.
pub enum Unread {
    /// The file cannot be read as its kind of file (an unknown column, a quote never closed,
    /// text that is not UTF-8): where, and why. Nothing of it is
    /// stored.
    Refused(Vec<RowError>),
    /// An empty file (422), or the import failing under it (the database).
    Failed(ApiError),
}

impl From<ApiError> for Unread {
    fn from(error: ApiError) -> Self {
        Self::Failed(error)
    }
}

fn refused(line: u64, field: Option<&str>, message: impl std::fmt::Display) -> Unread {
    Unread::Refused(vec![RowError {
        row: line,
        field: field.map(str::to_owned),
        message: message.to_string(),
    }])
}

fn empty(message: &str) -> Unread {
    Unread::Failed(ApiError::field("body", message))
}

/// The byte order mark some editors put at the start of a UTF-8 file.
const BOM: &str = "\u{feff}";

/// Reads every row of `body`, handing each to `each` in order; answers how many were read.
pub fn read(
    format: ImportFormat,
    body: impl Read,
    columns: &FileColumns,
    dates: DateFormat,
    each: &mut dyn FnMut(Row) -> ApiResult<()>,
) -> Result<u64, Unread> {
    match format {
        ImportFormat::Csv => read_csv(body, columns, dates, each),
        ImportFormat::Ndjson => read_ndjson(body, each),
        ImportFormat::Json => read_json(body, each),
    }
}

/// Follows the CSV file's bytes as the reader takes them: where its lines end (to name the line
/// a record starts on, whatever the line endings and blank lines before it), and whether a
/// quoted cell is still open (a quote opened at the start of a cell and never closed swallows
/// the rest of the file into that cell).
struct Tracked<R> {
    inner: R,
    offset: u64,
    /// Line ends (`\r`, `\n`) not yet behind the records read: their offsets, and whether each
    /// is a `\n` (which ends a line).
    ends: VecDeque<(u64, bool)>,
    /// The `\n`s behind the records read.
    lines_behind: u64,
    cell_start: bool,
    in_quotes: bool,
    quote_pending: bool,
    opened_at: u64,
}

impl<R> Tracked<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            ends: VecDeque::new(),
            lines_behind: 0,
            cell_start: true,
            in_quotes: false,
            quote_pending: false,
            opened_at: 0,
        }
    }

    fn follow(&mut self, byte: u8) {
        if self.in_quotes {
            if self.quote_pending {
                self.quote_pending = false;
                if byte == b'"' {
                    return;
                }
                self.in_quotes = false;
            } else {
                self.quote_pending = byte == b'"';
                return;
            }
        }
        if byte == b'"' && self.cell_start {
            self.in_quotes = true;
            self.opened_at = self.offset;
        }
        self.cell_start = matches!(byte, b',' | b'\n' | b'\r');
    }

    /// The line the record at byte `start` begins on: past any line ends the reader counted
    /// into it (blank lines, the `\n` of a `\r\n`).
    fn line_of_record(&mut self, start: u64) -> u64 {
        while let Some(&(at, newline)) = self.ends.front() {
            if at >= start {
                break;
            }
            self.lines_behind += u64::from(newline);
            self.ends.pop_front();
        }
        let mut skipped = 0;
        for (at, &(end, newline)) in (start..).zip(self.ends.iter()) {
            if end != at {
                break;
            }
            skipped += u64::from(newline);
        }
        self.lines_behind + skipped + 1
    }

    /// The line of a byte at or after the last record's start.
    fn line_of(&self, offset: u64) -> u64 {
        let ahead = self
            .ends
            .iter()
            .filter(|(at, newline)| *newline && *at < offset)
            .count() as u64;
        self.lines_behind + ahead + 1
    }

    /// Where a quote left open began, once the whole file is read.
    fn open_quote(&self) -> Option<u64> {
        (self.in_quotes && !self.quote_pending).then(|| self.line_of(self.opened_at))
    }
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &byte in &buf[..n] {
            if byte == b'\n' || byte == b'\r' {
                self.ends.push_back((self.offset, byte == b'\n'));
            }
            self.follow(byte);
            self.offset += 1;
        }
        Ok(n)
    }
}

enum Header<'a> {
    Writable(&'a Column),
    Id,
    Ignored,
}

/// The longest column name a refusal repeats.
const NAME_SHOWN: usize = 100;

fn read_csv(
    body: impl Read,
    columns: &FileColumns,
    dates: DateFormat,
    each: &mut dyn FnMut(Row) -> ApiResult<()>,
) -> Result<u64, Unread> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(Tracked::new(body));
    let headers = reader
        .byte_headers()
        .map_err(|error| csv_refusal(&error, 1))?
        .clone();
    if headers.iter().all(|h| h.trim_ascii().is_empty()) {
        return Err(empty("the file is empty"));
    }
    let mut resolved = Vec::with_capacity(headers.len());
    let mut seen = HashSet::new();
    let mut problems = Vec::new();
    for header in &headers {
        let Ok(name) = std::str::from_utf8(header) else {
            return Err(refused(1, None, "is not UTF-8 text"));
        };
        let name = name.trim();
        let shown: String = name.chars().take(NAME_SHOWN).collect();
        if !name.is_empty() && !seen.insert(name) {
            problems.push(RowError {
                row: 1,
                field: Some(shown.clone()),
                message: "is a column twice".to_owned(),
            });
        }
        resolved.push(if name.is_empty() {
            Header::Ignored
        } else if name == "id" {
            Header::Id
        } else if let Some(column) = columns.writable.iter().find(|c| c.name == name) {
            Header::Writable(column)
        } else if columns.read_only.iter().any(|c| c.name == name) {
            Header::Ignored
        } else {
            let hint = (name.len() <= NAME_SHOWN)
                .then(|| closest(name, columns.writable.iter().map(|c| c.name.as_str())))
                .flatten()
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            problems.push(RowError {
                row: 1,
                field: Some(shown.clone()),
                message: format!("is not a column of this kind of record{hint}"),
            });
            Header::Ignored
        });
    }
    if !problems.is_empty() {
        return Err(Unread::Refused(problems));
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
        let start = record.position().map_or(0, |p| p.byte());
        let line = reader.get_mut().line_of_record(start);
        last_line = line;
        if record.iter().all(|cell| cell.trim_ascii().is_empty()) {
            continue;
        }
        let mut fields = Map::new();
        let mut errors = Vec::new();
        if record.len() != headers.len() {
            errors.push(FieldError::new(
                "",
                format!(
                    "has {} cells where the header has {}",
                    record.len(),
                    headers.len()
                ),
            ));
        }
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
    if let Some(line) = reader.get_ref().open_quote() {
        return Err(refused(
            line,
            None,
            "opens a quoted cell that is never closed",
        ));
    }
    if rows == 0 {
        return Err(empty("the file has a header but no rows"));
    }
    Ok(rows)
}

fn csv_refusal(error: &csv::Error, line: u64) -> Unread {
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

fn read_ndjson(body: impl Read, each: &mut dyn FnMut(Row) -> ApiResult<()>) -> Result<u64, Unread> {
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
        let text = text.trim_start_matches(BOM);
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
        return Err(empty("the file is empty"));
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
fn read_json(body: impl Read, each: &mut dyn FnMut(Row) -> ApiResult<()>) -> Result<u64, Unread> {
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
                // The document says the JSON form is an array of objects: anything else in it
                // is a request that breaks its schema (422), not a bad row.
                let Value::Object(fields) = value else {
                    *self.failure = Some(ApiError::field(
                        format!("[{}]", rows - 1),
                        "must be an object: a row as the record's POST takes it",
                    ));
                    return Err(serde::de::Error::custom("stopped"));
                };
                let row = Row {
                    line: rows,
                    fields: Ok(fields),
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
    let mut body = BufReader::new(body);
    if body
        .fill_buf()
        .is_ok_and(|start| start.starts_with(BOM.as_bytes()))
    {
        body.consume(BOM.len());
    }
    let mut deserializer = serde_json::Deserializer::from_reader(body);
    let read = Rows {
        each,
        failure: &mut failure,
    }
    .deserialize(&mut deserializer)
    .and_then(|rows| deserializer.end().map(|()| rows));
    if let Some(error) = failure {
        return Err(Unread::Failed(error));
    }
    match read {
        Ok(0) => Err(empty("the array is empty")),
        Ok(rows) => Ok(rows),
        Err(error) if error.is_eof() && error.line() <= 1 && error.column() == 0 => {
            Err(empty("the file is empty"))
        }
        Err(error) => Err(Unread::Failed(ApiError::field(
            "body",
            format!("is not a JSON array of objects: {error}"),
        ))),
    }
}
