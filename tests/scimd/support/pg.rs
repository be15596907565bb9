//! Finds the PostgreSQL server tests run against: `SCIMD_TEST_DATABASE_URL`, else
//! 127.0.0.1:5432; if nothing answers there, a throwaway server started from the installed
//! PostgreSQL binaries, listening only on a Unix socket in a directory of its own (no port to
//! race for) and awaited on its "ready to accept connections" line. Never skips: without a
//! server the tests fail and say how to get one.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio::sync::OnceCell;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

static SERVER: OnceCell<String> = OnceCell::const_new();
static THROWAWAY: std::sync::OnceLock<std::sync::Mutex<std::process::Child>> =
    std::sync::OnceLock::new();

/// The URL of a maintenance database on a running server (tests create their own databases).
pub async fn server_url() -> &'static str {
    SERVER
        .get_or_init(|| async {
            if let Ok(url) = std::env::var("SCIMD_TEST_DATABASE_URL") {
                if let Err(e) = PgConnection::connect(&url).await {
                    panic!("SCIMD_TEST_DATABASE_URL={url} does not answer: {e}");
                }
                return url;
            }
            if PgConnection::connect(DEFAULT_URL).await.is_ok() {
                return DEFAULT_URL.to_owned();
            }
            start_throwaway()
        })
        .await
}

/// The URL of database `name` on the server at `server`: its path replaced, its query
/// (a socket directory) kept.
pub fn database_url(server: &str, name: &str) -> String {
    let (url, query) = server
        .split_once('?')
        .map_or((server, None), |(u, q)| (u, Some(q)));
    let authority_end = url
        .find("://")
        .and_then(|scheme| url[scheme + 3..].find('/').map(|slash| scheme + 3 + slash))
        .unwrap_or(url.len());
    match query {
        Some(query) => format!("{}/{name}?{query}", &url[..authority_end]),
        None => format!("{}/{name}", &url[..authority_end]),
    }
}

/// Directories that may hold `initdb` and `postgres`.
fn bin_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries.flatten().map(|e| e.path().join("bin")).collect();
        versions.sort();
        dirs.extend(versions.into_iter().rev());
    }
    dirs
}

/// The installed PostgreSQL program `name` (`initdb`, `postgres`, `pg_ctl`), if any; also used
/// by the soak benchmark (benches/soak/cluster.rs), which runs a cluster of its own.
pub fn find_bin(name: &str) -> Option<PathBuf> {
    bin_dirs()
        .into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// PostgreSQL refuses to run as root: as root, run it as the `postgres` system user.
pub fn command(bin: &Path) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

fn start_throwaway() -> String {
    let (Some(initdb), Some(postgres)) = (find_bin("initdb"), find_bin("postgres")) else {
        panic!(
            "no PostgreSQL answers at {DEFAULT_URL} and no PostgreSQL binaries (initdb, postgres) \
             are installed. Start a server (pg_ctlcluster <version> main start), install one \
             (apt-get install postgresql), or set SCIMD_TEST_DATABASE_URL to a server's URL."
        );
    };
    let dir = std::env::temp_dir().join(format!("scimd-test-pg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the throwaway data directory");
    let _ = Command::new("chown")
        .args(["-R", "postgres"])
        .arg(&dir)
        .status();
    let data = dir.join("data");
    let status = command(&initdb)
        .args(["-A", "trust", "-U", "postgres", "-D"])
        .arg(&data)
        .stdout(Stdio::null())
        .status()
        .expect("run initdb");
    assert!(
        status.success(),
        "initdb failed for the throwaway PostgreSQL"
    );
    // The server stops when this test process exits (the shell watches our pid).
    let script = format!(
        "\"$0\" -D '{}' -k '{}' -c listen_addresses='' -c fsync=off & pg=$!; \
         while [ -d /proc/{} ]; do sleep 1; done; kill $pg; wait $pg; rm -rf '{}'",
        data.display(),
        dir.display(),
        std::process::id(),
        dir.display(),
    );
    let mut sh = command(Path::new("/bin/sh"));
    sh.arg("-c").arg(script).arg(&postgres);
    let mut child = sh
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the throwaway PostgreSQL");
    let log = child.stderr.take().expect("the server's log");
    // Kept, not waited for: the watcher shell outlives every test and ends with the process.
    let _ = THROWAWAY.set(std::sync::Mutex::new(child));
    let (ready, signal) = mpsc::channel();
    // reads the log for as long as the server runs, so that it never blocks writing it
    std::thread::spawn(move || {
        for line in BufReader::new(log).lines().map_while(Result::ok) {
            if line.contains("ready to accept connections") {
                let _ = ready.send(());
            }
        }
    });
    signal
        .recv_timeout(Duration::from_secs(60))
        .expect("the throwaway PostgreSQL did not get ready within a minute");
    format!(
        "postgres://postgres@localhost/postgres?host={}",
        dir.display()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_urls_keep_the_server_and_its_socket_directory() {
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5432/postgres",
                "postgres://postgres@127.0.0.1:5432/t1",
            ),
            (
                "postgres://postgres@localhost/postgres?host=/tmp/x",
                "postgres://postgres@localhost/t1?host=/tmp/x",
            ),
            ("postgres://u:p@db", "postgres://u:p@db/t1"),
        ];
        for (server, expected) in cases {
            assert_eq!(super::database_url(server, "t1"), expected);
        }
    }
}
