//! The soak's own PostgreSQL cluster: a data directory under a temporary directory, initialised
//! and served with the installed binaries (found, and run as the `postgres` user when root, by
//! tests/scimd/support/pg.rs), listening only on a Unix socket in that directory; `pg_ctl` stops
//! it and starts it again on the same data, so that restarting it disturbs no other server.

use std::path::PathBuf;
use std::process::Stdio;

use crate::common::BoxResult;
use crate::pg;

/// A cluster this benchmark made; removed, stopped first, when dropped.
pub struct Cluster {
    dir: PathBuf,
    data: PathBuf,
    pg_ctl: PathBuf,
}

impl Cluster {
    /// A fresh cluster (initdb, trust authentication, superuser `postgres`), not started.
    pub fn init() -> BoxResult<Self> {
        let (Some(initdb), Some(pg_ctl)) = (pg::find_bin("initdb"), pg::find_bin("pg_ctl")) else {
            return Err(
                "the soak runs a PostgreSQL cluster of its own and needs the installed \
                        binaries (initdb, pg_ctl): apt-get install postgresql"
                    .into(),
            );
        };
        let dir = std::env::temp_dir().join(format!("scimd-soak-pg-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        // as root the cluster runs as `postgres`, which must own its directory
        let _ = std::process::Command::new("chown")
            .args(["-R", "postgres"])
            .arg(&dir)
            .status();
        let data = dir.join("data");
        let status = pg::command(&initdb)
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            return Err(format!("initdb failed for {}", data.display()).into());
        }
        Ok(Self { dir, data, pg_ctl })
    }

    /// The URL of database `name` (over the cluster's socket).
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://postgres@localhost/{name}?host={}",
            self.dir.display()
        )
    }

    /// Starts the server on the data directory and waits until it accepts connections.
    pub fn start(&self) -> BoxResult<()> {
        let options = format!(
            "-k {} -c listen_addresses='' -c fsync=off -c max_connections=300",
            self.dir.display()
        );
        let status = pg::command(&self.pg_ctl)
            .args(["start", "-w", "-t", "120", "-D"])
            .arg(&self.data)
            .arg("-l")
            .arg(self.dir.join("log"))
            .args(["-o", &options])
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            return Err(format!(
                "pg_ctl start failed; the end of its log:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
            .into());
        }
        Ok(())
    }

    /// Stops the server (`mode`: `fast` rolls back and checkpoints, `immediate` is a crash
    /// that the next start recovers from the WAL) and waits until it has.
    pub fn stop(&self, mode: &str) -> BoxResult<()> {
        let status = pg::command(&self.pg_ctl)
            .args(["stop", "-w", "-t", "120", "-m", mode, "-D"])
            .arg(&self.data)
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            return Err(format!("pg_ctl stop -m {mode} failed").into());
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // it may be stopped already: pg_ctl then says so, and nothing is lost
        let _ = pg::command(&self.pg_ctl)
            .args(["stop", "-w", "-m", "immediate", "-D"])
            .arg(&self.data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
