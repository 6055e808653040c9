//! A server that nobody scrapes keeps its memory: the request latencies it records for
//! `/metrics` are folded into their histograms every second, not kept one by one until
//! the next scrape. In a process of its own, so that no other test's allocations move
//! its resident memory.

use rd_contacts::observability::{UPKEEP_EVERY, request};

/// This process's resident memory in bytes (Linux).
fn resident() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

#[test]
fn an_unscraped_server_does_not_keep_every_request_it_timed() {
    let Some(_) = resident() else { return };
    let answer = |n: usize| {
        for i in 0..n {
            request("/directory", 200, 0.001 + (i % 50) as f64 / 1000.0);
        }
        std::thread::sleep(UPKEEP_EVERY + std::time::Duration::from_millis(500));
    };
    answer(100_000);
    let before = resident().unwrap();
    // Two million requests: 16 MB of latencies alone, were they kept.
    for _ in 0..4 {
        answer(500_000);
    }
    let grew = resident().unwrap().saturating_sub(before);
    assert!(grew < 8 << 20, "resident memory grew by {} MB over two million requests nobody scraped", grew >> 20);
}
