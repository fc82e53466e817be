// The tables of migrations/{sqlite,postgres}, written for diesel's query builder.

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        cqc_provider_id -> Nullable<Text>,
        ods_code -> Nullable<Text>,
        acknowledge_within_hours -> Integer,
        feedback_within_days -> Integer,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    locations (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        kind -> Text,
        cqc_location_id -> Nullable<Text>,
        external_system -> Nullable<Text>,
        external_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    concerns (id) {
        id -> Text,
        organisation_id -> Text,
        location_id -> Nullable<Text>,
        title -> Text,
        description -> Text,
        category -> Text,
        risk -> Text,
        status -> Text,
        confidential -> Bool,
        anonymous -> Bool,
        raised_by_sub -> Nullable<Text>,
        raised_by_name -> Nullable<Text>,
        receipt_hash -> Nullable<Text>,
        external_system -> Nullable<Text>,
        external_id -> Nullable<Text>,
        escalated_to -> Nullable<Text>,
        outcome -> Nullable<Text>,
        acknowledge_by -> Timestamp,
        feedback_by -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        contact -> Nullable<Text>,
        tags -> Text,
    }
}

diesel::table! {
    concern_updates (id) {
        id -> Text,
        organisation_id -> Text,
        concern_id -> Text,
        kind -> Text,
        visibility -> Text,
        body -> Nullable<Text>,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        author_sub -> Nullable<Text>,
        author_name -> Nullable<Text>,
        by_raiser -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        organisation_id -> Text,
        actor -> Text,
        actor_kind -> Text,
        action -> Text,
        resource_type -> Text,
        resource_id -> Text,
        changed_fields -> Text,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (organisation_id, scope, idempotency_key) {
        organisation_id -> Text,
        scope -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        response_status -> Integer,
        response_location -> Nullable<Text>,
        response_body -> Text,
        created_at -> Timestamp,
        response_version -> Nullable<BigInt>,
    }
}

diesel::table! {
    learning_events (id) {
        id -> Text,
        organisation_id -> Text,
        location_id -> Nullable<Text>,
        kind -> Text,
        occurred_at -> Timestamp,
        title -> Text,
        summary -> Nullable<Text>,
        facilitator -> Nullable<Text>,
        participants -> Text,
        went_well -> Nullable<Text>,
        did_not_go_well -> Nullable<Text>,
        to_change -> Nullable<Text>,
        lessons -> Text,
        shared_via -> Text,
        external_system -> Nullable<Text>,
        external_id -> Nullable<Text>,
        recorded_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        governance_month -> Nullable<Text>,
        tags -> Text,
    }
}

diesel::table! {
    evidence (id) {
        id -> Text,
        organisation_id -> Text,
        location_id -> Nullable<Text>,
        source -> Text,
        evidence_category -> Text,
        title -> Text,
        summary -> Nullable<Text>,
        observed_at -> Nullable<Timestamp>,
        period_start -> Nullable<Timestamp>,
        period_end -> Nullable<Timestamp>,
        dated_at -> Timestamp,
        respondent -> Nullable<Text>,
        metric_name -> Nullable<Text>,
        metric_value -> Nullable<Double>,
        metric_unit -> Nullable<Text>,
        metric_target -> Nullable<Double>,
        metric_direction -> Nullable<Text>,
        links -> Text,
        external_system -> Nullable<Text>,
        external_id -> Nullable<Text>,
        recorded_by -> Text,
        archived_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        verification -> Text,
        contact -> Nullable<Text>,
        tags -> Text,
    }
}

diesel::table! {
    quality_statement_tags (record_type, record_id, quality_statement_id) {
        organisation_id -> Text,
        record_type -> Text,
        record_id -> Text,
        quality_statement_id -> Text,
    }
}

diesel::table! {
    record_links (from_type, from_id, to_type, to_id) {
        organisation_id -> Text,
        from_type -> Text,
        from_id -> Text,
        to_type -> Text,
        to_id -> Text,
    }
}

diesel::table! {
    self_assessments (id) {
        id -> Text,
        organisation_id -> Text,
        location_id -> Text,
        framework_id -> Text,
        quality_statement_id -> Text,
        score -> Integer,
        rationale -> Text,
        evidence_ids -> Text,
        assessed_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    improvement_plans (id) {
        id -> Text,
        organisation_id -> Text,
        location_id -> Nullable<Text>,
        title -> Text,
        objective -> Text,
        owner_sub -> Text,
        owner_name -> Nullable<Text>,
        priority -> Text,
        status -> Text,
        review_cadence -> Text,
        co_produced -> Bool,
        involved -> Text,
        activated_on -> Nullable<Date>,
        activated_at -> Nullable<Timestamp>,
        last_reviewed_on -> Nullable<Date>,
        next_review_due -> Nullable<Date>,
        completed_at -> Nullable<Timestamp>,
        external_system -> Nullable<Text>,
        external_id -> Nullable<Text>,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        tags -> Text,
    }
}

diesel::table! {
    plan_actions (id) {
        id -> Text,
        organisation_id -> Text,
        plan_id -> Text,
        description -> Text,
        owner_sub -> Text,
        owner_name -> Nullable<Text>,
        due_on -> Nullable<Date>,
        status -> Text,
        completion_note -> Nullable<Text>,
        cancel_reason -> Nullable<Text>,
        effectiveness -> Text,
        checked_on -> Nullable<Date>,
        completed_at -> Nullable<Timestamp>,
        external_system -> Nullable<Text>,
        external_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        you_said -> Nullable<Text>,
        we_did -> Nullable<Text>,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    plan_reviews (id) {
        id -> Text,
        organisation_id -> Text,
        plan_id -> Text,
        reviewed_on -> Date,
        progress -> Text,
        notes -> Nullable<Text>,
        priority_from -> Nullable<Text>,
        priority_to -> Nullable<Text>,
        reviewed_by -> Text,
        created_at -> Timestamp,
        participants -> Text,
    }
}

diesel::table! {
    recognitions (id) {
        id -> Text,
        organisation_id -> Text,
        location_id -> Nullable<Text>,
        kind -> Text,
        title -> Text,
        message -> Nullable<Text>,
        recipients -> Text,
        from_role -> Text,
        occurred_on -> Date,
        recorded_by -> Text,
        external_system -> Nullable<Text>,
        external_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        approval -> Text,
        from_name -> Nullable<Text>,
    }
}

diesel::joinable!(locations -> organisations (organisation_id));
diesel::joinable!(concerns -> organisations (organisation_id));
diesel::joinable!(concern_updates -> concerns (concern_id));
diesel::joinable!(plan_actions -> improvement_plans (plan_id));
diesel::joinable!(plan_reviews -> improvement_plans (plan_id));

diesel::table! {
    instance_secrets (name) {
        name -> Text,
        secret -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    locations,
    concerns,
    concern_updates,
    audit_events,
    idempotency_keys,
    learning_events,
    evidence,
    quality_statement_tags,
    record_links,
    self_assessments,
    improvement_plans,
    plan_actions,
    plan_reviews,
    recognitions,
);

diesel::table! {
    change_heads (organisation_id) {
        organisation_id -> Text,
        last_seq -> BigInt,
        pruned_through -> BigInt,
    }
}

diesel::table! {
    changes (id) {
        id -> Text,
        organisation_id -> Text,
        seq -> Nullable<BigInt>,
        record_type -> Text,
        record_id -> Text,
        action -> Text,
        to_state -> Nullable<Text>,
        version -> BigInt,
        location_id -> Nullable<Text>,
        occurred_at -> Timestamp,
        publish_after -> Timestamp,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        roles -> Text,
        locations -> Nullable<Text>,
        secret_hash -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        secret_rotated_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        organisation_id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        location_ids -> Nullable<Text>,
        scope -> Text,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        cursor -> BigInt,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        organisation_id -> Text,
        webhook_id -> Text,
        event_type -> Text,
        change_seq -> Nullable<BigInt>,
        payload -> Nullable<Text>,
        status -> Text,
        attempt -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        response_status -> Nullable<Integer>,
        duration_ms -> Nullable<BigInt>,
        error -> Nullable<Text>,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_deliveries, change_heads);

diesel::table! {
    imports (id) {
        id -> Text,
        organisation_id -> Text,
        kind -> Text,
        mode -> Text,
        on_error -> Text,
        format -> Text,
        date_format -> Text,
        imported_by -> Text,
        rows_read -> BigInt,
        created -> BigInt,
        updated -> BigInt,
        unchanged -> BigInt,
        failed -> BigInt,
        errors -> Text,
        errors_truncated -> Bool,
        refused -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    intake_points (id) {
        id -> Text,
        organisation_id -> Text,
        location_id -> Text,
        slug -> Text,
        title -> Text,
        welcome -> Text,
        kinds -> Text,
        enabled -> Bool,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(intake_points -> locations (location_id));
diesel::joinable!(intake_points -> organisations (organisation_id));
diesel::allow_tables_to_appear_in_same_query!(intake_points, locations);
diesel::allow_tables_to_appear_in_same_query!(intake_points, organisations);
