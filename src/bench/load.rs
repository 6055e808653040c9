//! `rd-contacts bench load`: the console's pages under load, over real HTTP. It fills an
//! empty directory, starts the server in this process, signs in, then drives each page
//! with `connections` keep-alive connections for `seconds` seconds (wrk when it is
//! installed, else a small HTTP/1.1 client of our own) and prints req/s, p50 and p99. On PostgreSQL, with `pgbench` on
//! the PATH, `pgbench -S` runs beside the whole load on a scratch database, and each
//! page's rate is also shown as a share of its transactions per second: absolute
//! figures move from run to run, the ratio much less.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::Settings;
use crate::contacts;
use crate::db::schema::{accounts, folders};
use crate::domain::{ContactId, FolderId, TargetId};
use crate::errors::BoxError;
use crate::{directory, jobs, startup};

/// What one connection saw: each request's time, and the answers that were not 200.
struct Tally {
    latencies: Vec<Duration>,
    failures: usize,
}

pub async fn run(
    settings: Settings,
    folders_wanted: usize,
    members_wanted: usize,
    connections: usize,
    seconds: u64,
    pgbench: bool,
    only: Option<&str>,
) -> Result<(), BoxError> {
    let database_url = settings.database_url.clone();
    let (state, mut conn) = super::prepare_filled(settings, folders_wanted, members_wanted)?;
    let (f, m) = directory::directory_counts(&mut conn)?;
    let rd = directory::get_directory(&mut conn)?;
    let deep: String = folders::table.filter(folders::depth.eq(2)).order(folders::name).select(folders::id).first(&mut **conn)?;
    let member: String = accounts::table.filter(accounts::removed_at.is_null()).order(accounts::id).select(accounts::id).first(&mut **conn)?;
    let contact = contact_bound_at_root(&mut conn, &rd.root_folder_id, &state.sender("bench"))?;
    let (user, password) = super::bench_admin(&mut conn)?;
    let (member_user, member_email, member_password) = super::bench_member_user(&mut conn, &member)?;
    let key = crate::auth::access_keys::create_access_key(&mut conn, &state.secrets, "bench load", crate::auth::Role::Viewer, &crate::audit::Actor::cli())?;
    drop(conn);
    // The binding's propagation, as the workers would run it.
    while jobs::run_pending_jobs(&state.jobs()).await? > 0 {}

    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server_state = state.clone();
    let http_workers = state.settings.workers.max(2);
    let server = actix_web::HttpServer::new(move || startup::worker_app(server_state.clone()))
        .workers(http_workers)
        .worker_max_blocking_threads(startup::blocking_threads(&state.settings, http_workers))
        .listen(listener)?
        .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let cookie = sign_in(addr, &user, &password).await?;
    let member_cookie = sign_in(addr, &member_email, &member_password).await?;
    let page = |path: String| Target::Page { path, cookie: cookie.clone() };
    let api = |action: &'static str, params: &[(&str, &str)]| Target::Api {
        action,
        params: params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        key_id: key.id.clone(),
        secret: key.secret.clone(),
    };
    // Two floors first: `/healthz` answers without a page, so what it takes beside pgbench
    // is what this machine takes to answer at all (the HTTP round trip), and then with the
    // session's read that every signed-in page makes before its own.
    let targets = [
        Target::Page { path: FLOOR.to_owned(), cookie: String::new() },
        page(FLOOR.to_owned()),
        page("/directory".to_owned()),
        page("/directory?q=retail".to_owned()),
        page(format!("/folders/{deep}")),
        page(format!("/members/{member}")),
        page("/contacts".to_owned()),
        page(format!("/contacts/{contact}")),
        page("/notifications".to_owned()),
        page("/jobs".to_owned()),
        // The member's own user, in its Message Center.
        Target::Page { path: "/my/message-center".to_owned(), cookie: member_cookie.clone() },
        api("ListAccounts", &[("PageSize", "20")]),
        api("ListAccounts", &[("QueryKeyword", "retail")]),
        api("GetAccount", &[("AccountId", &member)]),
        api("ListMessageContacts", &[]),
        api("GetMessageContact", &[("ContactId", &contact)]),
    ];
    let targets: Vec<_> = targets.into_iter().filter(|t| only.is_none_or(|text| t.label().contains(text))).collect();
    // A second a target for starting each one, so that pgbench outlasts the load.
    let wrk = Wrk::available();
    let calls = if wrk { SignedCalls::sign(&targets, seconds)? } else { SignedCalls::none(targets.len()) };
    let pgbench = if pgbench { PgBench::start(&database_url, connections, (seconds + 1) * targets.len() as u64 + 2)? } else { PgBench::none() };
    println!(
        "load generator: {}",
        if wrk { "wrk, in its own process (the API's calls signed beforehand)" } else { "our own client (install wrk for a lighter one)" }
    );
    println!("directory {}: {f} folders, {m} members; {connections} connections, {seconds} s per page", rd.id);
    if wrk {
        // wrk's `stats_correct`: each answer slower than twice a connection's mean interval
        // also counts the requests it held back, one per interval.
        println!("p50 and p99 as wrk counts them: a stall that holds every connection also counts the requests it kept from being sent");
    }
    println!("server p99: from a request's arrival at the server to its answer, as the server timed it");
    println!("{:<44} {:>9} {:>8} {:>8} {:>8} {:>8}", "page", "req/s", "p50 ms", "p99 ms", "server", "failed");
    let mut rates = Vec::new();
    let mut failed = 0;
    for (target, calls) in targets.iter().zip(&calls.files) {
        crate::observability::time_requests();
        let figures = if wrk { Wrk::run(addr, target, calls, connections, seconds)? } else { own_client(addr, target, connections, seconds).await? };
        let server = crate::observability::timed_requests();
        let server_p99 = percentile(&server.micros, 0.99).map_or(0.0, |us| f64::from(us) / 1000.0);
        // wrk counts its socket errors and timeouts; the server, the answers that were not
        // 200 (a redirect to the sign-in page is a failure here). Our client counts both.
        let failures = if wrk { figures.failures + server.not_ok } else { figures.failures };
        println!("{:<44} {:>9.0} {:>8.1} {:>8.1} {:>8.1} {:>8}", target.label(), figures.rate, figures.p50_ms, figures.p99_ms, server_p99, failures);
        rates.push((target.label(), figures.rate));
        failed += failures;
    }
    if let Some(tps) = pgbench.finish()? {
        println!("pgbench -S beside the load: {tps:.0} tps; each page's req/s per 1,000 pgbench tps:");
        for (path, rate) in rates {
            println!("  {:<42} {:>8.1}", path, rate / tps * 1000.0);
        }
    }
    if let Some((now, peak)) = resident_memory() {
        let whose = if wrk { "the server (wrk runs apart)" } else { "this process (server and client)" };
        println!("resident memory of {whose}: {now} MB now, {peak} MB at most");
    }
    handle.stop(true).await;
    let mut conn = state.pool.get()?;
    diesel::delete(crate::db::schema::admins::table.filter(crate::db::schema::admins::username.eq(&user))).execute(&mut **conn)?;
    diesel::delete(crate::db::schema::sessions::table.filter(crate::db::schema::sessions::member_user_id.eq(member_user))).execute(&mut **conn)?;
    diesel::delete(crate::db::schema::member_users::table.find(member_user)).execute(&mut **conn)?;
    crate::auth::access_keys::delete_access_key(&mut conn, &key.id, &crate::audit::Actor::cli())?;
    if failed > 0 {
        return Err(format!("{failed} requests did not answer 200").into());
    }
    Ok(())
}

