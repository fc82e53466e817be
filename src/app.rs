//! The actix application, built by one function that `main` and the tests share.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{guard, web, App, HttpServer};
use anyhow::Context;
use tokio::sync::watch;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{self as swagger_ui, SwaggerUi};

use crate::api::webhooks::sender::Sender;
use crate::api::{self, docs};
use crate::config::Config;
use crate::db::Db;
use crate::error::extractors;
use crate::http::extract::BodyLimit;
use crate::http::{deprecation, methods, rate_limit};
use crate::state::AppState;
use crate::{background, prometheus, seed, telemetry};

/// The application: the API, its OpenAPI document at `/openapi.json` and the docs at `/docs`.
pub fn build_app(
    state: web::Data<AppState>,
    body_limit: usize,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, _) = App::new()
        .into_utoipa_app()
        .configure(api::configure)
        .split_for_parts();
    app.app_data(state)
        .app_data(web::PayloadConfig::new(body_limit))
        .app_data(BodyLimit(body_limit))
        .app_data(web::PathConfig::default().error_handler(extractors::path_handler))
        .service(
            web::resource("/openapi.json")
                .guard(guard::Get())
                .to(docs::serve_document),
        )
        .service(SwaggerUi::new("/docs/{_:.*}").config(swagger_ui::Config::new(["/openapi.json"])))
        .service(web::redirect("/docs", "/docs/"))
        .default_service(web::to(methods::unrouted))
        .wrap(from_fn(deprecation::announce))
        .wrap(from_fn(rate_limit::announce))
        .wrap(from_fn(methods::head_as_get))
        .wrap(from_fn(telemetry::request_context))
}

/// `careloop serve`: migrate, then serve until stopped.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    // Watched from the start: a SIGTERM during start-up (migrations included) stops the node
    // by the same drain as soon as it serves, rather than killing it midway.
    let stop = shutdown_signal()?;
    let address = config.listen_address()?;
    let metrics_address = config.metrics_address()?;
    let db = Db::open(&config.database, config.pooling())?;
    let state = AppState::new(&config, db)?;
    if config.is_development() {
        let organisation_id = seed::demo_organisation(&state.db)?;
        log::warn!(
            "development mode: no key is configured, so careloop signs its own tokens with a \
             secret kept in its database, and listens on loopback only"
        );
        log::info!(
            "mint a token with: careloop token --org {organisation_id} --role manager \
             (or `cargo run --release -- token ...`), with the same DATABASE_URL"
        );
    }
    // Compile the document's schemas now, not on the first request.
    api::contract::contract();
    actix_web::rt::spawn(background::number_changes(state.db.clone()));
    actix_web::rt::spawn(background::prune_changes(
        state.db.clone(),
        config.changes_retention_days,
    ));
    let (stop_webhooks, stopping) = watch::channel(false);
    let webhooks = actix_web::rt::spawn(background::deliver_webhooks(
        state.db.clone(),
        Sender::new(config.webhook_allow_private)?,
        config.webhook_disable_after_hours,
        stopping,
    ));
    let metrics = match metrics_address {
        Some(address) => {
            let server = prometheus::server(address, prometheus::install()?, state.db.clone())?;
            log::info!("metrics on http://{address}/metrics");
            let handle = server.handle();
            actix_web::rt::spawn(server);
            Some(handle)
        }
        None => None,
    };
    let state = web::Data::new(state);
    let body_limit = config.body_limit;
    // Each worker's blocking threads run the requests' reads (SQLite's writes run on the writer's
    // thread, the long reads on threads of their own); more of them than the pool has
    // connections only queue on the pool, and switching between them costs more than the work.
    let workers = crate::config::cores();
    let blocking = (config.pooling().size as usize).div_ceil(workers).max(1);
    let listener = std::net::TcpListener::bind(address)
        .with_context(|| format!("cannot listen on {address}"))?;
    // The backlog actix would give its own listener (std's is 128).
    socket2::SockRef::from(&listener)
        .listen(1024)
        .with_context(|| format!("cannot listen on {address}"))?;
    let door = listener.try_clone().context("cannot share the listener")?;
    let server = HttpServer::new(move || {
        let app = build_app(state.clone(), body_limit);
        release_freed_memory();
        app
    })
    .workers(workers)
    .worker_max_blocking_threads(blocking)
    .disable_signals()
    .shutdown_timeout(config.shutdown_drain_seconds)
    .listen(listener)
    .with_context(|| format!("cannot listen on {address}"))?
    .run();
    log::info!("careloop listening on http://{address} (docs at /docs)");
    let handle = server.handle();
    let drain = config.shutdown_drain_seconds;
    actix_web::rt::spawn(async move {
        stop.await;
        log::info!("stopping: no new connections; finishing requests in flight (at most {drain}s)");
        stop_webhooks.send_replace(true);
        close_gently(door).await;
        handle.stop(true).await;
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
    });
    server.await.context("the server stopped with an error")?;
    if let Err(error) = webhooks.await {
        log::error!("the webhook worker failed: {error}");
    }
    log::info!("stopped");
    Ok(())
}

/// Hands back to the system the memory start-up freed. Each worker collects the document's
/// operations while it builds its routes; glibc would keep what that freed (about 3 MB a worker,
/// in the middle of its thread's heap) resident, for allocations the worker never grows to.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it touches no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Resolves at SIGTERM (what orchestrators send) or SIGINT (Ctrl-C).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// Stops new connections without resetting those already made. Closing a listening socket
/// resets the connections the kernel completed but the server had not yet taken (a client
/// that had sent its request sees "connection reset"). So first a socket filter drops new
/// connection attempts (their clients try again a second later and find the port closed:
/// "connection refused", which a client or load balancer takes as "try elsewhere"); the
/// server then takes what is queued, and only then closes. `listener` is this function's copy
/// of the socket, closed on return so that the port closes when the server's copy does.
async fn close_gently(listener: std::net::TcpListener) {
    // A classic BPF program of one instruction: return 0, keep nothing.
    const DROP_ALL: u16 = 0x06; // BPF_RET | BPF_K
    let socket = socket2::SockRef::from(&listener);
    if let Err(error) = socket.attach_filter(&[socket2::SockFilter::new(DROP_ALL, 0, 0, 0)]) {
        log::warn!("cannot hold new connections back while stopping: {error}");
        return;
    }
    actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
}
