use diesel::prelude::*;

use super::ContactError;
use super::models::{Contact, ContactRow, ContactStatus, Verification};
use super::verification::{self, Sender};
use crate::audit::{self, Actor, Changes, Event};
use crate::db::paged::PagedDsl;
use crate::db::schema::{contact_verifications, contacts, resource_directories};
use crate::db::{AnyConnection, is_unique_violation, now_utc};
use crate::directory::{KeptByVersion, contains_pattern};
use crate::domain::{ContactId, ContactName, EmailAddress, MessageTypes, Page, PageRequest, PhoneNumber, TargetId, Title};

type Result<T, E = ContactError> = std::result::Result<T, E>;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Serializes the writers of contacts: the same statement takes PostgreSQL's row lock
/// and SQLite's write lock, so a quota or a limit is checked and used atomically.
pub(crate) fn lock_directory(conn: &mut AnyConnection) -> QueryResult<()> {
    diesel::update(resource_directories::table).set(resource_directories::contact_quota.eq(resource_directories::contact_quota)).execute(conn).map(|_| ())
}

fn quota(conn: &mut AnyConnection) -> QueryResult<i64> {
    resource_directories::table.select(resource_directories::contact_quota).first::<i32>(conn).map(i64::from)
}

fn count_contacts(conn: &mut AnyConnection) -> QueryResult<i64> {
    contacts::table.count().get_result(conn)
}

/// Contacts in use and the quota (rule C1), in one query, kept under the read version
/// (migration 000028).
pub fn contact_quota(conn: &mut AnyConnection) -> Result<(i64, i64)> {
    QUOTA.kept_or_read(conn, "", |conn| {
        let (used, quota): (Option<i64>, i32) =
            resource_directories::table.select((contacts::table.count().single_value(), resource_directories::contact_quota)).first(conn)?;
        Ok((used.unwrap_or(0), i64::from(quota)))
    })
}

/// Contacts in use and the quota.
static QUOTA: KeptByVersion<(i64, i64)> = KeptByVersion::of_anything();

/// Changes the quota; never below the contacts in use.
pub fn set_contact_quota(conn: &mut AnyConnection, new_quota: i64, actor: &Actor) -> Result<(i64, i64)> {
    crate::db::transaction(conn, |conn| {
        lock_directory(conn)?;
        let used = count_contacts(conn)?;
        if new_quota < used {
            return Err(ContactError::QuotaBelowUsage { used });
        }
        let before = quota(conn)?;
        diesel::update(resource_directories::table).set(resource_directories::contact_quota.eq(new_quota as i32)).execute(conn)?;
        audit::record(conn, actor, Event::new("settings.contact_quota", "contact_quota").changes(Changes::new().field("quota", before, new_quota)))?;
        Ok((used, new_quota))
    })
}

///
/// Kept under the directory's search version, which any change to a contact moves on
/// (migration 000027), so a contact's page shown again reads no contact row.
pub fn get_contact(conn: &mut AnyConnection, id: &ContactId) -> Result<Contact> {
    CONTACTS.kept_or_read(conn, id.as_str(), |conn| {
        contacts::table.find(id.as_str()).select(Contact::as_select()).first(conn).optional()?.ok_or_else(|| ContactError::NotFound(id.to_string()))
    })
}

/// Contacts by id, as [`get_contact`] reads them.
static CONTACTS: KeptByVersion<Contact> = KeptByVersion::with_contacts();

/// The contacts a folder or member page offers to bind, by how many it asks for.
static BINDABLE: KeptByVersion<std::sync::Arc<Vec<Contact>>> = KeptByVersion::with_contacts();

fn name_taken(conn: &mut AnyConnection, name: &ContactName, except: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(contacts::table.filter(contacts::name_key.eq(name.key())).filter(contacts::id.ne(except)))).get_result(conn)
}

/// What a new contact is made of.
#[derive(Debug, Clone)]
pub struct NewContact {
    pub name: ContactName,
    pub email: EmailAddress,
    pub phone: Option<PhoneNumber>,
    pub title: Title,
    pub types: MessageTypes,
}

