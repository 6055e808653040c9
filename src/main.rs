//! The `rd-contacts` command line: parse arguments, call into the library.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rd_contacts::audit::{self, Actor};
use rd_contacts::auth::{Role, SecretBox, access_keys, admins};
use rd_contacts::config::Settings;
use rd_contacts::domain::{Password, Username};
use rd_contacts::errors::{BoxError, cause_chain};
use rd_contacts::mail::Mailer;
use rd_contacts::{db, directory, directory_file, jobs, memory, startup};

/// Rust's allocations go to mimalloc: a page's rendering makes thousands of small
/// ones, and with glibc's allocator they took a third of the server's CPU (README,
/// "What makes it so"). C code (libpq, SQLite) keeps glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "rd-contacts", version, about = "Notification contacts for a resource directory: console and Alibaba-compatible API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the console and the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage console administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage API access keys.
    AccessKey {
        #[command(subcommand)]
        command: AccessKeyCommand,
    },
    /// Write a consistent copy of the embedded SQLite database to a new FILE (the server may run).
    Backup { file: std::path::PathBuf },
    /// Replace the embedded SQLite database with a backup FILE (stop the server first).
    Restore { file: std::path::PathBuf },
    /// Keep the directory in step with a file (CSV or JSON: folder_path, account_id, display_name, security_email).
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Fill an empty directory with a realistic tree, for demos and benchmarks.
    Demo {
        #[arg(long, default_value_t = 50)]
        folders: usize,
        #[arg(long, default_value_t = 500)]
        members: usize,
    },
    /// Benchmarks that print figures.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Time the main console pages and count their queries (fills an empty directory first).
    Pages {
        #[arg(long, default_value_t = 1000)]
        folders: usize,
        #[arg(long, default_value_t = 100_000)]
        members: usize,
    },
    /// The console's pages under load over HTTP: req/s, p50 and p99 per page (with
    /// `pgbench -S` beside it on PostgreSQL).
    Load {
        #[arg(long, default_value_t = 1000)]
        folders: usize,
        #[arg(long, default_value_t = 100_000)]
        members: usize,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 50)]
        connections: usize,
        /// Seconds per page.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Without `pgbench -S` beside the load: what the server alone serves on this machine.
        #[arg(long)]
        without_pgbench: bool,
        /// Only the pages and API calls whose label contains this text (to look at one).
        #[arg(long)]
        only: Option<String>,
    },
    /// Notification throughput to a local SMTP sink (emails per second).
    Notify {
        #[arg(long, default_value_t = 1000)]
        folders: usize,
        #[arg(long, default_value_t = 100_000)]
        members: usize,
    },
    /// Bind a contact at the root and unbind it again, timing the propagation.
    Bind {
        #[arg(long, default_value_t = 1000)]
        folders: usize,
        #[arg(long, default_value_t = 100_000)]
        members: usize,
    },
    /// The Coverage table and ListCoverageGaps over the whole directory.
    Coverage {
        #[arg(long, default_value_t = 1000)]
        folders: usize,
        #[arg(long, default_value_t = 100_000)]
        members: usize,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// List the administrators and their roles.
    List,
    /// Add an administrator; the password is read from standard input.
    Add {
        username: String,
        /// admin (changes anything) or viewer (reads only).
        #[arg(long, default_value = "admin")]
        role: String,
    },
    /// Remove an administrator (never the last admin); their sessions end.
    Remove { username: String },
    /// Set an administrator's password, read from standard input; their sessions end.
    SetPassword { username: String },
    /// Give an administrator the role admin or viewer; their sessions end.
    SetRole { username: String, role: String },
}

#[derive(Subcommand)]
enum DirectoryCommand {
    /// Bring the directory to the file's state: folders, members, moves, renames, emails.
    Import {
        file: std::path::PathBuf,
        /// Print the plan (and the coverage gaps it would open) and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also remove the members the file does not list.
        #[arg(long)]
        remove_missing: bool,
    },
    /// Write the directory to a new FILE (.json for JSON, CSV otherwise).
    Export { file: std::path::PathBuf },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain and report the first entry that does not match (exit 1).
    Verify,
}

