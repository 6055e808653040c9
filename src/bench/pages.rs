//! `rd-contacts bench pages`: renders the main console pages against the configured
//! database (filled with `demo` data first if empty) and prints, per page, its status,
//! how many queries it issued and how long it took.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use diesel::prelude::*;

use crate::config::Settings;
use crate::db::schema::{accounts, folders};
use crate::directory;
use crate::errors::BoxError;
use crate::startup;

const ROUNDS: usize = 5;

pub async fn run(settings: Settings, folders_wanted: usize, members_wanted: usize) -> Result<(), BoxError> {
    super::count_queries();
    let (state, mut conn) = super::prepare_filled(settings, folders_wanted, members_wanted)?;
    let (f, m) = directory::directory_counts(&mut conn)?;
    let rd = directory::get_directory(&mut conn)?;
    let top: String = folders::table.filter(folders::depth.eq(1)).order(folders::name).select(folders::id).first(&mut **conn)?;
    let deep: String = folders::table.order(folders::depth.desc()).select(folders::id).first(&mut **conn)?;
    let member: String = accounts::table.filter(accounts::removed_at.is_null()).order(accounts::id).select(accounts::id).first(&mut **conn)?;
    let (user, password) = super::bench_admin(&mut conn)?;
    drop(conn);

    let app = test::init_service(startup::app(state.clone())).await;
    let mut cookie = String::new();
    let call = async |req: TestRequest, cookie: &mut String| {
        let req = if cookie.is_empty() { req } else { req.insert_header(("Cookie", cookie.clone())) };
        let resp = test::call_service(&app, req.to_request()).await;
        if let Some(c) = resp.response().cookies().last() {
            *cookie = format!("{}={}", c.name(), c.value());
        }
        let status = resp.status();
        let body = test::read_body(resp).await;
        (status, String::from_utf8_lossy(&body).into_owned())
    };
    let (_, login) = call(TestRequest::get().uri("/login"), &mut cookie).await;
    let token = login.split("name=\"csrf_token\" value=\"").nth(1).and_then(|s| s.split('"').next()).ok_or("no CSRF token on the sign-in page")?.to_owned();
    let form = serde_urlencoded::to_string([("csrf_token", token.as_str()), ("username", &user), ("password", &password)])?;
    let (status, _) =
        call(TestRequest::post().uri("/login").insert_header(("Content-Type", "application/x-www-form-urlencoded")).set_payload(form), &mut cookie).await;
    if status != StatusCode::SEE_OTHER {
        return Err(format!("signing in answered {status}").into());
    }

    println!("directory {}: {f} folders, {m} members; {ROUNDS} rounds per page", rd.id);
    println!("{:<44} {:>6} {:>8} {:>10} {:>10}", "page", "status", "queries", "median ms", "max ms");
    let pages = [
        "/directory".to_owned(),
        "/directory?q=retail".to_owned(),
        "/directory?q=retail&page=200".to_owned(),
        format!("/directory/tree/{top}"),
        format!("/folders/{}", rd.root_folder_id),
        format!("/folders/{top}"),
        format!("/folders/{deep}?page=2"),
        format!("/members/{member}"),
        "/contacts".to_owned(),
        "/notifications".to_owned(),
        "/jobs".to_owned(),
    ];
    // The contact with the widest Effective Scope, if any contact is bound.
    let mut conn = state.pool.get()?;
    let widest: Option<String> = crate::db::schema::associations::table
        .group_by(crate::db::schema::associations::contact_id)
        .order(diesel::dsl::count_star().desc())
        .select(crate::db::schema::associations::contact_id)
        .first(&mut **conn)
        .optional()?;
    drop(conn);
    let pages: Vec<String> = pages.into_iter().chain(widest.map(|c| format!("/contacts/{c}"))).collect();
    for path in pages {
        let mut times = Vec::with_capacity(ROUNDS);
        let mut queries = 0;
        let mut status = StatusCode::OK;
        for _ in 0..ROUNDS {
            let before = super::queries();
            let started = Instant::now();
            let (s, _) = call(TestRequest::get().uri(&path), &mut cookie).await;
            times.push(started.elapsed());
            queries = super::queries() - before;
            status = s;
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!("{:<44} {:>6} {:>8} {:>10.1} {:>10.1}", path, status.as_u16(), queries, ms(times[ROUNDS / 2]), ms(times[ROUNDS - 1]));
    }
    let mut conn = state.pool.get()?;
    diesel::delete(crate::db::schema::admins::table.filter(crate::db::schema::admins::username.eq(&user))).execute(&mut **conn)?;
    Ok(())
}
