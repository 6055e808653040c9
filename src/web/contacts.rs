//! The Contacts tab: the list, the Create/Modify panel, the details page, resending and
//! cancelling verifications; and Settings → Quotas.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::session::{CsrfForm, CurrentAdmin};
use super::{Chrome, html, redirect, redirect_for};
use crate::contacts::deletion::{self, Deletion, DeletionPreview, DeletionStatus};
use crate::contacts::scope::{self, EffectiveScope};
use crate::contacts::{self, Contact, ContactChanges, ContactError, ContactRow, NewContact, Sender, Verification, bindings};
use crate::db;
use crate::directory::FolderOption;
use crate::domain::TargetId;
use crate::domain::{ContactId, ContactName, EmailAddress, MessageType, MessageTypes, Page, PageRequest, Title};
use crate::state::AppState;
use crate::web::AppError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts", web::get().to(list))
        .route("/contacts", web::post().to(create))
        .route("/contacts/new", web::get().to(new_form))
        .route("/contacts/{id}", web::get().to(details))
        .route("/contacts/{id}", web::post().to(update))
        .route("/contacts/{id}/edit", web::get().to(edit_form))
        .route("/contacts/{id}/resend", web::post().to(resend))
        .route("/contacts/{id}/cancel-update", web::post().to(cancel_update))
        .route("/contacts/{id}/bind", web::get().to(bind_panel))
        .route("/contacts/{id}/bind", web::post().to(bind))
        .route("/contacts/{id}/unbind", web::post().to(unbind))
        .route("/contacts/{id}/members", web::get().to(members_page))
        .route("/contacts/{id}/delete", web::get().to(delete_dialog))
        .route("/contacts/{id}/delete", web::post().to(delete))
        .route("/settings/quotas", web::get().to(quotas))
        .route("/settings/quotas", web::post().to(set_quotas));
}

const PER_PAGE: i64 = 20;

impl ListPage {
    fn bound_count(&self, id: &str) -> i64 {
        self.bound.iter().find(|(c, _)| c == id).map_or(0, |(_, n)| *n)
    }
}

fn contact_id(raw: &str) -> Result<ContactId, AppError> {
    ContactId::parse(raw).map_err(|_| AppError::NotFound(format!("There is no contact {raw}.")))
}

fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("HX-Request")
}

/// Who asks, where links point, and the key that seals them while they wait.
fn sender_parts(state: &AppState, admin: &CurrentAdmin) -> (String, String, crate::secrets::SecretBox) {
    (admin.username.clone(), state.settings.public_url.clone(), state.secrets.clone())
}

// ---------------------------------------------------------------- list

#[derive(Template)]
#[template(path = "contacts/list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Page<ContactRow>,
    bound: Vec<(String, i64)>,
    q: String,
    used: i64,
    quota: i64,
    error: Option<String>,
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
    sent: Option<String>,
    deleted: Option<String>,
}

async fn render_list(
    state: &AppState,
    admin: &CurrentAdmin,
    q: String,
    page: Option<i64>,
    flash: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let search = q.clone();
    let (rows, (used, quota), bound) = db::run(&state.pool, move |c| {
        let rows = contacts::list_contacts(c, None, Some(&search), PageRequest::with_size(page, PER_PAGE))?;
        let ids: Vec<String> = rows.items.iter().map(|r| r.contact.id.clone()).collect();
        Ok::<_, ContactError>((rows, contacts::contact_quota(c)?, contacts::binding_counts(c, &ids)?))
    })
    .await?;
    let mut chrome = Chrome::new(admin, "directory");
    chrome.flash = flash;
    let status = if error.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    html(status, &ListPage { chrome, rows, bound, q, used, quota, error })
}

async fn list(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    let q = super::render::search_text(query.q.as_deref())?;
    let flash = match (&query.sent, &query.deleted) {
        (Some(to), _) => Some(format!("A verification email is on its way to {to}.")),
        (None, Some(_)) => Some("The contact is deleted.".to_owned()),
        (None, None) => None,
    };
    render_list(&state, &admin, q, query.page, flash, None).await
}

