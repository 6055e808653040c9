//! The test app: the real server on a fresh database (a new SQLite file, or a new
//! PostgreSQL database when TEST_DATABASE_URL is a postgres:// URL, dropped at the end)
//! with an in-memory mailer, driven in-process request by request.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_http::Request;
use actix_service::Service;
use actix_service::boxed::{BoxService, service};
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{Method, StatusCode};
use actix_web::test::{self, TestRequest};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use rd_contacts::api::signature;
use rd_contacts::auth::access_keys;
use rd_contacts::config::{JobSettings, MailSetting, Settings};
use rd_contacts::db::{self, AnyConnection};
use rd_contacts::jobs;
use rd_contacts::mail::{Email, Mailer};
use rd_contacts::startup::{self, AppState};
use serde_json::Value;

type App = BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>;

/// A database of the test's own, dropped with it.
pub struct TestDatabase {
    pub url: String,
    admin_url: Option<String>,
    name: String,
    _dir: tempfile::TempDir,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The migrated PostgreSQL database that each test's database is cloned from (as
/// crates.io's test databases are): named after the migrations, so a changed schema
/// makes a new one, and made once, by whichever test process comes first.
fn pg_template(base: &str) -> String {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let mut hasher = DefaultHasher::new();
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
            let mut files: Vec<_> = walk(&dir);
            files.sort();
            for f in files {
                f.hash(&mut hasher);
                std::fs::read(&f).unwrap().hash(&mut hasher);
            }
            let name = format!("rdc_template_{:016x}", hasher.finish());
            let mut admin = PgConnection::establish(base).expect("TEST_DATABASE_URL must reach PostgreSQL");
            admin.batch_execute("SELECT pg_advisory_lock(7264630)").unwrap();
            let exists: i64 = diesel::RunQueryDsl::get_result::<Count>(
                diesel::sql_query(format!("SELECT COUNT(*) AS n FROM pg_database WHERE datname = '{name}'")),
                &mut admin,
            )
            .unwrap()
            .n;
            if exists == 0 {
                admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
                let url = format!("{}/{name}", base.rsplit_once('/').expect("TEST_DATABASE_URL needs a database name").0);
                let mut any = AnyConnection::Postgresql(PgConnection::establish(&url).unwrap());
                db::run_migrations(&mut any).unwrap();
            }
            admin.batch_execute("SELECT pg_advisory_unlock(7264630)").unwrap();
            name
        })
        .clone()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

impl TestDatabase {
    /// A database with the schema in place (on PostgreSQL, a clone of the template).
    pub fn new() -> TestDatabase {
        TestDatabase::make(true)
    }

    /// A database with nothing in it, not even the schema.
    pub fn empty() -> TestDatabase {
        TestDatabase::make(false)
    }

    fn make(migrated: bool) -> TestDatabase {
        let dir = tempfile::Builder::new().prefix("rdc-test-").tempdir().expect("a temporary directory");
        let name = format!("rdc_t_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst), rand_suffix());
        match std::env::var("TEST_DATABASE_URL").ok().filter(|u| db::is_postgres_url(u)) {
            Some(base) => {
                let template = if migrated { format!(" TEMPLATE {}", pg_template(&base)) } else { String::new() };
                let mut admin = PgConnection::establish(&base).expect("TEST_DATABASE_URL must reach PostgreSQL");
                admin.batch_execute(&format!("CREATE DATABASE {name}{template}")).expect("create the test database");
                let url = match base.rsplit_once('/') {
                    Some((server, _)) => format!("{server}/{name}"),
                    None => panic!("TEST_DATABASE_URL needs a database name"),
                };
                TestDatabase { url, admin_url: Some(base), name, _dir: dir }
            }
            None => TestDatabase { url: dir.path().join("test.db").to_string_lossy().into_owned(), admin_url: None, name, _dir: dir },
        }
    }
}

impl TestDatabase {
    /// The database goes away under the running app: dropped (PostgreSQL, its sessions
    /// cut), or its file deleted (SQLite), as an operator's mistake or a failed disk would.
    pub fn lose(&self) {
        match &self.admin_url {
            Some(base) => {
                let mut admin = PgConnection::establish(base).unwrap();
                admin.batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", self.name)).unwrap();
            }
            None => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.url));
                }
            }
        }
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        TestDatabase::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(base) = &self.admin_url
            && let Ok(mut admin) = PgConnection::establish(base)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

fn rand_suffix() -> String {
    rd_contacts::domain::random_alphanumeric(6).to_lowercase()
}

