//! External references: the record of a table that already holds one, and the 409 naming it.

use crate::domain::ids::RecordId;
use crate::error::{ApiError, ApiResult};

/// Finds the record of a table that holds an external reference in an organisation.
macro_rules! external_ref_holder {
    ($conn:expr, $table:ident, $organisation_id:expr, $external:expr) => {
        $table::table
            .filter($table::organisation_id.eq($organisation_id))
            .filter($table::external_system.eq(&$external.system))
            .filter($table::external_id.eq(&$external.id))
            .select($table::id)
            .first::<$crate::domain::ids::RecordId>($conn)
            .optional()
    };
}
pub(crate) use external_ref_holder;

/// 409 naming the record that already holds an external reference.
pub fn external_ref_free(holder: Option<RecordId>, kind: &str) -> ApiResult<()> {
    match holder {
        None => Ok(()),
        Some(existing) => Err(ApiError::Conflict {
            code: "duplicate_external_ref",
            detail: format!("{kind} {existing} already has this external_ref"),
            extra: Some(serde_json::json!({ "existing_id": existing })),
        }),
    }
}
