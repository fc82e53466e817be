//! The rules of bulk data in and out: what an import may hold and how it runs, how a
//! spreadsheet's cells read as the API's values, and how an export's cells are kept safe.

use chrono::{NaiveDate, NaiveDateTime};

use super::text_enum;

text_enum!(
    /// What an import holds: one kind of record per file.
    ImportKind {
        Concerns => "concerns",
        LearningEvents => "learning_events",
        Evidence => "evidence",
        /// Plans, each with its actions.
        ImprovementPlans => "improvement_plans",
        Recognitions => "recognitions",
        Locations => "locations",
    }
);

text_enum!(
    /// Whether an import stores what it reads.
    ImportMode {
        /// Validate every row and store nothing.
        DryRun => "dry_run",
        Commit => "commit",
    }
);

text_enum!(
    /// What a bad row does to the rest of the file.
    OnError {
        /// All or nothing: one bad row stores no row.
        Rollback => "rollback",
        /// Store the good rows; the report names the bad ones.
        Skip => "skip",
    }
);

text_enum!(
    /// How a CSV file writes dates: `iso` (ISO 8601) or `uk` (also `dd/mm/yyyy`, with an
    /// optional `hh:mm` or `hh:mm:ss`, in UTC, as a spreadsheet writes them).
    DateFormat {
        Iso => "iso",
        Uk => "uk",
    }
);

text_enum!(
    /// How an import's body is written.
    ImportFormat {
        Csv => "csv",
        Ndjson => "ndjson",
        Json => "json",
    }
);

/// The separator of a list in one CSV cell (`safe.medicines_optimisation|safe.safeguarding`).
pub const LIST_SEPARATOR: char = '|';

/// A spreadsheet's UK date or date and time as ISO 8601 (UTC), or `None` when it is not one.
/// `date_only` answers a date (`2026-10-31`) for a field that holds a date.
pub fn uk_to_iso(cell: &str, date_only: bool) -> Option<String> {
    let cell = cell.trim();
    let (date, time) = match cell.split_once(' ') {
        Some((date, time)) => (date, Some(time.trim())),
        None => (cell, None),
    };
    let date = NaiveDate::parse_from_str(date, "%d/%m/%Y").ok()?;
    if date_only {
        return time.is_none().then(|| date.format("%Y-%m-%d").to_string());
    }
    let at: NaiveDateTime = match time {
        None => date.and_hms_opt(0, 0, 0)?,
        Some(time) => ["%H:%M:%S", "%H:%M"]
            .iter()
            .find_map(|format| chrono::NaiveTime::parse_from_str(time, format).ok())
            .map(|t| date.and_time(t))?,
    };
    Some(at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// What a spreadsheet would run as a formula at the start of a cell.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// An export's cell, safe to open in a spreadsheet: text that a spreadsheet would read as a
/// formula (it begins with `=`, `+`, `-`, `@`, or a tab or carriage return) gets a leading `'`,
/// which the spreadsheet shows as text; so does text that itself begins with `'`, so that
/// [`unneutralised`] gives back exactly what was stored. Numbers are written as numbers, so
/// `-3` stays `-3`.
pub fn neutralised(cell: &str, is_number: bool) -> std::borrow::Cow<'_, str> {
    if !is_number && cell.starts_with(FORMULA_STARTS) || cell.starts_with('\'') {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The inverse of [`neutralised`] for a cell read back: one leading `'` goes when a formula
/// character or another `'` follows it (a spreadsheet user's own `'+44…` is read as `+44…`).
pub fn unneutralised(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) || rest.starts_with('\'') => rest,
        _ => cell,
    }
}

/// The name among `known` closest to `unknown` (by edit distance), when one is close enough to
/// be a likely misspelling.
pub fn closest<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|name| (edit_distance(unknown, name), name))
        .filter(|(distance, name)| *distance <= (name.len().max(unknown.len()) / 3).max(2))
        .min()
        .map(|(_, name)| name)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Whether an import keeps its rows: a commit, unless a row failed in an all-or-nothing file.
pub fn stores(mode: ImportMode, on_error: OnError, failed: u64) -> bool {
    mode == ImportMode::Commit && (on_error == OnError::Skip || failed == 0)
}

/// What became of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOutcome {
    Created,
    Updated,
    Unchanged,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uk_dates_read_as_iso() {
        assert_eq!(
            uk_to_iso("31/10/2026", false).as_deref(),
            Some("2026-10-31T00:00:00Z")
        );
        assert_eq!(
            uk_to_iso("01/02/2026 14:05", false).as_deref(),
            Some("2026-02-01T14:05:00Z")
        );
        assert_eq!(
            uk_to_iso("01/02/2026 14:05:09", false).as_deref(),
            Some("2026-02-01T14:05:09Z")
        );
        assert_eq!(uk_to_iso("01/02/2026", true).as_deref(), Some("2026-02-01"));
        assert_eq!(uk_to_iso("31/02/2026", false), None);
        assert_eq!(uk_to_iso("2026-02-01", false), None);
        assert_eq!(uk_to_iso("01/02/2026 25:00", false), None);
    }

    #[test]
    fn formulas_are_neutralised_and_restored() {
        for risky in ["=SUM(A1)", "+1", "-x", "@cmd", "\tx"] {
            let safe = neutralised(risky, false);
            assert_eq!(safe, format!("'{risky}"));
            assert_eq!(unneutralised(&safe), risky);
        }
        assert_eq!(neutralised("-3.5", true), "-3.5");
        assert_eq!(neutralised("plain", false), "plain");
        assert_eq!(unneutralised("'quoted"), "'quoted");
        // Text that begins with a quote comes back as it was.
        for stored in ["'quoted", "'=x", "''", "'-3 days"] {
            assert_eq!(unneutralised(&neutralised(stored, false)), stored);
        }
    }

    #[test]
    fn the_closest_name_is_a_likely_misspelling() {
        let known = ["title", "summary", "evidence_category", "observed_at"];
        assert_eq!(closest("titel", known), Some("title"));
        assert_eq!(
            closest("evidence_catgory", known),
            Some("evidence_category")
        );
        assert_eq!(closest("colour", known), None);
    }
}