pub struct Response {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub headers: actix_web::http::header::HeaderMap,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub struct TestApp {
    /// The test may end with jobs queued (workers of its own ran, or it is about them).
    pub leftover_jobs_ok: std::cell::Cell<bool>,
    pub state: AppState,
    pub admin_password: String,
    app: Rc<App>,
    cookies: Vec<(String, String)>,
    pub access_key: Option<(String, String)>,
    /// Kept so that the database lives as long as the app.
    db: Rc<TestDatabase>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// The test app with some settings changed first.
    pub async fn spawn_with(change: impl FnOnce(&mut Settings)) -> TestApp {
        TestApp::spawn_with_mailer(change, None).await
    }

    /// The test app with some settings changed and, when given, this mailer.
    pub async fn spawn_with_mailer(change: impl FnOnce(&mut Settings), mailer: Option<Mailer>) -> TestApp {
        let db = TestDatabase::new();
        let mut settings = settings_for(&db.url);
        change(&mut settings);
        let mailer = mailer.unwrap_or_else(|| Mailer::from_setting(&settings.mail, &settings.mail_from).unwrap());
        let (state, first) = {
            let settings = settings.clone();
            tokio::task::spawn_blocking(move || startup::prepare(settings, mailer).expect("prepare the app")).await.unwrap()
        };
        let app = test::init_service(startup::app(state.clone())).await;
        let app = service(actix_service::ServiceExt::map(app, |res: ServiceResponse<_>| res.map_into_boxed_body()));
        TestApp {
            leftover_jobs_ok: std::cell::Cell::new(false),
            state,
            admin_password: first.admin.expect("a fresh database gets an admin").1,
            app: Rc::new(app),
            cookies: Vec::new(),
            access_key: None,
            db: Rc::new(db),
        }
    }

    /// Another client of the same server: its own cookies (a browser of its own), the
    /// same database, mailer and access key.
    pub fn client(&self) -> TestApp {
        TestApp {
            // Only the first client checks the queue.
            leftover_jobs_ok: std::cell::Cell::new(true),
            state: self.state.clone(),
            admin_password: self.admin_password.clone(),
            app: self.app.clone(),
            cookies: Vec::new(),
            access_key: self.access_key.clone(),
            db: self.db.clone(),
        }
    }

    /// See [`TestDatabase::lose`].
    pub fn lose_database(&self) {
        self.db.lose();
    }

    /// The database's URL (to open connections of one's own).
    pub fn database_url(&self) -> &str {
        &self.db.url
    }

    /// Runs blocking database work in the test.
    pub async fn with_conn<T: Send + 'static>(&self, f: impl FnOnce(&mut AnyConnection) -> T + Send + 'static) -> T {
        let pool = self.state.pool.clone();
        tokio::task::spawn_blocking(move || f(&mut pool.get().expect("a connection"))).await.unwrap()
    }

    pub async fn send(&mut self, req: TestRequest) -> Response {
        let mut req = req;
        if !self.cookies.is_empty() {
            let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            req = req.insert_header(("Cookie", cookie));
        }
        let resp = match self.app.call(req.to_request()).await {
            Ok(resp) => resp.into_parts().1,
            Err(e) => e.error_response(),
        };
        for c in resp.cookies() {
            self.cookies.retain(|(k, _)| k != c.name());
            if !c.value().is_empty() {
                self.cookies.push((c.name().to_owned(), c.value().to_owned()));
            }
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let location = headers.get("location").map(|v| v.to_str().unwrap().to_owned());
        let bytes = actix_web::body::to_bytes(resp.into_body()).await.unwrap_or_default();
        Response { status, location, body: String::from_utf8_lossy(&bytes).into_owned(), headers }
    }

    pub async fn get(&mut self, path: &str) -> Response {
        self.send(TestRequest::get().uri(path)).await
    }

    /// The CSRF token of the current session, read from a page like a browser would.
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/login").await;
        let re = regex_lite::Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap();
        re.captures(&page.body).map(|c| c[1].to_owned()).expect("the login page has a CSRF token")
    }

    /// POSTs a form with the session's CSRF token.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// POSTs a form as our script does (HX-Request header).
    pub async fn send_htmx(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send(
            TestRequest::post()
                .uri(path)
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .insert_header(("HX-Request", "true"))
                .set_payload(body),
        )
        .await
    }

    /// `send_htmx` with the session's CSRF token added.
    pub async fn send_htmx_with_token(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.send_htmx(path, &all).await
    }

