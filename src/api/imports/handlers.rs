use actix_web::{get, post, web, HttpMessage, HttpRequest};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::dto::{Import, ImportQuery};
use super::run::{self, Options};
use super::store;
use crate::auth::{Permission, Principal};
use crate::domain::ids::ImportId;
use crate::domain::import::{DateFormat, ImportFormat, ImportMode, OnError};
use crate::error::{ApiError, ApiResult};
use crate::http::export::{self, Listing};
use crate::http::extract::Query;
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::respond::Answer;
use crate::state::AppState;

/// The format a body's `Content-Type` names: 415 for any other.
fn format_of(req: &HttpRequest) -> ApiResult<ImportFormat> {
    let mime = req.mime_type().ok().flatten();
    match mime
        .as_ref()
        .map(|m| (m.type_().as_str(), m.subtype().as_str()))
    {
        Some(("text", "csv")) => Ok(ImportFormat::Csv),
        Some(("application", "x-ndjson")) => Ok(ImportFormat::Ndjson),
        Some(("application", "json")) => Ok(ImportFormat::Json),
        _ => Err(ApiError::UnsupportedMediaType(
            "send the file as text/csv, application/x-ndjson or application/json".to_owned(),
        )),
    }
}

/// What an `Idempotency-Key` is bound to: the import's options (its format too) and the
/// file's digest.
#[derive(Serialize)]
struct Fingerprint<'a> {
    options: &'a Options,
    sha256: String,
}

/// Import a file of records
///
/// One kind of record per file: `concerns`, `learning_events`, `evidence`, `improvement_plans`
/// (a row's `actions` column holds a JSON list of its actions, each as `POST …/actions` takes
/// it, matched to the plan's by `id`, `external_ref` or description), `recognitions` or
/// `locations`. Each row is checked, permitted, stored, audited and fed to the change feed
/// exactly as a request to that kind's `POST` (or, for a row naming a record, `PATCH`) would
/// be. A CSV file's header is the API's field names: nested fields dotted (`metric.value`,
/// `external_ref.system`), lists of values in one cell joined by `|`, lists of objects as JSON;
/// an export's own columns (`id`, `version`, `created_at`, …) are accepted, so an export edited
/// in a spreadsheet imports back. Re-running a file is safe: a row whose `id` or `external_ref`
/// names a record updates it only where it differs (`unchanged` otherwise). The answer is the
/// import, with its report. A file that cannot be read as its kind of file (an unknown column,
/// named as row 1 with the closest field name as a hint; a column twice; a quote never closed;
/// text that is not UTF-8) stores nothing: its report says `refused` and where. An empty file,
/// and a JSON body that is not an array of objects, is 422. Bodies up to `CARELOOP_IMPORT_MAX_BYTES` (default 50 MB).
/// Admins, managers and integrations; each row also needs the permission to create (or change)
/// its record.
#[utoipa::path(
    tag = "imports",
    params(ImportQuery, IdempotencyKey),
    request_body(
        description = "The file: CSV with a header row, NDJSON (one object a line), or a JSON array of objects",
        content(
            (String = "text/csv", example = "source,evidence_category,quality_statements,title,observed_at,metric.name,metric.value\naudit,processes,safe.medicines_optimisation,October medication audit,31/10/2026,medication_audit_score,92.5\n"),
            (String = "application/x-ndjson", example = "{\"source\":\"audit\",\"evidence_category\":\"processes\",\"quality_statements\":[\"safe.medicines_optimisation\"],\"title\":\"October medication audit\",\"observed_at\":\"2026-10-31T00:00:00Z\",\"external_ref\":{\"system\":\"audit-tool\",\"id\":\"MA-2026-10\"}}\n"),
            (Vec<serde_json::Map<String, serde_json::Value>> = "application/json", example = json!([{"source": "audit", "evidence_category": "processes", "quality_statements": ["safe.medicines_optimisation"], "title": "October medication audit", "observed_at": "2026-10-31T00:00:00Z", "external_ref": {"system": "audit-tool", "id": "MA-2026-10"}}])),
        )
    ),
    responses(
        (status = 201, description = "Imported (or, for `mode=dry_run`, checked): the import and its report; `Location` names it", body = Import),
        (status = 413, description = "The file is larger than `CARELOOP_IMPORT_MAX_BYTES`", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/imports")]
pub async fn create_import(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: IdempotencyKey,
    query: Query<ImportQuery>,
    payload: web::Payload,
) -> ApiResult<Answer> {
    principal.require(Permission::ImportRecords)?;
    let format = format_of(&req)?;
    let query = query.parse()?;
    let limit = state.import_max_bytes;
    let body = match payload.to_bytes_limited(limit).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return Err(ApiError::bad_request(
                "unreadable_body",
                "the body could not be read",
            ))
        }
        Err(_) => return Err(ApiError::PayloadTooLarge { limit }),
    };
    let options = Options {
        kind: query.kind,
        mode: query.mode.unwrap_or(ImportMode::Commit),
        on_error: query.on_error.unwrap_or(OnError::Rollback),
        format,
        date_format: query.date_format.unwrap_or(DateFormat::Iso),
    };
    let fingerprint = Fingerprint {
        options: &options,
        sha256: hex::encode(Sha256::digest(&body)),
    };
    let keyed = key.for_caller(&principal, &req, &fingerprint)?;
    let app = state.clone();
    idempotency::once(&state.db, keyed, move |conn| {
        let _running = crate::prometheus::ImportRunning::start();
        let import = run::import(
            conn,
            &app.catalogue,
            &principal,
            &options,
            &body[..],
            &mut |_| {},
        )?;
        Answer::created(format!("/v1/imports/{}", import.id), &import)
    })
    .await
}

/// List imports
///
/// Oldest first: the caller's own, or for an admin or manager who reaches every location,
/// everyone's.
#[utoipa::path(
    tag = "imports",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of imports", body = Paginated<Import>),
    )
)]
#[get("/imports")]
pub async fn list_imports(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<PageQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ImportRecords)?;
    let (_, page) = query.parse_paged()?;
    export::list(&req, &state.db, page, move |conn, page| {
        store::list(conn, &principal, page)
    })
    .await
}

/// Read an import
#[utoipa::path(
    tag = "imports",
    params(("import_id" = Uuid, Path, description = "Import id")),
    responses(
        (status = 200, description = "The import and its report", body = Import),
    )
)]
#[get("/imports/{import_id}")]
pub async fn get_import(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<ImportId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ImportRecords)?;
    let id = id.into_inner();
    let import = state
        .db
        .run(move |conn| store::get(conn, &principal, id))
        .await?;
    Answer::ok(&import)
}
