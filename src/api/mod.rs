//! The HTTP API: one folder per resource (handlers, DTOs, store), and what they share.

pub mod audit_events;
pub mod common;
pub mod concerns;
pub mod docs;
pub mod health;
pub mod idempotency;
pub mod locations;
pub mod organisation;
pub mod receipts;

use utoipa_actix_web::service_config::ServiceConfig;

/// Every route, registered so utoipa-actix-web also collects it into the OpenAPI document.
pub fn configure(config: &mut ServiceConfig) {
    config.service(health::live).service(health::ready).service(
        utoipa_actix_web::scope("/v1")
            .service(organisation::handlers::get_organisation)
            .service(organisation::handlers::update_organisation)
            .service(locations::handlers::create_location)
            .service(locations::handlers::list_locations)
            .service(locations::handlers::get_location)
            .service(locations::handlers::update_location)
            .service(concerns::handlers::create_concern)
            .service(concerns::handlers::list_concerns)
            .service(concerns::handlers::get_concern)
            .service(concerns::handlers::update_concern)
            .service(concerns::handlers::transition_concern)
            .service(concerns::handlers::add_concern_update)
            .service(concerns::handlers::list_concern_updates)
            .service(concerns::handlers::get_concern_update)
            .service(receipts::handlers::get_receipt)
            .service(receipts::handlers::add_receipt_message)
            .service(audit_events::handlers::list_audit_events),
    );
}
