//! The command line: what `scimd --help` and the commands' help show, and what they must not;
//! each command taking only the settings it uses; `scimd` alone being `scimd serve`.

use std::process::{Command, Output};

use clap::{Args, CommandFactory};

/// `scimd args` with exactly the `SCIMD_*` settings of `env` (a set variable's value shows in
/// the help, `[env: SCIMD_LOG=warn]`), in `dir`.
fn scimd(args: &[&str], env: &[(&str, &str)], dir: &std::path::Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scimd"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCIMD_")) {
        command.env_remove(name);
    }
    command
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("run scimd")
}

/// The help `scimd args` prints.
fn help(args: &[&str], env: &[(&str, &str)]) -> String {
    let output = scimd(args, env, &std::env::temp_dir());
    assert!(output.status.success(), "scimd {args:?}: {output:?}");
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// The option and argument lines of a help page that have no help text. clap writes an
/// option's help after it on its line, or, when the options of a heading are too long for
/// that, on the next line, indented deeper.
fn unexplained(help: &str) -> Vec<String> {
    let lines: Vec<&str> = help.lines().collect();
    let mut missing = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if !(trimmed.starts_with('-') || trimmed.starts_with('<')) {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let explained = match trimmed.split_once("  ") {
            Some((_, text)) => !text.trim().is_empty(),
            None => lines.get(i + 1).is_some_and(|next| {
                let text = next.trim_start();
                next.len() - text.len() > indent && !text.is_empty() && !text.starts_with('-')
            }),
        };
        if !explained {
            missing.push((*line).to_owned());
        }
    }
    missing
}

/// Every variable `scimd serve` reads, from the definitions the binary parses with.
fn server_variables() -> Vec<String> {
    let serve = scimd::config::Config::command();
    let logging = scimd::config::Logging::augment_args(clap::Command::new("logging"));
    serve
        .get_arguments()
        .chain(logging.get_arguments())
        .filter_map(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn help_shows_the_settings_but_not_the_secrets_in_their_variables() {
    let secrets = [
        (
            "SCIMD_DATABASE_URL",
            "postgres://scimd:hunter2-secret@db:5432/scimd",
        ),
        ("SCIMD_BOOTSTRAP_TOKEN", "bootstrap-secret-0123456789"),
        ("SCIMD_METRICS_TOKEN", "metrics-secret-0123456789"),
    ];
    for args in [&["serve", "--help"][..], &["tenant", "list", "--help"]] {
        let help = help(args, &secrets);
        assert!(help.contains("SCIMD_DATABASE_URL"), "{help}");
        for secret in ["hunter2-secret", "bootstrap-secret", "metrics-secret"] {
            assert!(!help.contains(secret), "{help}");
        }
    }
}

#[test]
fn a_command_s_help_is_short_and_explains_every_option() {
    // the check finds what it looks for, in both of clap's layouts
    let bare =
        "Options:\n      --bare\n      --long\n          Explained\n  -h, --help  Print help\n";
    assert_eq!(unexplained(bare), ["      --bare"]);
    let help = help(&["admin", "set", "--help"], &[]);
    let lines = help.lines().count();
    assert!(lines < 30, "{lines} lines:\n{help}");
    assert_eq!(unexplained(&help), Vec::<String>::new(), "{help}");
    for option in ["--tenant", "--username", "--team-admin", "--no-team-admin"] {
        assert!(help.contains(option), "{option}: {help}");
    }
    // the database's settings, and only them
    assert!(help.contains("SCIMD_DATABASE_URL"), "{help}");
    for other in ["SCIMD_LISTEN", "SCIMD_PUBLIC_URL", "SCIMD_HEADER_TIMEOUT"] {
        assert!(!help.contains(other), "{other}: {help}");
    }
}

#[test]
fn serve_s_help_names_every_setting() {
    let help = help(&["serve", "--help"], &[]);
    let variables = server_variables();
    assert!(variables.len() >= 26, "{variables:?}");
    for variable in &variables {
        assert!(
            help.contains(&format!("[env: {variable}")),
            "{variable}: {help}"
        );
    }
    assert_eq!(unexplained(&help), Vec::<String>::new(), "{help}");
    assert!(help.contains("90s, 10m, 12h, 30d"), "{help}");
}

#[test]
fn the_commands_are_listed_by_task() {
    let help = help(&["--help"], &[]);
    let tasks = [
        ("Running scimd:", &["serve", "migrate"][..]),
        (
            "Connecting Entra ID:",
            &["tenant", "token", "admin", "oauth-client", "setup-link"],
        ),
        ("Custom attributes:", &["schema"]),
        (
            "What Entra did:",
            &["activity", "cycles", "health", "retained"],
        ),
        ("Events for the application:", &["webhook", "events"]),
    ];
    for (task, commands) in tasks {
        let section = help
            .split_once(task)
            .map(|(_, after)| after.split("\n\n").next().unwrap_or_default())
            .unwrap_or_else(|| panic!("no {task} in {help}"));
        let listed: Vec<&str> = section
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(listed, commands, "{task}: {help}");
    }
    assert_eq!(unexplained(&help), Vec::<String>::new(), "{help}");
    // the server's settings are `serve`'s, not every command's
    assert!(!help.contains("SCIMD_LISTEN"), "{help}");
}

#[test]
fn scimd_alone_is_serve_and_other_commands_ignore_its_settings() {
    let dir = std::env::temp_dir().join(format!("scimd-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_of_bounds = [
        ("SCIMD_OAUTH_ACCESS_TOKEN_TTL", "60"),
        ("SCIMD_LOG", "warn"),
    ];
    // `scimd` with serve's settings, from a flag or the environment, checks them as serve
    for (args, env) in [
        (&["--oauth-access-token-ttl", "60"][..], &out_of_bounds[1..]),
        (&[][..], &out_of_bounds[..]),
    ] {
        let refused = scimd(args, env, &dir);
        assert_eq!(refused.status.code(), Some(2), "{refused:?}");
        let error = String::from_utf8_lossy(&refused.stderr);
        assert!(
            error.contains("--oauth-access-token-ttl") && error.contains("1h to 6h"),
            "{error}"
        );
    }
    // a command that does not serve does not read it
    let migrated = scimd(&["migrate"], &out_of_bounds, &dir);
    assert!(migrated.status.success(), "{migrated:?}");
    assert_eq!(
        String::from_utf8_lossy(&migrated.stdout),
        "migrations applied\n"
    );
    assert!(dir.join("scimd.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
