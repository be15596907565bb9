//! The servers as processes (scimd and the floor, each started on port 0, its address read from
//! the `listening on http://…` line it prints), their CPU time and memory from `/proc`, the CPU
//! time of the PostgreSQL backends that serve a database, and the measurement of one phase.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::{Backend, BoxResult, Db, Stats, TOKEN};
use crate::http::Sample;

/// Set to a database URL, it makes the benchmark's binary serve the floor instead of
/// benchmarking.
pub const FLOOR_ENV: &str = "SCIMD_BENCH_FLOOR";
/// How long a server may take to create its database, migrate and bind.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// `/proc/<pid>/stat` counts CPU time in ticks of 1/100 s (`USER_HZ` on Linux).
const TICK: Duration = Duration::from_millis(10);

/// A server process this benchmark started.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
    /// What it wrote on stderr, when asked to keep it.
    pub stderr: Option<Arc<Mutex<Vec<String>>>>,
}

impl Server {
    /// `scimd serve` on `db`, with `SCIMD_LOG=warn` unless `env` says otherwise; with
    /// `keep_stderr`, its stderr lines are collected instead of passed through.
    pub async fn scimd(db: &Db, env: &[(&str, &str)], keep_stderr: bool) -> BoxResult<Self> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_scimd"));
        command.arg("serve");
        for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("SCIMD_")) {
            command.env_remove(name);
        }
        command
            .env("SCIMD_LISTEN", "127.0.0.1:0")
            .env("SCIMD_DATABASE_URL", &db.url)
            .env("SCIMD_BOOTSTRAP_TOKEN", TOKEN)
            .env("SCIMD_LOG", "warn")
            .envs(env.iter().copied());
        Self::start(command, keep_stderr).await
    }

    /// The floor server: this benchmark's own binary with `SCIMD_BENCH_FLOOR=<url>`.
    pub async fn floor(url: &str) -> BoxResult<Self> {
        let mut command = Command::new(std::env::current_exe()?);
        command.env(FLOOR_ENV, url);
        Self::start(command, false).await
    }

    async fn start(mut command: Command, keep_stderr: bool) -> BoxResult<Self> {
        // a working directory of the benchmark's own, so that nothing lands in the checkout
        command
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if keep_stderr {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .kill_on_drop(true);
        let mut child = command.spawn()?;
        let pid = child.id().ok_or("the server exited at once")?;
        let stderr = match child.stderr.take() {
            Some(err) => {
                let lines = Arc::new(Mutex::new(Vec::new()));
                let kept = lines.clone();
                tokio::spawn(async move {
                    let mut err = BufReader::new(err).lines();
                    while let Ok(Some(line)) = err.next_line().await {
                        kept.lock().unwrap().push(line);
                    }
                });
                Some(lines)
            }
            None => None,
        };
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        let addr = tokio::time::timeout(START_TIMEOUT, async {
            let mut before = Vec::new();
            while let Some(line) = stdout.next_line().await? {
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    return BoxResult::Ok(addr.trim().parse::<SocketAddr>()?);
                }
                before.push(line);
            }
            Err(format!("the server exited before listening; it printed {before:?}").into())
        })
        .await
        .map_err(|_| "the server did not listen within two minutes")??;
        // keep reading stdout so that the server never blocks on a full pipe
        tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
        Ok(Self {
            child,
            addr,
            pid,
            stderr,
        })
    }

    /// Kills the process (SIGKILL) and waits for it.
    pub async fn stop(mut self) -> BoxResult<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// How the process exited, if it has.
    #[allow(dead_code, reason = "used by the soak only")]
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Asks the process to stop (SIGTERM: scimd finishes the requests it has) and waits, at
    /// most `patience`, for it to exit; returns how it exited.
    #[allow(dead_code, reason = "used by the soak only")]
    pub async fn terminate(mut self, patience: Duration) -> BoxResult<std::process::ExitStatus> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await?;
        if !sent.success() {
            return Err(format!("kill -TERM {} failed", self.pid).into());
        }
        Ok(tokio::time::timeout(patience, self.child.wait())
            .await
            .map_err(|_| format!("scimd {} did not exit within {patience:?}", self.pid))??)
    }
}

/// User + system CPU time of process `pid` so far.
pub fn cpu(pid: u32) -> BoxResult<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // the command name may hold spaces: fields are counted after its closing parenthesis
    let rest = stat.rsplit_once(')').ok_or("malformed /proc/<pid>/stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields 14 (utime) and 15 (stime) of stat(5); `rest` starts at field 3
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok(TICK * u32::try_from(ticks)?)
}

