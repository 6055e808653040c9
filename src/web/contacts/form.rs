//! The Create/Modify panel (a page of its own without JavaScript).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;

use crate::contacts::{self, Contact, ContactChanges, ContactError, NewContact};
use crate::db;
use crate::domain::{ContactName, EmailAddress, MessageType, MessageTypes, Title};
use crate::state::AppState;
use crate::web::session::{CsrfForm, CurrentAdmin};
use crate::web::{Chrome, Reply, html, redirect_for};

use super::{contact_id, is_htmx};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts", web::post().to(create))
        .route("/contacts/new", web::get().to(new_form))
        .route("/contacts/{id}", web::post().to(update))
        .route("/contacts/{id}/edit", web::get().to(edit_form));
}

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

fn render_panel(req: &HttpRequest, admin: &CurrentAdmin, contact: Option<Contact>, form: ContactForm) -> Reply {
    let status = if form.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let panel = Panel { csrf: admin.csrf.clone(), contact, form };
    if is_htmx(req) { html(status, &panel) } else { html(status, &FormPage { chrome: Chrome::new(admin, "directory"), panel }) }
}

async fn new_form(req: HttpRequest, admin: CurrentAdmin) -> Reply {
    render_panel(&req, &admin, None, ContactForm::default())
}

async fn create(state: web::Data<AppState>, req: HttpRequest, admin: CurrentAdmin, form: CsrfForm) -> Reply {
    let typed = ContactForm::from_pairs(&form.pairs);
    let new = match parse_form(typed) {
        Ok(new) => new,
        Err(form) => return render_panel(&req, &admin, None, *form),
    };
    let sender = state.sender(&admin.username);
    let keep = ContactForm::from_pairs(&form.pairs);
    let actor = admin.actor();
    match db::run(&state.pool, move |c| contacts::create_contact(c, &new, &sender, &actor)).await {
        Ok(contacts::Saved { contact, not_sent: None }) => {
            admin.flash.say(format!(
                "{} is created. A verification email is on its way to {}: the contact becomes Active once its owner confirms the address.",
                contact.name, contact.email
            ));
            Ok(redirect_for(&req, &format!("/contacts/{}", contact.id)))
        }
        Ok(contacts::Saved { contact, not_sent: Some(why) }) => {
            admin.flash.say(format!("{} is created, but the verification email was not sent: {why} Send it again from the contact's page.", contact.name));
            Ok(redirect_for(&req, &format!("/contacts/{}", contact.id)))
        }
        Err(e @ ContactError::NameTaken(_)) => render_panel(&req, &admin, None, ContactForm { name_error: Some(e.to_string()), ..keep }),
        Err(e @ ContactError::QuotaExceeded { .. }) => {
            render_panel(&req, &admin, None, ContactForm { form_error: Some(e.to_string()), quota_full: true, ..keep })
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_form(state: web::Data<AppState>, req: HttpRequest, admin: CurrentAdmin, path: web::Path<String>) -> Reply {
    let id = contact_id(&path)?;
    let contact = db::run(&state.pool, move |c| contacts::get_contact(c, &id)).await?;
    let form = ContactForm::from_contact(&contact);
    render_panel(&req, &admin, Some(contact), form)
}

async fn update(state: web::Data<AppState>, req: HttpRequest, admin: CurrentAdmin, path: web::Path<String>, form: CsrfForm) -> Reply {
    let id = contact_id(&path)?;
    let lookup = id.clone();
    let contact = db::run(&state.pool, move |c| contacts::get_contact(c, &lookup)).await?;
    let new = match parse_form(ContactForm::from_pairs(&form.pairs)) {
        Ok(new) => new,
        Err(form) => return render_panel(&req, &admin, Some(contact), *form),
    };
    let changes = ContactChanges { name: Some(new.name), email: Some(new.email), phone: None, title: Some(new.title), types: Some(new.types) };
    let sender = state.sender(&admin.username);
    let keep = ContactForm::from_pairs(&form.pairs);
    let email_before = contact.pending_email.clone().unwrap_or_else(|| contact.email.clone());
    let actor = admin.actor();
    match db::run(&state.pool, move |c| contacts::update_contact(c, &id, &changes, &sender, &actor)).await {
        Ok(contacts::Saved { contact, not_sent }) => {
            let waiting = contact.address_to_verify().filter(|a| !a.eq_ignore_ascii_case(&email_before));
            admin.flash.say(match (waiting, not_sent) {
                (Some(to), Some(why)) => format!("Saved, but the verification email to {to} was not sent: {why} Send it again from this page."),
                (Some(to), None) => {
                    format!("Saved. A verification email is on its way to {to}; notifications keep going to {} until it is confirmed.", contact.email)
                }
                (None, _) => "Saved.".to_owned(),
            });
            Ok(redirect_for(&req, &format!("/contacts/{}", contact.id)))
        }
        Err(e @ ContactError::NameTaken(_)) => render_panel(&req, &admin, Some(contact), ContactForm { name_error: Some(e.to_string()), ..keep }),
        Err(e @ ContactError::Deleting) => render_panel(&req, &admin, Some(contact), ContactForm { form_error: Some(e.to_string()), ..keep }),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- details
