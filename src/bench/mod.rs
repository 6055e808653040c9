//! `rd-contacts bench …`: benchmarks that print figures (the speed goals are checked
//! here, not in timed tests).

pub mod bind;
pub mod coverage;
pub mod load;
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

/// Fills an empty directory with demo data, saying how long it took.
pub fn fill_if_empty(conn: &mut crate::db::AnyConnection, folders: usize, members: usize) -> Result<(), crate::errors::BoxError> {
    let (f, m) = crate::directory::directory_counts(conn)?;
    if f == 0 && m == 0 {
        let started = std::time::Instant::now();
        crate::directory::demo::fill(conn, folders, members, &crate::audit::Actor::cli())?;
        println!("filled the directory with {folders} folders and {members} members in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// A throwaway administrator for a benchmark to sign in as: its name and password.
pub fn bench_admin(conn: &mut crate::db::AnyConnection) -> Result<(String, String), crate::errors::BoxError> {
    use crate::domain::{Password, Username, random_alphanumeric};
    let user = format!("bench-{}", random_alphanumeric(8).to_lowercase());
    let password = random_alphanumeric(24);
    crate::auth::admins::create_admin(conn, &Username::parse(&user)?, &Password::parse(&password)?, crate::auth::Role::Admin, &crate::audit::Actor::cli())?;
    Ok((user, password))
}

/// A member user of `account` with a password, as if its invitation had been accepted:
/// signs in with its email to the account's Message Center. Answers its id, email and
/// password.
pub fn bench_member_user(conn: &mut crate::db::AnyConnection, account: &str) -> Result<(i64, String, String), crate::errors::BoxError> {
    use diesel::prelude::*;

    use crate::db::schema::member_users as table;
    use crate::domain::random_alphanumeric;
    let email = format!("bench-{}@example.com", random_alphanumeric(8).to_lowercase());
    let password = random_alphanumeric(24);
    let hash = crate::auth::passwords::hash_password(&password)?;
    let now = crate::db::now_utc();
    let id = diesel::insert_into(table::table)
        .values((
            table::account_id.eq(account),
            table::email.eq(&email),
            table::email_key.eq(&email),
            table::password_hash.eq(Some(hash)),
            table::invited_by.eq("bench"),
            table::created_at.eq(now),
            table::activated_at.eq(Some(now)),
        ))
        .returning(table::id)
        .get_result(conn)?;
    Ok((id, email, password))
}

/// A fresh Active contact receiving every message type, as if its owner had clicked the
/// link: the subject of a benchmark's bindings.
pub fn active_contact(
    conn: &mut crate::db::AnyConnection,
    prefix: &str,
    sender: &crate::contacts::Sender,
) -> Result<crate::contacts::Contact, crate::errors::BoxError> {
    use diesel::prelude::*;

    use crate::db::schema::contacts as table;
    use crate::domain::{ContactName, EmailAddress, MessageTypes, Title, random_alphanumeric};
    crate::contacts::set_contact_quota(conn, 100_000, &crate::audit::Actor::cli())?;
    let name = format!("{prefix}{}", random_alphanumeric(6).chars().filter(|c| c.is_ascii_alphabetic()).collect::<String>());
    let new = crate::contacts::NewContact {
        name: ContactName::parse(&name)?,
        email: EmailAddress::parse("bench@example.com")?,
        phone: None,
        title: Title::Other,
        types: MessageTypes::EVERY,
    };
    let contact = crate::contacts::create_contact(conn, &new, sender, &crate::audit::Actor::cli())?.contact;
    diesel::update(table::table.find(&contact.id)).set((table::status.eq("Active"), table::verified_at.eq(Some(crate::db::now_utc())))).execute(conn)?;
    Ok(contact)
}

/// The app's state on the configured database, filled with demo data if it is empty,
/// and a pooled connection to it.
pub fn prepare_filled(
    settings: crate::config::Settings,
    folders: usize,
    members: usize,
) -> Result<(crate::state::AppState, crate::db::DbConn), crate::errors::BoxError> {
    let mailer = crate::mail::Mailer::from_setting(&crate::config::MailSetting::Memory, &settings.mail_from)?;
    let (state, _) = crate::startup::prepare(settings, mailer)?;
    let mut conn = state.pool.get()?;
    fill_if_empty(&mut conn, folders, members)?;
    Ok((state, conn))
}