/// `VmRSS` and `VmHWM` (peak) of process `pid`, in kB.
pub fn memory(pid: u32) -> BoxResult<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> BoxResult<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or_else(|| format!("no {name} in /proc/{pid}/status"))?;
        Ok(line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// What a phase is measured on: the process whose CPU and memory count (a server, or this
/// benchmark for raw SQL), and for PostgreSQL the backends serving its database.
pub struct Watch {
    pid: u32,
    pg: Option<(PgConnection, String)>,
}

/// One measured phase.
pub struct Phase {
    pub name: String,
    pub requests: u64,
    pub seconds: f64,
    pub stats: Stats,
    /// Stats per kind of request, when the phase mixes several.
    pub kinds: Vec<(&'static str, Stats)>,
    /// CPU time of the watched process during the phase.
    pub cpu: Duration,
    /// CPU time of the PostgreSQL backends of the database (PostgreSQL only).
    pub db_cpu: Option<Duration>,
    pub rss_kb: u64,
    pub hwm_kb: u64,
}

impl Phase {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    pub fn cpu_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.requests as f64
    }

    pub fn db_cpu_us(&self) -> Option<f64> {
        self.db_cpu
            .map(|c| c.as_secs_f64() * 1e6 / self.requests as f64)
    }

    /// Stats of one kind of request of the phase (all of them if it has one kind).
    pub fn of_kind(&self, kind: &str) -> Stats {
        self.kinds
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(self.stats, |(_, s)| *s)
    }
}

impl Watch {
    pub async fn new(pid: u32, db: &Db) -> BoxResult<Self> {
        let pg = match db.backend {
            Backend::Postgres => Some((PgConnection::connect(&db.server).await?, db.name.clone())),
            Backend::Sqlite => None,
        };
        Ok(Self { pid, pg })
    }

    /// CPU time of each backend connected to the database, by pid.
    async fn backends(&mut self) -> BoxResult<Option<HashMap<i32, Duration>>> {
        let Some((conn, name)) = &mut self.pg else {
            return Ok(None);
        };
        let pids: Vec<i32> =
            sqlx::query_scalar("select pid from pg_stat_activity where datname = $1")
                .bind(name.as_str())
                .fetch_all(conn)
                .await?;
        // a backend that ended since it was listed has no CPU left to count
        Ok(Some(
            pids.into_iter()
                .filter_map(|p| Some((p, cpu(u32::try_from(p).ok()?).ok()?)))
                .collect(),
        ))
    }

    /// Runs `phase` (which returns its samples), measuring its wall time and the CPU time the
    /// watched process and the database backends spent meanwhile; prints one line.
    pub async fn measure(
        &mut self,
        name: &str,
        phase: impl Future<Output = BoxResult<Vec<Sample>>>,
    ) -> BoxResult<Phase> {
        let backends_before = self.backends().await?;
        let cpu_before = cpu(self.pid)?;
        let started = Instant::now();
        let samples = phase.await?;
        let seconds = started.elapsed().as_secs_f64();
        let cpu_spent = cpu(self.pid)? - cpu_before;
        let backends_after = self.backends().await?;
        let db_cpu = backends_after.map(|after| {
            let before = backends_before.unwrap_or_default();
            after
                .iter()
                .map(|(p, c)| c.saturating_sub(before.get(p).copied().unwrap_or_default()))
                .sum()
        });
        let (rss_kb, hwm_kb) = memory(self.pid)?;
        let mut kinds: Vec<&'static str> = Vec::new();
        for s in &samples {
            if !kinds.contains(&s.kind) {
                kinds.push(s.kind);
            }
        }
        let durations = |kind: Option<&str>| -> Vec<Duration> {
            samples
                .iter()
                .filter(|s| kind.is_none_or(|k| s.kind == k))
                .map(|s| s.took)
                .collect()
        };
        let phase = Phase {
            name: name.to_owned(),
            requests: samples.iter().map(|s| u64::from(s.requests)).sum(),
            seconds,
            stats: Stats::of(&durations(None)),
            kinds: if kinds.len() > 1 {
                kinds
                    .iter()
                    .map(|k| (*k, Stats::of(&durations(Some(*k)))))
                    .collect()
            } else {
                Vec::new()
            },
            cpu: cpu_spent,
            db_cpu,
            rss_kb,
            hwm_kb,
        };
        println!(
            "  {:<44} {:>6} req in {:>6.1} s = {:>6.0}/s  p50 {:>6.2} ms  p99 {:>6.2} ms  \
             CPU {:>5.0} µs/req{}",
            phase.name,
            phase.requests,
            phase.seconds,
            phase.rate(),
            phase.stats.p50 / 1e3,
            phase.stats.p99 / 1e3,
            phase.cpu_us(),
            phase
                .db_cpu_us()
                .map_or(String::new(), |c| format!(" (PostgreSQL {c:.0} µs/req)")),
        );
        for (kind, s) in &phase.kinds {
            println!(
                "      {kind:<40} n {:>6}  p50 {:>6.2} ms  p95 {:>6.2} ms  p99 {:>6.2} ms",
                s.n,
                s.p50 / 1e3,
                s.p95 / 1e3,
                s.p99 / 1e3
            );
        }
        Ok(phase)
    }
}
