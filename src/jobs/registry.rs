//! The kinds of job a server runs, and its periodic upkeep, registered in one place
//! (`startup::job_registry`), so that the queue depends on no service.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use diesel::QueryResult;
use time::Duration;

use super::{Job, JobError, JobRun, Lane, Step};
use crate::config::JobSettings;
use crate::db::AnyConnection;

type RunFn = fn(JobRun, String) -> Pin<Box<dyn Future<Output = Result<Step, JobError>> + Send>>;
type GiveUpFn = fn(&mut AnyConnection, i64, &str, &str) -> QueryResult<()>;

#[derive(Clone, Copy)]
pub(super) struct Kind {
    pub lane: Lane,
    pub label: &'static str,
    pub run: RunFn,
    pub give_up: GiveUpFn,
}

/// Upkeep that a server does now and then (forgetting old API nonces, purging finished
/// jobs, asking contacts to confirm their address again); each returns how many rows it
/// changed.
#[derive(Clone, Copy)]
pub struct Periodic {
    pub name: &'static str,
    pub every: Duration,
    pub run: fn(&mut AnyConnection, &Upkeep) -> Result<usize, JobError>,
}

/// What upkeep works with: the job settings, and a sender for emails with links.
pub struct Upkeep {
    pub settings: JobSettings,
    pub sender: crate::mail::Sender,
}

#[derive(Clone, Default)]
pub struct Registry {
    kinds: HashMap<&'static str, Kind>,
    periodic: Vec<Periodic>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kinds: Vec<&str> = self.kinds.keys().copied().collect();
        kinds.sort_unstable();
        f.debug_struct("Registry").field("kinds", &kinds).field("periodic", &self.periodic.iter().map(|p| p.name).collect::<Vec<_>>()).finish()
    }
}

fn run_erased<J: Job>(run: JobRun, payload: String) -> Pin<Box<dyn Future<Output = Result<Step, JobError>> + Send>> {
    Box::pin(async move {
        let job: J = serde_json::from_str(&payload)?;
        job.run(&run).await
    })
}

fn give_up_erased<J: Job>(conn: &mut AnyConnection, job_id: i64, payload: &str, reason: &str) -> QueryResult<()> {
    match serde_json::from_str::<J>(payload) {
        Ok(job) => job.give_up(conn, job_id, reason),
        // A payload that cannot be read has nothing to clean up that we could name.
        Err(_) => Ok(()),
    }
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a kind of job. Registering one name twice is a programming error.
    pub fn register<J: Job>(&mut self) -> &mut Registry {
        let previous = self.kinds.insert(J::KIND, Kind { lane: J::LANE, label: J::LABEL, run: run_erased::<J>, give_up: give_up_erased::<J> });
        assert!(previous.is_none(), "job kind {} registered twice", J::KIND);
        self
    }

    pub fn every(&mut self, periodic: Periodic) -> &mut Registry {
        self.periodic.push(periodic);
        self
    }

    pub(super) fn kind(&self, name: &str) -> Option<Kind> {
        self.kinds.get(name).copied()
    }

    pub fn periodic(&self) -> &[Periodic] {
        &self.periodic
    }

    /// What people call a kind (its stored name for kinds this registry does not know).
    pub fn label_of<'a>(&self, name: &'a str) -> &'a str {
        self.kind(name).map_or(name, |k| k.label)
    }

    /// Every kind with its label, by label.
    pub fn labels(&self) -> Vec<(&'static str, &'static str)> {
        let mut all: Vec<(&'static str, &'static str)> = self.kinds.iter().map(|(k, v)| (*k, v.label)).collect();
        all.sort_by_key(|(_, l)| *l);
        all
    }

    /// The lane a kind runs in (bulk for kinds this registry does not know).
    pub fn lane_of(&self, name: &str) -> Lane {
        self.kind(name).map_or(Lane::Bulk, |k| k.lane)
    }
}
