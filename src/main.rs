//! The careloop command line: serve (the default), migrate, openapi, org create, import, token.

use std::time::Duration;

use anyhow::Context;
use careloop::api::organisation::{dto::OrganisationPatch, store as organisations};
use careloop::auth::{mint_hs256, Audience, Claims, Role};
use careloop::cli::ImportArgs;
use careloop::config::Config;
use careloop::{app, cli, db};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use secrecy::ExposeSecret;

#[derive(Parser)]
#[command(
    name = "careloop",
    version,
    about = "Continuous-improvement API for care providers"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Every subcommand takes the configuration, as flags or environment variables.
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Run pending migrations, then serve the API (the default).
    Serve,
    /// Run pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document (the source of openapi/openapi.json).
    Openapi,
    /// Manage organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Import a file of records straight into the database: the report as JSON on stdout,
    /// exit status 0 only when no row failed and the file could be read.
    Import(ImportArgs),
    /// Print a token signed with the configured HS256 secret (development and scripts).
    Token {
        /// Organisation id (the `org` claim).
        #[arg(long)]
        org: String,
        /// A role; repeat for several.
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
        /// The subject (`sub` claim).
        #[arg(long, default_value = "dev-user")]
        sub: String,
        /// A display name (`name` claim).
        #[arg(long)]
        name: Option<String>,
        /// Limit the token to a location; repeat for several.
        #[arg(long = "location")]
        locations: Vec<String>,
        /// How long the token is valid: 90s, 30m, 1h, 7d, 1h 30m.
        #[arg(long, default_value = "1h", value_parser = parse_ttl)]
        ttl: Duration,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation and print it as JSON.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        cqc_provider_id: Option<String>,
        #[arg(long)]
        ods_code: Option<String>,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| {
        let roles: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("one of {}", roles.join(", "))
    })
}

/// A duration as humantime reads it (90s, 30m, 1h, 7d, 1h 30m), or a bare number of seconds.
fn parse_ttl(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.parse() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

/// The command line, with the configuration's empty environment variables taken as unset.
fn parse_command_line() -> Cli {
    let mut command = Config::ignore_empty_variables(Cli::command());
    let mut matches = command.get_matches_mut();
    Cli::from_arg_matches_mut(&mut matches)
        .unwrap_or_else(|error| error.format(&mut command).exit())
}

fn main() -> anyhow::Result<()> {
    let cli = parse_command_line();
    let config = cli.config;
    careloop::telemetry::init_logging(config.log_format);
    config.check_keys()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(app::serve(config)),
        Command::Migrate => {
            db::Db::open(&config.database, config.pooling())?;
            println!("migrations are up to date");
            Ok(())
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(careloop::api::docs::document())?
            );
            Ok(())
        }
        Command::Org {
            command:
                OrgCommand::Create {
                    name,
                    cqc_provider_id,
                    ods_code,
                },
        } => {
            OrganisationPatch {
                name: Some(name.clone()),
                cqc_provider_id: Some(cqc_provider_id.clone()),
                ods_code: Some(ods_code.clone()),
                ..Default::default()
            }
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid organisation: {}", e.detail()))?;
            let db = db::Db::open(&config.database, config.pooling())?;
            let mut conn = db.get()?;
            if config.is_development() {
                // So `careloop token` can sign for this database before the service first runs.
                db::instance::development_secret(&mut conn)
                    .map_err(|e| anyhow::anyhow!("cannot make the development secret: {e}"))?;
            }
            let organisation = db::write_transaction(&mut conn, |conn| {
                organisations::create(conn, name.trim(), cqc_provider_id, ods_code)
            })
            .map_err(|e| anyhow::anyhow!("cannot create the organisation: {e}"))?;
            eprintln!("careloop: created in {}", config.database.describe());
            println!("{}", serde_json::to_string_pretty(&organisation)?);
            Ok(())
        }
        Command::Import(args) => {
            let failed = cli::import(&config, args)?;
            std::process::exit(if failed { 1 } else { 0 });
        }
        Command::Token {
            org,
            roles,
            sub,
            name,
            locations,
            ttl,
        } => {
            let secret = match &config.jwt_secret {
                Some(secret) => secret.expose_secret().to_owned(),
                None if config.is_development() => development_secret(&config, &org)?,
                None => anyhow::bail!(
                    "no HS256 secret is configured (CARELOOP_JWT_SECRET): tokens come from your \
                     identity provider"
                ),
            };
            let now = chrono::Utc::now().timestamp();
            let claims = Claims {
                sub,
                org,
                roles,
                locations: (!locations.is_empty()).then_some(locations),
                name,
                exp: now + i64::try_from(ttl.as_secs()).context("ttl is too long")?,
                iat: Some(now),
                iss: config.jwt_issuer.clone(),
                aud: config.jwt_audience.clone().map(Audience::One),
                client_id: None,
            };
            println!("{}", mint_hs256(secret.as_bytes(), &claims));
            Ok(())
        }
    }
}

/// The development secret of the service's own database, for `careloop token`. It never makes
/// a database or a secret: a token signed with any other secret would only be refused.
fn development_secret(config: &Config, organisation_id: &str) -> anyhow::Result<String> {
    let where_ = config.database.describe();
    let start_first = "start `careloop serve` once with this DATABASE_URL (or run this command \
                       in the folder the service runs in)";
    if let db::DatabaseUrl::Sqlite(path) = &config.database {
        anyhow::ensure!(
            std::path::Path::new(path).exists(),
            "there is no careloop database at {where_}: {start_first}"
        );
    }
    let db = db::Db::connect(&config.database, config.pooling().sized(1))?;
    let mut conn = db.get()?;
    let secret = db::instance::stored_development_secret(&mut conn)
        .ok()
        .flatten()
        .with_context(|| format!("{where_} has no development secret yet: {start_first}"))?;
    let exists = organisations::exists(&mut conn, organisation_id).unwrap_or(false);
    anyhow::ensure!(
        exists,
        "there is no organisation {organisation_id} in {where_} (`careloop org create` makes one)"
    );
    eprintln!("careloop: signed with the development secret of {where_}");
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(604800)));
        assert_eq!(parse_ttl("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_ttl("1w"), Ok(Duration::from_secs(604800)));
        assert!(parse_ttl("h").is_err());
        assert!(parse_ttl("1x").is_err());
        assert!(parse_ttl("").is_err());
    }

    #[test]
    fn cli_shape() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