#[derive(Subcommand)]
enum AccessKeyCommand {
    /// Create an access key and print `AccessKeyId=…` and `AccessKeySecret=…`.
    Create {
        #[arg(long, default_value = "")]
        description: String,
        /// admin (any action) or viewer (Get… and List… only).
        #[arg(long, default_value = "admin")]
        role: String,
    },
    /// List the access keys (never their secrets).
    List,
    /// Refuse the key's calls until it is enabled again.
    Disable {
        id: String,
    },
    Enable {
        id: String,
    },
    /// Delete the key for good.
    Delete {
        id: String,
    },
}

/// The password on standard input (asked for on a terminal).
fn read_password(username: &Username) -> Result<Password, BoxError> {
    if std::io::stdin().is_terminal() {
        eprintln!("Password for {} (at least 12 characters, hard to guess), then Enter:", username.as_str());
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(Password::parse_for(line.trim_end_matches(['\r', '\n']), &[username.as_str()])?)
}

fn print_plan(plan: &directory_file::Plan) {
    for (what, items) in plan.sections() {
        println!("{what}: {}", items.len());
        for item in items {
            println!("  {item}");
        }
    }
}

fn directory_command(settings: &Settings, command: DirectoryCommand) -> Result<(), BoxError> {
    let pool = db::connect(&settings.database_url, 1)?;
    let mut conn = pool.get()?;
    let actor = Actor::cli();
    match command {
        DirectoryCommand::Export { file } => {
            let rows = directory_file::export(&mut conn)?;
            let text = if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
                serde_json::to_string_pretty(&rows)?
            } else {
                directory_file::to_csv(&rows)
            };
            let mut out = rd_contacts::config::private_file(&file).map_err(|e| format!("{}: {e} (an export never overwrites a file)", file.display()))?;
            std::io::Write::write_all(&mut out, text.as_bytes())?;
            println!("Wrote {} rows to {}.", rows.len(), file.display());
        }
        DirectoryCommand::Import { file, dry_run, remove_missing } => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let rows = directory_file::parse(&text).map_err(|errors| errors.join("\n"))?;
            let mode = if dry_run { directory_file::Mode::DryRun } else { directory_file::Mode::Apply };
            let outcome = directory_file::import(&mut conn, &rows, remove_missing, mode, &actor)?;
            if outcome.plan.is_empty() {
                println!("The directory already matches {}: nothing to change.", file.display());
                return Ok(());
            }
            println!("{} {}:", if dry_run { "Would change, to match" } else { "Changed, to match" }, file.display());
            print_plan(&outcome.plan);
            let opened = outcome.gap_sentences();
            if !opened.is_empty() {
                println!("Coverage: {}.", opened.join("; "));
            }
            if dry_run {
                println!("Dry run: nothing was changed.");
            }
        }
    }
    Ok(())
}

fn admin_named(conn: &mut db::AnyConnection, username: &str) -> Result<admins::Admin, BoxError> {
    admins::find_by_username(conn, username)?.ok_or_else(|| format!("there is no administrator {username:?} (see `rd-contacts admin list`)").into())
}

fn admin_command(settings: &Settings, command: AdminCommand) -> Result<(), BoxError> {
    let pool = db::connect(&settings.database_url, 1)?;
    let mut conn = pool.get()?;
    let actor = Actor::cli();
    match command {
        AdminCommand::List => {
            for a in admins::list_admins(&mut conn)? {
                println!("{}\t{}\tadded {}", a.username, a.role, a.created_at.date());
            }
        }
        AdminCommand::Add { username, role } => {
            let (username, role) = (Username::parse(&username)?, Role::parse(&role)?);
            let password = read_password(&username)?;
            admins::create_admin(&mut conn, &username, &password, role, &actor)?;
            println!("Administrator {} added ({role}).", username.as_str());
        }
        AdminCommand::Remove { username } => {
            let admin = admin_named(&mut conn, &username)?;
            admins::remove_admin(&mut conn, admin.id, &actor)?;
            println!("Administrator {username} removed; their sessions ended.");
        }
        AdminCommand::SetPassword { username } => {
            let admin = admin_named(&mut conn, &username)?;
            let password = read_password(&Username::parse(&admin.username)?)?;
            admins::reset_password(&mut conn, admin.id, &admins::hash_password(password.expose())?, &actor)?;
            println!("New password set for {username}; their sessions ended.");
        }
        AdminCommand::SetRole { username, role } => {
            let admin = admin_named(&mut conn, &username)?;
            let role = Role::parse(&role)?;
            admins::set_role(&mut conn, admin.id, role, &actor)?;
            println!("{username} is now {role}; their sessions ended.");
        }
    }
    Ok(())
}

