//! Metric series: a metric's values per month, quarter or year, aggregated by the database.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamp};

use super::dto::{MetricSeries, SeriesPoint, SeriesQuery};
use crate::api::locations;
use crate::auth::Principal;
use crate::db::{period_start_sql, portable, DbConnection};
use crate::domain::evidence::SeriesInterval;
use crate::domain::ids::LocationId;
use crate::error::{ApiError, ApiResult};
use crate::store::support::to_row;

#[derive(QueryableByName)]
struct Bucket {
    #[diesel(sql_type = Text)]
    bucket: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Double)]
    mean: f64,
    #[diesel(sql_type = Double)]
    low: f64,
    #[diesel(sql_type = Double)]
    high: f64,
    #[diesel(sql_type = BigInt)]
    with_target: i64,
    #[diesel(sql_type = BigInt)]
    met: i64,
}

/// A metric's values per interval, aggregated by the database.
pub fn series(
    conn: &mut DbConnection,
    principal: &Principal,
    name: &str,
    query: &SeriesQuery,
) -> ApiResult<MetricSeries> {
    let location_id = query.location_id.map(LocationId::from);
    if principal.locations.is_some() {
        locations::store::check_reference(conn, principal, location_id)?;
    }
    let interval = query.interval.unwrap_or(SeriesInterval::Month);
    let bucket = period_start_sql(conn, interval.as_str(), "dated_at");
    let sql = format!(
        "SELECT {bucket} AS bucket, COUNT(*) AS n, AVG(metric_value) AS mean, \
                MIN(metric_value) AS low, MAX(metric_value) AS high, \
                COUNT(metric_target) AS with_target, \
                SUM(CASE WHEN metric_target IS NULL THEN 0 \
                         WHEN metric_direction = 'at_most' AND metric_value <= metric_target THEN 1 \
                         WHEN metric_direction <> 'at_most' AND metric_value >= metric_target THEN 1 \
                         ELSE 0 END) AS met \
         FROM evidence \
         WHERE organisation_id = $1 AND metric_name = $2 AND archived_at IS NULL \
           AND metric_value IS NOT NULL \
           AND ($3 IS NULL OR location_id = $3) \
           AND ($4 IS NULL OR dated_at >= $4) \
           AND ($5 IS NULL OR dated_at <= $5) \
         GROUP BY 1 ORDER BY 1"
    );
    let buckets: Vec<Bucket> = diesel::sql_query(portable(conn, &sql))
        .bind::<Text, _>(&principal.organisation_id)
        .bind::<Text, _>(name)
        .bind::<Nullable<Text>, _>(location_id)
        .bind::<Nullable<Timestamp>, _>(query.from.map(to_row))
        .bind::<Nullable<Timestamp>, _>(query.to.map(to_row))
        .load(conn)?;
    let points = buckets
        .into_iter()
        .map(|b| {
            Ok(SeriesPoint {
                period_start: b.bucket.parse().map_err(ApiError::internal)?,
                count: b.n,
                mean: b.mean,
                min: b.low,
                max: b.high,
                with_target_count: b.with_target,
                met_target_count: b.met,
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(MetricSeries {
        metric: name.to_owned(),
        interval,
        location_id: query.location_id,
        points,
    })
}
