//! Settings, read from the environment once at start-up and passed down.
//!
//! Variables: `RDC_ADDR`, `RDC_PUBLIC_URL`, `RDC_DATA_DIR`, `DATABASE_URL`,
//! `RDC_SMTP_URL`, `RDC_MAIL_FROM`, `RDC_SECRET_KEY`, `RDC_WORKERS`, `RDC_JOB_LEASE_SECS`,
//! `RDC_JOB_MAX_ATTEMPTS`, `RDC_JOB_RETENTION_DAYS`, `RDC_PROPAGATION_BATCH`,
//! `RDC_SMTP_CONCURRENCY`, `RDC_INLINE_PROPAGATION_LIMIT`, `RDC_THREAD_SLICE_US` (see `.env.example`).
//! `RDC_LOG` is read by `main` for the tracing filter.

use std::path::{Path, PathBuf};

use rand::RngExt;
use secrecy::SecretSlice;

/// Where outgoing email goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailSetting {
    /// An SMTP server, in lettre's URL syntax (`smtp://127.0.0.1:2525`).
    Smtp(String),
    /// JSON files in `<data dir>/outbox`, shown by the console's Outbox page.
    File(PathBuf),
    /// Kept in memory; for tests.
    Memory,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub addr: String,
    pub public_url: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub mail: MailSetting,
    pub mail_from: String,
    /// At least 64 bytes: signs and encrypts cookies, seals secrets at rest. Never in
    /// `Debug` output or logs.
    pub secret_key: SecretSlice<u8>,
    /// Background job workers inside `serve`.
    pub workers: usize,
    pub jobs: JobSettings,
    /// When set, `/metrics` answers only a request bearing it (`Authorization: Bearer …`);
    /// unset, only direct requests from this machine (loopback, not through a proxy).
    pub metrics_token: Option<SecretSlice<u8>>,
    /// The scheduler slice the HTTP workers' threads ask the kernel for
    /// (`RDC_THREAD_SLICE_US`, [`crate::latency`]); none: the kernel's own.
    pub thread_slice: Option<std::time::Duration>,
}

/// How background work runs.
#[derive(Clone, Debug)]
pub struct JobSettings {
    /// How long a claimed job stays with its worker without a heartbeat; the heartbeat
    /// renews it every third of that. A job whose server died is taken over after it.
    pub lease: time::Duration,
    /// Attempts before a job is given up.
    pub max_attempts: i32,
    /// Finished jobs are purged after this long.
    pub retention: time::Duration,
    /// The most members per transaction when a binding, unbinding, deletion or
    /// notification reaches many members; batches are sized by time below it
    /// ([`crate::jobs::Pace`]).
    pub propagation_batch: i64,
    /// Emails a notification sends at the same time (and SMTP connections it keeps).
    pub send_concurrency: usize,
    /// A binding or unbinding that reaches at most this many members propagates within
    /// the request; a larger one is a background task.
    pub inline_limit: i64,
    /// Audit entries are purged after this many days (the purge is itself recorded).
    pub audit_retention_days: i64,
    /// Verified contacts are asked to confirm their address again after this many months
    /// of 30 days (`RDC_RECONFIRM_MONTHS`); never when unset.
    pub reconfirm_months: Option<i64>,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            lease: time::Duration::seconds(10),
            max_attempts: crate::jobs::DEFAULT_MAX_ATTEMPTS,
            retention: time::Duration::days(14),
            propagation_batch: 5_000,
            send_concurrency: 16,
            inline_limit: 2_000,
            audit_retention_days: 365,
            reconfirm_months: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("RDC_SECRET_KEY must be at least 64 characters long (it is {0})")]
    SecretTooShort(usize),
    #[error("RDC_PUBLIC_URL must start with http:// or https:// (got {0:?})")]
    PublicUrl(String),
    #[error("RDC_WORKERS must be a whole number from 0 to 64 (got {0:?})")]
    Workers(String),
    #[error("{name} must be a whole number from {min} to {max} (got {value:?})")]
    Number { name: &'static str, min: i64, max: i64, value: String },
    #[error(
        "{path} exists but could not be read ({source}). rd-contacts will not make a new key over it: every session and stored API secret depends on it. Fix its permissions (the server's user must read it), or move it away to start with a new key."
    )]
    SecretUnreadable { path: PathBuf, source: std::io::Error },
    #[error("{0} holds fewer than 64 characters: it is not a key rd-contacts wrote. Restore the right file, or move it away to start with a new key.")]
    SecretTooShortInFile(PathBuf),
    #[error("RDC_METRICS_TOKEN must be at least 32 characters long (it is {0})")]
    MetricsTokenTooShort(usize),
    #[error("could not use the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
}