    /// POSTs exactly these fields (no token added).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send(TestRequest::post().uri(path).insert_header(("Content-Type", "application/x-www-form-urlencoded")).set_payload(body)).await
    }

    /// Forgets the session, as a different browser would.
    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    /// The cookies this client holds (to replay them elsewhere, as a thief would).
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.cookies.clone()
    }

    pub fn set_cookies(&mut self, cookies: Vec<(String, String)>) {
        self.cookies = cookies;
    }

    pub async fn sign_in(&mut self) {
        let password = self.admin_password.clone();
        let resp = self.post("/login", &[("username", "admin"), ("password", &password)]).await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.body);
    }

    /// Drains the job queue, as the workers of `serve` would.
    pub async fn run_pending_jobs(&self) -> usize {
        jobs::run_pending_jobs(&self.state.jobs()).await.expect("jobs run")
    }

    pub fn sent_emails(&self) -> Vec<Email> {
        self.state.mailer.sent()
    }

    async fn key(&mut self) -> (String, String) {
        if self.access_key.is_none() {
            let secrets = self.state.secrets.clone();
            let key = self
                .with_conn(move |c| {
                    access_keys::create_access_key(c, &secrets, "tests", rd_contacts::auth::Role::Admin, &rd_contacts::audit::Actor::cli()).unwrap()
                })
                .await;
            self.access_key = Some((key.id, key.secret));
        }
        self.access_key.clone().unwrap()
    }

    /// Calls an API action, V3-signed in the query like the Python SDK.
    pub async fn api(&mut self, action: &str, params: &[(&str, &str)]) -> Response {
        let (id, secret) = self.key().await;
        self.api_signed(action, params, &id, &secret, &uuid::Uuid::new_v4().simple().to_string(), time::OffsetDateTime::now_utc()).await
    }

    pub async fn api_signed(&mut self, action: &str, params: &[(&str, &str)], key_id: &str, secret: &str, nonce: &str, at: time::OffsetDateTime) -> Response {
        self.api_v3(Method::POST, "2022-04-19", action, params, key_id, secret, nonce, at).await
    }

    /// A V3 call by `method` under `version` (a GET as the SDKs send one, say).
    pub async fn api_as(&mut self, method: Method, version: &str, action: &str, params: &[(&str, &str)]) -> Response {
        let (id, secret) = self.key().await;
        self.api_v3(method, version, action, params, &id, &secret, &uuid::Uuid::new_v4().simple().to_string(), time::OffsetDateTime::now_utc()).await
    }

    #[expect(clippy::too_many_arguments, reason = "every part of a signed request, for tests that change one")]
    async fn api_v3(
        &mut self,
        method: Method,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
        key_id: &str,
        secret: &str,
        nonce: &str,
        at: time::OffsetDateTime,
    ) -> Response {
        let query: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let date = at.format(&time::format_description::well_known::Rfc3339).unwrap().replace(".000000000", "");
        let date = format!("{}Z", &date[..19]);
        let headers = [
            ("host", "rdc.test".to_owned()),
            ("x-acs-action", action.to_owned()),
            ("x-acs-version", version.to_owned()),
            ("x-acs-date", date),
            ("x-acs-signature-nonce", nonce.to_owned()),
            ("x-acs-content-sha256", signature::sha256_hex(b"")),
        ];
        let names: Vec<String> = headers.iter().map(|(k, _)| k.to_string()).collect();
        let canonical = signature::v3_canonical_request(
            method.as_str(),
            "/",
            &query,
            &names,
            |n| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str()),
            &signature::sha256_hex(b""),
        )
        .unwrap();
        let sig = signature::v3_signature(secret, &canonical);
        let mut sorted = names.clone();
        sorted.sort();
        let auth = format!("ACS3-HMAC-SHA256 Credential={key_id},SignedHeaders={},Signature={sig}", sorted.join(";"));
        let qs = serde_urlencoded::to_string(&query).unwrap();
        let mut req = TestRequest::default().method(method).uri(&format!("/?{qs}")).insert_header(("Authorization", auth));
        for (k, v) in &headers {
            req = req.insert_header((*k, v.as_str()));
        }
        self.send(req).await
    }
}

impl TestApp {
    /// A V1 (HMAC-SHA1) call with every parameter in the query string of a GET.
    pub async fn api_v1_get(&mut self, action: &str, params: &[(&str, &str)]) -> Response {
        let (id, secret) = self.key().await;
        let now = time::OffsetDateTime::now_utc();
        let stamp = format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", now.year(), u8::from(now.month()), now.day(), now.hour(), now.minute(), now.second());
        let mut all: Vec<(String, String)> = vec![
            ("Action".into(), action.into()),
            ("Format".into(), "json".into()),
            ("Version".into(), "2022-04-19".into()),
            ("Timestamp".into(), stamp),
            ("SignatureNonce".into(), uuid::Uuid::new_v4().simple().to_string()),
            ("SignatureMethod".into(), "HMAC-SHA1".into()),
            ("SignatureVersion".into(), "1.0".into()),
            ("AccessKeyId".into(), id),
        ];
        all.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let sig = signature::v1_signature(&secret, "GET", &all);
        all.push(("Signature".into(), sig));
        let qs = serde_urlencoded::to_string(&all).unwrap();
        self.send(TestRequest::get().uri(&format!("/?{qs}"))).await
    }