/// Creates a contact, `Verifying`, and queues its verification email (rules C1–C4). A
/// refusal (quota, name, a sending limit) leaves nothing behind.
/// A contact as saved, with the verification email a sending limit held back, if any
/// (the contact is kept either way; the email can be sent again later).
#[derive(Debug)]
pub struct Saved {
    pub contact: Contact,
    pub not_sent: Option<ContactError>,
}

pub fn create_contact(conn: &mut AnyConnection, new: &NewContact, sender: &Sender, actor: &Actor) -> Result<Saved> {
    crate::db::transaction(conn, |conn| {
        lock_directory(conn)?;
        let (used, quota) = contact_quota(conn)?;
        if used >= quota {
            return Err(ContactError::QuotaExceeded { used, quota });
        }
        if name_taken(conn, &new.name, "")? {
            return Err(ContactError::NameTaken(new.name.as_str().to_owned()));
        }
        let now = now_utc();
        let contact = Contact {
            id: ContactId::generate().to_string(),
            name: new.name.as_str().to_owned(),
            name_key: new.name.key(),
            email: new.email.as_str().to_owned(),
            pending_email: None,
            phone: new.phone.as_ref().map(|p| p.as_str().to_owned()),
            title: new.title,
            message_types: new.types.bits(),
            status: ContactStatus::Verifying,
            verified_at: None,
            created_at: now,
            modified_at: now,
            deletion_failed_at: None,
            reconfirm_sent_at: None,
        };
        match diesel::insert_into(contacts::table).values(contact.clone()).execute(conn) {
            Err(e) if is_unique_violation(&e) => return Err(ContactError::NameTaken(new.name.as_str().to_owned())),
            other => other?,
        };
        let not_sent = verification::send_or_hold(conn, &contact, &contact.email, sender)?;
        audit::record(conn, actor, Event::new("contact.create", &contact.id).changes(contact_changes(None, &contact)))?;
        tracing::info!(contact.id = %contact.id, "contact created");
        Ok(Saved { contact, not_sent })
    })
}

/// A contact's fields as the audit trail shows them, before (none: created) → after.
pub fn contact_changes(before: Option<&Contact>, after: &Contact) -> Changes {
    let fields = |c: &Contact| -> [(&'static str, serde_json::Value); 7] {
        [
            ("name", c.name.clone().into()),
            ("email", c.email.clone().into()),
            ("pending_email", c.pending_email.clone().into()),
            ("phone", c.phone.clone().into()),
            ("title", c.title.api_name().into()),
            ("message_types", MessageTypes::from_bits(c.message_types).api_names().into()),
            ("status", c.status.as_str().into()),
        ]
    };
    let old = before.map(fields);
    fields(after).into_iter().enumerate().fold(Changes::new(), |changes, (i, (name, value))| {
        let was = old.as_ref().map_or(serde_json::Value::Null, |o| o[i].1.clone());
        changes.field(name, was, value)
    })
}

/// The fields a modification may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ContactChanges {
    pub name: Option<ContactName>,
    pub email: Option<EmailAddress>,
    /// `Some(None)` clears the number.
    pub phone: Option<Option<PhoneNumber>>,
    pub title: Option<Title>,
    pub types: Option<MessageTypes>,
}

