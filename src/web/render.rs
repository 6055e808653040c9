use crate::web::Reply;
use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use askama::Template;

use super::session::CurrentAdmin;

/// What every console page shows around its content: who is signed in, the CSRF token
/// for its forms and the active section of the navigation.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub username: String,
    pub csrf: String,
    pub section: &'static str,
    pub flash: Option<String>,
    /// A viewer: the pages say that changes are not theirs to make.
    pub read_only: bool,
}

impl Chrome {
    pub fn new(admin: &CurrentAdmin, section: &'static str) -> Chrome {
        Chrome { username: admin.username.clone(), csrf: admin.csrf.clone(), section, flash: admin.flash.take(), read_only: !admin.role.can_change() }
    }

    /// The chrome of a member user's pages (only its Message Center in the navigation).
    pub fn member(member: &super::session::CurrentMember) -> Chrome {
        Chrome { username: member.email.clone(), csrf: member.csrf.clone(), section: "member", flash: member.flash.take(), read_only: false }
    }
}

/// Renders a template with a status (422 for a form shown again with its messages).
pub fn html(status: StatusCode, page: &impl Template) -> Reply {
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(page.render()?))
}

/// A redirect target from the request (`next=`, `back=`), when it is a path on this site:
/// it starts with one `/`, and holds only visible ASCII without `\\` (browsers drop tabs
/// and newlines and read `\\` as `/`, so `/\t/evil.example` or `/\\evil.example` would
/// leave the site; CR/LF would break the header). Anything else is refused.
pub fn local_path(candidate: &str) -> Option<&str> {
    let ok =
        candidate.starts_with('/') && !candidate.starts_with("//") && candidate.len() <= 2048 && candidate.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    ok.then_some(candidate)
}

/// A search box's text from the address, parsed: empty when nothing was typed; a text the
/// search cannot take (a control character, too long) is a page that says so.
pub fn search_text(q: Option<&str>) -> Result<String, crate::web::AppError> {
    crate::domain::SearchText::parse(q.unwrap_or(""))
        .map(|t| t.map(|t| t.as_str().to_owned()).unwrap_or_default())
        .map_err(|e| crate::web::AppError::BadRequest(format!("{}.", e.message)))
}

/// POST/Redirect/GET.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// The same for a form our script sent (`HX-Request`): it navigates on `HX-Redirect`,
/// since a fetch that follows a 303 itself would load the page for nothing.
pub fn redirect_for(req: &actix_web::HttpRequest, location: &str) -> HttpResponse {
    if req.headers().contains_key("HX-Request") { HttpResponse::Ok().insert_header(("HX-Redirect", location)).finish() } else { redirect(location) }
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

/// The filters of our templates: `{{ t|when }}`, `{{ t|date }}`, `{{ t|iso }}`, `{{ t|when_exact }}`,
/// `{{ n|plural("member", "members") }}`, `{{ id|encoded }}`. A module whose templates use them imports
/// `crate::web::filters` (askama looks for `filters` beside the template's struct).
pub mod filters {
    use askama::{Result, Values};

    use super::Value;

    /// A timestamp for people, to the minute: `2026-11-28 04:19 UTC`.
    #[askama::filter_fn]
    pub fn when(t: impl Value<time::PrimitiveDateTime>, _: &dyn Values) -> Result<String> {
        let t = t.value();
        Ok(format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute()))
    }

    /// The day only, for tables: `2026-11-28`.
    #[askama::filter_fn]
    pub fn date(t: impl Value<time::PrimitiveDateTime>, _: &dyn Values) -> Result<String> {
        let t = t.value();
        Ok(format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
    }

    /// For `<time datetime>`: `2026-11-28T04:19:07Z`.
    #[askama::filter_fn]
    pub fn iso(t: impl Value<time::PrimitiveDateTime>, _: &dyn Values) -> Result<String> {
        let t = t.value();
        Ok(format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second()))
    }

    /// A timestamp to the second, as the emails write it (a link's expiry).
    #[askama::filter_fn]
    pub fn when_exact(t: impl Value<time::PrimitiveDateTime>, _: &dyn Values) -> Result<String> {
        Ok(crate::domain::when_utc(t.value()))
    }

    /// A value for a link's query string, percent-encoded: `/audit?target={{ id|encoded }}`.
    #[askama::filter_fn]
    pub fn encoded(s: impl std::fmt::Display, _: &dyn Values) -> Result<String> {
        Ok(percent_encoding::utf8_percent_encode(&s.to_string(), percent_encoding::NON_ALPHANUMERIC).to_string())
    }

    /// A count with its noun: "1 member", "3 members".
    #[askama::filter_fn]
    pub fn plural(n: impl Value<i64>, _: &dyn Values, one: &str, many: &str) -> Result<String> {
        let n = n.value();
        Ok(format!("{n} {}", if n == 1 { one } else { many }))
    }
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

#[cfg(test)]
mod tests {
    use super::{filters, local_path};

    #[test]
    fn only_a_path_on_this_site_is_a_redirect_target() {
        for good in ["/directory", "/folders/fd-1?page=2&q=a%20b", "/"] {
            assert_eq!(local_path(good), Some(good));
        }
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "https://evil.example",
            "evil.example",
            "/a\r\nSet-Cookie: x=1",
            "/ünicode",
            "",
            "/with space",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[derive(askama::Template)]
    #[template(
        source = "{{ at|when }} · {{ at|when_exact }} · {{ one|plural(\"member\", \"members\") }} · {{ three|plural(\"member\", \"members\") }}",
        ext = "txt"
    )]
    struct Dates {
        at: time::PrimitiveDateTime,
        one: i64,
        three: i64,
    }

    #[test]
    fn templates_write_times_in_utc_and_counts_with_their_noun() {
        let at = time::Date::from_calendar_date(2026, time::Month::November, 28).unwrap().with_hms(4, 19, 7).unwrap();
        let text = askama::Template::render(&Dates { at, one: 1, three: 3 }).unwrap();
        assert_eq!(text, "2026-11-28 04:19 UTC · 2026-11-28 04:19:07 UTC · 1 member · 3 members");
    }
}