/// This process's resident memory now and at its peak, in MB (Linux only).
fn resident_memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = |key: &str| status.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    Some((kb("VmRSS:")? / 1024, kb("VmHWM:")? / 1024))
}

/// A contact bound at the root (an earlier run's, or a fresh Active one), so its details
/// page shows the whole directory as its Effective Scope.
fn contact_bound_at_root(conn: &mut crate::db::AnyConnection, root: &str, sender: &contacts::Sender) -> Result<String, BoxError> {
    use crate::db::schema::bindings;
    let earlier: Option<String> = bindings::table.filter(bindings::target_key.eq(root)).select(bindings::contact_id).first(conn).optional()?;
    if let Some(id) = earlier {
        return Ok(id);
    }
    let contact = super::active_contact(conn, "Load", sender)?;
    let id = ContactId::parse(&contact.id)?;
    let target = vec![(TargetId::Folder(FolderId::parse(root)?), root.to_owned())];
    contacts::bindings::bind(conn, &id, &target, 0, &crate::audit::Actor::cli())?;
    Ok(contact.id)
}

async fn sign_in(addr: SocketAddr, user: &str, password: &str) -> Result<String, BoxError> {
    let mut stream = TcpStream::connect(addr).await?;
    let (status, headers, body) = request(&mut stream, "GET", "/login", "", None).await?;
    if status != 200 {
        return Err(format!("the sign-in page answered {status}").into());
    }
    let cookie = set_cookie(&headers).ok_or("the sign-in page set no cookie")?;
    let token = body.split("name=\"csrf_token\" value=\"").nth(1).and_then(|s| s.split('"').next()).ok_or("no CSRF token on the sign-in page")?.to_owned();
    let form = serde_urlencoded::to_string([("csrf_token", token.as_str()), ("username", user), ("password", password)])?;
    let (status, headers, _) = request(&mut stream, "POST", "/login", &cookie, Some(&form)).await?;
    if status != 303 {
        return Err(format!("signing in answered {status}").into());
    }
    Ok(set_cookie(&headers).unwrap_or(cookie))
}

