//! What a database keeps about its careloop instance: the development signing secret and the
//! key intake forms are signed with. Kept in the database, every command and every node that
//! opens it (whatever its working folder) finds the same ones.

use diesel::prelude::*;

use super::schema::instance_secrets;
use super::{write_transaction, DbConnection};
use crate::error::ApiResult;

const DEVELOPMENT_SECRET: &str = "development_jwt_secret";
const INTAKE_FORM_SECRET: &str = "intake_form_secret";

/// The development secret, made on first use.
pub fn development_secret(conn: &mut DbConnection) -> ApiResult<String> {
    secret_named(conn, DEVELOPMENT_SECRET)
}

/// The key intake forms' tokens are signed with, made on first use.
pub fn intake_form_secret(conn: &mut DbConnection) -> ApiResult<String> {
    secret_named(conn, INTAKE_FORM_SECRET)
}

/// The secret of that name, made on first use. Two nodes starting on a new database may both
/// make one: the later insert then fails on the name, and that node reads the other's.
fn secret_named(conn: &mut DbConnection, name: &str) -> ApiResult<String> {
    let made = write_transaction(conn, |conn| {
        if let Some(secret) = stored(conn, name)? {
            return Ok(secret);
        }
        let secret = hex::encode(rand::random::<[u8; 32]>());
        diesel::insert_into(instance_secrets::table)
            .values((
                instance_secrets::name.eq(name),
                instance_secrets::secret.eq(&secret),
            ))
            .execute(conn)?;
        Ok(secret)
    });
    match made {
        Ok(secret) => Ok(secret),
        Err(error) => stored(conn, name)?.ok_or(error),
    }
}

fn stored(conn: &mut DbConnection, name: &str) -> ApiResult<Option<String>> {
    Ok(instance_secrets::table
        .filter(instance_secrets::name.eq(name))
        .select(instance_secrets::secret)
        .first(conn)
        .optional()?)
}

/// The development secret if the database has one (a development server has run on it).
pub fn stored_development_secret(conn: &mut DbConnection) -> ApiResult<Option<String>> {
    stored(conn, DEVELOPMENT_SECRET)
}
