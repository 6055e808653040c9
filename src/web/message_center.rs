//! A member user's own Message Center (`/my/…`), and the invitation link that makes
//! someone a member user. Every route works on the signed-in user's own account: ids in
//! URLs and forms are looked up within it, so another member's answer 404.

use std::sync::Arc;

use crate::web::Reply;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;

use super::session::{self, CsrfForm, CurrentMember};
use super::{Chrome, html, redirect, redirect_for};
use crate::auth::member_users::{self, InvitationView, InviteError};
use crate::bounces::Bounce;
use crate::db;
use crate::directory::{self, KeptByVersion};
use crate::domain::{AccountId, EmailAddress, MessageType, MessageTypes, Page, PageRequest, Password, RecipientName, Token};
use crate::message_center::{self, DirectoryEntry, McError, MessageCenter, OwnRecipient};
use crate::state::AppState;
use crate::web::AppError;
use crate::web::filters;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/my", web::get().to(|| async { redirect("/my/message-center") }))
        .route("/my/message-center", web::get().to(page))
        .route("/my/message-center/recipients", web::post().to(add_recipient))
        .route("/my/message-center/recipients/{id}", web::post().to(save_recipient))
        .route("/my/message-center/recipients/{id}/remove", web::post().to(remove_recipient))
        .route("/my/message-center/recipients/{id}/resend", web::post().to(resend_link))
        .route("/my/message-center/entries/{contact}", web::post().to(save_entry))
        .route("/my/message-center/entries/{contact}/remove", web::post().to(remove_entry))
        .route("/invite/{token}", web::get().to(invitation))
        .route("/invite/{token}", web::post().to(accept));
}

/// The types checked in a row form.
fn checked_types(pairs: &[(String, String)]) -> Result<MessageTypes, String> {
    let items: Vec<&str> = pairs.iter().filter(|(k, _)| k == "message_types").map(|(_, v)| v.as_str()).collect();
    if items.is_empty() {
        return Ok(MessageTypes::default());
    }
    MessageTypes::parse(&items).map_err(|e| e.message)
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// One own-recipient row: the values shown and what is wrong with them.
pub struct OwnRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub types: MessageTypes,
    /// Its owner confirmed the address (rule M6); until then it receives nothing.
    pub confirmed: bool,
    pub error: Option<String>,
    pub csrf: String,
    /// Just saved: the row says so.
    pub saved: bool,
    /// The mail server refuses its address for good: it receives nothing.
    pub bounce: Option<Bounce>,
}

impl OwnRow {
    fn of(r: &OwnRecipient, mc: &MessageCenter, csrf: &str) -> OwnRow {
        OwnRow {
            bounce: mc.bounce(&r.email),
            id: r.id,
            name: r.name.clone(),
            email: r.email.clone(),
            types: r.types(),
            confirmed: r.is_confirmed(),
            error: None,
            csrf: csrf.to_owned(),
            saved: false,
        }
    }
    fn has(&self, t: &MessageType) -> bool {
        self.types.contains(*t)
    }
}

/// A row sent back after an edit: the row, and when it was saved, what nobody receives
/// now (the page's notice is replaced in place) and what a screen reader announces.
#[derive(Template)]
#[template(path = "message_center/_own_saved.html")]
struct OwnRowFragment {
    row: OwnRow,
    uncovered: Option<String>,
}

/// One directory row.
pub struct EntryRow {
    pub entry: DirectoryEntry,
    pub csrf: String,
    pub saved: bool,
    /// The change was not saved: it would leave these types with nobody (asked first).
    pub would_leave: Option<String>,
}

#[derive(Template)]
#[template(path = "message_center/_entry_saved.html")]
struct EntryRowFragment {
    row: EntryRow,
    uncovered: Option<String>,
}

/// The add-a-recipient form.
#[derive(Default)]
struct AddForm {
    name: String,
    email: String,
    types: MessageTypes,
    name_error: Option<String>,
    email_error: Option<String>,
    types_error: Option<String>,
}

#[derive(Template)]
#[template(path = "message_center/page.html")]
struct McPage {
    chrome: Chrome,
    account_name: String,
    account_id: String,
    own: Vec<OwnRow>,
    entries: Vec<EntryRow>,
    uncovered: String,
    add: AddForm,
    types: [MessageType; 6],
    /// Rows (own recipients first, then the directory's) come a page at a time.
    pager: Page<()>,
    q: String,
}

/// Rows of the Message Center per page.
const ROWS_PER_PAGE: i64 = 25;

#[derive(serde::Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