/// Modifies a contact (rule C5). Name, title and message types take effect at once. A
/// new address of an Active contact waits as pending, with its own verification email,
/// while notifications keep going to the verified one; giving the verified address back
/// cancels the pending change. A Verifying contact simply gets the new address verified
/// instead. Over a sending limit nothing changes.
pub fn update_contact(conn: &mut AnyConnection, id: &ContactId, changes: &ContactChanges, sender: &Sender, actor: &Actor) -> Result<Saved> {
    crate::db::transaction(conn, |conn| {
        lock_directory(conn)?;
        let mut contact = get_contact(conn, id)?;
        if contact.status() == ContactStatus::Deleting {
            return Err(ContactError::Deleting);
        }
        let before = contact.clone();
        if let Some(name) = &changes.name {
            if name_taken(conn, name, &contact.id)? {
                return Err(ContactError::NameTaken(name.as_str().to_owned()));
            }
            contact.name = name.as_str().to_owned();
            contact.name_key = name.key();
        }
        if let Some(title) = changes.title {
            contact.title = title;
        }
        if let Some(types) = changes.types {
            contact.message_types = types.bits();
        }
        if let Some(phone) = &changes.phone {
            contact.phone = phone.as_ref().map(|p| p.as_str().to_owned());
        }
        let mut verify = None;
        if let Some(email) = &changes.email {
            let new = email.as_str();
            let same = |a: &str| a.eq_ignore_ascii_case(new);
            match contact.status() {
                ContactStatus::Verifying if !same(&contact.email) => {
                    contact.email = new.to_owned();
                    verify = Some(new.to_owned());
                }
                ContactStatus::Active if same(&contact.email) => contact.pending_email = None,
                ContactStatus::Active if !contact.pending_email.as_deref().is_some_and(same) => {
                    contact.pending_email = Some(new.to_owned());
                    verify = Some(new.to_owned());
                }
                _ => {}
            }
        }
        contact.modified_at = now_utc();
        diesel::update(contacts::table.find(&contact.id))
            .set((
                contacts::name.eq(&contact.name),
                contacts::name_key.eq(&contact.name_key),
                contacts::email.eq(&contact.email),
                contacts::pending_email.eq(&contact.pending_email),
                contacts::phone.eq(&contact.phone),
                contacts::title.eq(contact.title.api_name()),
                contacts::message_types.eq(contact.message_types),
                contacts::modified_at.eq(contact.modified_at),
            ))
            .execute(conn)?;
        let not_sent = match verify {
            Some(address) => verification::send_or_hold(conn, &contact, &address, sender)?,
            None => None,
        };
        let diff = contact_changes(Some(&before), &contact);
        if !diff.is_empty() {
            audit::record(conn, actor, Event::new("contact.update", &contact.id).changes(diff))?;
        }
        Ok(Saved { contact, not_sent })
    })
}

/// Sends a fresh verification email for the address waiting for one; `address`, when
/// given, must be that address.
pub fn resend_verification(conn: &mut AnyConnection, id: &ContactId, address: Option<&EmailAddress>, sender: &Sender, actor: &Actor) -> Result<Contact> {
    crate::db::transaction(conn, |conn| {
        lock_directory(conn)?;
        let contact = get_contact(conn, id)?;
        let waiting = contact.address_to_verify().map(str::to_owned);
        let target = match (waiting, address) {
            (Some(w), None) => w,
            (Some(w), Some(a)) if w.eq_ignore_ascii_case(a.as_str()) => w,
            (_, Some(a)) => return Err(ContactError::NothingToVerify(a.as_str().to_owned())),
            (None, None) => return Err(ContactError::NothingToVerify(contact.email.clone())),
        };
        verification::send(conn, &contact, &target, sender)?;
        audit::record(conn, actor, Event::new("contact.verification_sent", &contact.id).changes(Changes::new().set("address", target)))?;
        Ok(contact)
    })
}

/// Clears the bouncing mark of the contact's address and sends it a fresh verification
/// link (the contact keeps receiving meanwhile). Returns the address.
pub fn clear_bounce(conn: &mut AnyConnection, id: &ContactId, sender: &Sender, actor: &Actor) -> Result<String> {
    crate::db::transaction(conn, |conn| {
        lock_directory(conn)?;
        let mut contact = get_contact(conn, id)?;
        crate::bounces::clear(conn, &contact.email, actor)?;
        // An Active contact's address is asked to confirm again (its link then verifies it,
        // and unconfirmed it turns stale); one still Verifying gets its verification again.
        if contact.status().is_active() && contact.pending_email.is_none() {
            contact.reconfirm_sent_at = Some(now_utc());
            diesel::update(contacts::table.find(&contact.id)).set(contacts::reconfirm_sent_at.eq(contact.reconfirm_sent_at)).execute(conn)?;
        }
        // With an email change pending, the new address's verification is what counts.
        if contact.address_to_verify().is_some_and(|a| a.eq_ignore_ascii_case(&contact.email)) {
            verification::send(conn, &contact, &contact.email, sender)?;
        }
        Ok(contact.email)
    })
}

