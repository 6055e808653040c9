//! Two of glibc's allocator settings, chosen for this server.
//!
//! Since session 19 the binary gives Rust's own allocations to mimalloc (`src/main.rs`),
//! so these settings govern what C code allocates: libpq's results, SQLite's page cache
//! and sorts. The figures below were measured with glibc allocating everything; with
//! mimalloc the server held 66 MB on PostgreSQL and 76 MB on SQLite under `bench load`.
//!
//! **On PostgreSQL, large blocks are mapped on their own.** glibc maps a block of 128 KB or more on its
//! own and gives it back when it is freed, but after the first such block is freed it
//! raises that threshold (up to 32 MB), and from then on large blocks come from the heap
//! and stay held after they are freed. Under `bench load` at 100,000 members on PostgreSQL
//! on session 17's machine the server then held 101–104 MB; with the threshold kept at
//! 128 KB it held 46 MB and served as many requests a second or more (two runs in turns
//! with each, and one with 256 KB: the same 46 MB). On SQLite the same setting took the
//! server from 80 MB to 76 and cost some pages a third of their requests a second in one
//! run, so SQLite keeps glibc's threshold.
//!
//! **On SQLite, one arena per core.** glibc gives a thread that meets another in an arena
//! an arena of its own, up to eight per core, and an arena keeps the memory it once held.
//! On SQLite the database's own work (its page cache, its sorts) runs on our request
//! threads, ten of them besides the HTTP and job workers: the server held 135 MB, and with
//! one arena per core 80 MB, for about a tenth fewer requests a second (still over ten
//! times the goal). On PostgreSQL, four arenas instead of glibc's sixteen held 92 MB
//! against 101 and cost requests, so glibc's default stays there.
//!
//! Either setting given in the environment (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_ARENA_MAX`,
//! or `GLIBC_TUNABLES`) is glibc's to apply, and this leaves it alone.

/// Blocks from this size up are mapped on their own (glibc's starting threshold).
pub const MMAP_THRESHOLD: usize = 128 * 1024;

/// What to set; `None` leaves glibc's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub mmap_threshold: Option<usize>,
    pub arenas: Option<usize>,
}

/// The limits for a server on PostgreSQL or SQLite with `cores` cores; `set` tells
/// whether an environment variable is set.
pub fn limits_for(postgres: bool, cores: usize, set: impl Fn(&str) -> bool) -> Limits {
    let tunables = set("GLIBC_TUNABLES");
    Limits {
        mmap_threshold: (postgres && !tunables && !set("MALLOC_MMAP_THRESHOLD_")).then_some(MMAP_THRESHOLD),
        arenas: (!postgres && !tunables && !set("MALLOC_ARENA_MAX")).then_some(cores.max(1)),
    }
}

/// Sets `limits` from now on (glibc on Linux only; elsewhere nothing changes). Call it
/// before any thread starts.
pub fn apply(limits: &Limits) {
    if let Some(bytes) = limits.mmap_threshold {
        sys::set(sys::Setting::MmapThreshold, bytes);
    }
    if let Some(arenas) = limits.arenas {
        sys::set(sys::Setting::ArenaMax, arenas);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod sys {
    //! `mallopt(3)`, beside `crate::latency`'s system calls the only `unsafe` code.
    #![allow(unsafe_code)]

    pub enum Setting {
        MmapThreshold,
        ArenaMax,
    }

    /// Whether glibc took the value.
    pub fn set(setting: Setting, value: usize) -> bool {
        let param = match setting {
            Setting::MmapThreshold => libc::M_MMAP_THRESHOLD,
            Setting::ArenaMax => libc::M_ARENA_MAX,
        };
        let value = libc::c_int::try_from(value).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt sets one of the allocator's parameters; it reads nothing of ours
        // and answers 1 when it took the value, 0 when it refused it.
        unsafe { libc::mallopt(param, value) == 1 }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod sys {
    pub enum Setting {
        MmapThreshold,
        ArenaMax,
    }

    pub fn set(_: Setting, _: usize) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgresql_keeps_large_blocks_mapped_and_sqlite_gets_one_arena_per_core() {
        let none = |_: &str| false;
        assert_eq!(limits_for(false, 2, none), Limits { mmap_threshold: None, arenas: Some(2) });
        assert_eq!(limits_for(false, 0, none).arenas, Some(1), "at least one arena");
        assert_eq!(limits_for(true, 2, none), Limits { mmap_threshold: Some(MMAP_THRESHOLD), arenas: None }, "PostgreSQL keeps glibc's arenas");
    }

    #[test]
    fn a_setting_in_the_environment_is_left_to_glibc() {
        let only = |name: &'static str| move |n: &str| n == name;
        assert_eq!(limits_for(false, 2, only("MALLOC_ARENA_MAX")), Limits { mmap_threshold: None, arenas: None });
        assert_eq!(limits_for(true, 2, only("MALLOC_MMAP_THRESHOLD_")), Limits { mmap_threshold: None, arenas: None });
        assert_eq!(limits_for(true, 2, only("MALLOC_ARENA_MAX")), Limits { mmap_threshold: Some(MMAP_THRESHOLD), arenas: None });
        assert_eq!(limits_for(false, 2, only("GLIBC_TUNABLES")), Limits { mmap_threshold: None, arenas: None });
        assert_eq!(limits_for(true, 2, only("GLIBC_TUNABLES")), Limits { mmap_threshold: None, arenas: None });
    }
}