fn member_chrome(member: &CurrentMember) -> Chrome {
    Chrome::member(member)
}

async fn render_page(state: &AppState, member: &CurrentMember, add: AddForm) -> Reply {
    render_page_at(state, member, add, PageRequest::with_size(None, ROWS_PER_PAGE)).await
}

async fn render_page_at(state: &AppState, member: &CurrentMember, add: AddForm, page: PageRequest) -> Reply {
    let account = member.account_id.clone();
    let view = MC_VIEWS
        .run_kept(&state.pool, account.clone(), move |c| {
            let id = AccountId::parse(&account).map_err(|_| McError::AccountNotFound(account.clone()))?;
            let name = directory::get_account(c, &id)?;
            Ok::<_, AppError>(Arc::new((message_center::message_center_of_known(c, &account)?, name.display_name)))
        })
        .await?;
    let (mc, account_name) = (&view.0, &view.1);
    let status =
        if add.name_error.is_some() || add.email_error.is_some() || add.types_error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    // Only the page's rows are written out: own recipients first, then the directory's.
    let shown: Vec<&DirectoryEntry> = mc.entries.iter().filter(|e| e.removed_at.is_none()).collect();
    let split = mc.own.len();
    let total = (split + shown.len()) as i64;
    let page = page.within(total);
    let (from, to) = (page.offset() as usize, (page.offset() + page.size) as usize);
    let own: Vec<OwnRow> = mc.own.iter().enumerate().filter(|(i, _)| (from..to).contains(i)).map(|(_, r)| OwnRow::of(r, mc, &member.csrf)).collect();
    let entries: Vec<EntryRow> = shown
        .into_iter()
        .enumerate()
        .filter(|(i, _)| (from..to).contains(&(i + split)))
        .map(|(_, entry)| EntryRow { entry: entry.clone(), csrf: member.csrf.clone(), saved: false, would_leave: None })
        .collect();
    let chrome = member_chrome(member);
    let page = McPage {
        chrome,
        account_name: account_name.clone(),
        account_id: member.account_id.clone(),
        own,
        uncovered: mc.uncovered().labels(),
        entries,
        add,
        types: MessageType::ALL,
        pager: Page { items: Vec::new(), total, request: page },
        q: String::new(),
    };
    html(status, &page)
}

/// A member's Message Center and its account's name, the same for each of its users:
/// kept whole under the read version, by account.
static MC_VIEWS: KeptByVersion<Arc<(MessageCenter, String)>> = KeptByVersion::of_anything_up_to(256);

async fn page(state: web::Data<AppState>, member: CurrentMember, query: web::Query<PageQuery>) -> Reply {
    render_page_at(&state, &member, AddForm::default(), PageRequest::with_size(query.page, ROWS_PER_PAGE)).await
}