/// Drops a pending email change; `address`, when given, must be the pending one.
pub fn cancel_pending_email(conn: &mut AnyConnection, id: &ContactId, address: Option<&EmailAddress>, actor: &Actor) -> Result<Contact> {
    crate::db::transaction(conn, |conn| {
        let mut contact = get_contact(conn, id)?;
        match (&contact.pending_email, address) {
            (Some(p), Some(a)) if !p.eq_ignore_ascii_case(a.as_str()) => return Err(ContactError::NoPendingChange("email address")),
            (Some(_), _) => {}
            (None, _) => return Err(ContactError::NoPendingChange("email address")),
        }
        let before = contact.clone();
        contact.pending_email = None;
        contact.modified_at = now_utc();
        diesel::update(contacts::table.find(&contact.id))
            .set((contacts::pending_email.eq(None::<String>), contacts::modified_at.eq(contact.modified_at)))
            .execute(conn)?;
        audit::record(conn, actor, Event::new("contact.update", &contact.id).changes(contact_changes(Some(&before), &contact)))?;
        Ok(contact)
    })
}

/// Which contacts a list shows: all of them, or one by id, those whose name or email
/// contains a text, in a status, with a title, or receiving any of some message types.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    pub id: Option<ContactId>,
    pub query: Option<String>,
    pub status: Option<ContactStatus>,
    pub title: Option<Title>,
    pub types: Option<MessageTypes>,
}

/// The contacts, newest first, optionally one by id or those whose name or email
/// contains `query`; each with whether its latest link expired. Three queries.
pub fn list_contacts(conn: &mut AnyConnection, id: Option<&ContactId>, query: Option<&str>, page: PageRequest) -> Result<Page<ContactRow>> {
    let filter = ContactFilter { id: id.cloned(), query: query.map(str::to_owned), ..Default::default() };
    list_contacts_where(conn, &filter, page)
}

/// Active contacts with room for one more binding (rule B2), newest first, at most
/// `limit`: what a folder or member page offers to bind. One query, kept under the search
/// version as long as no contact or binding changes (migration 000027).
pub fn bindable_contacts(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Contact>> {
    BINDABLE.copy_or_read(conn, &limit.to_string(), |conn| {
        Ok(contacts::table
            .filter(contacts::status.eq(ContactStatus::Active.as_str()))
            .filter(RoomForATarget(super::bindings::MAX_TARGETS))
            .order((contacts::created_at.desc(), contacts::id))
            .select(Contact::as_select())
            .limited(limit)
            .load(conn)?)
    })
}

/// A contact bound to fewer targets than the number given: a correlated count, which
/// diesel's query builder does not write, as an expression of its own so that its
/// statement is prepared once a connection (`diesel::dsl::sql` text is planned again on
/// every run, and every folder page offers the contacts it may bind).
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId, diesel::expression::ValidGrouping)]
struct RoomForATarget(i64);

impl diesel::expression::Expression for RoomForATarget {
    type SqlType = diesel::sql_types::Bool;
}

impl<DB> diesel::query_builder::QueryFragment<DB> for RoomForATarget
where
    DB: diesel::backend::Backend,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
    DB: diesel::sql_types::HasSqlType<diesel::sql_types::BigInt>,
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("(SELECT COUNT(*) FROM bindings b WHERE b.contact_id = contacts.id) < ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.0)
    }
}

impl<QS> diesel::expression::AppearsOnTable<QS> for RoomForATarget where contacts::id: diesel::expression::AppearsOnTable<QS> {}
impl<QS> diesel::expression::SelectableExpression<QS> for RoomForATarget where contacts::id: diesel::expression::SelectableExpression<QS> {}

/// The contacts a filter picks, newest first, each with whether its latest link expired.
/// Three queries.
pub fn list_contacts_where(conn: &mut AnyConnection, filter: &ContactFilter, page: PageRequest) -> Result<Page<ContactRow>> {
    Ok(contacts_page(conn, filter, page, false)?.0)
}

/// How much of the directory a contact of the console's list reaches: the targets it is
/// bound to, and the members that keep it without a binding (an unbinding or a deletion
/// left it as their only recipient of some type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactReach {
    pub contact_id: String,
    pub bound: i64,
    pub retained: i64,
}

/// [`list_contacts_where`] for the console's list, with each contact's [`ContactReach`]
/// read by the page's own statement.
pub fn list_contacts_with_reach(conn: &mut AnyConnection, filter: &ContactFilter, page: PageRequest) -> Result<(Page<ContactRow>, Vec<ContactReach>)> {
    contacts_page(conn, filter, page, true)
}

