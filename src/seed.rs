//! The demo data a development database starts with.

use crate::api::{locations, organisation};
use crate::db::Db;
use crate::domain::location::LocationKind;
use crate::store::audit::Actor;

/// In development, a database with no organisation gets a demo one with one location, so the
/// first run is usable at once. Answers the id of the first organisation.
pub fn demo_organisation(db: &Db) -> anyhow::Result<String> {
    let mut conn = db.get()?;
    crate::db::write_transaction(&mut conn, |conn| {
        if organisation::store::count(conn)? == 0 {
            let demo = organisation::store::create(conn, "Demo Care Ltd", None, None)?;
            let id = demo.id.to_string();
            locations::store::create(
                conn,
                Actor::System,
                &id,
                &locations::dto::NewLocation {
                    name: "Demo House".into(),
                    kind: LocationKind::CareHome,
                    cqc_location_id: None,
                    external_ref: None,
                },
            )?;
            log::info!("created the demo organisation {id} with the location Demo House");
            return Ok(id);
        }
        organisation::store::first_id(conn)
    })
    .map_err(|e| anyhow::anyhow!("cannot prepare the demo data: {e}"))
}
