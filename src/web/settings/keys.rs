//! Settings → Access keys: the API's keys with what they are for, who made them, their
//! role and when they were last used; create one (its secret is shown on that page only),
//! disable, enable or delete it.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use crate::auth::access_keys::{self, AccessKey, NewAccessKey};
use crate::auth::{AuthError, Role};
use crate::db;
use crate::state::AppState;
use crate::web::filters;
use crate::web::session::{CsrfForm, CurrentAdmin};
use crate::web::{Chrome, Reply, html, redirect};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/access-keys", web::get().to(page))
        .route("/settings/access-keys", web::post().to(create))
        .route("/settings/access-keys/{id}/disable", web::post().to(disable))
        .route("/settings/access-keys/{id}/enable", web::post().to(enable))
        .route("/settings/access-keys/{id}/delete", web::post().to(delete));
}

#[derive(Template)]
#[template(path = "settings/keys.html")]
struct KeysPage {
    chrome: Chrome,
    keys: Vec<AccessKey>,
    description: String,
    role: String,
    error: Option<String>,
    /// The key just created, with its secret: shown on this answer only, never stored in
    /// the clear or carried in a notice.
    created: Option<NewAccessKey>,
}

impl KeysPage {
    fn roles(&self) -> [Role; 2] {
        Role::ALL
    }
}

async fn render(state: &AppState, admin: &CurrentAdmin, description: String, role: String, error: Option<String>, created: Option<NewAccessKey>) -> Reply {
    let keys = db::run(&state.pool, |c| Ok::<_, AuthError>(access_keys::list_access_keys(c)?)).await?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html(status, &KeysPage { chrome: Chrome::new(admin, "settings"), keys, description, role, error, created })
}

async fn page(state: web::Data<AppState>, admin: CurrentAdmin) -> Reply {
    render(&state, &admin, String::new(), Role::Admin.as_str().into(), None, None).await
}

#[derive(Deserialize)]
struct CreateFields {
    description: String,
    role: String,
}

async fn create(state: web::Data<AppState>, admin: CurrentAdmin, form: CsrfForm<CreateFields>) -> Reply {
    let CreateFields { description, role } = form.data;
    let parsed = access_keys::parse_description(&description).and_then(|d| Ok((d, Role::parse(&role)?)));
    let (text, parsed_role) = match parsed {
        Ok(p) => p,
        Err(e) => return render(&state, &admin, description, role, Some(e.message), None).await,
    };
    let (secrets, actor) = (state.secrets.clone(), admin.actor());
    let key = db::run(&state.pool, move |c| access_keys::create_access_key(c, &secrets, &text, parsed_role, &actor)).await?;
    render(&state, &admin, String::new(), Role::Admin.as_str().into(), None, Some(key)).await
}

async fn set_enabled(state: &AppState, admin: &CurrentAdmin, id: String, enabled: bool) -> Reply {
    let actor = admin.actor();
    let key = db::run(&state.pool, move |c| access_keys::set_enabled(c, &id, enabled, &actor)).await?;
    admin.flash.say(if enabled {
        format!("{} works again.", key.id)
    } else {
        format!("{} is disabled: its calls are refused with InvalidAccessKeyId.Inactive until it is enabled.", key.id)
    });
    Ok(redirect("/settings/access-keys"))
}

async fn disable(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, _form: CsrfForm) -> Reply {
    set_enabled(&state, &admin, path.into_inner(), false).await
}

async fn enable(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, _form: CsrfForm) -> Reply {
    set_enabled(&state, &admin, path.into_inner(), true).await
}

async fn delete(state: web::Data<AppState>, admin: CurrentAdmin, path: web::Path<String>, _form: CsrfForm) -> Reply {
    let (id, actor) = (path.into_inner(), admin.actor());
    let key = db::run(&state.pool, move |c| access_keys::delete_access_key(c, &id, &actor)).await?;
    admin.flash.say(format!("{} is deleted; scripts using it can no longer call the API.", key.id));
    Ok(redirect("/settings/access-keys"))
}
