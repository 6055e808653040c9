//! Short scheduler slices for the threads that answer requests.
//!
//! A page is a few round trips to the database, and each answer wakes one of our threads.
//! On a busy machine that thread then waits for a core behind every other runnable task:
//! beside `pgbench -S` on two cores, some hundred of them. Linux's scheduler (EEVDF, from
//! 6.6) picks the runnable task whose virtual deadline comes first, and since 6.12 a
//! thread may ask for a shorter slice (`sched_attr.sched_runtime`, 0.1–100 ms). A shorter
//! slice gives an earlier deadline, so a woken request thread runs sooner. It does not
//! give the thread more of the CPU: its share is still its weight's, and only when to
//! run changes. No privilege is needed.
//!
//! The HTTP workers ask for it as they start (`RDC_THREAD_SLICE_US`, 100 µs by default,
//! 0 to keep the kernel's), and the threads they start for database work inherit it. Job
//! workers keep the kernel's default: their batches are long and latency does not matter
//! to them. Elsewhere than Linux, and on kernels before 6.12, nothing changes.

use std::time::Duration;

/// What asking for a slice came to on this thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slice {
    /// The kernel now schedules this thread with this slice.
    Set(Duration),
    /// Nothing was asked (`RDC_THREAD_SLICE_US=0`).
    KernelDefault,
    /// The kernel kept its own slice (Linux before 6.12, or another system).
    Unsupported,
}

/// Asks the kernel to schedule this thread, and the threads it starts from now on, with
/// `slice` (none: the kernel's own). Values below 100 µs count as 100 µs.
pub fn ask_for(slice: Option<Duration>) -> Slice {
    match slice {
        None => Slice::KernelDefault,
        Some(slice) => sys::set_slice(slice).map_or(Slice::Unsupported, Slice::Set),
    }
}

/// The slice this thread asked for and the kernel kept, if any.
pub fn current() -> Option<Duration> {
    sys::slice()
}

#[cfg(target_os = "linux")]
mod sys {
    //! `sched_setattr(2)`/`sched_getattr(2)`: glibc has no wrappers, nor does any crate
    //! we use, so this is the one place with `unsafe`.
    #![allow(unsafe_code)]

    use std::time::Duration;

    /// `struct sched_attr` of `<linux/sched/types.h>`, version 1 (56 bytes).
    #[repr(C)]
    #[derive(Default)]
    struct SchedAttr {
        size: u32,
        sched_policy: u32,
        sched_flags: u64,
        sched_nice: i32,
        sched_priority: u32,
        sched_runtime: u64,
        sched_deadline: u64,
        sched_period: u64,
        sched_util_min: u32,
        sched_util_max: u32,
    }

    const SCHED_OTHER: u32 = 0;

    fn get() -> Option<SchedAttr> {
        let mut attr = SchedAttr::default();
        // SAFETY: `attr` is a live, writable `sched_attr` of the size passed; the kernel
        // writes at most that many bytes into it. Thread 0 is the calling thread.
        let rc = unsafe { libc::syscall(libc::SYS_sched_getattr, 0, &mut attr as *mut SchedAttr, std::mem::size_of::<SchedAttr>() as u32, 0u32) };
        (rc == 0).then_some(attr)
    }

    pub fn slice() -> Option<Duration> {
        get().filter(|a| a.sched_policy == SCHED_OTHER && a.sched_runtime > 0).map(|a| Duration::from_nanos(a.sched_runtime))
    }

    pub fn set_slice(wanted: Duration) -> Option<Duration> {
        let current = get()?;
        // Only a thread under the normal policy: a real-time one was made so on purpose.
        if current.sched_policy != SCHED_OTHER {
            return None;
        }
        // The call sets the nice value too: it is passed back as read, so it stays.
        let attr = SchedAttr {
            size: std::mem::size_of::<SchedAttr>() as u32,
            sched_policy: SCHED_OTHER,
            sched_nice: current.sched_nice,
            sched_runtime: u64::try_from(wanted.as_nanos()).unwrap_or(u64::MAX),
            ..SchedAttr::default()
        };
        // SAFETY: `attr` is a fully initialised `sched_attr` whose `size` field says how
        // many bytes the kernel may read; it only reads them. Thread 0 is the calling one.
        let rc = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0u32) };
        if rc != 0 {
            return None;
        }
        // Kernels before 6.12 take the call and ignore the runtime of a normal thread.
        slice()
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::time::Duration;

    pub fn slice() -> Option<Duration> {
        None
    }

    pub fn set_slice(_slice: Duration) -> Option<Duration> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case runs on a thread of its own, so the test runner's threads keep theirs.
    fn on_new_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(f).join().expect("the thread ran")
    }

    #[test]
    fn a_request_thread_asks_for_a_short_slice_and_the_threads_it_starts_inherit_it() {
        let (asked, own, started) = on_new_thread(|| {
            let asked = ask_for(Some(Duration::from_micros(100)));
            let own = current();
            let started = std::thread::spawn(current).join().expect("a thread started from it");
            (asked, own, started)
        });
        match asked {
            Slice::Set(slice) => {
                assert_eq!(slice, Duration::from_micros(100));
                assert_eq!(own, Some(slice));
                assert_eq!(started, Some(slice), "a database thread started by a worker keeps the worker's slice");
            }
            // Linux before 6.12 or another system: nothing is asked of it, nothing changes.
            Slice::Unsupported => assert_eq!((own, started), (None, None)),
            Slice::KernelDefault => panic!("a slice was asked for"),
        }
    }

    #[test]
    fn a_slice_below_the_kernels_least_counts_as_the_least_and_asking_none_changes_nothing() {
        let short = on_new_thread(|| ask_for(Some(Duration::from_micros(10))));
        if short != Slice::Unsupported {
            assert_eq!(short, Slice::Set(Duration::from_micros(100)));
        }
        let (before, asked, after) = on_new_thread(|| {
            let before = current();
            (before, ask_for(None), current())
        });
        assert_eq!(asked, Slice::KernelDefault);
        assert_eq!(before, after);
    }
}