// ---------------------------------------------------------------- the panel

/// The Create/Modify form: what was typed, and what is wrong with it.
#[derive(Default)]
struct ContactForm {
    name: String,
    email: String,
    title: String,
    types: Vec<String>,
    name_error: Option<String>,
    email_error: Option<String>,
    title_error: Option<String>,
    types_error: Option<String>,
    form_error: Option<String>,
    /// The error is the contact quota: the form links to where it is raised.
    quota_full: bool,
}

impl ContactForm {
    fn from_contact(c: &Contact) -> ContactForm {
        ContactForm {
            name: c.name.clone(),
            email: c.pending_email.clone().unwrap_or_else(|| c.email.clone()),
            title: c.title.api_name().to_owned(),
            types: c.types().api_names().into_iter().map(str::to_owned).collect(),
            ..Default::default()
        }
    }

    fn from_pairs(pairs: &[(String, String)]) -> ContactForm {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        ContactForm {
            name: get("name"),
            email: get("email"),
            title: get("title"),
            types: pairs.iter().filter(|(n, _)| n == "message_types").map(|(_, v)| v.clone()).collect(),
            ..Default::default()
        }
    }

    fn has_errors(&self) -> bool {
        self.name_error.is_some() || self.email_error.is_some() || self.title_error.is_some() || self.types_error.is_some() || self.form_error.is_some()
    }
}

/// The parsed form, or the form with a message next to each field that is wrong.
fn parse_form(mut form: ContactForm) -> Result<NewContact, Box<ContactForm>> {
    let name = ContactName::parse(&form.name).map_err(|e| e.message);
    let email = EmailAddress::parse(&form.email).map_err(|e| e.message);
    let title = Title::parse(&form.title).map_err(|_| "Choose a title".to_owned());
    let types = MessageTypes::parse(&form.types).map_err(|e| e.message);
    match (name, email, title, types) {
        (Ok(name), Ok(email), Ok(title), Ok(types)) => Ok(NewContact { name, email, phone: None, title, types }),
        (name, email, title, types) => {
            form.name_error = name.err();
            form.email_error = email.err();
            form.title_error = title.err();
            form.types_error = types.err();
            Err(Box::new(form))
        }
    }
}

struct TypeChoice {
    value: &'static str,
    label: &'static str,
    description: &'static str,
    checked: bool,
}

struct TitleChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
    suggested: String,
    suggested_labels: String,
}

#[derive(Template)]
#[template(path = "contacts/_panel.html")]
struct Panel {
    csrf: String,
    /// `None` when creating.
    contact: Option<Contact>,
    form: ContactForm,
}

impl Panel {
    fn action(&self) -> String {
        match &self.contact {
            Some(c) => format!("/contacts/{}", c.id),
            None => "/contacts".into(),
        }
    }
    fn type_choices(&self) -> Vec<TypeChoice> {
        MessageType::ALL
            .into_iter()
            .map(|t| TypeChoice {
                value: t.api_name(),
                label: t.label(),
                description: t.description(),
                checked: self.form.types.iter().any(|v| v == t.api_name()),
            })
            .collect()
    }
    fn title_choices(&self) -> Vec<TitleChoice> {
        Title::ALL
            .into_iter()
            .map(|t| TitleChoice {
                value: t.api_name(),
                label: t.label(),
                selected: self.form.title == t.api_name(),
                suggested: t.suggested_types().api_names().join(" "),
                suggested_labels: t.suggested_types().labels(),
            })
            .collect()
    }
}

#[derive(Template)]
#[template(path = "contacts/form_page.html")]
struct FormPage {
    chrome: Chrome,
    panel: Panel,
}

fn render_panel(req: &HttpRequest, admin: &CurrentAdmin, contact: Option<Contact>, form: ContactForm) -> Result<HttpResponse, AppError> {
    let status = if form.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let panel = Panel { csrf: admin.csrf.clone(), contact, form };
    if is_htmx(req) { html(status, &panel) } else { html(status, &FormPage { chrome: Chrome::new(admin, "directory"), panel }) }
}

