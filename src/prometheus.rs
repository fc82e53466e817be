//! `/metrics` in the Prometheus text format, served only on its own listener
//! (`CARELOOP_METRICS_BIND`, e.g. a loopback port) so it never reaches the public one.
//!
//! Labels are the method, the route's pattern (`/v1/concerns/{id}`, never a path), the status
//! and the pool's connection state: nothing that names a person, a record or a token subject.
//! The anonymous raiser's requests are not counted at all, as they are not logged: a counter
//! moving at a quiet hour would date the raise.

use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use diesel::prelude::*;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::db::schema::{change_heads, webhook_deliveries};
use crate::db::Db;
use crate::error::ApiResult;

pub const REQUESTS: &str = "careloop_http_requests_total";
pub const REQUEST_SECONDS: &str = "careloop_http_request_duration_seconds";
pub const POOL_CONNECTIONS: &str = "careloop_db_pool_connections";
pub const POOL_WAITING: &str = "careloop_db_pool_waiting";
pub const POOL_TIMEOUTS: &str = "careloop_db_pool_timeouts_total";
pub const DATABASE_REACHABLE: &str = "careloop_database_reachable";
pub const CHANGE_FEED_HEAD: &str = "careloop_change_feed_head";
pub const WEBHOOK_QUEUE: &str = "careloop_webhook_queue_depth";
pub const WEBHOOK_FAILURES: &str = "careloop_webhook_delivery_failures_total";
pub const IMPORTS_RUNNING: &str = "careloop_imports_running";

/// Latency buckets in seconds, from a fast read to a slow import.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Whether a recorder is installed: without one the request middleware skips the metrics
/// entirely (building their labels costs more than the rest of the middleware).
static INSTALLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn installed() -> bool {
    INSTALLED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Installs the process's recorder (once: the metrics macros everywhere then record into it).
/// Its histograms are folded every few seconds whether or not anyone scrapes, so they never
/// grow with the requests.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .context("the latency buckets")?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    describe();
    INSTALLED.store(true, std::sync::atomic::Ordering::Relaxed);
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(5));
            upkeep.run_upkeep();
        })
        .context("cannot start the metrics upkeep")?;
    Ok(handle)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        REQUESTS,
        "Requests answered, by method, route pattern and status."
    );
    describe_histogram!(
        REQUEST_SECONDS,
        Unit::Seconds,
        "Time to answer, by method and route pattern."
    );
    describe_gauge!(
        POOL_CONNECTIONS,
        "Database connections of this node's pool, by state (in_use, idle)."
    );
    describe_gauge!(
        POOL_WAITING,
        "Requests that have waited more than 250 ms for a pooled connection and wait still."
    );
    describe_counter!(
        POOL_TIMEOUTS,
        "Requests answered 503 for want of a pooled connection."
    );
    describe_gauge!(
        DATABASE_REACHABLE,
        "1 while this node reaches its database, 0 while it answers 503 database_unavailable."
    );
    describe_gauge!(
        CHANGE_FEED_HEAD,
        "Changes numbered on the change feed, all organisations together."
    );
    describe_gauge!(
        WEBHOOK_QUEUE,
        "Webhook deliveries waiting to be sent (pending), all endpoints together."
    );
    describe_counter!(
        WEBHOOK_FAILURES,
        "Webhook delivery attempts by this node that failed."
    );
    describe_gauge!(IMPORTS_RUNNING, "Imports this node is running now.");
}

/// One import running on this node, for as long as it lives.
pub struct ImportRunning;

impl ImportRunning {
    pub fn start() -> Self {
        metrics::gauge!(IMPORTS_RUNNING).increment(1.0);
        Self
    }
}

impl Drop for ImportRunning {
    fn drop(&mut self) {
        metrics::gauge!(IMPORTS_RUNNING).decrement(1.0);
    }
}

/// The exposition: the pool and the queues read now, beside what the requests recorded.
pub async fn render(handle: &PrometheusHandle, db: &Db) -> String {
    let pool = db.pool_state();
    metrics::gauge!(POOL_CONNECTIONS, "state" => "in_use")
        .set(f64::from(pool.connections - pool.idle_connections));
    metrics::gauge!(POOL_CONNECTIONS, "state" => "idle").set(f64::from(pool.idle_connections));
    // Read now, not counted per checkout: a count moving at a quiet hour would date an
    // anonymous raise.
    metrics::gauge!(POOL_WAITING).set(db.waiting() as f64);
    // Not waited for long: a scrape while the database is away still answers.
    let queues = actix_web::rt::time::timeout(Duration::from_secs(1), db.run(queues)).await;
    match queues {
        Ok(Ok((head, queued))) => {
            metrics::gauge!(CHANGE_FEED_HEAD).set(head as f64);
            metrics::gauge!(WEBHOOK_QUEUE).set(queued as f64);
        }
        Ok(Err(error)) => log::warn!("metrics: cannot read the queues: {error}"),
        Err(_) => log::warn!("metrics: the queues took more than a second to read"),
    }
    metrics::gauge!(DATABASE_REACHABLE).set(if db.is_reachable() { 1.0 } else { 0.0 });
    handle.render()
}

/// The change feed's head (each organisation's summed) and the webhook deliveries pending.
fn queues(conn: &mut crate::db::DbConnection) -> ApiResult<(i64, i64)> {
    let heads: Vec<i64> = change_heads::table
        .select(change_heads::last_seq)
        .load(conn)?;
    let queued = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq("pending"))
        .count()
        .get_result(conn)?;
    Ok((heads.iter().sum(), queued))
}

/// The metrics listener: `GET /metrics` and nothing else, one worker.
pub fn server(
    address: std::net::SocketAddr,
    handle: PrometheusHandle,
    db: Db,
) -> anyhow::Result<actix_web::dev::Server> {
    let state = web::Data::new((handle, db));
    Ok(HttpServer::new(move || {
        App::new().app_data(state.clone()).route(
            "/metrics",
            web::get().to(|state: web::Data<(PrometheusHandle, Db)>| async move {
                let (handle, db) = &**state;
                HttpResponse::Ok()
                    .content_type("text/plain; version=0.0.4; charset=utf-8")
                    .body(render(handle, db).await)
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind(address)
    .with_context(|| format!("cannot listen for metrics on {address}"))?
    .run())
}
