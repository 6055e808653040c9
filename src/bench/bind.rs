//! `rd-contacts bench bind`: binds a fresh Active contact at the root of the directory
//! (filled with demo data first if empty) and times the propagation until every
//! association and Message Center entry is in place, batch by batch; then unbinds it and
//! deletes it with "remove". Beside each, its floor on the same tables: the same rows
//! written, or taken away by rule U2, with one hand-written statement on a scratch
//! contact, and the ratio of the two (absolute figures move from run to run).

use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::config::Settings;
use crate::contacts::Sender;
use crate::contacts::bindings::{self, Batches, Direction, Propagation};
use crate::db;
use crate::db::schema::{associations, contacts as contacts_table};
use crate::directory;
use crate::domain::{ContactId, FolderId, TargetId};
use crate::errors::BoxError;
use crate::jobs::{self, Lease};

/// Takes a queued job for the benchmark to drive step by step.
fn take(conn: &mut db::AnyConnection, job_id: i64) -> Result<(Lease, Propagation), BoxError> {
    let lease = Lease::take(conn, job_id, "bench", time::Duration::hours(1))?.ok_or("the job was not queued")?;
    let job = jobs::get(conn, job_id)?.ok_or("the job vanished")?;
    Ok((lease, serde_json::from_str(&job.payload)?))
}

/// The slowest batch's transaction of a run, with what tells why: its place, its size and
/// how long the batch before it took (the one its size was aimed from).
#[derive(Debug, Default, Clone, Copy)]
struct Slowest {
    took: Duration,
    batch: usize,
    members: i64,
    before: Duration,
}

impl Slowest {
    fn max(self, other: Slowest) -> Slowest {
        if other.took > self.took { other } else { self }
    }
}

impl std::fmt::Display for Slowest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "slowest transaction {:.0} ms (batch {}, {} members", self.took.as_secs_f64() * 1000.0, self.batch, self.members)?;
        if self.batch > 1 {
            write!(f, "; the batch before it {:.0} ms", self.before.as_secs_f64() * 1000.0)?;
        }
        write!(f, ")")
    }
}

