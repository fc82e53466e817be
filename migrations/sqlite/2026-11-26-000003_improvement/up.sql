-- Improvement plans with their actions and reviews, and recognitions.
CREATE TABLE improvement_plans (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    location_id TEXT REFERENCES locations (id),
    title TEXT NOT NULL,
    objective TEXT NOT NULL,
    owner_sub TEXT NOT NULL,
    owner_name TEXT,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    review_cadence TEXT NOT NULL,
    co_produced BOOLEAN NOT NULL,
    involved TEXT NOT NULL,
    activated_on DATE,
    last_reviewed_on DATE,
    -- Derived from the cadence and the last review or activation; kept for filtering.
    next_review_due DATE,
    completed_at TIMESTAMP,
    external_system TEXT,
    external_id TEXT,
    created_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (organisation_id, external_system, external_id)
);
CREATE INDEX improvement_plans_by_organisation ON improvement_plans (organisation_id, id);
CREATE INDEX improvement_plans_by_review ON improvement_plans (organisation_id, status, next_review_due);

CREATE TABLE plan_actions (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    plan_id TEXT NOT NULL REFERENCES improvement_plans (id),
    description TEXT NOT NULL,
    owner_sub TEXT NOT NULL,
    owner_name TEXT,
    due_on DATE,
    status TEXT NOT NULL,
    completion_note TEXT,
    cancel_reason TEXT,
    effectiveness TEXT NOT NULL,
    checked_on DATE,
    completed_at TIMESTAMP,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX plan_actions_by_plan ON plan_actions (plan_id, id);
CREATE INDEX plan_actions_by_owner ON plan_actions (organisation_id, owner_sub, status);

CREATE TABLE plan_reviews (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    plan_id TEXT NOT NULL REFERENCES improvement_plans (id),
    reviewed_on DATE NOT NULL,
    progress TEXT NOT NULL,
    notes TEXT,
    priority_from TEXT,
    priority_to TEXT,
    reviewed_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX plan_reviews_by_plan ON plan_reviews (plan_id, id);

CREATE TABLE recognitions (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    location_id TEXT REFERENCES locations (id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    message TEXT,
    recipients TEXT NOT NULL,
    from_role TEXT NOT NULL,
    occurred_on DATE NOT NULL,
    recorded_by TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX recognitions_by_organisation ON recognitions (organisation_id, id);