fn set_cookie(headers: &str) -> Option<String> {
    headers
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.trim().split(';').next().map(str::to_owned))
        .next_back()
}

/// What one page's load gave.
struct Figures {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    failures: usize,
}

/// The page that measures the floors: it answers without reading anything.
const FLOOR: &str = "/healthz";

/// What a connection asks for: a console page as the signed-in administrator, or an API
/// action with a new signature for each call (HMAC-SHA1, as the SDKs' V1 signature),
/// since a signature's nonce is good for one call only.
#[derive(Clone)]
enum Target {
    Page { path: String, cookie: String },
    Api { action: &'static str, params: Vec<(String, String)>, key_id: String, secret: String },
}

impl Target {
    fn label(&self) -> String {
        match self {
            Target::Page { path, cookie } if path == FLOOR => {
                format!("floor: {FLOOR}, {}", if cookie.is_empty() { "no session" } else { "the session's read" })
            }
            Target::Page { path, .. } => path.clone(),
            Target::Api { action, params, .. } => {
                let args: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("API {action} {}", args.join(" "))
            }
        }
    }

    /// The request's path and query, and its cookie.
    fn next(&self) -> (String, &str) {
        match self {
            Target::Page { path, cookie } => (path.clone(), cookie),
            Target::Api { .. } => (self.call_at(time::OffsetDateTime::now_utc()), ""),
        }
    }

    /// An API call signed with a new nonce, dated `at`: its path and query.
    fn call_at(&self, at: time::OffsetDateTime) -> String {
        match self {
            Target::Page { path, .. } => path.clone(),
            Target::Api { action, params, key_id, secret } => {
                let mut all: Vec<(String, String)> = params.clone();
                for (k, v) in [
                    ("Action", (*action).to_owned()),
                    ("Version", "2022-04-19".to_owned()),
                    ("Format", "JSON".to_owned()),
                    ("AccessKeyId", key_id.clone()),
                    ("SignatureMethod", "HMAC-SHA1".to_owned()),
                    ("SignatureVersion", "1.0".to_owned()),
                    ("SignatureNonce", uuid::Uuid::new_v4().simple().to_string()),
                    ("Timestamp", api_timestamp(at)),
                ] {
                    all.push((k.to_owned(), v));
                }
                let signature = crate::api::signature::v1_signature(secret, "GET", &all);
                all.push(("Signature".to_owned(), signature));
                let query: Vec<String> =
                    all.iter().map(|(k, v)| format!("{}={}", crate::api::signature::percent_encode(k), crate::api::signature::percent_encode(v))).collect();
                format!("/?{}", query.join("&"))
            }
        }
    }
}

/// A time as the API's `Timestamp` wants it: `YYYY-MM-DDThh:mm:ssZ`.
fn api_timestamp(at: time::OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", at.year(), u8::from(at.month()), at.day(), at.hour(), at.minute(), at.second())
}

/// `connections` connections of our own client, in this process, for `seconds` seconds.
async fn own_client(addr: SocketAddr, target: &Target, connections: usize, seconds: u64) -> Result<Figures, BoxError> {
    let stop = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let target = target.clone();
        tasks.push(actix_web::rt::spawn(async move { hammer(addr, &target, stop).await }));
    }
    let mut all = Vec::new();
    let mut failures = 0;
    for t in tasks {
        let tally = t.await??;
        all.extend(tally.latencies);
        failures += tally.failures;
    }
    all.sort();
    let at = |q: f64| percentile(&all, q).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    Ok(Figures { rate: all.len() as f64 / seconds as f64, p50_ms: at(0.50), p99_ms: at(0.99), failures })
}

