//! The actix application, built by one function that `main` and the tests share.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::extract::BodyLimit;
use crate::api::methods;
use crate::api::{self, docs, locations, organisation, receipts::ReceiptGuard};
use crate::auth::Verifier;
use crate::config::Config;
use crate::db::Db;
use crate::domain::framework::Catalogue;
use crate::domain::location::LocationKind;
use crate::error::extractors;
use crate::telemetry;

/// What every request may use. The API nodes keep no other state: several can share one
/// PostgreSQL behind a load balancer.
pub struct AppState {
    pub db: Db,
    pub verifier: Verifier,
    pub receipts: ReceiptGuard,
    pub catalogue: Catalogue,
}

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
            SwaggerUi::new("/docs/{_:.*}")
                .external_url_unchecked("/openapi.json", docs::document().clone()),
        )
        .service(web::redirect("/docs", "/docs/"))
        .default_service(web::to(methods::unrouted))
        .wrap(from_fn(methods::head_as_get))
        .wrap(from_fn(telemetry::request_context))
}

/// Opens the database, migrates it and makes the state the application runs on.
pub fn prepare(config: &Config) -> anyhow::Result<AppState> {
    let db = Db::connect(&config.database, config.db_pool_size)?;
    let applied = db.migrate()?;
    if applied > 0 {
        log::info!(
            "applied {applied} migration(s) to the {} database",
            config.database.backend_name()
        );
    }
    Ok(AppState {
        db,
        verifier: config.verifier()?,
        receipts: ReceiptGuard::new(config.receipt_attempts_per_minute),
        catalogue: Catalogue::load(config.frameworks_dir.as_deref())
            .map_err(|e| anyhow::anyhow!("cannot load the assessment frameworks: {e}"))?,
    })
}

/// `careloop serve`: migrate, then serve until stopped.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let address = config.listen_address()?;
    let state = prepare(&config)?;
    if config.is_development() {
        let organisation_id = demo_organisation(&state.db)?;
        log::warn!(
            "development mode: no key is configured, so careloop signs its own tokens with the \
             secret in {} and listens on loopback only",
            config.data_dir.display()
        );
        log::info!(
            "mint a token with: careloop token --org {organisation_id} --role manager \
             (or `cargo run --release -- token ...`)"
        );
    }
    let state = web::Data::new(state);
    let body_limit = config.body_limit;
    log::info!("careloop listening on http://{address} (docs at /docs)");
    HttpServer::new(move || build_app(state.clone(), body_limit))
        .bind(address)
        .with_context(|| format!("cannot listen on {address}"))?
        .run()
        .await
        .context("the server stopped with an error")
}

/// In development, a database with no organisation gets a demo one with one location, so the
/// first run is usable at once. Answers the id of the first organisation.
fn demo_organisation(db: &Db) -> anyhow::Result<String> {
    let mut conn = db.get()?;
    crate::db::write_transaction(&mut conn, |conn| {
        if organisation::store::count(conn)? == 0 {
            let demo = organisation::store::create(conn, "Demo Care Ltd", None, None)?;
            let id = demo.id.to_string();
            locations::store::create(
                conn,
                api::audit_events::Actor::System,
                &id,
                &locations::dto::NewLocation {
                    name: "Demo House".into(),
                    kind: LocationKind::CareHome,
                    cqc_location_id: None,
                },
            )?;
            log::info!("created the demo organisation {id} with the location Demo House");
            return Ok(id);
        }
        organisation::store::first_id(conn)
    })
    .map_err(|e| anyhow::anyhow!("cannot prepare the demo data: {e}"))
}