/// What a page of the contacts' list reads; whether a link expired is decided at each view.
#[derive(Debug, Clone)]
struct ContactsRead {
    items: Vec<Contact>,
    total: i64,
    request: PageRequest,
    reach: Vec<ContactReach>,
    links: Vec<Verification>,
}

/// Pages of the contacts' list, by filter, page and whether with their reach (the
/// filter's and the page's `Debug`, which show every field).
static CONTACT_PAGES: KeptByVersion<std::sync::Arc<ContactsRead>> = KeptByVersion::of_anything();

fn contacts_page(conn: &mut AnyConnection, filter: &ContactFilter, page: PageRequest, with_reach: bool) -> Result<(Page<ContactRow>, Vec<ContactReach>)> {
    let key = format!("{with_reach}/{page:?}/{filter:?}");
    let ContactsRead { items, total, request, reach, links } =
        CONTACT_PAGES.copy_or_read(conn, &key, |conn| read_contacts_page(conn, filter, page, with_reach))?;
    let now = now_utc();
    let rows = items
        .into_iter()
        .map(|contact| {
            let waiting = contact.address_to_verify().map(str::to_lowercase);
            let latest = links.iter().find(|v| v.contact_id.as_deref() == Some(contact.id.as_str()) && Some(&v.address_key) == waiting.as_ref());
            ContactRow { link_expired: latest.is_some_and(|v| v.is_expired(now)), contact }
        })
        .collect();
    Ok((Page { items: rows, total, request }, reach))
}

fn read_contacts_page(conn: &mut AnyConnection, filter: &ContactFilter, page: PageRequest, with_reach: bool) -> Result<ContactsRead> {
    let pattern = contains_pattern(filter.query.as_deref().unwrap_or(""));
    let build = || {
        let mut q = contacts::table
            .filter(lower(contacts::name).like(pattern.clone()).escape('\\').or(lower(contacts::email).like(pattern.clone()).escape('\\')))
            .into_boxed();
        if let Some(id) = &filter.id {
            q = q.filter(contacts::id.eq(id.as_str().to_owned()));
        }
        if let Some(status) = filter.status {
            q = q.filter(contacts::status.eq(status.as_str()));
        }
        if let Some(title) = filter.title {
            q = q.filter(contacts::title.eq(title.api_name()));
        }
        if let Some(types) = filter.types {
            // Bits of our own, never text from outside.
            q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!("(message_types & {}) <> 0", types.bits())));
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let page = page.within(total);
    let ordered = || build().order((contacts::created_at.desc(), contacts::id));
    let (items, reach): (Vec<Contact>, Vec<ContactReach>) = if with_reach {
        ordered()
            .select((Contact::as_select(), BoundTargets, RetainedMembers))
            .paged(&page)
            .load::<(Contact, i64, i64)>(conn)?
            .into_iter()
            .map(|(contact, bound, retained)| {
                let reach = ContactReach { contact_id: contact.id.clone(), bound, retained };
                (contact, reach)
            })
            .unzip()
    } else {
        (ordered().select(Contact::as_select()).paged(&page).load(conn)?, Vec::new())
    };
    let ids: Vec<&str> = items.iter().map(|c| c.id.as_str()).collect();
    let links: Vec<Verification> = contact_verifications::table
        .filter(contact_verifications::contact_id.eq_any(ids))
        .order(contact_verifications::sent_at.desc())
        .select(Verification::as_select())
        .load(conn)?;
    Ok(ContactsRead { items, total, request: page, reach, links })
}

/// A column of the contacts' list: how many targets the row's contact is bound to (the
/// `UNIQUE (contact_id, target_key)` index). Fixed SQL of a type of its own, as
/// [`super::scope::retained`], so that the page's statement is prepared once a connection.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId, diesel::expression::ValidGrouping)]
struct BoundTargets;

/// A column of the contacts' list: how many members keep the row's contact without a
/// binding (the partial index of retained associations).
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId, diesel::expression::ValidGrouping)]
struct RetainedMembers;