/// The value at quantile `q` of values sorted in order.
fn percentile<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    sorted.get(((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1))).copied()
}

/// `wrk` (a C load generator, lighter on the CPU it shares with the server than our
/// client), when it is on the PATH.
struct Wrk;

impl Wrk {
    fn available() -> bool {
        std::process::Command::new("wrk").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
    }

    /// Runs wrk on `target`: a page as it is; an API action through its calls signed
    /// beforehand (`calls`, one file a wrk thread: [`SignedCalls`]).
    fn run(addr: SocketAddr, target: &Target, calls: &[PathBuf], connections: usize, seconds: u64) -> Result<Figures, BoxError> {
        let script = std::env::temp_dir().join(format!("rdc-wrk-{}.lua", std::process::id()));
        // A page needs no script: the same request every time, and the server counts the
        // answers that are not 200.
        let (path, cookie, lua) = match target {
            Target::Page { path, cookie } => (path.as_str(), cookie.as_str(), None),
            Target::Api { .. } => {
                let files: Vec<String> = calls.iter().map(|f| format!("{:?}", f.display().to_string())).collect();
                ("/", "", Some(API_SETUP_LUA.replace("FILES", &files.join(", "))))
            }
        };
        let mut wrk = std::process::Command::new("wrk");
        // A slow answer counts in the latencies, not as a failure: wrk gives up after 2 s
        // unless told otherwise; the server gives up waiting for a connection after 10.
        wrk.args(["-t", &WRK_THREADS.to_string(), "-c", &connections.to_string(), "-d", &format!("{seconds}s"), "--timeout", "10s", "--latency"]);
        if let Some(lua) = lua {
            std::fs::write(&script, lua)?;
            wrk.arg("-s").arg(&script);
        }
        let out = wrk
            .args(if cookie.is_empty() { vec![] } else { vec!["-H".to_owned(), format!("Cookie: {cookie}")] })
            .arg(format!("http://{addr}{path}"))
            .stderr(Stdio::inherit())
            .output()?;
        let _ = std::fs::remove_file(&script);
        let text = String::from_utf8_lossy(&out.stdout);
        parse_wrk(&text).ok_or_else(|| format!("could not read wrk's output:\n{text}").into())
    }
}

/// wrk's threads, one a core.
const WRK_THREADS: usize = 2;

/// Every API row's calls, signed before the load starts (so that signing them takes
/// nothing from the rows, nor from pgbench's time beside them), each with its own nonce
/// and dated when its row will run; [`PRESIGNED_PER_SECOND`] of them a second of a row,
/// in one file a wrk thread. Past that a nonce comes round again and its answer counts as
/// a failure. The files go when this does.
struct SignedCalls {
    dir: PathBuf,
    files: Vec<Vec<PathBuf>>,
}

impl SignedCalls {
    /// No calls for any of `rows` (our own client signs each as it sends it).
    fn none(rows: usize) -> SignedCalls {
        SignedCalls { dir: PathBuf::new(), files: vec![Vec::new(); rows] }
    }

