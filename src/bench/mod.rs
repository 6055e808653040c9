//! `rd-contacts bench …`: benchmarks that print figures (the speed goals are checked
//! here, not in timed tests).

pub mod bind;
pub mod notify;
pub mod pages;

use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent};

static QUERIES: AtomicUsize = AtomicUsize::new(0);

/// Counts every query of every connection opened after this call.
pub fn count_queries() {
    fn counter() -> Option<Box<dyn Instrumentation>> {
        Some(Box::new(|event: InstrumentationEvent<'_>| {
            if matches!(event, InstrumentationEvent::StartQuery { .. }) {
                QUERIES.fetch_add(1, Ordering::Relaxed);
            }
        }))
    }
    diesel::connection::set_default_instrumentation(counter).expect("instrumentation can be set before any connection");
}

/// Queries counted so far.
pub fn queries() -> usize {
    QUERIES.load(Ordering::Relaxed)
}