    /// A V3 call with the parameters in a form body, as Terraform sends them.
    pub async fn api_form(&mut self, action: &str, params: &[(&str, &str)]) -> Response {
        let (id, secret) = self.key().await;
        let body = serde_urlencoded::to_string(params).unwrap();
        let hash = signature::sha256_hex(body.as_bytes());
        let now = time::OffsetDateTime::now_utc();
        let date = format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", now.year(), u8::from(now.month()), now.day(), now.hour(), now.minute(), now.second());
        let headers = [
            ("content-type", "application/x-www-form-urlencoded".to_owned()),
            ("host", "rdc.test".to_owned()),
            ("x-acs-action", action.to_owned()),
            ("x-acs-content-sha256", hash.clone()),
            ("x-acs-date", date),
            ("x-acs-signature-nonce", uuid::Uuid::new_v4().simple().to_string()),
            ("x-acs-version", "2022-04-19".to_owned()),
        ];
        let names: Vec<String> = headers.iter().map(|(k, _)| k.to_string()).collect();
        let canonical =
            signature::v3_canonical_request("POST", "/", &[], &names, |n| headers.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str()), &hash).unwrap();
        let auth = format!("ACS3-HMAC-SHA256 Credential={id},SignedHeaders={},Signature={}", names.join(";"), signature::v3_signature(&secret, &canonical));
        let mut req = TestRequest::post().uri("/").insert_header(("Authorization", auth)).set_payload(body);
        for (k, v) in &headers {
            req = req.insert_header((*k, v.as_str()));
        }
        self.send(req).await
    }
}

impl TestApp {
    /// The verification links in the emails sent to `to`, oldest first (the path part).
    pub fn links_sent_to(&self, to: &str) -> Vec<String> {
        let re = regex_lite::Regex::new(r"http://rdc\.test(/verify/[A-Za-z0-9_-]+)").unwrap();
        self.sent_emails().iter().filter(|e| e.to == to).filter_map(|e| re.captures(&e.text).map(|c| c[1].to_owned())).collect()
    }

