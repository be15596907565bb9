//! The command line: the commands, listed by task in `scimd --help`, and the parse that runs
//! `serve` when no command is named. Each command group is a module holding its arguments, its
//! code and its printing; each takes only the settings it uses.

use std::ffi::OsString;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use scimd::config::Logging;

pub mod activity;
pub mod admin;
pub mod audit;
mod common;
pub mod cycles;
pub mod events;
pub mod health;
pub mod migrate;
pub mod oauth_client;
pub mod operator_account;
pub mod operator_key;
pub mod retained;
pub mod schema;
pub mod serve;
pub mod setup_link;
pub mod tenant;
pub mod token;
pub mod webhook;

/// scimd: a SCIM 2.0 provisioning service for Microsoft Entra ID.
#[derive(Debug, Parser)]
#[command(
    name = "scimd",
    version,
    about,
    after_help = "`scimd` alone runs `scimd serve`. A command's settings and options: \
                  `scimd help COMMAND` or `scimd COMMAND --help`. Durations: 90s, 10m, 12h, \
                  30d; a bare number is seconds."
)]
struct Cli {
    #[command(flatten)]
    logging: Logging,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the SCIM server (creates the database and applies migrations first).
    Serve(serve::Serve),
    /// Apply database migrations and exit.
    Migrate(migrate::Migrate),
    /// Manage tenants (one per connected Entra provisioning job).
    Tenant(tenant::Tenant),
    /// Manage bearer tokens.
    Token(token::Token),
    /// A tenant's users retained by a delete under `--on-delete retain`: list, restore.
    Retained(retained::Retained),
    /// Manage the application's admins, who sign in to authorize Entra (OAuth).
    Admin(admin::Admin),
    /// Manage OAuth clients (Entra's "Authorize" button, client credentials).
    OauthClient(oauth_client::OAuthClient),
    /// Manage setup links, which walk a customer's identity admin through connecting.
    SetupLink(setup_link::SetupLinkArgs),
    /// Manage tenants' extension schemas (custom attributes Entra's mapping sends).
    Schema(schema::Schema),
    /// The activity log of a tenant: Entra's requests and what became of them, oldest first.
    Activity(activity::Activity),
    /// Entra's provisioning cycles for a tenant, with their counts.
    Cycles(cycles::Cycles),
    /// Each tenant's provisioning health (worst first): its state, since when, why, what to do.
    Health(health::Health),
    /// Manage the application's subscriptions to SCIM events (signed SETs, RFC 9967).
    Webhook(webhook::Webhook),
    /// Watch a tenant's SCIM events.
    Events(events::Events),
    /// Manage operator keys, the application backend's credentials at /api/v1.
    OperatorKey(operator_key::OperatorKey),
    /// The audit trail of administration: who changed what, when, from where; newest first.
    Audit(audit::Audit),
    /// Manage operator accounts, the application's team at the operator page (/operator).
    OperatorAccount(operator_account::OperatorAccount),
}

/// The commands by task, in the order `scimd --help` lists them. clap lists subcommands under
/// one heading only, so the list is written here and rendered with each command's own `about`.
const TASKS: &[(&str, &[&str])] = &[
    ("Running scimd", &["serve", "migrate"]),
    (
        "Connecting Entra ID",
        &["tenant", "token", "admin", "oauth-client", "setup-link"],
    ),
    ("Custom attributes", &["schema"]),
    (
        "What Entra did",
        &["activity", "cycles", "health", "retained"],
    ),
    ("Events for the application", &["webhook", "events"]),
    ("The application's API", &["operator-key", "audit"]),
    ("Watching every tenant", &["operator-account"]),
];

/// The command line of this process: the logging settings and the command to run.
pub fn parse() -> (Logging, Command) {
    let args: Vec<OsString> = std::env::args_os().collect();
    match parse_from(&args) {
        Ok(parsed) => parsed,
        Err(e) => e.exit(),
    }
}

