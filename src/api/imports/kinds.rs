//! Each kind of record an import can hold, as the single-record endpoints handle it: the
//! operations whose schemas check a row, the permissions, and the store calls that create and
//! change one. An import row goes through exactly these, so it is validated, permitted,
//! audited and fed to the change feed as a request to the endpoint would be.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::Connection;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::api::shared::ExternalRef;
use crate::api::{concerns, evidence, improvement_plans, learning_events, locations, recognitions};
use crate::auth::{Permission, Principal};
use crate::db::schema;
use crate::db::DbConnection;
use crate::domain::change::ChangeType;
use crate::domain::framework::Catalogue;
use crate::domain::ids::{Id, RecordId};
use crate::error::{ApiError, ApiResult};
use crate::http::preconditions::IfMatch;
use crate::store::audit::Actor;
use crate::store::external_refs::{self, external_ref_holder};

/// A kind of record an import can hold.
pub trait Importable {
    /// The path of the endpoint that creates one (its body schema checks a row) and of the
    /// one that changes one (`PATCH`).
    const CREATE_PATH: &'static str;
    const UPDATE_PATH: &'static str;
    /// The document's schemas of a new record and of the record as read.
    const NEW_SCHEMA: &'static str;
    const RECORD_SCHEMA: &'static str;
    const CREATE: Permission;
    const EDIT: Permission;
    const RECORD: ChangeType;
    type New: DeserializeOwned + Serialize;
    type Patch: DeserializeOwned;

    fn validate(new: &Self::New, catalogue: &Catalogue) -> ApiResult<()>;
    fn external_ref(new: &Self::New) -> Option<&ExternalRef>;
    /// The id of the organisation's record that holds an external reference, seen or not.
    fn holder(
        conn: &mut DbConnection,
        organisation_id: &str,
        external: &ExternalRef,
    ) -> ApiResult<Option<RecordId>>;
    /// The records of the organisation that hold any of these references, seen or not.
    fn holders(
        conn: &mut DbConnection,
        organisation_id: &str,
        references: &[(String, String)],
    ) -> ApiResult<HashMap<(String, String), RecordId>>;
    fn create(conn: &mut DbConnection, principal: &Principal, new: &Self::New) -> ApiResult<Value>;
    /// Creates several, answering for each the record or why not: one by one (each in its own
    /// savepoint), unless the kind's store creates a batch at once.
    fn create_all(
        conn: &mut DbConnection,
        principal: &Principal,
        news: &[Self::New],
    ) -> ApiResult<Vec<ApiResult<Value>>> {
        Ok(news
            .iter()
            .map(|new| conn.transaction(|conn| Self::create(conn, principal, new)))
            .collect())
    }
    fn update(
        conn: &mut DbConnection,
        catalogue: &Catalogue,
        principal: &Principal,
        id: Uuid,
        patch: &Self::Patch,
    ) -> ApiResult<Value>;
}

fn value(record: impl Serialize) -> ApiResult<Value> {
    Ok(serde_json::to_value(record)?)
}

/// The parts of an `Importable` that differ only by names.
macro_rules! importable {
    ($table:ident, $new:ty, $patch:ty, $create:literal, $update:literal,
     $new_schema:literal, $schema:literal, $may_create:ident, $may_edit:ident, $record:ident) => {
        const CREATE_PATH: &'static str = $create;
        const UPDATE_PATH: &'static str = $update;
        const NEW_SCHEMA: &'static str = $new_schema;
        const RECORD_SCHEMA: &'static str = $schema;
        const CREATE: Permission = Permission::$may_create;
        const EDIT: Permission = Permission::$may_edit;
        const RECORD: ChangeType = ChangeType::$record;
        type New = $new;
        type Patch = $patch;

        fn external_ref(new: &Self::New) -> Option<&ExternalRef> {
            new.external_ref.as_ref()
        }

        fn holder(
            conn: &mut DbConnection,
            organisation_id: &str,
            external: &ExternalRef,
        ) -> ApiResult<Option<RecordId>> {
            use schema::$table;
            Ok(external_ref_holder!(
                conn,
                $table,
                organisation_id,
                external
            )?)
        }

        fn holders(
            conn: &mut DbConnection,
            organisation_id: &str,
            references: &[(String, String)],
        ) -> ApiResult<HashMap<(String, String), RecordId>> {
            external_refs::holders(conn, stringify!($table), organisation_id, references)
        }
    };
}

pub struct Concerns;

