//! How many arenas glibc's allocator may keep, on SQLite.
//!
//! glibc's `malloc` gives a thread that meets another in an arena an arena of its own, up
//! to eight per core, and an arena keeps the memory it once held. On SQLite the database's
//! own work (its page cache, its sorts) runs on our request threads, ten of them besides
//! the HTTP and job workers: under `bench load` at 100,000 members the server held 135 MB,
//! and with one arena per core 68 MB, for about a tenth fewer requests a second (still
//! over ten times the goal). On PostgreSQL the database's work runs in its own processes,
//! our threads allocate little, and glibc's default stays (82 MB at a million members).
//! `MALLOC_ARENA_MAX`, when set, is glibc's to apply, and this leaves it alone.

/// The arenas to allow: one per core on SQLite, unless `MALLOC_ARENA_MAX` says otherwise.
pub fn arenas_for(postgres: bool, cores: usize, set_in_environment: bool) -> Option<usize> {
    (!postgres && !set_in_environment).then_some(cores.max(1))
}

/// Allows the allocator at most `arenas` arenas from now on; whether it took the value
/// (glibc on Linux only).
pub fn limit_arenas(arenas: usize) -> bool {
    sys::set_arena_max(arenas)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod sys {
    //! `mallopt(3)`, beside `crate::latency`'s system calls the only `unsafe` code.
    #![allow(unsafe_code)]

    pub fn set_arena_max(arenas: usize) -> bool {
        let arenas = libc::c_int::try_from(arenas).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt sets one of the allocator's parameters; it reads nothing of ours
        // and answers 1 when it took the value, 0 when it refused it.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) == 1 }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod sys {
    pub fn set_arena_max(_: usize) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_allows_one_arena_per_core_and_postgresql_or_an_explicit_setting_keeps_glibcs() {
        assert_eq!(arenas_for(false, 2, false), Some(2));
        assert_eq!(arenas_for(false, 0, false), Some(1), "at least one");
        assert_eq!(arenas_for(true, 2, false), None, "PostgreSQL keeps glibc's default");
        assert_eq!(arenas_for(false, 2, true), None, "MALLOC_ARENA_MAX is glibc's to apply");
    }
}