fn access_key_command(settings: &Settings, command: AccessKeyCommand) -> Result<(), BoxError> {
    let pool = db::connect(&settings.database_url, 1)?;
    let mut conn = pool.get()?;
    let actor = Actor::cli();
    match command {
        AccessKeyCommand::Create { description, role } => {
            let (description, role) = (access_keys::parse_description(&description)?, Role::parse(&role)?);
            let secrets = SecretBox::new(secrecy::ExposeSecret::expose_secret(&settings.secret_key));
            let key = access_keys::create_access_key(&mut conn, &secrets, &description, role, &actor)?;
            println!("AccessKeyId={}", key.id);
            println!("AccessKeySecret={}", key.secret);
        }
        AccessKeyCommand::List => {
            for k in access_keys::list_access_keys(&mut conn)? {
                let used = k.last_used_at.map_or_else(|| "never used".to_owned(), |t| format!("last used {}", t.date()));
                println!("{}\t{}\t{}\t{used}\t{}", k.id, k.status, k.role, k.description);
            }
        }
        AccessKeyCommand::Disable { id } => {
            access_keys::set_enabled(&mut conn, &id, false, &actor)?;
            println!("{id} is disabled.");
        }
        AccessKeyCommand::Enable { id } => {
            access_keys::set_enabled(&mut conn, &id, true, &actor)?;
            println!("{id} is enabled.");
        }
        AccessKeyCommand::Delete { id } => {
            access_keys::delete_access_key(&mut conn, &id, &actor)?;
            println!("{id} is deleted.");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::new(std::env::var("RDC_LOG").unwrap_or_else(|_| "info,rd_contacts=info".into()));
    match std::env::var("RDC_LOG_FORMAT").unwrap_or_default().to_ascii_lowercase().as_str() {
        // One JSON object a line, with the fields of the request's span (its request id).
        "json" => tracing_subscriber::fmt().json().with_current_span(true).with_span_list(false).with_env_filter(filter).with_writer(std::io::stderr).init(),
        // Colours only on a terminal: a log file or journal gets plain text.
        "" | "text" => tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal()).init(),
        other => {
            eprintln!("error: RDC_LOG_FORMAT is {other:?}: use text (the default) or json");
            return ExitCode::FAILURE;
        }
    }
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cause_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), BoxError> {
    let settings = Settings::from_env()?;
    let postgres = db::is_postgres_url(&settings.database_url);
    memory::apply(&memory::limits_for(postgres, startup::cores(), |name| std::env::var_os(name).is_some()));
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => {
            let pool = db::connect(&settings.database_url, 1)?;
            directory::ensure_directory(&mut *pool.get()?, "Management account")?;
            println!("The database is up to date.");
            Ok(())
        }
        Command::Backup { file } => {
            let bytes = db::backup::backup(&settings.database_url, &file)?;
            println!("Backed up to {} ({bytes} bytes).", file.display());
            println!(
                "Keep the secret key with it ({}): without it a restored database has no usable sessions, API secrets or queued links.",
                secret_key_place(&settings)
            );
            Ok(())
        }
        Command::Restore { file } => {
            let applied = db::backup::restore(&settings.database_url, &file)?;
            println!("Restored {} from {}.", settings.database_url, file.display());
            if !applied.is_empty() {
                println!("Brought its schema up to date: {} migration(s) applied.", applied.len());
            }
            println!("Start the server with the secret key of the backup's time ({}).", secret_key_place(&settings));
            Ok(())
        }
        Command::Directory { command } => directory_command(&settings, command),
        Command::Admin { command } => admin_command(&settings, command),
        Command::AccessKey { command } => access_key_command(&settings, command),
        Command::Audit { command: AuditCommand::Verify } => {
            let pool = db::connect(&settings.database_url, 1)?;
            let found = audit::verify(&mut *pool.get()?)?;
            let from = found.first_kept.map_or_else(String::new, |s| format!(" from entry {s}"));
            match found.broken {
                None => {
                    println!("The audit trail holds: {} entries checked{from}.", found.checked);
                    Ok(())
                }
                Some(b) => Err(format!("the audit trail is broken at entry {}: {} ({} entries before it hold)", b.seq, b.reason, found.checked).into()),
            }
        }
        Command::Bench { command } => bench(settings, command),
        Command::Demo { folders, members } => {
            let pool = db::connect(&settings.database_url, 1)?;
            let mut conn = pool.get()?;
            directory::ensure_directory(&mut conn, "Management account")?;
            let started = std::time::Instant::now();
            let report = directory::demo::fill(&mut conn, folders, members, &Actor::cli())?;
            println!(
                "Added {} folders (up to {} levels deep) and {} members in {:.1} s.",
                report.folders,
                report.max_depth,
                report.members,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

fn bench(settings: Settings, command: BenchCommand) -> Result<(), BoxError> {
    actix_web::rt::System::new().block_on(async move {
        match command {
            BenchCommand::Pages { folders, members } => rd_contacts::bench::pages::run(settings, folders, members).await,
            BenchCommand::Bind { folders, members } => rd_contacts::bench::bind::run(settings, folders, members),
            BenchCommand::Coverage { folders, members } => rd_contacts::bench::coverage::run(settings, folders, members),
            BenchCommand::Load { folders, members, connections, seconds, without_pgbench, only } => {
                rd_contacts::bench::load::run(settings, folders, members, connections, seconds, !without_pgbench, only.as_deref()).await
            }
            BenchCommand::Notify { folders, members } => rd_contacts::bench::notify::run(settings, folders, members).await,
        }
    })
}

/// Where this server's secret key comes from, as the backup commands remind.
fn secret_key_place(settings: &Settings) -> String {
    if std::env::var_os("RDC_SECRET_KEY").is_some() { "RDC_SECRET_KEY".into() } else { settings.data_dir.join("secret.key").display().to_string() }
}

fn serve(settings: Settings) -> Result<(), BoxError> {
    // While it runs, `restore` refuses to swap the database file from under it.
    let _in_use = db::backup::hold_in_use(&settings.database_url)?;
    // The pooled SMTP transport spawns its upkeep task: it is built inside the runtime.
    actix_web::rt::System::new().block_on(async move {
        let mailer = Mailer::for_settings(&settings)?;
        let (state, first_run) = startup::prepare(settings, mailer)?;
        let addr = state.settings.addr.clone();
        let url = state.settings.public_url.clone();
        if let Some((user, password)) = &first_run.admin {
            println!("\nrd-contacts is set up. Open {url}/login and sign in with\n\n    user name: {user}\n    password:  {password}\n\nThis password is shown only now: keep it somewhere safe.\n");
        } else {
            println!("rd-contacts: open {url}/login to sign in.");
        }
        if state.mailer.outbox_dir().is_some() {
            println!("No RDC_SMTP_URL is set: email goes to the Outbox page ({url}/outbox).");
        }
        state.workers.watch(jobs::spawn_workers(state.jobs(), state.settings.workers));
        let http_workers = startup::http_workers();
        let threads = startup::blocking_threads(&state.settings, http_workers);
        let server = actix_web::HttpServer::new(move || startup::worker_app(state.clone())).workers(http_workers).worker_max_blocking_threads(threads).bind(&addr)?;
        tracing::info!(%addr, "listening");
        server.run().await?;
        Ok(())
    })
}