impl Settings {
    pub fn from_env() -> Result<Settings, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let data_dir = PathBuf::from(var("RDC_DATA_DIR").unwrap_or_else(|| "./data".into()));
        private_dir(&data_dir).map_err(|source| ConfigError::DataDir { path: data_dir.clone(), source })?;
        let public_url = var("RDC_PUBLIC_URL").unwrap_or_else(|| "http://127.0.0.1:8080".into());
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::PublicUrl(public_url));
        }
        let secret_key = match var("RDC_SECRET_KEY") {
            Some(k) if k.len() < 64 => return Err(ConfigError::SecretTooShort(k.len())),
            Some(k) => SecretSlice::from(k.into_bytes()),
            None => load_or_create_secret(&data_dir)?,
        };
        let workers = match var("RDC_WORKERS") {
            None => 2,
            Some(w) => w.parse().ok().filter(|n| *n <= 64).ok_or(ConfigError::Workers(w))?,
        };
        let number = |name: &'static str, default: i64, min: i64, max: i64| -> Result<i64, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(v) => v.trim().parse().ok().filter(|n| (min..=max).contains(n)).ok_or(ConfigError::Number { name, min, max, value: v }),
            }
        };
        let defaults = JobSettings::default();
        let jobs = JobSettings {
            lease: time::Duration::seconds(number("RDC_JOB_LEASE_SECS", defaults.lease.whole_seconds(), 1, 3600)?),
            max_attempts: number("RDC_JOB_MAX_ATTEMPTS", defaults.max_attempts.into(), 1, 100)? as i32,
            retention: time::Duration::days(number("RDC_JOB_RETENTION_DAYS", defaults.retention.whole_days(), 1, 3650)?),
            propagation_batch: number("RDC_PROPAGATION_BATCH", defaults.propagation_batch, 1, 100_000)?,
            send_concurrency: number("RDC_SMTP_CONCURRENCY", defaults.send_concurrency as i64, 1, 256)? as usize,
            inline_limit: number("RDC_INLINE_PROPAGATION_LIMIT", defaults.inline_limit, 0, 1_000_000)?,
            audit_retention_days: number("RDC_AUDIT_RETENTION_DAYS", defaults.audit_retention_days, 1, 36_500)?,
            reconfirm_months: match var("RDC_RECONFIRM_MONTHS") {
                None => None,
                Some(_) => Some(number("RDC_RECONFIRM_MONTHS", 12, 1, 120)?),
            },
        };
        let database_url = var("DATABASE_URL").unwrap_or_else(|| data_dir.join("rd-contacts.db").to_string_lossy().into_owned());
        let mail = match var("RDC_SMTP_URL") {
            Some(url) => MailSetting::Smtp(url),
            None => MailSetting::File(data_dir.join("outbox")),
        };
        Ok(Settings {
            addr: var("RDC_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into()),
            public_url: public_url.trim_end_matches('/').to_owned(),
            data_dir,
            database_url,
            mail,
            mail_from: var("RDC_MAIL_FROM").unwrap_or_else(|| "rd-contacts <no-reply@rd-contacts.localhost>".into()),
            secret_key,
            workers,
            jobs,
            metrics_token: match var("RDC_METRICS_TOKEN") {
                Some(t) if t.trim().len() < 32 => return Err(ConfigError::MetricsTokenTooShort(t.trim().len())),
                Some(t) => Some(SecretSlice::from(t.trim().as_bytes().to_vec())),
                None => None,
            },
            thread_slice: match number("RDC_THREAD_SLICE_US", 100, 0, 100_000)? {
                0 => None,
                us => Some(std::time::Duration::from_micros(us as u64)),
            },
        })
    }

    /// Cookies are marked Secure when the console is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The generated key lives in the data dir so that sessions and sealed secrets survive
/// restarts without any set-up. It is made only when there is no file: a key that cannot
/// be read stops the start with a message, because a new one would sign everyone out and
/// make every stored API secret unreadable.
fn load_or_create_secret(dir: &Path) -> Result<SecretSlice<u8>, ConfigError> {
    let path = dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 64 => Ok(SecretSlice::from(s.trim().as_bytes().to_vec())),
        Ok(_) => Err(ConfigError::SecretTooShortInFile(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes: [u8; 48] = rand::rng().random();
            let key = hex::encode(bytes);
            let mut file = private_file(&path).map_err(|source| ConfigError::DataDir { path: path.clone(), source })?;
            std::io::Write::write_all(&mut file, key.as_bytes()).map_err(|source| ConfigError::DataDir { path: path.clone(), source })?;
            Ok(SecretSlice::from(key.into_bytes()))
        }
        Err(source) => Err(ConfigError::SecretUnreadable { path, source }),
    }
}

/// Creates a directory only its owner can enter (0700), or makes an existing one so.
pub fn private_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(path)
    }
}

/// Creates a new file only its owner can read (0600); fails if it exists.
pub fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rdc-config-{}", crate::domain::random_alphanumeric(10)));
        private_dir(&dir).unwrap();
        dir
    }

    #[test]
    fn the_generated_key_is_private_from_its_creation_and_kept() {
        let dir = temp_dir();
        let first = load_or_create_secret(&dir).unwrap();
        let again = load_or_create_secret(&dir).unwrap();
        assert_eq!(first.expose_secret(), again.expose_secret(), "the same key on the next start");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(dir.join("secret.key")).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_key_file_that_cannot_be_used_stops_the_start_instead_of_being_replaced() {
        let dir = temp_dir();
        std::fs::write(dir.join("secret.key"), "short").unwrap();
        assert!(matches!(load_or_create_secret(&dir), Err(ConfigError::SecretTooShortInFile(_))));
        assert_eq!(std::fs::read_to_string(dir.join("secret.key")).unwrap(), "short", "left as it was");
        std::fs::remove_file(dir.join("secret.key")).unwrap();
        std::fs::create_dir(dir.join("secret.key")).unwrap();
        let err = load_or_create_secret(&dir).unwrap_err();
        assert!(matches!(err, ConfigError::SecretUnreadable { .. }), "{err}");
        assert!(err.to_string().contains("will not make a new key"));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        let key = "k".repeat(64);
        let settings = Settings {
            addr: String::new(),
            public_url: String::new(),
            data_dir: PathBuf::new(),
            database_url: String::new(),
            mail: MailSetting::Memory,
            mail_from: String::new(),
            secret_key: SecretSlice::from(key.clone().into_bytes()),
            workers: 0,
            jobs: JobSettings::default(),
            metrics_token: Some(SecretSlice::from(b"m".repeat(40))),
            thread_slice: None,
        };
        assert!(!format!("{settings:?}").contains(&key));
        assert!(!format!("{settings:?}").contains(&"m".repeat(40)));
        assert!(!format!("{settings:?}").contains("107, 107"), "not as bytes either");
    }
}