macro_rules! contact_count_column {
    ($column:ty, $sql:expr) => {
        impl diesel::expression::Expression for $column {
            type SqlType = diesel::sql_types::BigInt;
        }
        impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for $column {
            fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
                out.push_sql($sql);
                Ok(())
            }
        }
        impl<QS> diesel::expression::AppearsOnTable<QS> for $column where contacts::id: diesel::expression::AppearsOnTable<QS> {}
        impl<QS> diesel::expression::SelectableExpression<QS> for $column where contacts::id: diesel::expression::SelectableExpression<QS> {}
    };
}

contact_count_column!(BoundTargets, "(SELECT COUNT(*) FROM bindings b WHERE b.contact_id = contacts.id)");
contact_count_column!(RetainedMembers, "(SELECT COUNT(*) FROM associations a WHERE a.contact_id = contacts.id AND a.retained_types <> 0)");

/// Every verification email sent for a contact, newest first; kept under the read version
/// (migration 000028).
pub fn verification_history(conn: &mut AnyConnection, id: &ContactId) -> Result<Vec<Verification>> {
    HISTORIES.copy_or_read(conn, id.as_str(), |conn| {
        Ok(contact_verifications::table
            .filter(contact_verifications::contact_id.eq(id.as_str()))
            .order((contact_verifications::sent_at.desc(), contact_verifications::id.desc()))
            .select(Verification::as_select())
            .limited(100)
            .load(conn)?)
    })
}

/// Contacts' verification emails, by contact.
static HISTORIES: KeptByVersion<std::sync::Arc<Vec<Verification>>> = KeptByVersion::of_anything();

/// Addresses waiting for verification (the API's ListMessageContactVerifications):
/// (contact id, address), by contact.
pub fn pending_verifications(conn: &mut AnyConnection, id: Option<&ContactId>, page: PageRequest) -> Result<Page<(String, String)>> {
    let mut all: Vec<Contact> = match id {
        Some(id) => vec![get_contact(conn, id)?],
        None => contacts::table.order(contacts::created_at).select(Contact::as_select()).load(conn)?,
    };
    all.retain(|c| c.address_to_verify().is_some());
    let total = all.len() as i64;
    let page = page.within(total);
    let items = all
        .iter()
        .skip(page.offset() as usize)
        .take(page.size as usize)
        .map(|c| (c.id.clone(), c.address_to_verify().unwrap_or_default().to_owned()))
        .collect();
    Ok(Page { items, total, request: page })
}

/// The contacts bound directly to a target (the API's `Member` filter): the directory
/// id and the root id name the same target.
pub fn contacts_bound_to(conn: &mut AnyConnection, target: &TargetId, id: Option<&ContactId>, page: PageRequest) -> Result<Page<ContactRow>> {
    use crate::db::schema::bindings;
    let key = match target {
        TargetId::Directory(_) => resource_directories::table.select(resource_directories::root_folder_id).first::<String>(conn)?,
        TargetId::Folder(f) => f.to_string(),
        TargetId::Account(a) => a.to_string(),
    };
    let mut ids: Vec<String> = bindings::table.filter(bindings::target_key.eq(&key)).select(bindings::contact_id).load(conn)?;
    if let Some(only) = id {
        ids.retain(|c| c == only.as_str());
    }
    let total = ids.len() as i64;
    let page = page.within(total);
    let items: Vec<Contact> = contacts::table
        .filter(contacts::id.eq_any(&ids))
        .order((contacts::created_at.desc(), contacts::id))
        .select(Contact::as_select())
        .paged(&page)
        .load(conn)?;
    Ok(Page { items: items.into_iter().map(|contact| ContactRow { contact, link_expired: false }).collect(), total, request: page })
}

/// The names of these contacts, by id (contacts deleted since are left out); kept under
/// the search version as long as no contact changes.
pub fn contact_names(conn: &mut AnyConnection, ids: &[String]) -> Result<std::collections::HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    NAMES.copy_or_read(conn, &ids.join(","), |conn| {
        Ok(contacts::table.filter(contacts::id.eq_any(ids)).select((contacts::id, contacts::name)).load::<(String, String)>(conn)?.into_iter().collect())
    })
}

/// Contacts' names, by their ids.
static NAMES: KeptByVersion<std::sync::Arc<std::collections::HashMap<String, String>>> = KeptByVersion::with_contacts();
