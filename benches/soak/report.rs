//! The soak's report: per tenant class throughput, p50/p99 and answers by status; the ledger's
//! check; each replica's memory at start, middle and end; and the done-when, each MET or
//! MISSED.

use crate::client::{CLASSES, Counts, Shared};
use crate::common::Stats;
use crate::ledger::Verdict;

/// One replica's resident memory (VmRSS, kB) at the start, middle and end of the run, and
/// the processes it was (a restarted replica is a new process on the same port).
pub struct Memory {
    pub pids: Vec<u32>,
    pub start_kb: u64,
    pub middle_kb: Option<u64>,
    pub end_kb: Option<u64>,
}

impl Memory {
    /// The end within 20 % of the middle.
    pub fn steady(&self) -> bool {
        match (self.middle_kb, self.end_kb) {
            (Some(mid), Some(end)) => end.abs_diff(mid) as f64 <= 0.2 * mid as f64,
            _ => false,
        }
    }
}

/// Prints the counts of each class over `seconds` of running.
pub fn classes(counts: &[Counts], seconds: f64) {
    println!("\n## Requests by tenant class ({seconds:.0} s)\n");
    for (class, c) in CLASSES.iter().zip(counts) {
        let stats = Stats::of(&c.took);
        let statuses: Vec<String> = c
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect();
        println!(
            "{:<32} {:>8} answers = {:>7.1}/s  p50 {:>7.2} ms  p99 {:>8.2} ms",
            class.label(),
            c.took.len(),
            c.took.len() as f64 / seconds,
            stats.p50 / 1e3,
            stats.p99 / 1e3,
        );
        println!(
            "{:<32} statuses {{{}}}, connection errors {}, given up {}",
            "",
            statuses.join(", "),
            c.connection_errors,
            c.given_up
        );
    }
}

/// Prints the ledger's check.
pub fn ledger(v: &Verdict) {
    println!("\n## Acknowledged writes\n");
    println!(
        "{} writes acknowledged (2xx), {} of them after an answer was lost (resolved on a retry); \
         {} given up (uncertain, not checked)",
        v.acknowledged, v.resolved, v.uncertain
    );
    println!(
        "checked at the end through the SCIM API: {} users, {} groups, {} facts (presence, \
         active, title, membership); {} contradict an acknowledged write",
        v.users_checked,
        v.groups_checked,
        v.facts_checked,
        v.lost.len()
    );
    for lost in v.lost.iter().take(50) {
        println!("  LOST {lost}");
    }
}

/// Prints the replicas' memory.
pub fn memory(replicas: &[Memory]) {
    println!("\n## Replica memory (VmRSS)\n");
    let mb =
        |kb: Option<u64>| kb.map_or("-".to_owned(), |kb| format!("{:.1} MB", kb as f64 / 1024.0));
    for (r, m) in replicas.iter().enumerate() {
        println!(
            "replica {r} (pids {:?}): start {}, middle {}, end {}",
            m.pids,
            mb(Some(m.start_kb)),
            mb(m.middle_kb),
            mb(m.end_kb)
        );
    }
}

/// Prints the done-when of the issue; true when every one is met.
pub fn verdicts(shared: &Shared, v: &Verdict, replicas: &[Memory]) -> bool {
    let failures = shared.failures.lock().unwrap();
    let surprises = shared.surprises.lock().unwrap();
    if !surprises.is_empty() {
        println!(
            "\n{} unexpected answers (allowed, but not what the mix expects):",
            surprises.len()
        );
        for s in surprises.iter().take(30) {
            println!("  {s}");
        }
    }
    if !failures.is_empty() {
        println!("\nanswers the issue does not allow:");
        for f in failures.iter().take(50) {
            println!("  {f}");
        }
    }
    let verdict = |met: bool| if met { "MET" } else { "MISSED" };
    let lost = v.lost.is_empty() && v.facts_checked > 0;
    let answers = failures.is_empty();
    let steady = replicas.iter().all(Memory::steady);
    println!("\n## Done when (issue 27)\n");
    println!(
        "{}: 0 acknowledged writes lost ({} lost of {} facts checked)",
        verdict(lost),
        v.lost.len(),
        v.facts_checked
    );
    println!(
        "{}: only 2xx/4xx/503-with-Retry-After answers ({} others)",
        verdict(answers),
        failures.len()
    );
    println!(
        "{}: replica memory at the end within 20 % of the middle",
        verdict(steady)
    );
    lost && answers && steady
}