impl Importable for Concerns {
    importable!(
        concerns,
        concerns::dto::NewConcern,
        concerns::dto::ConcernPatch,
        "/v1/concerns",
        "/v1/concerns/{concern_id}",
        "NewConcern",
        "Concern",
        RaiseConcern,
        EditConcern,
        Concern
    );

    fn validate(new: &Self::New, catalogue: &Catalogue) -> ApiResult<()> {
        new.validate(catalogue)
    }

    /// An imported concern names who raised it: an anonymous raiser's receipt code would be
    /// lost, and the import would say who sent it and when. (An anonymous concern already
    /// recorded may be named by a row, as an export of it does.)
    fn create(conn: &mut DbConnection, principal: &Principal, new: &Self::New) -> ApiResult<Value> {
        if new.anonymous {
            return Err(ApiError::field(
                "anonymous",
                "an import cannot raise a concern anonymously: the raiser would never see its \
                 receipt code",
            ));
        }
        value(concerns::store::create(conn, principal, new)?)
    }

    fn update(
        conn: &mut DbConnection,
        catalogue: &Catalogue,
        principal: &Principal,
        id: Uuid,
        patch: &Self::Patch,
    ) -> ApiResult<Value> {
        patch.validate(catalogue)?;
        value(concerns::store::update(
            conn,
            principal,
            Id::from(id),
            patch,
            &IfMatch::any(),
        )?)
    }
}

pub struct LearningEvents;

impl Importable for LearningEvents {
    importable!(
        learning_events,
        learning_events::dto::NewLearningEvent,
        learning_events::dto::LearningEventPatch,
        "/v1/learning-events",
        "/v1/learning-events/{learning_event_id}",
        "NewLearningEvent",
        "LearningEvent",
        RecordLearning,
        RecordLearning,
        LearningEvent
    );

    fn validate(new: &Self::New, catalogue: &Catalogue) -> ApiResult<()> {
        new.validate(catalogue)
    }

    fn create(conn: &mut DbConnection, principal: &Principal, new: &Self::New) -> ApiResult<Value> {
        value(learning_events::store::create(conn, principal, new)?)
    }

    fn update(
        conn: &mut DbConnection,
        catalogue: &Catalogue,
        principal: &Principal,
        id: Uuid,
        patch: &Self::Patch,
    ) -> ApiResult<Value> {
        patch.validate(catalogue)?;
        value(learning_events::store::update(
            conn,
            principal,
            Id::from(id),
            patch,
            &IfMatch::any(),
        )?)
    }
}

pub struct Evidence;

impl Importable for Evidence {
    importable!(
        evidence,
        evidence::dto::NewEvidence,
        evidence::dto::EvidencePatch,
        "/v1/evidence",
        "/v1/evidence/{evidence_id}",
        "NewEvidence",
        "Evidence",
        RecordEvidence,
        EditEvidence,
        Evidence
    );

    fn validate(new: &Self::New, catalogue: &Catalogue) -> ApiResult<()> {
        new.validate(catalogue)
    }

    fn create(conn: &mut DbConnection, principal: &Principal, new: &Self::New) -> ApiResult<Value> {
        value(evidence::store::create(conn, principal, new)?)
    }

    fn create_all(
        conn: &mut DbConnection,
        principal: &Principal,
        news: &[Self::New],
    ) -> ApiResult<Vec<ApiResult<Value>>> {
        Ok(evidence::store::create_all(conn, principal, news)?
            .into_iter()
            .map(|created| created.and_then(value))
            .collect())
    }

    fn update(
        conn: &mut DbConnection,
        catalogue: &Catalogue,
        principal: &Principal,
        id: Uuid,
        patch: &Self::Patch,
    ) -> ApiResult<Value> {
        value(evidence::store::update(
            conn,
            catalogue,
            principal,
            Id::from(id),
            patch,
            &IfMatch::any(),
        )?)
    }
}

pub struct ImprovementPlans;

impl Importable for ImprovementPlans {
    importable!(
        improvement_plans,
        improvement_plans::plans::dto::NewImprovementPlan,
        improvement_plans::plans::dto::ImprovementPlanPatch,
        "/v1/improvement-plans",
        "/v1/improvement-plans/{plan_id}",
        "NewImprovementPlan",
        "ImprovementPlan",
        ManagePlans,
        ManagePlans,
        ImprovementPlan
    );