    fn sign(targets: &[Target], seconds: u64) -> Result<SignedCalls, BoxError> {
        let dir = std::env::temp_dir().join(format!("rdc-wrk-calls-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let mut signed = SignedCalls { dir, files: Vec::new() };
        let per_thread = PRESIGNED_PER_SECOND * seconds as usize / WRK_THREADS;
        let now = time::OffsetDateTime::now_utc();
        for (row, target) in targets.iter().enumerate() {
            let mut files = Vec::new();
            if matches!(target, Target::Api { .. }) {
                let at = now + time::Duration::seconds((row as u64 * (seconds + 1)) as i64);
                for thread in 0..WRK_THREADS {
                    let file = signed.dir.join(format!("{row}-{thread}.txt"));
                    // Written as they are signed: held whole, a row's calls had taken the
                    // server's process some 50 MB a wrk thread.
                    let mut lines = std::io::BufWriter::new(std::fs::File::create(&file)?);
                    for _ in 0..per_thread {
                        writeln!(lines, "{}", target.call_at(at))?;
                    }
                    lines.flush()?;
                    files.push(file);
                }
            }
            signed.files.push(files);
        }
        Ok(signed)
    }
}

impl Drop for SignedCalls {
    fn drop(&mut self) {
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Signed API calls made ready for wrk per second of a row: half as many again as the
/// most any API row has served on its own (17,927 on PostgreSQL alone and 17,632 on
/// SQLite on session 25's machine; 15,000 a second ran out there, and calls came round
/// again as replays). Some 300 MB of files a row at 15 s.
const PRESIGNED_PER_SECOND: usize = 30_000;

/// wrk's set-up for an API action: each thread reads its file of signed calls (FILES, one
/// a thread) and sends them in turn, a line at a time. Read whole into a table first, the
/// calls made each wrk thread hold some 100,000 strings, and its answers took up to 350 ms
/// by wrk's clock while the server answered each in 100 ms at most.
const API_SETUP_LUA: &str = r#"
local started = 0
local files = { FILES }
function setup(thread)
  started = started + 1
  thread:set("calls_file", files[started])
end
function init(args)
  calls = io.lines(calls_file)
end
function request()
  local call = calls()
  if call == nil then
    calls = io.lines(calls_file)
    call = calls()
  end
  return wrk.format("GET", call)
end
"#;

/// Reads req/s, the 50th and 99th percentiles and the socket errors from wrk's report.
fn parse_wrk(text: &str) -> Option<Figures> {
    let ms = |v: &str| -> Option<f64> {
        let (n, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
        let n: f64 = n.parse().ok()?;
        Some(match unit {
            "us" => n / 1000.0,
            "ms" => n,
            "s" => n * 1000.0,
            "m" => n * 60_000.0,
            _ => return None,
        })
    };
    let field = |prefix: &str| text.lines().map(str::trim).find_map(|l| l.strip_prefix(prefix)).map(str::trim);
    let errors = field("Socket errors:").map_or(0, |v| v.split(',').filter_map(|p| p.split_whitespace().last()?.parse::<usize>().ok()).sum());
    Some(Figures { rate: field("Requests/sec:")?.parse().ok()?, p50_ms: ms(field("50%")?)?, p99_ms: ms(field("99%")?)?, failures: errors })
}

/// One connection: requests `target` back to back until `stop`, reconnecting if the
/// server closes the connection.
async fn hammer(addr: SocketAddr, target: &Target, stop: Instant) -> Result<Tally, std::io::Error> {
    let mut tally = Tally { latencies: Vec::new(), failures: 0 };
    let mut stream = TcpStream::connect(addr).await?;
    while Instant::now() < stop {
        let (path, cookie) = target.next();
        let started = Instant::now();
        match request(&mut stream, "GET", &path, cookie, None).await {
            Ok((200, _, _)) => tally.latencies.push(started.elapsed()),
            Ok(_) => {
                tally.failures += 1;
                tally.latencies.push(started.elapsed());
            }
            Err(_) => {
                tally.failures += 1;
                stream = TcpStream::connect(addr).await?;
            }
        }
    }
    Ok(tally)
}

/// One HTTP/1.1 request on a kept-alive connection: the status, the headers and the body
/// (by Content-Length, or chunked).
async fn request(stream: &mut TcpStream, method: &str, path: &str, cookie: &str, form: Option<&str>) -> Result<(u16, String, String), std::io::Error> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if !cookie.is_empty() {
        head.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if let Some(body) = form {
        head.push_str(&format!("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    } else {
        head.push_str("\r\n");
    }
    stream.write_all(head.as_bytes()).await?;
    let mut buf = Vec::with_capacity(16 * 1024);
    let header_end = loop {
        if let Some(at) = find(&buf, b"\r\n\r\n") {
            break at + 4;
        }
        read_more(stream, &mut buf).await?;
    };
    let headers = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let status: u16 = headers.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let header = |name: &str| headers.lines().filter_map(|l| l.split_once(':')).find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned());
    let mut body = buf.split_off(header_end);
    if let Some(length) = header("content-length").and_then(|l| l.parse::<usize>().ok()) {
        while body.len() < length {
            read_more(stream, &mut body).await?;
        }
        body.truncate(length);
    } else if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        let mut decoded = Vec::new();
        let mut at = 0;
        loop {
            let line_end = loop {
                if let Some(end) = find(&body[at..], b"\r\n") {
                    break at + end;
                }
                read_more(stream, &mut body).await?;
            };
            let size = usize::from_str_radix(String::from_utf8_lossy(&body[at..line_end]).split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| std::io::Error::other("a bad chunk size"))?;
            let start = line_end + 2;
            while body.len() < start + size + 2 {
                read_more(stream, &mut body).await?;
            }
            decoded.extend_from_slice(&body[start..start + size]);
            at = start + size + 2;
            if size == 0 {
                break;
            }
        }
        body = decoded;
    }
    Ok((status, headers, String::from_utf8_lossy(&body).into_owned()))
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), std::io::Error> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the server closed the connection"));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `pgbench -S` on a scratch database of the same server, beside the load.
struct PgBench {
    child: Option<std::process::Child>,
    scratch: Option<(String, String)>,
}

impl PgBench {
    fn none() -> PgBench {
        PgBench { child: None, scratch: None }
    }

    fn start(database_url: &str, clients: usize, seconds: u64) -> Result<PgBench, BoxError> {
        let none = PgBench::none();
        if !database_url.starts_with("postgres") || std::process::Command::new("pgbench").arg("--version").output().is_err() {
            return Ok(none);
        }
        let scratch = format!("rdc_pgbench_{}", std::process::id());
        let admin_url = replace_database(database_url, "postgres");
        let psql = |sql: &str| std::process::Command::new("psql").arg(&admin_url).args(["-qc", sql]).stdout(Stdio::null()).status();
        if !psql(&format!("CREATE DATABASE {scratch}"))?.success() {
            return Ok(none);
        }
        let url = replace_database(database_url, &scratch);
        std::process::Command::new("pgbench").args(["-i", "-q", "-s", "10", &url]).stdout(Stdio::null()).stderr(Stdio::null()).status()?;
        let child = std::process::Command::new("pgbench")
            .args(["-S", "-n", "-c", &clients.to_string(), "-j", "2", "-T", &seconds.to_string(), &url])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(PgBench { child: Some(child), scratch: Some((admin_url, scratch)) })
    }

    /// Waits for pgbench and answers its transactions per second.
    fn finish(mut self) -> Result<Option<f64>, BoxError> {
        let Some(child) = self.child.take() else { return Ok(None) };
        let out = child.wait_with_output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text.lines().find_map(|l| l.strip_prefix("tps = ")).and_then(|l| l.split_whitespace().next()).and_then(|n| n.parse().ok()))
    }
}

impl Drop for PgBench {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
        }
        if let Some((admin_url, scratch)) = &self.scratch {
            let _ = std::process::Command::new("psql").arg(admin_url).args(["-qc", &format!("DROP DATABASE IF EXISTS {scratch}")]).status();
        }
    }
}

/// The same server URL with another database.
fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match base.rsplit_once('/') {
        Some((server, _)) if server.contains("://") && !server.ends_with('/') => format!("{server}/{database}"),
        _ => format!("{base}/{database}"),
    };
    query.map_or(base.clone(), |q| format!("{base}?{q}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_report_is_read_with_its_units() {
        let report = "Running 5s test @ http://127.0.0.1:4000/directory
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.03ms    5.10ms  80.11ms   75.00%
  Latency Distribution
     50%  812.00us
     75%   25.00ms
     90%   30.00ms
     99%    1.20s
  9000 requests in 5.00s, 90.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
Requests/sec:   1800.50
Transfer/sec:     18.00MB
";
        let f = parse_wrk(report).expect("a full report");
        assert_eq!(f.rate, 1800.5);
        assert_eq!(f.p50_ms, 0.812);
        assert_eq!(f.p99_ms, 1200.0);
        assert_eq!(f.failures, 5);
        assert!(parse_wrk("wrk: connection refused").is_none());
    }
}
