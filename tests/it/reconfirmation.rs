//! Optional re-confirmation (`RDC_RECONFIRM_MONTHS`): a contact verified longer ago is
//! asked to confirm its address again; one that has not after 30 days is shown stale and
//! still receives; off by default.

use actix_web::http::StatusCode;
use diesel::prelude::*;
use rd_contacts::db::schema::{audit_events, contacts};
use rd_contacts::db::{AnyConnection, now_utc};
use rd_contacts::jobs::Upkeep;
use time::{Duration, PrimitiveDateTime};

use crate::support::TestApp;

const TASK: &str = "ask contacts to confirm their address again";

/// Runs the re-confirmation upkeep once, as a server would; returns how many were asked.
async fn run_upkeep(app: &TestApp) -> usize {
    let registry = rd_contacts::startup::job_registry();
    let task = registry.periodic().iter().find(|p| p.name == TASK).expect("the re-confirmation is registered").run;
    let upkeep = Upkeep { settings: app.state.settings.jobs.clone(), sender: app.state.sender("rd-contacts") };
    let asked = app.with_conn(move |c| task(c, &upkeep).unwrap()).await;
    app.run_pending_jobs().await;
    asked
}

fn set_times(c: &mut AnyConnection, id: &str, verified: PrimitiveDateTime, asked: Option<PrimitiveDateTime>) {
    diesel::update(contacts::table.find(id)).set((contacts::verified_at.eq(Some(verified)), contacts::reconfirm_sent_at.eq(asked))).execute(c).unwrap();
}

fn reconfirm_sent_at(c: &mut AnyConnection, id: &str) -> Option<PrimitiveDateTime> {
    contacts::table.find(id).select(contacts::reconfirm_sent_at).first(c).unwrap()
}

#[actix_web::test]
async fn a_contact_verified_longer_ago_than_the_setting_is_asked_again_and_its_link_reconfirms_it() {
    let mut app = TestApp::spawn_with(|s| s.jobs.reconfirm_months = Some(12)).await;
    let old = app.active_contact("old", "old@example.com").await;
    let young = app.active_contact("young", "young@example.com").await;
    let o = old.clone();
    app.with_conn(move |c| set_times(c, &o, now_utc() - Duration::days(400), None)).await;

    assert_eq!(run_upkeep(&app).await, 1, "only the contact verified over 12 months ago");
    let mail = app.sent_emails().into_iter().rev().find(|e| e.to == "old@example.com").expect("a re-confirmation email");
    assert!(mail.subject.contains("still read this address"), "{}", mail.subject);
    assert!(mail.text.contains("Please confirm old@example.com"), "{}", mail.text);
    assert!(app.sent_emails().iter().filter(|e| e.to == "young@example.com").count() == 1, "the young one only got its first verification");
    assert_eq!(run_upkeep(&app).await, 0, "asked once, not on every run");

    // The contact page says it was asked; the link confirms it again.
    app.sign_in().await;
    let page = app.get(&format!("/contacts/{old}")).await;
    assert!(page.body.contains("to confirm that this address still reaches its owner"), "{}", page.body);
    let link = app.links_sent_to("old@example.com").pop().unwrap();
    let (shown, done) = app.follow_link(&link).await;
    assert_eq!((shown.status, done.status), (StatusCode::OK, StatusCode::OK), "{}", done.body);
    let o = old.clone();
    let (asked, verified) = app
        .with_conn(move |c| (reconfirm_sent_at(c, &o), contacts::table.find(&o).select(contacts::verified_at).first::<Option<PrimitiveDateTime>>(c).unwrap()))
        .await;
    assert_eq!(asked, None);
    assert!(verified.unwrap() > now_utc() - Duration::minutes(5), "verified again just now");
    let actions: Vec<String> = app
        .with_conn(move |c| audit_events::table.filter(audit_events::target_id.eq(&old)).order(audit_events::seq).select(audit_events::action).load(c).unwrap())
        .await;
    assert!(actions.ends_with(&["contact.reconfirm_sent".to_owned(), "contact.reconfirm".to_owned()]), "{actions:?}");
    let _ = young;
}

