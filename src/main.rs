//! The `scimd` command: parses the command line (src/cli/) and runs the command it names.

use std::process::ExitCode;

use scimd::telemetry;

mod cli;
use cli::Command;

/// mimalloc: a request allocates and frees many small blocks (JSON documents, SQL text,
/// headers); with glibc's allocator they cost about a tenth of scimd's CPU per lookup.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let (logging, command) = cli::parse();
    telemetry::init(&logging.log, logging.log_format);
    let done = match command {
        Command::Serve(serve) => serve.run().await,
        Command::Migrate(migrate) => migrate.run().await,
        Command::Tenant(tenant) => tenant.run().await,
        Command::Token(token) => token.run().await,
        Command::Retained(retained) => retained.run().await,
        Command::Admin(admin) => admin.run().await,
        Command::OauthClient(client) => client.run().await,
        Command::SetupLink(link) => link.run().await,
        Command::Schema(schema) => schema.run().await,
        Command::Activity(activity) => activity.run().await,
        Command::Cycles(cycles) => cycles.run().await,
        Command::Health(health) => health.run().await,
        Command::Webhook(webhook) => webhook.run().await,
        Command::Events(events) => events.run().await,
        Command::OperatorKey(key) => key.run().await,
        Command::Audit(audit) => audit.run().await,
        Command::OperatorAccount(account) => account.run().await,
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scimd: {}", telemetry::chain(&e));
            ExitCode::FAILURE
        }
    }
}