/// `args` parsed; `serve` when they name no command (`scimd`, `scimd --listen …`), as before
/// commands took settings of their own.
fn parse_from(args: &[OsString]) -> Result<(Logging, Command), clap::Error> {
    let as_serve = || {
        let mut with_serve = args.to_vec();
        with_serve.insert(args.len().min(1), "serve".into());
        try_parse(&with_serve)
    };
    let cli = match try_parse(args) {
        Ok(cli) if cli.command.is_some() => cli,
        Ok(_) => as_serve()?,
        // a setting of `serve` without the command's name
        Err(e) if e.kind() == ErrorKind::UnknownArgument => match as_serve() {
            Ok(cli) => cli,
            // not a setting of `serve` either: the first complaint names what is unknown
            Err(again) if again.kind() == ErrorKind::UnknownArgument => return Err(e),
            Err(again) => return Err(again),
        },
        Err(e) => return Err(e),
    };
    match cli.command {
        Some(command) => Ok((cli.logging, command)),
        None => Err(command().error(ErrorKind::MissingSubcommand, "no command to run")),
    }
}

fn try_parse(args: &[OsString]) -> Result<Cli, clap::Error> {
    let mut command = command();
    let matches = command.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command))
}

/// The command tree, its help listing the commands by task.
fn command() -> clap::Command {
    let command = Cli::command();
    let template = help_template(&command);
    command.help_template(template)
}

/// `scimd --help`: about, usage, the commands under their tasks, the options.
fn help_template(command: &clap::Command) -> String {
    let styles = command.get_styles();
    let (header, literal) = (styles.get_header(), styles.get_literal());
    let width = TASKS
        .iter()
        .flat_map(|(_, names)| names.iter())
        .map(|name| name.len())
        .max()
        .unwrap_or(0);
    let mut tasks = String::new();
    for (task, names) in TASKS {
        tasks.push_str(&format!("{header}{task}:{header:#}\n"));
        for name in *names {
            let about = command
                .find_subcommand(name)
                .and_then(|c| c.get_about())
                .map(|about| about.to_string())
                .unwrap_or_default();
            let padded = format!("{name:width$}");
            tasks.push_str(&format!("  {literal}{padded}{literal:#}  {about}\n"));
        }
        tasks.push('\n');
    }
    // the template's tags are in braces: the task list, written here, has none of its own
    let tasks = tasks.replace(['{', '}'], "");
    format!(
        "{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{tasks}\
         {header}Options:{header:#}\n{{options}}{{after-help}}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_under_one_task() {
        let command = Cli::command();
        let listed: Vec<&str> = TASKS.iter().flat_map(|(_, n)| n.iter().copied()).collect();
        let mut names: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
        names.sort_unstable();
        let mut sorted = listed.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, names, "TASKS and the commands differ");
    }

    #[test]
    fn the_command_tree_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn every_argument_of_every_command_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut command = command();
        command.build();
        let mut missing = Vec::new();
        walk(&command, "scimd", &mut missing);
        assert_eq!(missing, Vec::<String>::new());
    }

    fn parsed(args: &[&str]) -> Result<(Logging, Command), clap::Error> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse_from(&args)
    }

    #[test]
    fn no_command_is_serve_with_its_settings() {
        assert!(matches!(parsed(&["scimd"]), Ok((_, Command::Serve(_)))));
        let (logging, command) = parsed(&["scimd", "--listen", "127.0.0.1:9", "--log", "warn"])
            .expect("serve's settings without its name");
        assert!(matches!(command, Command::Serve(_)));
        assert_eq!(logging.log, "warn");
        let refused = parsed(&["scimd", "--header-timeout", "soon"]).unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ValueValidation);
        let unknown = parsed(&["scimd", "--no-such-flag"]).unwrap_err();
        assert!(unknown.to_string().contains("--no-such-flag"), "{unknown}");
    }

    #[test]
    fn database_settings_go_before_or_after_a_command() {
        for args in [
            &["scimd", "tenant", "--data-dir", "/srv/scimd-data", "list"][..],
            &["scimd", "tenant", "list", "--data-dir", "/srv/scimd-data"][..],
            &[
                "scimd",
                "--log",
                "warn",
                "tenant",
                "list",
                "--data-dir",
                "/srv/scimd-data",
            ][..],
        ] {
            let (_, command) = parsed(args).expect("parsed");
            assert!(matches!(command, Command::Tenant(_)), "{args:?}");
            assert!(
                format!("{command:?}").contains("/srv/scimd-data"),
                "{command:?}"
            );
        }
        // a server setting is not a tenant command's
        assert!(parsed(&["scimd", "tenant", "list", "--listen", "127.0.0.1:9"]).is_err());
    }
}