async fn add_recipient(state: web::Data<AppState>, member: CurrentMember, form: CsrfForm) -> Reply {
    let pairs = &form.pairs;
    let name = RecipientName::parse(field(pairs, "name"));
    let email = EmailAddress::parse(field(pairs, "email"));
    let types = checked_types(pairs).and_then(|t| if t.is_empty() { Err("Choose at least one message type".into()) } else { Ok(t) });
    let (name, email, types) = match (name, email, types) {
        (Ok(n), Ok(e), Ok(t)) => (n, e, t),
        (n, e, t) => {
            let add = AddForm {
                name: field(pairs, "name").to_owned(),
                email: field(pairs, "email").to_owned(),
                types: checked_types(pairs).unwrap_or_default(),
                name_error: n.err().map(|e| e.message),
                email_error: e.err().map(|e| e.message),
                types_error: t.err(),
            };
            return render_page(&state, &member, add).await;
        }
    };
    let account = member.account_id.clone();
    let sender = state.sender(&member.email);
    let typed = (field(pairs, "name").to_owned(), field(pairs, "email").to_owned());
    let actor = member.actor();
    match db::run(&state.pool, move |c| message_center::add_recipient(c, &account, &name, &email, types, &sender, &actor)).await {
        Ok(r) => {
            member.flash.say(format!(
                "{} is added. A confirmation link is on its way to {}: the address receives notifications once its owner confirms it.",
                r.name, r.email
            ));
            Ok(redirect("/my/message-center"))
        }
        Err(e @ (McError::TooManyRecipients | McError::AddressLimit { .. })) => {
            let add = AddForm { name: typed.0, email: typed.1, types, email_error: Some(e.to_string()), ..Default::default() };
            render_page(&state, &member, add).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Sends a recipient's confirmation link again.
async fn resend_link(state: web::Data<AppState>, member: CurrentMember, path: web::Path<String>, _form: CsrfForm) -> Reply {
    let id = recipient_id(&path)?;
    let (account, sender) = (member.account_id.clone(), state.sender(&member.email));
    let r = db::run(&state.pool, move |c| message_center::resend_link(c, &account, id, &sender)).await?;
    member.flash.say(format!("A confirmation link is on its way to {}.", r.email));
    Ok(redirect("/my/message-center"))
}

fn recipient_id(raw: &str) -> Result<i64, AppError> {
    raw.parse().map_err(|_| AppError::NotFound("There is no such recipient in this Message Center.".into()))
}

async fn save_recipient(state: web::Data<AppState>, req: HttpRequest, member: CurrentMember, path: web::Path<String>, form: CsrfForm) -> Reply {
    let id = recipient_id(&path)?;
    let pairs = &form.pairs;
    let parsed = (
        RecipientName::parse(field(pairs, "name")).map_err(|e| e.message),
        EmailAddress::parse(field(pairs, "email")).map_err(|e| e.message),
        checked_types(pairs).and_then(|t| if t.is_empty() { Err("Keep at least one message type, or remove the recipient".into()) } else { Ok(t) }),
    );
    let account = member.account_id.clone();
    let (name, email, types) = match parsed {
        (Ok(n), Ok(e), Ok(t)) => (n, e, t),
        (n, e, t) => {
            // Still only this account's recipient: another's is not found.
            let acc = account.clone();
            db::run(&state.pool, move |c| {
                message_center::message_center(c, &acc).and_then(|mc| mc.own.iter().any(|r| r.id == id).then_some(()).ok_or(McError::RecipientNotFound))
            })
            .await?;
            let row = OwnRow {
                id,
                name: field(pairs, "name").to_owned(),
                email: field(pairs, "email").to_owned(),
                types: checked_types(pairs).unwrap_or_default(),
                confirmed: false,
                error: [n.err(), e.err(), t.err()].into_iter().flatten().next(),
                csrf: member.csrf.clone(),
                saved: false,
                bounce: None,
            };
            return if req.headers().contains_key("HX-Request") {
                html(StatusCode::UNPROCESSABLE_ENTITY, &OwnRowFragment { row, uncovered: None })
            } else {
                Err(AppError::BadRequest(row.error.unwrap_or_default()))
            };
        }
    };
    let sender = state.sender(&member.email);
    let actor = member.actor();
    let (saved, mc) = db::run(&state.pool, move |c| {
        let fields = message_center::RecipientFields { name, email, types };
        let saved = message_center::update_recipient(c, &account, id, &fields, &sender, &actor)?;
        Ok::<_, McError>((saved, message_center::message_center(c, &account)?))
    })
    .await?;
    if req.headers().contains_key("HX-Request") {
        let row = OwnRow { saved: true, ..OwnRow::of(&saved, &mc, &member.csrf) };
        html(StatusCode::OK, &OwnRowFragment { row, uncovered: Some(mc.uncovered().labels()) })
    } else {
        member.flash.say(format!("Saved {}.", saved.name));
        Ok(redirect("/my/message-center"))
    }
}

async fn remove_recipient(state: web::Data<AppState>, req: HttpRequest, member: CurrentMember, path: web::Path<String>, _form: CsrfForm) -> Reply {
    let id = recipient_id(&path)?;
    let account = member.account_id.clone();
    let actor = member.actor();
    db::run(&state.pool, move |c| message_center::remove_recipient(c, &account, id, &actor)).await?;
    member.flash.say("The recipient is removed.");
    Ok(redirect_for(&req, "/my/message-center"))
}

async fn save_entry(state: web::Data<AppState>, req: HttpRequest, member: CurrentMember, path: web::Path<String>, form: CsrfForm) -> Reply {
    let contact = path.into_inner();
    let keep = checked_types(&form.pairs).map_err(AppError::BadRequest)?;
    let confirmed = field(&form.pairs, "confirm") == "1";
    let account = member.account_id.clone();
    let actor = member.actor();
    // Before an opt-out that would leave a type with nobody, the member is asked first.
    let (entry, uncovered, would_leave) = db::run(&state.pool, move |c| {
        let mc = message_center::message_center(c, &account)?;
        let before = mc.uncovered();
        let mut after = mc.clone();
        let entry = after.entries.iter_mut().find(|e| e.contact_id == contact).ok_or(McError::EntryNotFound)?;
        entry.opt_out = MessageTypes::from_bits(entry.contact_types.bits() & !keep.bits());
        let opened: MessageTypes = after.uncovered().iter().filter(|t| !before.contains(*t)).collect();
        if !opened.is_empty() && !confirmed {
            let proposed = after.entries.into_iter().find(|e| e.contact_id == contact).ok_or(McError::EntryNotFound)?;
            return Ok::<_, McError>((proposed, None, Some(opened.labels())));
        }
        message_center::set_entry_types(c, &account, &contact, keep, &actor)?;
        let mc = message_center::message_center(c, &account)?;
        let uncovered = mc.uncovered().labels();
        Ok((mc.entries.into_iter().find(|e| e.contact_id == contact).ok_or(McError::EntryNotFound)?, Some(uncovered), None))
    })
    .await?;
    if let Some(types) = would_leave {
        let row = EntryRow { entry, csrf: member.csrf.clone(), saved: false, would_leave: Some(types) };
        let status = if req.headers().contains_key("HX-Request") { StatusCode::OK } else { StatusCode::CONFLICT };
        return html(status, &EntryRowFragment { row, uncovered: None });
    }
    if req.headers().contains_key("HX-Request") {
        html(StatusCode::OK, &EntryRowFragment { row: EntryRow { entry, csrf: member.csrf.clone(), saved: true, would_leave: None }, uncovered })
    } else {
        member.flash.say("Saved.");
        Ok(redirect("/my/message-center"))
    }
}

async fn remove_entry(state: web::Data<AppState>, req: HttpRequest, member: CurrentMember, path: web::Path<String>, _form: CsrfForm) -> Reply {
    let contact = path.into_inner();
    let account = member.account_id.clone();
    let actor = member.actor();
    db::run(&state.pool, move |c| message_center::remove_entry(c, &account, &contact, &actor)).await?;
    member.flash.say("The directory's contact is removed from your Message Center. Only a new binding by the directory would add it back.");
    Ok(redirect_for(&req, "/my/message-center"))
}

// ---------------------------------------------------------------- invitations

#[derive(Template)]
#[template(path = "invite/accept.html")]
struct AcceptPage {
    csrf: String,
    token: String,
    view: InvitationView,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "invite/expired.html")]
struct ExpiredPage {
    view: InvitationView,
}

#[derive(Template)]
#[template(path = "invite/invalid.html")]
struct InvalidPage;

fn refusal(e: InviteError) -> Reply {
    match e {
        InviteError::Invalid => html(StatusCode::NOT_FOUND, &InvalidPage),
        InviteError::Expired(view) => html(StatusCode::GONE, &ExpiredPage { view }),
        other => Err(other.into()),
    }
}

async fn invitation(state: web::Data<AppState>, session: Session, path: web::Path<String>) -> Reply {
    let Ok(token) = Token::parse(&path) else { return refusal(InviteError::Invalid) };
    let raw = token.expose().to_owned();
    match db::run(&state.pool, move |c| member_users::invitation(c, &token)).await {
        Ok(view) => html(StatusCode::OK, &AcceptPage { csrf: session::csrf_token(&session)?, token: raw, view, error: None }),
        Err(e) => refusal(e),
    }
}

async fn accept(state: web::Data<AppState>, req: HttpRequest, session: Session, path: web::Path<String>, form: CsrfForm) -> Reply {
    let Ok(token) = Token::parse(&path) else { return refusal(InviteError::Invalid) };
    let (password, again) = (field(&form.pairs, "password"), field(&form.pairs, "password_again"));
    let lookup = token.clone();
    let view = match db::run(&state.pool, move |c| member_users::invitation(c, &lookup)).await {
        Ok(view) => view,
        Err(e) => return refusal(e),
    };
    let problem = match Password::parse_for(password, &[&view.email]) {
        Err(e) => Some(e.message),
        Ok(_) if password != again => Some("The two passwords are not the same".to_owned()),
        Ok(_) => None,
    };
    if let Some(error) = problem {
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AcceptPage { csrf: session::csrf_token(&session)?, token: token.expose().to_owned(), view, error: Some(error) },
        );
    }
    // Hashed before the transaction: no connection waits on argon2.
    let hash = state.hasher.hash(password).await?;
    let request_id = crate::state::RequestId::of(&req);
    match db::run(&state.pool, move |c| member_users::accept(c, &token, &hash, request_id)).await {
        Ok(user) => {
            session::sign_in_member(&session, user.id, &user.account_id, &user.email, user.session_epoch)?;
            Ok(redirect("/my/message-center"))
        }
        Err(e) => refusal(e),
    }
}
