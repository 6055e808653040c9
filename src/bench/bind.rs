//! `rd-contacts bench bind`: binds a fresh Active contact at the root of the directory
//! (filled with demo data first if empty) and times the propagation until every
//! association and Message Center entry is in place, batch by batch; then unbinds it.

use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::config::Settings;
use crate::contacts::Sender;
use crate::contacts::bindings::{self, Direction, Propagation};
use crate::db;
use crate::db::schema::{associations, contacts as contacts_table};
use crate::directory;
use crate::domain::{ContactId, FolderId, TargetId};
use crate::errors::BoxError;
use crate::jobs::{self, Lease};

const PROPAGATION_BATCH: i64 = 5_000;

/// Takes a queued job for the benchmark to drive step by step.
fn take(conn: &mut db::AnyConnection, job_id: i64) -> Result<(Lease, Propagation), BoxError> {
    let lease = Lease::take(conn, job_id, "bench", time::Duration::hours(1))?.ok_or("the job was not queued")?;
    let job = jobs::get(conn, job_id)?.ok_or("the job vanished")?;
    Ok((lease, serde_json::from_str(&job.payload)?))
}

fn run_job(conn: &mut db::AnyConnection, job_id: i64, direction: Direction) -> Result<(usize, Duration), BoxError> {
    let (lease, mut state) = take(conn, job_id)?;
    let (mut batches, mut slowest) = (0, Duration::ZERO);
    loop {
        let started = Instant::now();
        let next = bindings::propagation_step(conn, &lease, direction, &state, PROPAGATION_BATCH)?;
        slowest = slowest.max(started.elapsed());
        batches += 1;
        match next {
            Some(n) => state = n,
            None => break,
        }
    }
    lease.complete(conn)?;
    Ok((batches, slowest))
}

pub fn run(settings: Settings, folders: usize, members: usize) -> Result<(), BoxError> {
    let pool = db::connect(&settings.database_url, 2)?;
    let mut conn = pool.get()?;
    directory::ensure_directory(&mut conn, "Management account")?;
    let (f, m) = directory::directory_counts(&mut conn)?;
    if f == 0 && m == 0 {
        directory::demo::fill(&mut conn, folders, members)?;
    }
    let (f, m) = directory::directory_counts(&mut conn)?;
    let rd = directory::get_directory(&mut conn)?;
    let sender = Sender {
        requested_by: "bench".into(),
        public_url: settings.public_url.clone(),
        secrets: crate::secrets::SecretBox::new(secrecy::ExposeSecret::expose_secret(&settings.secret_key)),
    };
    let contact = super::active_contact(&mut conn, "Bench", &sender)?;
    let id = ContactId::parse(&contact.id)?;
    let root = vec![(TargetId::Folder(FolderId::parse(&rd.root_folder_id)?), rd.root_folder_id.clone())];
    println!("directory {}: {f} folders, {m} members; batches of {PROPAGATION_BATCH}", rd.id);

    let started = Instant::now();
    let change = bindings::bind(&mut conn, &id, &root, settings.jobs.inline_limit)?;
    let request = started.elapsed();
    let (mut batches, mut slowest) = (0, Duration::ZERO);
    for job in &change.jobs {
        let (b, s) = run_job(&mut conn, *job, Direction::Add)?;
        batches += b;
        slowest = slowest.max(s);
    }
    let total = started.elapsed();
    let associated: i64 = associations::table.filter(associations::contact_id.eq(&contact.id)).count().get_result(&mut **conn)?;
    println!(
        "bind at the root:   {:>6.2} s until {associated} associations are in place (request {:.0} ms, {batches} batches, slowest transaction {:.0} ms)",
        total.as_secs_f64(),
        request.as_secs_f64() * 1000.0,
        slowest.as_secs_f64() * 1000.0
    );

    let started = Instant::now();
    let change = bindings::unbind(&mut conn, &id, &root, settings.jobs.inline_limit)?;
    let (mut batches, mut slowest) = (0, Duration::ZERO);
    for job in &change.jobs {
        let (b, s) = run_job(&mut conn, *job, Direction::Remove)?;
        batches += b;
        slowest = slowest.max(s);
    }
    let left: i64 = associations::table.filter(associations::contact_id.eq(&contact.id)).count().get_result(&mut **conn)?;
    println!(
        "unbind at the root: {:>6.2} s, {left} retained (rule U2), {batches} batches, slowest transaction {:.0} ms",
        started.elapsed().as_secs_f64(),
        slowest.as_secs_f64() * 1000.0
    );

    // Rule D2's remove on the same contact bound at the root again.
    diesel::delete(associations::table.filter(associations::contact_id.eq(&contact.id))).execute(&mut **conn)?;
    let change = bindings::bind(&mut conn, &id, &root, settings.jobs.inline_limit)?;
    for job in &change.jobs {
        run_job(&mut conn, *job, Direction::Add)?;
    }
    let started = Instant::now();
    let deletion = crate::contacts::deletion::delete_contact(&mut conn, &id, false)?;
    let (mut batches, mut slowest) = (0, Duration::ZERO);
    if let crate::contacts::deletion::Deletion::Deleting { job } = deletion {
        let (lease, state) = take(&mut conn, job)?;
        let mut state = Some(state);
        while let Some(s) = state {
            let t = Instant::now();
            state = crate::contacts::deletion::deletion_step(&mut conn, &lease, &s, PROPAGATION_BATCH)?;
            slowest = slowest.max(t.elapsed());
            batches += 1;
        }
        lease.complete(&mut conn)?;
    }
    let left: i64 = associations::table.filter(associations::contact_id.eq(&contact.id)).count().get_result(&mut **conn)?;
    println!(
        "delete (remove) of a contact bound at the root: {:>6.2} s, {left} members kept it (fail reasons), {batches} batches, slowest transaction {:.0} ms",
        started.elapsed().as_secs_f64(),
        slowest.as_secs_f64() * 1000.0
    );
    diesel::delete(associations::table.filter(associations::contact_id.eq(&contact.id))).execute(&mut **conn)?;
    diesel::delete(contacts_table::table.find(&contact.id)).execute(&mut **conn)?;
    Ok(())
}