/// Runs a queued binding, unbinding (`Some` direction) or removal (`None`) job the way a
/// worker does ([`Batches`]), timing each batch's transaction.
fn run_job(conn: &mut db::AnyConnection, job_id: i64, direction: Option<Direction>, most: i64) -> Result<(usize, Slowest), BoxError> {
    let (lease, mut state) = take(conn, job_id)?;
    let mut driver = Batches::new(most, &state);
    let (mut batches, mut slowest) = (0, Slowest::default());
    loop {
        let (members, before) = (driver.size(), driver.last);
        let next = driver.step(conn, &lease, direction, &state)?;
        batches += 1;
        slowest = slowest.max(Slowest { took: driver.last, batch: batches, members, before });
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
        directory::demo::fill(&mut conn, folders, members, &crate::audit::Actor::cli())?;
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
    let most = settings.jobs.propagation_batch;
    println!(
        "directory {}: {f} folders, {m} members; batches of at most {most} (RDC_PROPAGATION_BATCH), sized to take {} ms",
        rd.id,
        jobs::Pace::TARGET.as_millis()
    );

    let floors = Floors::measure(&mut conn, &sender)?;
    println!(
        "floors on a scratch contact: INSERT … SELECT of every member {:.2} s; one rule-aware DELETE (U2, opt-outs, own recipients) {:.2} s",
        floors.insert.as_secs_f64(),
        floors.delete.as_secs_f64()
    );

    let started = Instant::now();
    let change = bindings::bind(&mut conn, &id, &root, settings.jobs.inline_limit, &crate::audit::Actor::cli())?;
    let request = started.elapsed();
    let (mut batches, mut slowest) = (0, Slowest::default());
    for job in &change.jobs {
        let (b, s) = run_job(&mut conn, *job, Some(Direction::Add), most)?;
        batches += b;
        slowest = slowest.max(s);
    }
    let total = started.elapsed();
    let associated: i64 = associations::table.filter(associations::contact_id.eq(&contact.id)).count().get_result(&mut **conn)?;
    println!(
        "bind at the root:   {:>6.2} s ({:.1}× the INSERT floor) until {associated} associations are in place (request {:.0} ms, {batches} batches, {slowest})",
        total.as_secs_f64(),
        total.as_secs_f64() / floors.insert.as_secs_f64(),
        request.as_secs_f64() * 1000.0,
    );

    let started = Instant::now();
    let change = bindings::unbind(&mut conn, &id, &root, settings.jobs.inline_limit, &crate::audit::Actor::cli())?;
    let (mut batches, mut slowest) = (0, Slowest::default());
    for job in &change.jobs {
        let (b, s) = run_job(&mut conn, *job, Some(Direction::Remove), most)?;
        batches += b;
        slowest = slowest.max(s);
    }
    let left: i64 = associations::table.filter(associations::contact_id.eq(&contact.id)).count().get_result(&mut **conn)?;
    println!(
        "unbind at the root: {:>6.2} s ({:.1}× the DELETE floor), {left} retained (rule U2), {batches} batches, {slowest}",
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() / floors.delete.as_secs_f64(),
    );

    // Rule D2's remove on the same contact bound at the root again.
    diesel::delete(associations::table.filter(associations::contact_id.eq(&contact.id))).execute(&mut **conn)?;
    let change = bindings::bind(&mut conn, &id, &root, settings.jobs.inline_limit, &crate::audit::Actor::cli())?;
    for job in &change.jobs {
        run_job(&mut conn, *job, Some(Direction::Add), most)?;
    }
    let started = Instant::now();
    let deletion = crate::contacts::deletion::delete_contact(&mut conn, &id, false, &crate::audit::Actor::cli())?;
    let (mut batches, mut slowest) = (0, Slowest::default());
    if let crate::contacts::deletion::Deletion::Deleting { job } = deletion {
        (batches, slowest) = run_job(&mut conn, job, None, most)?;
    }
    let left: i64 = associations::table.filter(associations::contact_id.eq(&contact.id)).count().get_result(&mut **conn)?;
    println!(
        "delete (remove) of a contact bound at the root: {:>6.2} s ({:.1}× the DELETE floor), {left} members kept it (fail reasons), {batches} batches, {slowest}",
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() / floors.delete.as_secs_f64(),
    );
    diesel::delete(associations::table.filter(associations::contact_id.eq(&contact.id))).execute(&mut **conn)?;
    diesel::delete(contacts_table::table.find(&contact.id)).execute(&mut **conn)?;
    Ok(())
}

/// What one hand-written statement takes for the same work, on the same tables.
struct Floors {
    insert: Duration,
    delete: Duration,
}

impl Floors {
    /// Binds a scratch Active contact to every member with one `INSERT … SELECT`, then
    /// takes it away with one `DELETE` that applies rule U2 (a member's own verified
    /// recipients and its other verified contacts' types, opt-outs applied, bouncing addresses
    /// left out; PostgreSQL's
    /// `bit_or`, or the same portable expression the service uses on SQLite), and removes
    /// the scratch contact again.
    fn measure(conn: &mut db::AnyConnection, sender: &Sender) -> Result<Floors, BoxError> {
        use diesel::sql_types::{Text, Timestamp};
        let scratch = super::active_contact(conn, "Floor", sender)?;
        let started = Instant::now();
        diesel::sql_query(
            "INSERT INTO associations (account_id, contact_id, associated_at, mc_opt_out, retained_types) \
             SELECT m.id, $1, $2, 0, 0 FROM accounts m WHERE m.removed_at IS NULL",
        )
        .bind::<Text, _>(&scratch.id)
        .bind::<Timestamp, _>(db::now_utc())
        .execute(conn)?;
        let insert = started.elapsed();
        let lonely = if db::is_postgres(conn) {
            "(SELECT c.message_types FROM contacts c WHERE c.id = a.contact_id) & ~a.mc_opt_out \
             & ~COALESCE((SELECT bit_or(r.message_types) FROM mc_recipients r WHERE r.account_id = a.account_id AND r.verified_at IS NOT NULL \
                          AND NOT EXISTS (SELECT 1 FROM bounces bo WHERE bo.address_key = lower(r.email))), 0) \
             & ~COALESCE((SELECT bit_or(oc.message_types & ~o.mc_opt_out) FROM associations o JOIN contacts oc ON oc.id = o.contact_id \
                          WHERE o.account_id = a.account_id AND o.contact_id <> a.contact_id AND o.mc_removed_at IS NULL AND oc.verified_at IS NOT NULL \
                          AND NOT EXISTS (SELECT 1 FROM bounces bo WHERE bo.address_key = lower(oc.email))), 0)"
                .to_owned()
        } else {
            crate::contacts::propagation::lonely_types_sql(conn, "a", "1 = 1")
        };
        let started = Instant::now();
        diesel::sql_query(format!("DELETE FROM associations AS a WHERE a.contact_id = $1 AND ({lonely}) = 0")).bind::<Text, _>(&scratch.id).execute(conn)?;
        let delete = started.elapsed();
        diesel::delete(associations::table.filter(associations::contact_id.eq(&scratch.id))).execute(conn)?;
        diesel::delete(contacts_table::table.find(&scratch.id)).execute(conn)?;
        Ok(Floors { insert, delete })
    }
}
