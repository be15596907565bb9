//! Ports for the tests' own servers that must be known before they start (a URL given to scimd,
//! a port Pebble validates on).

use std::net::TcpListener;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

/// A port of 127.0.0.1 free a moment ago, taken below the kernel's ephemeral range
/// (`ip_local_port_range`): a port from `bind(0)` goes back to that range once checked, where
/// any test's outgoing connection or listener could take it before the server it was meant for
/// binds it (seen in CI: scimd exited before listening). Below the range only another
/// `free_port` could, and each process starts at its own place.
pub fn free_port() -> u16 {
    let (low, span, start) = *RANGE.get_or_init(range);
    for _ in 0..span {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let offset = start.wrapping_add(n.wrapping_mul(7_919)) % span;
        let port = u16::try_from(low - 1 - offset).expect("ports fit in 16 bits");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in the {span} ports below the ephemeral range");
}

/// The bottom of the ephemeral range, how many ports below it are used, and this process's
/// place among them: read and chosen once, so that the prime stride visits each port once.
static RANGE: OnceLock<(u32, u32, u32)> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

fn range() -> (u32, u32, u32) {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    // ports 10 000 below the range, clear of the well-known services' ports
    let span = 10_000.min(low.saturating_sub(11_000)).max(1);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let start = std::process::id().wrapping_mul(2_654_435_761) ^ nanos;
    (low, span, start)
}
