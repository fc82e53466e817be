use std::fs::File;
use std::io::Read;

use actix_web::body::SizedStream;
use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use futures_util::Stream;

use super::pack::{self, PackQuery};
use crate::auth::{Permission, Principal};
use crate::db::as_one_snapshot;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use crate::http::validate::check_range;
use crate::state::AppState;

/// Download an inspection pack
///
/// A zip of the CSV files an inspector asks for, of one location (or every location the caller
/// may see) over a period: `concerns.csv` (with their outcomes), `learning_events.csv`,
/// `evidence_by_quality_statement.csv`, `improvement_plans.csv` with `plan_actions.csv` and
/// `plan_reviews.csv`, and `recognitions.csv`, each in the columns of its list's CSV export,
/// and a `README.txt` describing each file. Every file shows what the lists show the caller.
/// Admins, managers and viewers.
#[utoipa::path(
    tag = "exports",
    params(PackQuery),
    responses(
        (status = 200, description = "The pack, as `inspection-pack-<date>.zip`", content_type = "application/zip", body = String,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"inspection-pack-<date>.zip\"`"))),
    )
)]
#[get("/exports/inspection-pack")]
pub async fn get_inspection_pack(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<PackQuery>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ExportInspectionPack)?;
    let period = query.parse()?;
    check_range(period.from, period.to, "from")?;
    let (zip, length) = state
        .db
        // One snapshot: the pack reads its plans twice (their file, then their actions') and
        // its evidence once per statement, and its files must agree.
        .run_long(move |conn| as_one_snapshot(conn, |conn| pack::build(conn, &principal, &period)))
        .await?;
    let name = format!(
        "inspection-pack-{}.zip",
        crate::domain::now().format("%Y-%m-%d")
    );
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(SizedStream::new(length, chunks_of(zip))))
}

/// A finished file, read a chunk at a time on the blocking pool as the client takes it.
fn chunks_of(file: File) -> impl Stream<Item = Result<web::Bytes, ApiError>> {
    const CHUNK: usize = 256 * 1024;
    futures_util::stream::try_unfold(file, |mut file| async move {
        let (file, chunk) = web::block(move || {
            let mut chunk = Vec::with_capacity(CHUNK);
            (&mut file).take(CHUNK as u64).read_to_end(&mut chunk)?;
            Ok::<_, std::io::Error>((file, chunk))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        Ok((!chunk.is_empty()).then(|| (web::Bytes::from(chunk), file)))
    })
}