async fn new_form(req: HttpRequest, admin: CurrentAdmin) -> Result<HttpResponse, AppError> {
    render_panel(&req, &admin, None, ContactForm::default())
}

async fn create(state: web::Data<AppState>, req: HttpRequest, admin: CurrentAdmin, form: CsrfForm<serde::de::IgnoredAny>) -> Result<HttpResponse, AppError> {
    let typed = ContactForm::from_pairs(&form.pairs);
    let new = match parse_form(typed) {
        Ok(new) => new,
        Err(form) => return render_panel(&req, &admin, None, *form),
    };
    let (who, url, secrets) = sender_parts(&state, &admin);
    let keep = ContactForm::from_pairs(&form.pairs);
    match db::run(&state.pool, move |c| contacts::create_contact(c, &new, &Sender { requested_by: &who, public_url: &url, secrets: &secrets })).await {
        Ok(contact) => Ok(redirect_for(&req, &format!("/contacts/{}?created=1", contact.id))),
        Err(e @ ContactError::NameTaken(_)) => render_panel(&req, &admin, None, ContactForm { name_error: Some(e.to_string()), ..keep }),
        Err(e @ (ContactError::AddressLimit { .. } | ContactError::DailyLimit { .. })) => {
            render_panel(&req, &admin, None, ContactForm { email_error: Some(e.to_string()), ..keep })
        }
        Err(e @ ContactError::QuotaExceeded { .. }) => {
            render_panel(&req, &admin, None, ContactForm { form_error: Some(e.to_string()), quota_full: true, ..keep })
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_form(state: web::Data<AppState>, req: HttpRequest, admin: CurrentAdmin, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let id = contact_id(&path)?;
    let contact = db::run(&state.pool, move |c| contacts::get_contact(c, &id)).await?;
    let form = ContactForm::from_contact(&contact);
    render_panel(&req, &admin, Some(contact), form)
}

async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: CurrentAdmin,
    path: web::Path<String>,
    form: CsrfForm<serde::de::IgnoredAny>,
) -> Result<HttpResponse, AppError> {
    let id = contact_id(&path)?;
    let lookup = id.clone();
    let contact = db::run(&state.pool, move |c| contacts::get_contact(c, &lookup)).await?;
    let new = match parse_form(ContactForm::from_pairs(&form.pairs)) {
        Ok(new) => new,
        Err(form) => return render_panel(&req, &admin, Some(contact), *form),
    };
    let changes = ContactChanges { name: Some(new.name), email: Some(new.email), phone: None, title: Some(new.title), types: Some(new.types) };
    let (who, url, secrets) = sender_parts(&state, &admin);
    let keep = ContactForm::from_pairs(&form.pairs);
    match db::run(&state.pool, move |c| contacts::update_contact(c, &id, &changes, &Sender { requested_by: &who, public_url: &url, secrets: &secrets })).await {
        Ok(contact) => Ok(redirect_for(&req, &format!("/contacts/{}", contact.id))),
        Err(e @ ContactError::NameTaken(_)) => render_panel(&req, &admin, Some(contact), ContactForm { name_error: Some(e.to_string()), ..keep }),
        Err(e @ (ContactError::AddressLimit { .. } | ContactError::DailyLimit { .. })) => {
            render_panel(&req, &admin, Some(contact), ContactForm { email_error: Some(e.to_string()), ..keep })
        }
        Err(e @ ContactError::Deleting) => render_panel(&req, &admin, Some(contact), ContactForm { form_error: Some(e.to_string()), ..keep }),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- details

#[derive(Template)]
#[template(path = "contacts/detail.html")]
struct DetailPage {
    chrome: Chrome,
    contact: Contact,
    scope: EffectiveScope,
    failed_deletion: Option<DeletionStatus>,
    history: Vec<Verification>,
    now: time::PrimitiveDateTime,
    error: Option<String>,
}

impl DetailPage {
    fn type_labels(&self) -> String {
        self.contact.types().labels()
    }
    fn title_label(&self) -> &'static str {
        self.contact.title.label()
    }
    fn waiting(&self) -> Option<&str> {
        self.contact.address_to_verify()
    }
}

#[derive(Deserialize)]
struct DetailQuery {
    created: Option<String>,
    sent: Option<String>,
}

async fn render_details(state: &AppState, admin: &CurrentAdmin, id: ContactId, flash: Option<String>, error: Option<String>) -> Result<HttpResponse, AppError> {
    let (contact, history, scope, failed_deletion) = db::run(&state.pool, move |c| {
        let contact = contacts::get_contact(c, &id)?;
        let failed = if contact.deletion_failed_at.is_some() { Some(deletion::deletion_status(c, &id, None, 100)?) } else { None };
        Ok::<_, ContactError>((contact, contacts::verification_history(c, &id)?, scope::effective_scope(c, id.as_str())?, failed))
    })
    .await?;
    let mut chrome = Chrome::new(admin, "directory");
    chrome.flash = flash;
    let status = if error.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    html(status, &DetailPage { chrome, contact, scope, failed_deletion, history, now: db::now_utc(), error })
}

async fn details(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, query: web::Query<DetailQuery>) -> Result<HttpResponse, AppError> {
    let id = contact_id(&path)?;
    let flash = if query.created.is_some() {
        Some("Contact created. A verification email is on its way: the contact becomes Active once its owner confirms the address.".to_owned())
    } else {
        query.sent.as_ref().map(|to| format!("A verification email is on its way to {to}."))
    };
    render_details(&state, &admin, id, flash, None).await
}

#[derive(Deserialize)]
struct ResendForm {
    from: Option<String>,
}

async fn resend(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<ResendForm>) -> Result<HttpResponse, AppError> {
    let id = contact_id(&path)?;
    let from_list = form.data.from.as_deref() == Some("list");
    let (who, url, secrets) = sender_parts(&state, &admin);
    let target = id.clone();
    match db::run(&state.pool, move |c| contacts::resend_verification(c, &target, None, &Sender { requested_by: &who, public_url: &url, secrets: &secrets }))
        .await
    {
        Ok(contact) => {
            let to = percent_encoding::utf8_percent_encode(contact.address_to_verify().unwrap_or_default(), percent_encoding::NON_ALPHANUMERIC).to_string();
            Ok(redirect(&if from_list { format!("/contacts?sent={to}") } else { format!("/contacts/{}?sent={to}", contact.id) }))
        }
        Err(e @ (ContactError::AddressLimit { .. } | ContactError::DailyLimit { .. } | ContactError::NothingToVerify(_))) => {
            if from_list {
                render_list(&state, &admin, String::new(), None, None, Some(e.to_string())).await
            } else {
                render_details(&state, &admin, id, None, Some(e.to_string())).await
            }
        }
        Err(e) => Err(e.into()),
    }
}

async fn cancel_update(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<String>,
    _form: CsrfForm<serde::de::IgnoredAny>,
) -> Result<HttpResponse, AppError> {
    let id = contact_id(&path)?;
    let target = id.clone();
    match db::run(&state.pool, move |c| contacts::cancel_pending_email(c, &target, None)).await {
        Ok(contact) => Ok(redirect(&format!("/contacts/{}", contact.id))),
        Err(e @ ContactError::NoPendingChange) => render_details(&state, &admin, id, None, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- quotas

#[derive(Template)]
#[template(path = "settings/quotas.html")]
struct QuotasPage {
    chrome: Chrome,
    used: i64,
    quota: i64,
    value: String,
    error: Option<String>,
}

async fn render_quotas(
    state: &AppState,
    admin: &CurrentAdmin,
    value: Option<String>,
    error: Option<String>,
    flash: Option<String>,
) -> Result<HttpResponse, AppError> {
    let (used, quota) = db::run(&state.pool, contacts::contact_quota).await?;
    let mut chrome = Chrome::new(admin, "settings");
    chrome.flash = flash;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html(status, &QuotasPage { chrome, used, quota, value: value.unwrap_or_else(|| quota.to_string()), error })
}

#[derive(Deserialize)]
struct QuotasQuery {
    saved: Option<String>,
}

async fn quotas(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<QuotasQuery>) -> Result<HttpResponse, AppError> {
    render_quotas(&state, &admin, None, None, query.saved.as_ref().map(|_| "The quota is saved.".to_owned())).await
}

#[derive(Deserialize)]
struct QuotaForm {
    contact_quota: String,
}

async fn set_quotas(state: web::Data<AppState>, admin: CurrentAdmin, form: CsrfForm<QuotaForm>) -> Result<HttpResponse, AppError> {
    let typed = form.data.contact_quota;
    let n = match typed.trim().parse::<i64>() {
        Ok(n) if (1..=100_000).contains(&n) => n,
        _ => return render_quotas(&state, &admin, Some(typed), Some("Enter a whole number from 1 to 100000".into()), None).await,
    };
    match db::run(&state.pool, move |c| contacts::set_contact_quota(c, n)).await {
        Ok(_) => Ok(redirect("/settings/quotas?saved=1")),
        Err(e @ ContactError::QuotaBelowUsage { .. }) => render_quotas(&state, &admin, Some(typed), Some(e.to_string()), None).await,
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- binding

#[derive(Template)]
#[template(path = "contacts/_bind_panel.html")]
struct BindPanel {
    csrf: String,
    contact: Contact,
    folders: Vec<FolderOption>,
    bound: Vec<String>,
    q: String,
    members: Vec<crate::directory::Account>,
    error: Option<String>,
}

impl BindPanel {
    fn is_bound(&self, key: &str) -> bool {
        self.bound.iter().any(|b| b == key)
    }
    fn indent(&self, option: &FolderOption) -> String {
        "\u{a0}\u{a0}\u{a0}".repeat(option.depth.max(0) as usize)
    }
}

#[derive(Template)]
#[template(path = "contacts/bind_page.html")]
struct BindPage {
    chrome: Chrome,
    panel: BindPanel,
}

#[derive(Deserialize)]
struct BindQuery {
    q: Option<String>,
}

async fn render_bind(
    state: &AppState,
    req: &HttpRequest,
    admin: &CurrentAdmin,
    id: ContactId,
    q: String,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let search = q.clone();
    let (contact, folders, bound, members) = db::run(&state.pool, move |c| {
        let contact = contacts::get_contact(c, &id)?;
        let folders = crate::directory::folder_options(c)?;
        let bound = bindings::bindings_of(c, &contact.id)?.into_iter().map(|b| b.target_key).collect();
        let members =
            if search.is_empty() { Vec::new() } else { crate::directory::list_accounts(c, None, Some(&search), PageRequest::with_size(None, 20))?.items };
        Ok::<_, ContactError>((contact, folders, bound, members))
    })
    .await?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let panel = BindPanel { csrf: admin.csrf.clone(), contact, folders, bound, q, members, error };
    if is_htmx(req) { html(status, &panel) } else { html(status, &BindPage { chrome: Chrome::new(admin, "directory"), panel }) }
}

async fn bind_panel(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: CurrentAdmin,
    path: web::Path<String>,
    query: web::Query<BindQuery>,
) -> Result<HttpResponse, AppError> {
    let id = contact_id(&path)?;
    let q = super::render::search_text(query.q.as_deref())?;
    render_bind(&state, &req, &admin, id, q, None).await
}

/// The targets named in a form (`target` fields), parsed.
fn targets_of(pairs: &[(String, String)]) -> Result<Vec<(TargetId, String)>, String> {
    pairs.iter().filter(|(k, _)| k == "target").map(|(_, v)| TargetId::parse(v).map(|t| (t, v.trim().to_owned())).map_err(|e| e.message)).collect()
}

fn back_to(pairs: &[(String, String)], fallback: String) -> String {
    pairs.iter().find(|(k, _)| k == "back").and_then(|(_, v)| super::render::local_path(v)).map(str::to_owned).unwrap_or(fallback)
}

async fn bind(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: CurrentAdmin,
    path: web::Path<String>,
    form: CsrfForm<serde::de::IgnoredAny>,
) -> Result<HttpResponse, AppError> {
    let id = contact_id(&path)?;
    let back = back_to(&form.pairs, format!("/contacts/{id}"));
    let targets = match targets_of(&form.pairs) {
        Ok(t) if !t.is_empty() => t,
        Ok(_) => return render_bind(&state, &req, &admin, id, String::new(), Some("Select at least one object to bind".into())).await,
        Err(e) => return render_bind(&state, &req, &admin, id, String::new(), Some(e)).await,
    };
    let target = id.clone();
    let inline = state.settings.jobs.inline_limit;
    match db::run(&state.pool, move |c| bindings::bind(c, &target, &targets, inline)).await {
        Ok(_) => Ok(redirect_for(&req, &back)),
        Err(
            e @ (ContactError::NotActive(_)
            | ContactError::DuplicateTarget(_)
            | ContactError::AlreadyBound(_)
            | ContactError::InvalidMember(_)
            | ContactError::TooManyTargets { .. }),
        ) => {
            if back.starts_with("/folders/") {
                Err(AppError::Conflict(e.to_string()))
            } else {
                render_bind(&state, &req, &admin, id, String::new(), Some(e.to_string())).await
            }
        }
        Err(e) => Err(e.into()),
    }
}

async fn unbind(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<String>,
    form: CsrfForm<serde::de::IgnoredAny>,
) -> Result<HttpResponse, AppError> {
    let id = contact_id(&path)?;
    let back = back_to(&form.pairs, format!("/contacts/{id}"));
    let targets = targets_of(&form.pairs).map_err(AppError::BadRequest)?;
    let target = id.clone();
    let inline = state.settings.jobs.inline_limit;
    match db::run(&state.pool, move |c| bindings::unbind(c, &target, &targets, inline)).await {
        Ok(_) => Ok(redirect(&back)),
        Err(e @ (ContactError::NotBound(_) | ContactError::InvalidMember(_) | ContactError::DuplicateTarget(_) | ContactError::Deleting)) => {
            render_details(&state, &admin, id, None, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- deletion

#[derive(Template)]
#[template(path = "contacts/delete.html")]
struct DeletePage {
    chrome: Chrome,
    contact: Contact,
    preview: DeletionPreview,
}

async fn delete_dialog(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let id = contact_id(&path)?;
    let (contact, preview) = db::run(&state.pool, move |c| Ok::<_, ContactError>((contacts::get_contact(c, &id)?, deletion::preview(c, &id)?))).await?;
    html(StatusCode::OK, &DeletePage { chrome: Chrome::new(&admin, "directory"), contact, preview })
}

#[derive(Deserialize)]
struct DeleteForm {
    choice: Option<String>,
}

async fn delete(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm<DeleteForm>) -> Result<HttpResponse, AppError> {
    let id = contact_id(&path)?;
    let keep = match form.data.choice.as_deref() {
        Some("remove") => false,
        Some("keep") | None => true,
        Some(_) => return Err(AppError::BadRequest("Choose whether the members keep the contact or not".into())),
    };
    let target = id.clone();
    match db::run(&state.pool, move |c| deletion::delete_contact(c, &target, keep)).await {
        Ok(Deletion::Deleted) => Ok(redirect("/contacts?deleted=1")),
        Ok(Deletion::Deleting { .. }) => Ok(redirect(&format!("/contacts/{id}"))),
        Err(e @ ContactError::DeletionRunning) => render_details(&state, &admin, id, None, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- covered members

#[derive(Template)]
#[template(path = "contacts/members.html")]
struct MembersPage {
    chrome: Chrome,
    contact: Contact,
    members: Page<scope::CoveredMember>,
}

impl MembersPage {
    fn link(&self, page: impl crate::web::render::Value<i64>) -> String {
        format!("?page={}", page.value())
    }
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

async fn members_page(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let id = contact_id(&path)?;
    let page = PageRequest::with_size(query.page, 50);
    let (contact, members) =
        db::run(&state.pool, move |c| Ok::<_, ContactError>((contacts::get_contact(c, &id)?, scope::covered_members(c, id.as_str(), page)?))).await?;
    html(StatusCode::OK, &MembersPage { chrome: Chrome::new(&admin, "directory"), contact, members })
}
