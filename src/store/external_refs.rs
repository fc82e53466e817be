//! External references: the record of a table that already holds one, and the 409 naming it.

use crate::auth::Principal;
use crate::db::DbConnection;
use crate::domain::ids::RecordId;
use crate::domain::RecordKind;
use crate::error::{ApiError, ApiResult};
use crate::store::visibility;

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

/// 409 when a record of the kind already holds an external reference, naming it (and giving
/// its id) only to a caller who may see it: to anyone else the answer does not say which.
pub fn external_ref_free(
    conn: &mut DbConnection,
    principal: &Principal,
    kind: RecordKind,
    holder: Option<RecordId>,
) -> ApiResult<()> {
    let Some(existing) = holder else {
        return Ok(());
    };
    let what = kind.as_str().replace('_', " ");
    let seen = visibility::visible_ids(conn, principal, kind, &[existing])?;
    let (detail, extra) = if seen.contains(&existing) {
        (
            format!("{what} {existing} already has this external_ref"),
            Some(serde_json::json!({ "existing_id": existing })),
        )
    } else {
        (format!("a {what} already has this external_ref"), None)
    };
    Err(ApiError::Conflict {
        code: "duplicate_external_ref",
        detail,
        extra,
    })
}
