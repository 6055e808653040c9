use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use askama::Template;

use super::session::CurrentAdmin;
use crate::errors::AppError;

/// What every console page shows around its content: who is signed in, the CSRF token
/// for its forms and the active section of the navigation.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub username: String,
    pub csrf: String,
    pub section: &'static str,
    pub flash: Option<String>,
}

impl Chrome {
    pub fn new(admin: &CurrentAdmin, section: &'static str) -> Chrome {
        Chrome { username: admin.username.clone(), csrf: admin.csrf.clone(), section, flash: None }
    }

    /// The chrome of a member user's pages (only its Message Center in the navigation).
    pub fn member(member: &super::session::CurrentMember) -> Chrome {
        Chrome { username: member.email.clone(), csrf: member.csrf.clone(), section: "member", flash: None }
    }
}

/// Renders a template with a status (422 for a form shown again with its messages).
pub fn html(status: StatusCode, page: &impl Template) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(page.render()?))
}

/// POST/Redirect/GET.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// The same for a form our script sent (`HX-Request`): it navigates on `HX-Redirect`,
/// since a fetch that follows a 303 itself would load the page for nothing.
pub fn redirect_for(req: &actix_web::HttpRequest, location: &str) -> HttpResponse {
    if req.headers().contains_key("HX-Request") {
        HttpResponse::Ok().insert_header(("HX-Redirect", location)).finish()
    } else {
        redirect(location)
    }
}

/// Lets the helpers below take a value however deeply askama referenced it.
pub trait Value<T> {
    fn value(&self) -> T;
}

impl Value<time::PrimitiveDateTime> for time::PrimitiveDateTime {
    fn value(&self) -> time::PrimitiveDateTime {
        *self
    }
}

impl Value<i64> for i64 {
    fn value(&self) -> i64 {
        *self
    }
}

impl<T, V: Value<T> + ?Sized> Value<T> for &V {
    fn value(&self) -> T {
        (**self).value()
    }
}

/// A timestamp for people: `2026-11-28 04:19 UTC`.
pub fn when(t: impl Value<time::PrimitiveDateTime>) -> String {
    let t = t.value();
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// "1 member", "3 members".
pub fn plural(n: impl Value<i64>, one: &str, many: &str) -> String {
    let n = n.value();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A query string for a page link: `?q=…&page=N`, with `q` left out when empty.
pub fn page_link(q: &str, page: impl Value<i64>) -> String {
    let page = page.value();
    if q.is_empty() {
        format!("?page={page}")
    } else {
        format!("?q={}&page={page}", percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC))
    }
}
