//! The command line's work that is more than a few lines: `careloop import`.

use std::io::IsTerminal;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::api::imports::run::{self, Options};
use crate::auth::{Principal, Role};
use crate::config::Config;
use crate::db::{self, Db};
use crate::domain::framework::Catalogue;
use crate::domain::import::{DateFormat, ImportFormat, ImportKind, ImportMode, OnError};
use crate::error::ApiError;

/// Options of `careloop import` (the same as `POST /v1/imports` takes).
#[derive(clap::Args)]
pub struct ImportArgs {
    /// The organisation to import into.
    #[arg(long)]
    pub org: String,
    /// concerns, learning_events, evidence, improvement_plans, recognitions or locations.
    #[arg(long, value_parser = |t: &str| ImportKind::parse(t).ok_or("an import kind"))]
    pub kind: ImportKind,
    /// The file: `.csv`, `.ndjson` (or `.jsonl`) or `.json` (an array).
    #[arg(long)]
    pub file: std::path::PathBuf,
    /// Check every row and store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// `rollback` (default: one bad row stores none) or `skip` (store the good rows).
    #[arg(long, default_value = "rollback", value_parser = |t: &str| OnError::parse(t).ok_or("rollback or skip"))]
    pub on_error: OnError,
    /// `iso` (default) or `uk` (CSV dates also as dd/mm/yyyy).
    #[arg(long, default_value = "iso", value_parser = |t: &str| DateFormat::parse(t).ok_or("iso or uk"))]
    pub date_format: DateFormat,
    /// Who the audit trail says imported the rows.
    #[arg(long, default_value = "careloop-cli")]
    pub sub: String,
}

/// Runs an import against the database: the import (with its report) as JSON on stdout, a
/// progress bar on a terminal. Answers whether a row failed or the file was refused.
pub fn import(config: &Config, args: ImportArgs) -> anyhow::Result<bool> {
    let extension = args
        .file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let format = match extension.as_str() {
        "csv" => ImportFormat::Csv,
        "ndjson" | "jsonl" => ImportFormat::Ndjson,
        "json" => ImportFormat::Json,
        _ => anyhow::bail!(
            "{}: name a .csv, .ndjson (.jsonl) or .json file",
            args.file.display()
        ),
    };
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let progress = if std::io::stderr().is_terminal() {
        ProgressBar::new(size).with_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    } else {
        ProgressBar::hidden()
    };
    let body = progress.wrap_read(std::io::BufReader::new(file));
    let catalogue = Catalogue::load(config.frameworks_dir.as_deref())
        .map_err(|e| anyhow::anyhow!("cannot load the assessment frameworks: {e}"))?;
    let db = Db::open(&config.database, config.pooling().sized(1))?;
    let mut conn = db.get()?;
    let exists = crate::api::organisation::store::exists(&mut conn, &args.org)
        .map_err(|error| anyhow::anyhow!("cannot read the organisations: {error}"))?;
    anyhow::ensure!(
        exists,
        "there is no organisation {} in {}",
        args.org,
        config.database.describe()
    );
    let principal = Principal {
        sub: args.sub,
        organisation_id: args.org,
        roles: vec![Role::Admin],
        locations: None,
        name: Some("careloop import".to_owned()),
    };
    let options = Options {
        kind: args.kind,
        mode: if args.dry_run {
            ImportMode::DryRun
        } else {
            ImportMode::Commit
        },
        on_error: args.on_error,
        format,
        date_format: args.date_format,
    };
    let imported = db::write_transaction(&mut conn, |conn| {
        run::import(conn, &catalogue, &principal, &options, body, &mut |rows| {
            progress.set_message(format!("{rows} rows"));
        })
    });
    progress.finish_and_clear();
    let import = imported.map_err(|error| match error {
        ApiError::Internal(cause) => anyhow::anyhow!("the import failed: {cause:#}"),
        refused => anyhow::anyhow!("the file was refused: {}", refused.detail()),
    })?;
    println!("{}", serde_json::to_string_pretty(&import)?);
    Ok(import.report.failed > 0 || import.report.refused)
}
