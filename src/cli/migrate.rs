//! `scimd migrate`: creates the database if missing and applies the migrations, then exits.

use clap::Args;

use scimd::StartError;
use scimd::config::Database;

#[derive(Debug, Args)]
pub struct Migrate {
    #[command(flatten)]
    database: Database,
}

impl Migrate {
    pub async fn run(self) -> Result<(), StartError> {
        scimd::open_database(&self.database).await?;
        println!("migrations applied");
        Ok(())
    }
}