#[actix_web::test]
async fn a_contact_that_does_not_reconfirm_within_30_days_is_shown_stale_and_still_receives() {
    let mut app = TestApp::spawn_with(|s| s.jobs.reconfirm_months = Some(6)).await;
    let tom = app.active_contact("tom", "tom@example.com").await;
    let root = app.with_conn(|c| rd_contacts::directory::get_directory(c).unwrap().root_folder_id).await;
    let m = app.api("CreateResourceAccount", &[("DisplayName", "payments"), ("ParentFolderId", &root)]).await.json()["Account"]["AccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.api("AssociateMembers", &[("ContactId", &tom), ("Members.1", &m)]).await;
    let t = tom.clone();
    app.with_conn(move |c| set_times(c, &t, now_utc() - Duration::days(250), Some(now_utc() - Duration::days(31)))).await;

    app.sign_in().await;
    let list = app.get("/contacts").await;
    assert!(list.body.contains("status-stale"), "{}", list.body);
    let page = app.get(&format!("/contacts/{tom}")).await;
    assert!(page.body.contains("status-stale") && page.body.contains("It still receives notifications"), "{}", page.body);

    let sent_before = app.sent_emails().iter().filter(|e| e.to == "tom@example.com").count();
    let published = app.api("PublishNotification", &[("MessageType", "SecurityMessage"), ("Subject", "s"), ("Content", "c"), ("AccountId", &m)]).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    app.run_pending_jobs().await;
    assert_eq!(app.sent_emails().iter().filter(|e| e.to == "tom@example.com").count(), sent_before + 1, "a stale contact still receives");
    assert_eq!(run_upkeep(&app).await, 0, "already asked: not asked again");

    // The administrator can send the link again from the contact page.
    let resent = app.post(&format!("/contacts/{tom}/resend"), &[]).await;
    assert_eq!(resent.status, StatusCode::SEE_OTHER, "{}", resent.body);
    app.run_pending_jobs().await;
    assert!(app.sent_emails().last().unwrap().subject.contains("still read this address"));
}

#[actix_web::test]
async fn without_the_setting_nobody_is_asked_to_reconfirm() {
    let mut app = TestApp::spawn().await;
    assert_eq!(app.state.settings.jobs.reconfirm_months, None, "off by default");
    let tom = app.active_contact("tom", "tom@example.com").await;
    app.with_conn(move |c| set_times(c, &tom, now_utc() - Duration::days(4000), None)).await;
    let before = app.sent_emails().len();
    assert_eq!(run_upkeep(&app).await, 0);
    assert_eq!(app.sent_emails().len(), before);
}

#[actix_web::test]
async fn reconfirmation_leaves_half_the_daily_verification_limit_to_administrators() {
    use rd_contacts::db::schema::contact_verifications;
    let mut app = TestApp::spawn_with(|s| s.jobs.reconfirm_months = Some(1)).await;
    let mut old = Vec::new();
    for n in ["alpha", "bravo", "charlie"] {
        let id = app.active_contact(&format!("old{n}"), &format!("old-{n}@example.com")).await;
        let i = id.clone();
        app.with_conn(move |c| set_times(c, &i, now_utc() - Duration::days(60), None)).await;
        old.push(id);
    }
    // The three verifications above and 46 more today: one below half of the limit.
    app.with_conn(|c| {
        for n in 0..46 {
            diesel::insert_into(contact_verifications::table)
                .values((
                    contact_verifications::address.eq(format!("other-{n}@example.com")),
                    contact_verifications::address_key.eq(format!("other-{n}@example.com")),
                    contact_verifications::token_hash.eq(format!("hash-{n}")),
                    contact_verifications::requested_by.eq("admin"),
                    contact_verifications::sent_at.eq(now_utc()),
                    contact_verifications::expires_at.eq(now_utc() + Duration::days(7)),
                ))
                .execute(c)
                .unwrap();
        }
    })
    .await;
    assert_eq!(rd_contacts::contacts::DAILY_LIMIT / 2, 50);
    assert_eq!(run_upkeep(&app).await, 1, "one more send reaches half of the daily limit");
    let asked = app.with_conn(move |c| old.iter().filter(|id| reconfirm_sent_at(c, id).is_some()).count()).await;
    assert_eq!(asked, 1, "the others wait for a later run");
}
