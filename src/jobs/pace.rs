//! Batches sized by time. A batch of a long job is one transaction that holds the
//! directory's lock, so console writes wait behind it: with a fixed
//! number of members a batch took 350–410 ms at a million members and 80–120 ms at
//! 100,000. [`Pace`] aims each batch at [`Pace::TARGET`] from how long the last one took,
//! never above the configured size (`RDC_PROPAGATION_BATCH`), which stays the maximum.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Pace {
    size: i64,
    max: i64,
}

impl Pace {
    /// What a batch aims at: a third of the 300 ms that no transaction may pass, leaving
    /// room for a batch slower than the one before it. At a million members, on a machine
    /// slow at writing, a batch took 2–3.9 times the one before it at the same size
    /// (`bench bind` names the slowest); aimed at 150 ms, eight of nine jobs over three
    /// runs had a batch over 300 ms.
    pub const TARGET: Duration = Duration::from_millis(100);

    /// Starts at a fifth of the largest size, so that the first batch of a big
    /// directory is not the slowest one; a quick batch doubles the next.
    pub fn new(max: i64) -> Pace {
        let max = max.max(1);
        Pace { size: (max / 5).max(1), max }
    }

    /// The size of the next batch.
    pub fn size(&self) -> i64 {
        self.size
    }

    /// The last batch, of [`Pace::size`] members, took `elapsed`: the next aims at the
    /// target, changing by at most a factor of two, so that one odd batch (a cold cache,
    /// a checkpoint) does not swing it.
    pub fn took(&mut self, elapsed: Duration) {
        let ratio = Self::TARGET.as_secs_f64() / elapsed.as_secs_f64().max(1e-6);
        let next = (self.size as f64 * ratio.clamp(0.5, 2.0)).round() as i64;
        self.size = next.clamp(1, self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_batch_that_took_twice_the_target_halves_the_next_and_a_quick_one_doubles_it() {
        let mut pace = Pace::new(5_000);
        assert_eq!(pace.size(), 1_000);
        pace.took(Pace::TARGET * 2);
        assert_eq!(pace.size(), 500);
        pace.took(Pace::TARGET * 2 / 3);
        assert_eq!(pace.size(), 750);
        pace.took(ms(1));
        assert_eq!(pace.size(), 1_500, "at most twice the last");
    }

    #[test]
    fn a_very_slow_batch_halves_the_next_and_sizes_stay_between_one_and_the_configured_most() {
        let mut pace = Pace::new(5_000);
        for _ in 0..20 {
            pace.took(ms(1));
        }
        assert_eq!(pace.size(), 5_000);
        pace.took(Duration::from_secs(10));
        assert_eq!(pace.size(), 2_500, "at most halved");
        for _ in 0..40 {
            pace.took(Duration::from_secs(10));
        }
        assert_eq!(pace.size(), 1);
        let mut one = Pace::new(1);
        one.took(ms(1));
        assert_eq!(one.size(), 1, "a configured size of one stays one");
    }
}
