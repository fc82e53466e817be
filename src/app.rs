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
use crate::auth::{KnownOrganisations, Verifier};
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
    pub organisations: KnownOrganisations,
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

/// Opens the database and brings its schema up to date: all `careloop migrate` needs.
pub fn open_database(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database, config.db_pool_size)?;
    let applied = db.migrate()?;
    if applied > 0 {
        log::info!(
            "applied {applied} migration(s) to the {} database",
            config.database.backend_name()
        );
    }
    Ok(db)
}

/// The state the application runs on, over an open database. In development mode the token
/// verifier uses the database's own development secret (made on first use).
pub fn state(config: &Config, db: Db) -> anyhow::Result<AppState> {
    let development_secret = if config.is_development() {
        let mut conn = db.get()?;
        let secret = crate::db::instance::development_secret(&mut conn)
            .map_err(|e| anyhow::anyhow!("cannot read the development secret: {e}"))?;
        Some(secret)
    } else {
        None
    };
    Ok(AppState {
        db,
        verifier: config.verifier(development_secret.as_deref())?,
        organisations: KnownOrganisations::default(),
        receipts: ReceiptGuard::new(config.receipt_attempts_per_minute),
        catalogue: Catalogue::load(config.frameworks_dir.as_deref())
            .map_err(|e| anyhow::anyhow!("cannot load the assessment frameworks: {e}"))?,
    })
}

/// `careloop serve`: migrate, then serve until stopped.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let address = config.listen_address()?;
    let state = state(&config, open_database(&config)?)?;
    if config.is_development() {
        let organisation_id = demo_organisation(&state.db)?;
        log::warn!(
            "development mode: no key is configured, so careloop signs its own tokens with a \
             secret kept in its database, and listens on loopback only"
        );
        log::info!(
            "mint a token with: careloop token --org {organisation_id} --role manager \
             (or `cargo run --release -- token ...`), with the same DATABASE_URL"
        );
    }
    let state = web::Data::new(state);
    let body_limit = config.body_limit;
    let server = HttpServer::new(move || build_app(state.clone(), body_limit))
        .bind(address)
        .with_context(|| format!("cannot listen on {address}"))?;
    log::info!("careloop listening on http://{address} (docs at /docs)");
    server
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
