//! The HTTP API: one folder per resource (handlers, DTOs, store), and what they share.

pub mod api_clients;
pub mod audit_events;
pub mod changes;
pub mod concerns;
pub mod contract;
pub mod dashboard;
pub mod docs;
pub mod evidence;
pub mod exports;
pub mod frameworks;
pub mod governance;
pub mod health;
pub mod highlights;
pub mod imports;
pub mod improvement_plans;
pub mod insights;
pub mod intake_points;
pub mod learning_events;
pub mod locations;
pub mod oauth;
pub mod organisation;
pub mod public;
pub mod receipts;
pub mod recognitions;
pub mod self_assessments;
pub mod shared;
pub mod trail;
pub mod webhooks;

use utoipa_actix_web::service_config::ServiceConfig;

/// Every route, registered so utoipa-actix-web also collects it into the OpenAPI document.
pub fn configure(config: &mut ServiceConfig) {
    config
        .service(health::live)
        .service(health::ready)
        .service(oauth::handlers::issue_token)
        .service(oauth::handlers::get_jwks)
        .service(dashboard::handlers::get_dashboard)
        .service(dashboard::handlers::issue_dashboard_token)
        .service(public::handlers::get_intake_page)
        .service(public::handlers::submit_intake)
        .service(public::handlers::get_you_said_we_did_page)
        .service(
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
                .service(trail::handlers::get_concern_trail)
                .service(receipts::handlers::get_receipt)
                .service(receipts::handlers::list_receipt_messages)
                .service(receipts::handlers::add_receipt_message)
                .service(learning_events::handlers::create_learning_event)
                .service(learning_events::handlers::list_learning_events)
                .service(learning_events::handlers::get_learning_event)
                .service(learning_events::handlers::update_learning_event)
                .service(trail::handlers::get_learning_event_trail)
                .service(evidence::handlers::create_evidence)
                .service(evidence::handlers::list_evidence)
                .service(evidence::handlers::get_metric_series)
                .service(evidence::handlers::get_evidence)
                .service(evidence::handlers::update_evidence)
                .service(evidence::handlers::archive_evidence)
                .service(evidence::handlers::verify_evidence)
                .service(trail::handlers::get_evidence_trail)
                .service(frameworks::handlers::list_frameworks)
                .service(frameworks::handlers::get_framework)
                .service(frameworks::handlers::list_quality_statements)
                .service(frameworks::handlers::get_framework_coverage)
                .service(self_assessments::handlers::get_self_assessment)
                .service(self_assessments::handlers::get_statement_score)
                .service(self_assessments::handlers::set_statement_score)
                .service(self_assessments::handlers::record_score)
                .service(self_assessments::handlers::list_scores)
                .service(self_assessments::handlers::get_score)
                .service(self_assessments::handlers::set_statement_score_alias)
                .service(self_assessments::handlers::get_self_assessment_alias)
                .service(improvement_plans::plans::handlers::create_plan)
                .service(improvement_plans::plans::handlers::list_plans)
                .service(improvement_plans::plans::handlers::get_plan)
                .service(improvement_plans::plans::handlers::update_plan)
                .service(improvement_plans::plans::handlers::transition_plan)
                .service(improvement_plans::actions::handlers::create_plan_action)
                .service(improvement_plans::actions::handlers::list_plan_actions)
                .service(improvement_plans::actions::handlers::get_plan_action)
                .service(improvement_plans::actions::handlers::update_plan_action)
                .service(improvement_plans::actions::handlers::transition_plan_action)
                .service(improvement_plans::actions::handlers::publish_plan_action)
                .service(improvement_plans::actions::handlers::unpublish_plan_action)
                .service(improvement_plans::reviews::handlers::create_review)
                .service(improvement_plans::reviews::handlers::list_reviews)
                .service(improvement_plans::reviews::handlers::get_review)
                .service(trail::handlers::get_plan_trail)
                .service(improvement_plans::actions::handlers::list_actions)
                .service(improvement_plans::actions::handlers::get_action)
                .service(improvement_plans::reviews::handlers::list_due_reviews)
                .service(recognitions::handlers::create_recognition)
                .service(recognitions::handlers::list_recognitions)
                .service(recognitions::handlers::get_recognition)
                .service(recognitions::handlers::decide_recognition)
                .service(highlights::handlers::list_highlights)
                .service(audit_events::handlers::list_audit_events)
                .service(changes::handlers::get_changes_cursor)
                .service(changes::handlers::list_changes)
                .service(api_clients::handlers::create_api_client)
                .service(api_clients::handlers::list_api_clients)
                .service(api_clients::handlers::get_api_client)
                .service(api_clients::handlers::rotate_api_client_secret)
                .service(api_clients::handlers::revoke_api_client)
                .service(webhooks::handlers::create_webhook)
                .service(webhooks::handlers::list_webhooks)
                .service(webhooks::handlers::get_webhook)
                .service(webhooks::handlers::update_webhook)
                .service(webhooks::handlers::delete_webhook)
                .service(webhooks::handlers::rotate_webhook_secret)
                .service(webhooks::handlers::list_webhook_deliveries)
                .service(webhooks::handlers::retry_webhook_delivery)
                .service(webhooks::handlers::test_webhook)
                .service(imports::handlers::create_import)
                .service(imports::handlers::list_imports)
                .service(imports::handlers::get_import)
                .service(exports::handlers::get_inspection_pack)
                .service(insights::handlers::get_concern_insights)
                .service(insights::handlers::get_action_insights)
                .service(insights::handlers::get_learning_insights)
                .service(insights::handlers::get_evidence_insights)
                .service(governance::handlers::get_governance_pack)
                .service(governance::handlers::record_governance_review)
                .service(intake_points::handlers::create_intake_point)
                .service(intake_points::handlers::list_intake_points)
                .service(intake_points::handlers::get_intake_point)
                .service(intake_points::handlers::update_intake_point)
                .service(intake_points::handlers::rotate_intake_point_slug)
                .service(public::handlers::get_you_said_we_did),
        );
}