    /// Opens a verification link as its owner would: the page, then its Confirm button.
    pub async fn follow_link(&mut self, path: &str) -> (Response, Response) {
        let page = self.get(path).await;
        if page.status != StatusCode::OK {
            return (page, Response { status: StatusCode::NOT_FOUND, location: None, body: String::new(), headers: Default::default() });
        }
        let token = capture(&page.body, r#"name="csrf_token" value="([^"]+)""#);
        let done = self.post_raw(path, &[("csrf_token", &token)]).await;
        (page, done)
    }

    /// Invites `email` for `account` as the administrator, accepts the invitation with a
    /// password and leaves the member user signed in (the administrator's session ends).
    pub async fn member_user(&mut self, account: &str, email: &str) {
        self.clear_cookies();
        self.sign_in().await;
        let invited = self.post(&format!("/members/{account}/invite"), &[("email", email)]).await;
        assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
        self.run_pending_jobs().await;
        let re = regex_lite::Regex::new(r"http://rdc\.test(/invite/[A-Za-z0-9_-]+)").unwrap();
        let link =
            self.sent_emails().iter().rev().find(|e| e.to == email).and_then(|e| re.captures(&e.text).map(|c| c[1].to_owned())).expect("an invitation email");
        self.clear_cookies();
        let page = self.get(&link).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let token = capture(&page.body, r#"name="csrf_token" value="([^"]+)""#);
        let done = self.post_raw(&link, &[("csrf_token", &token), ("password", "Tide-lantern-91-quartz"), ("password_again", "Tide-lantern-91-quartz")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(done.location.as_deref(), Some("/my/message-center"));
    }

    /// Adds a contact through the API; returns its id.
    pub async fn add_contact(&mut self, name: &str, email: &str) -> String {
        let resp = self
            .api(
                "AddMessageContact",
                &[
                    ("Name", name),
                    ("EmailAddress", email),
                    ("Title", "TechnicalDirector"),
                    ("MessageTypes.1", "SecurityMessage"),
                    ("MessageTypes.2", "FaultMessage"),
                ],
            )
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
        resp.json()["Contact"]["ContactId"].as_str().unwrap().to_owned()
    }

    /// Adds a contact and confirms its address; returns its id.
    pub async fn active_contact(&mut self, name: &str, email: &str) -> String {
        let id = self.add_contact(name, email).await;
        self.run_pending_jobs().await;
        let link = self.links_sent_to(email).pop().expect("a verification email");
        let (_, done) = self.follow_link(&link).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        id
    }
}

/// As crates.io's test app does: a test that ends with jobs still queued has left work
/// undone that it did not look at.
impl Drop for TestApp {
    fn drop(&mut self) {
        if self.leftover_jobs_ok.get() || std::thread::panicking() {
            return;
        }
        let Ok(mut conn) = self.state.pool.get() else { return };
        let left = jobs::unfinished_count(&mut conn).unwrap_or(0);
        assert_eq!(left, 0, "the test left {left} job(s) queued: run them (run_pending_jobs) or say why not (leftover_jobs_ok)");
    }
}

/// The settings of a test server on this database: in-memory mail, no workers.
pub fn settings_for(database_url: &str) -> Settings {
    Settings {
        addr: "127.0.0.1:0".into(),
        public_url: "http://rdc.test".into(),
        data_dir: std::env::temp_dir(),
        database_url: database_url.to_owned(),
        mail: MailSetting::Memory,
        mail_from: "rd-contacts <no-reply@rdc.test>".into(),
        secret_key: b"a test secret key that is long enough for cookies and sealing, 64+ bytes".to_vec().into(),
        workers: 0,
        jobs: JobSettings::default(),
        metrics_token: None,
        thread_slice: None,
    }
}

/// Sends a response's body through a regex and returns the first capture.
pub fn capture(body: &str, pattern: &str) -> String {
    let re = regex_lite::Regex::new(pattern).unwrap();
    re.captures(body).unwrap_or_else(|| panic!("{pattern} not found in:\n{body}"))[1].to_owned()
}

/// Adds a recipient of the member's own and confirms its address at once, as its owner
/// would through the link (tests of other rules than M6).
pub fn add_confirmed_recipient(
    c: &mut AnyConnection,
    account: &str,
    name: &rd_contacts::domain::RecipientName,
    email: &rd_contacts::domain::EmailAddress,
    types: rd_contacts::domain::MessageTypes,
) -> rd_contacts::message_center::OwnRecipient {
    use diesel::prelude::*;
    let secrets = rd_contacts::secrets::SecretBox::new(b"a test secret key that is long enough for cookies and sealing, 64+ bytes");
    let sender = rd_contacts::mail::Sender { requested_by: "test".into(), public_url: "http://rdc.test".into(), secrets };
    let mut r = rd_contacts::message_center::add_recipient(c, account, name, email, types, &sender, &rd_contacts::audit::Actor::cli()).unwrap();
    let now = db::now_utc();
    diesel::update(rd_contacts::db::schema::mc_recipients::table.find(r.id))
        .set(rd_contacts::db::schema::mc_recipients::verified_at.eq(Some(now)))
        .execute(c)
        .unwrap();
    r.verified_at = Some(now);
    r
}

/// Creates a member without a security email in `folder` (the root folder when `None`),
/// as the console does; returns its id.
pub async fn member_in(app: &TestApp, folder: Option<&str>, name: &'static str) -> String {
    let folder = folder.map(str::to_owned);
    app.with_conn(move |c| {
        let folder = folder.unwrap_or_else(|| rd_contacts::directory::get_directory(c).unwrap().root_folder_id);
        let new = rd_contacts::directory::NewAccount {
            display_name: rd_contacts::domain::DisplayName::parse(name).unwrap(),
            folder: rd_contacts::domain::FolderId::parse(&folder).unwrap(),
            security_email: None,
            account_name_prefix: None,
            join_method: rd_contacts::directory::JoinMethod::Created,
        };
        rd_contacts::membership::create_account(c, &new, &rd_contacts::audit::Actor::cli()).unwrap().id
    })
    .await
}

/// Adds an association by hand, as plain SQL would (the keys' checks are what is tested).
pub fn add_association(c: &mut AnyConnection, account: &str, contact: &str) -> diesel::QueryResult<usize> {
    use diesel::RunQueryDsl;
    diesel::sql_query(format!(
        "INSERT INTO associations (account_id, contact_id, associated_at, mc_opt_out, retained_types) VALUES ('{account}', '{contact}', $1, 0, 0)"
    ))
    .bind::<diesel::sql_types::Timestamp, _>(db::now_utc())
    .execute(c)
}