    fn validate(new: &Self::New, catalogue: &Catalogue) -> ApiResult<()> {
        new.validate(catalogue)
    }

    fn create(conn: &mut DbConnection, principal: &Principal, new: &Self::New) -> ApiResult<Value> {
        value(improvement_plans::plans::store::create(
            conn, principal, new,
        )?)
    }

    fn update(
        conn: &mut DbConnection,
        catalogue: &Catalogue,
        principal: &Principal,
        id: Uuid,
        patch: &Self::Patch,
    ) -> ApiResult<Value> {
        patch.validate(catalogue)?;
        value(improvement_plans::plans::store::update(
            conn,
            principal,
            Id::from(id),
            patch,
            &IfMatch::any(),
        )?)
    }
}

/// A plan's actions, imported within their plan's row.
pub struct PlanActions;

impl Importable for PlanActions {
    importable!(
        plan_actions,
        improvement_plans::actions::dto::NewPlanAction,
        improvement_plans::actions::dto::PlanActionPatch,
        "/v1/improvement-plans/{plan_id}/actions",
        "/v1/improvement-plans/{plan_id}/actions/{action_id}",
        "NewPlanAction",
        "PlanAction",
        ManagePlans,
        ManagePlans,
        Action
    );

    fn validate(_: &Self::New, _: &Catalogue) -> ApiResult<()> {
        Ok(())
    }

    /// Actions are created by [`create_action`], which names their plan.
    fn create(_: &mut DbConnection, _: &Principal, _: &Self::New) -> ApiResult<Value> {
        Err(ApiError::internal("an action is created within its plan"))
    }

    fn update(
        conn: &mut DbConnection,
        _: &Catalogue,
        principal: &Principal,
        id: Uuid,
        patch: &Self::Patch,
    ) -> ApiResult<Value> {
        let action = improvement_plans::actions::store::get_by_id(conn, principal, Id::from(id))?;
        value(improvement_plans::actions::store::update(
            conn,
            principal,
            (Id::from(action.plan_id), Id::from(id)),
            patch,
            &IfMatch::any(),
        )?)
    }
}

/// Creates an action in a plan.
pub fn create_action(
    conn: &mut DbConnection,
    principal: &Principal,
    plan_id: Uuid,
    new: &<PlanActions as Importable>::New,
) -> ApiResult<Value> {
    value(improvement_plans::actions::store::create(
        conn,
        principal,
        Id::from(plan_id),
        new,
    )?)
}

pub struct Recognitions;

impl Importable for Recognitions {
    importable!(
        recognitions,
        recognitions::dto::NewRecognition,
        (),
        "/v1/recognitions",
        "/v1/recognitions/{recognition_id}",
        "NewRecognition",
        "Recognition",
        Recognise,
        Recognise,
        Recognition
    );

    fn validate(new: &Self::New, _: &Catalogue) -> ApiResult<()> {
        new.validate()
    }

    fn create(conn: &mut DbConnection, principal: &Principal, new: &Self::New) -> ApiResult<Value> {
        value(recognitions::store::create(conn, principal, new)?)
    }

    /// A recognition, once given, is not changed (there is no `PATCH` for one).
    fn update(
        _: &mut DbConnection,
        _: &Catalogue,
        _: &Principal,
        _: Uuid,
        _: &Self::Patch,
    ) -> ApiResult<Value> {
        Err(ApiError::conflict(
            "conflicts_with_record",
            "a recognition, once given, cannot be changed",
        ))
    }
}

pub struct Locations;

impl Importable for Locations {
    importable!(
        locations,
        locations::dto::NewLocation,
        locations::dto::LocationPatch,
        "/v1/locations",
        "/v1/locations/{location_id}",
        "NewLocation",
        "Location",
        ManageLocations,
        ManageLocations,
        Location
    );

    fn validate(_: &Self::New, _: &Catalogue) -> ApiResult<()> {
        Ok(())
    }

    fn create(conn: &mut DbConnection, principal: &Principal, new: &Self::New) -> ApiResult<Value> {
        value(locations::store::create(
            conn,
            Actor::Caller(principal),
            &principal.organisation_id,
            new,
        )?)
    }

    fn update(
        conn: &mut DbConnection,
        _: &Catalogue,
        principal: &Principal,
        id: Uuid,
        patch: &Self::Patch,
    ) -> ApiResult<Value> {
        value(locations::store::update(
            conn,
            principal,
            Id::from(id),
            patch,
            &IfMatch::any(),
        )?)
    }
}
