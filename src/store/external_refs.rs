//! External references: the record of a table that already holds one, the 409 naming it, the
//! rule that one is set once, and lists narrowed to the records a lookup names.

use crate::api::shared::ExternalRef;
use crate::auth::Principal;
use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::db::{portable, Backend, DbConnection};
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

#[derive(QueryableByName)]
struct Holder {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    external_system: String,
    #[diesel(sql_type = Text)]
    external_id: String,
}

/// The records of `table` (a table with external references) in an organisation that hold any
/// of `references` (`(system, id)` pairs), read a few hundred references to a query: a map from
/// each reference held to its holder. The references are joined as a list of values, so the
/// database finds each by the organisation's unique index of references, however few rows its
/// statistics expect (within an import's transaction they know nothing of the rows it added).
pub fn holders(
    conn: &mut DbConnection,
    table: &'static str,
    organisation_id: &str,
    references: &[(String, String)],
) -> ApiResult<HashMap<(String, String), RecordId>> {
    let mut held = HashMap::new();
    for chunk in references.chunks(300) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${})", 2 * i + 2, 2 * i + 3))
            .collect();
        let sql = format!(
            "SELECT t.id, t.external_system, t.external_id FROM {table} t \
             JOIN (VALUES {}) AS r ON t.external_system = r.column1 AND t.external_id = r.column2 \
             WHERE t.organisation_id = $1",
            values.join(", ")
        );
        let mut query = diesel::sql_query(portable(conn, &sql))
            .into_boxed::<Backend>()
            .bind::<Text, _>(organisation_id.to_owned());
        for (system, id) in chunk {
            query = query
                .bind::<Text, _>(system.clone())
                .bind::<Text, _>(id.clone());
        }
        for holder in query.load::<Holder>(conn)? {
            let id = holder
                .id
                .parse::<uuid::Uuid>()
                .map_err(|_| ApiError::internal("a record id that is not a UUID"))?;
            held.insert((holder.external_system, holder.external_id), id.into());
        }
    }
    Ok(held)
}

/// 409 when a record of `$table` (of `$kind`) already holds `$external`, an
/// `Option<&ExternalRef>` (see [`external_ref_free`]).
macro_rules! ensure_external_ref_free {
    ($conn:expr, $principal:expr, $table:ident, $kind:expr, $external:expr) => {
        match $external {
            Some(external) => {
                let holder = $crate::store::external_refs::external_ref_holder!(
                    $conn,
                    $table,
                    &$principal.organisation_id,
                    external
                )?;
                $crate::store::external_refs::external_ref_free($conn, $principal, $kind, holder)
            }
            None => Ok(()),
        }
    };
}
pub(crate) use ensure_external_ref_free;

/// The external reference a change sets on a record of `$table` that holds `$stored` (see
/// [`set_once`]), checked free: `None` when nothing changes.
macro_rules! external_ref_to_set {
    ($conn:expr, $principal:expr, $table:ident, $kind:expr, $stored:expr, $sent:expr) => {{
        let external = $crate::store::external_refs::set_once($stored, $sent)?;
        $crate::store::external_refs::ensure_external_ref_free!(
            $conn,
            $principal,
            $table,
            $kind,
            external.as_ref()
        )?;
        external
    }};
}
pub(crate) use external_ref_to_set;

/// Narrows a boxed list query to the records a [`Lookup`](crate::api::shared::Lookup) names:
/// by id, and by external reference.
macro_rules! looked_up {
    ($select:expr, $table:ident, $lookup:expr) => {{
        let mut select = $select;
        if !$lookup.id.is_empty() {
            select = select.filter($table::id.eq_any($lookup.ids()));
        }
        if let Some(system) = &$lookup.external_ref_system {
            select = select.filter($table::external_system.eq(system.clone()));
        }
        if let Some(id) = &$lookup.external_ref_id {
            select = select.filter($table::external_id.eq(id.clone()));
        }
        select
    }};
}
pub(crate) use looked_up;

/// The external reference a change sets: `None` when it sends none or the one stored. A record's
/// external reference is set once (at creation, or later while it has none): another one is
/// 409 `conflicts_with_record`.
pub fn set_once(
    stored: Option<&ExternalRef>,
    sent: Option<&ExternalRef>,
) -> ApiResult<Option<ExternalRef>> {
    match (stored, sent) {
        (_, None) => Ok(None),
        (Some(stored), Some(sent)) if stored == sent => Ok(None),
        (Some(_), Some(_)) => Err(ApiError::field(
            "external_ref",
            "is set already; a record's external_ref cannot change",
        )
        .against_record()),
        (None, Some(sent)) => Ok(Some(sent.clone())),
    }
}

/// 409 `duplicate_external_ref` for a reference `existing` holds: naming it (and giving its
/// id) only to a caller who may see it (`seen`).
pub fn duplicate_external_ref(what: &str, existing: RecordId, seen: bool) -> ApiError {
    let (detail, extra) = if seen {
        (
            format!("{what} {existing} already has this external_ref"),
            Some(serde_json::json!({ "existing_id": existing })),
        )
    } else {
        (format!("a {what} already has this external_ref"), None)
    };
    ApiError::Conflict {
        code: "duplicate_external_ref",
        detail,
        extra,
    }
}

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
    Err(duplicate_external_ref(
        &what,
        existing,
        seen.contains(&existing),
    ))
}
