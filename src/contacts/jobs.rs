//! The jobs that carry a binding, an unbinding or a removal to many members, batch by
//! batch, each batch one transaction with its checkpoint, so that a crashed worker's
//! successor resumes where it stopped.

use super::bindings::{self, Batches, BindMembers, Direction, Propagation, UnbindMembers};
use super::deletion::{self, DeleteContact};
use crate::db::{self, AnyConnection};
use crate::jobs::{Job, JobError, JobRun, Step};

/// What a contact's jobs are about (see [`Job::about`]).
pub fn about_contact(id: &str) -> String {
    format!("contact:{id}")
}

async fn propagate(run: &JobRun, mut state: Propagation, direction: Option<Direction>) -> Result<Step, JobError> {
    let mut batches = Batches::new(run.settings.propagation_batch, &state);
    loop {
        let (s, lease) = (state.clone(), run.lease.clone());
        let (b, next) = db::run(&run.pool, move |c| {
            let next = batches.step(c, &lease, direction, &s).map_err(JobError::transient);
            Ok::<_, JobError>((batches, next))
        })
        .await?;
        batches = b;
        match next? {
            Some(n) => state = n,
            None => return Ok(Step::Done),
        }
    }
}

impl Job for BindMembers {
    const KIND: &'static str = "bind_members";
    const LABEL: &'static str = "Binding a contact to members";

    fn about(&self) -> Option<String> {
        Some(about_contact(&self.0.contact_id))
    }

    async fn run(self, run: &JobRun) -> Result<Step, JobError> {
        propagate(run, self.0, Some(Direction::Add)).await
    }
}

impl Job for UnbindMembers {
    const KIND: &'static str = "unbind_members";
    const LABEL: &'static str = "Unbinding a contact from members";

    fn about(&self) -> Option<String> {
        Some(about_contact(&self.0.contact_id))
    }

    async fn run(self, run: &JobRun) -> Result<Step, JobError> {
        propagate(run, self.0, Some(Direction::Remove)).await
    }

    /// Rule B6 stops holding: members may move again (each move reconciles its member).
    fn give_up(self, conn: &mut AnyConnection, job_id: i64, _reason: &str) -> diesel::QueryResult<()> {
        bindings::end_unbind_task(conn, job_id)
    }
}

impl Job for DeleteContact {
    const KIND: &'static str = "delete_contact";
    const LABEL: &'static str = "Deleting a contact";

    fn about(&self) -> Option<String> {
        Some(about_contact(&self.0.contact_id))
    }

    async fn run(self, run: &JobRun) -> Result<Step, JobError> {
        propagate(run, self.0, None).await
    }

    /// The contact comes back `Active`, with the members it was not removed from as the
    /// deletion's fail reasons (rule D3), and can be deleted again.
    fn give_up(self, conn: &mut AnyConnection, _job: i64, _reason: &str) -> diesel::QueryResult<()> {
        deletion::end_with_fail_reasons(conn, &self.0.contact_id)
    }
}
