//! A real SMTP server for the alert tests: Python's aiosmtpd (`tests/support/smtp_sink.py`)
//! on a port of 127.0.0.1, keeping each message it receives as a JSON file, with its headers
//! and both bodies decoded. The interpreter is `SCIMD_TEST_PYTHON` (default `python3`); one
//! without aiosmtpd fails the test saying how to install it (`.ci/run` installs it).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub rcpt_tos: Vec<String>,
    pub from: String,
    pub subject: String,
    pub content_type: String,
    pub text: String,
    pub html: String,
}

/// A running aiosmtpd; killed when dropped.
pub struct SmtpSink {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

/// The versions `.ci/run` installs too.
const PACKAGES: [&str; 3] = ["aiosmtpd==1.4.6", "atpublic==9.0.0", "attrs==26.1.0"];

/// The interpreter that runs the SMTP server: `SCIMD_TEST_PYTHON`; else `python3` when it has
/// aiosmtpd; else a virtual environment under `target/aiosmtpd-venv`, made and filled from
/// PyPI once (what `.ci/run` makes), so that `cargo test` needs no step of its own.
fn python() -> String {
    static FOUND: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| {
            if let Ok(named) = std::env::var("SCIMD_TEST_PYTHON") {
                return named;
            }
            let has_aiosmtpd = |python: &str| {
                Command::new(python)
                    .args(["-c", "import aiosmtpd"])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if has_aiosmtpd("python3") {
                return "python3".into();
            }
            let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/target/aiosmtpd-venv");
            let python = format!("{venv}/bin/python");
            if !has_aiosmtpd(&python) {
                let made = Command::new("python3").args(["-m", "venv", venv]).status();
                let filled = Command::new(format!("{venv}/bin/pip"))
                    .args(["install", "--quiet", "--disable-pip-version-check"])
                    .args(PACKAGES)
                    .status();
                // a failure shows as the server not starting, with what to do
                if !made.is_ok_and(|s| s.success()) || !filled.is_ok_and(|s| s.success()) {
                    eprintln!("could not install aiosmtpd into {venv}");
                }
            }
            python
        })
        .clone()
}

impl SmtpSink {
    /// Starts the server on `port`, ready when this returns.
    pub fn start(port: u16) -> Self {
        let python = python();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let dir = std::env::temp_dir().join(format!("scimd-smtp-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("the messages' directory");
        let mut child = Command::new(&python)
            .args([script, "--port", &port.to_string(), "--dir"])
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {python} ({e}): the alert tests need Python 3 with aiosmtpd \
                     (pip install aiosmtpd==1.4.6); set SCIMD_TEST_PYTHON to its interpreter"
                )
            });
        let mut out = child.stdout.take().expect("its output");
        let mut line = String::new();
        use std::io::BufRead;
        let read = std::io::BufReader::new(&mut out).read_line(&mut line);
        if read.is_err() || line.trim() != "ready" {
            let status = child.wait().ok();
            let mut why = String::new();
            if let Some(mut err) = child.stderr.take() {
                use std::io::Read;
                let _ = err.read_to_string(&mut why);
            }
            panic!(
                "the SMTP server ({python} {script}) did not start ({status:?}): {why}\n\
                 the alert tests need Python 3 with aiosmtpd (pip install aiosmtpd==1.4.6); set \
                 SCIMD_TEST_PYTHON to an interpreter that has it"
            );
        }
        Self { child, dir, port }
    }

    /// The messages received so far, in order.
    pub fn mails(&self) -> Vec<Mail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .expect("the messages' directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                let v: Value =
                    serde_json::from_str(&std::fs::read_to_string(p).expect("a message"))
                        .expect("JSON");
                let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                Mail {
                    rcpt_tos: v["rcpt_tos"]
                        .as_array()
                        .expect("recipients")
                        .iter()
                        .map(|r| r.as_str().unwrap_or_default().to_owned())
                        .collect(),
                    from: text("from"),
                    subject: text("subject"),
                    content_type: text("content_type"),
                    text: text("text"),
                    html: text("html"),
                }
            })
            .collect()
    }

    /// Waits until `count` messages came (at most 20 s); them.
    pub fn wait_for(&self, count: usize) -> Vec<Mail> {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let mails = self.mails();
            if mails.len() >= count || Instant::now() > until {
                return mails;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
