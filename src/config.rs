//! Settings, read from the environment once at start-up and passed down.
//!
//! Variables: `RDC_ADDR`, `RDC_PUBLIC_URL`, `RDC_DATA_DIR`, `DATABASE_URL`,
//! `RDC_SMTP_URL`, `RDC_MAIL_FROM`, `RDC_SECRET_KEY`, `RDC_WORKERS`, `RDC_JOB_LEASE_SECS`,
//! `RDC_JOB_MAX_ATTEMPTS`, `RDC_JOB_RETENTION_DAYS`, `RDC_PROPAGATION_BATCH`,
//! `RDC_SMTP_CONCURRENCY` (see `.env.example`).
//! `RDC_LOG` is read by `main` for the tracing filter.

use std::path::{Path, PathBuf};

use rand::RngExt;

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
    /// At least 64 bytes: signs and encrypts cookies, seals secrets at rest.
    pub secret_key: Vec<u8>,
    /// Background job workers inside `serve`.
    pub workers: usize,
    pub jobs: JobSettings,
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
    /// Members per transaction when a binding, unbinding, deletion or notification
    /// reaches many members.
    pub propagation_batch: i64,
    /// Emails a notification sends at the same time (and SMTP connections it keeps).
    pub send_concurrency: usize,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            lease: time::Duration::seconds(10),
            max_attempts: crate::jobs::DEFAULT_MAX_ATTEMPTS,
            retention: time::Duration::days(14),
            propagation_batch: 5_000,
            send_concurrency: 16,
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
    #[error("could not use the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
}

impl Settings {
    pub fn from_env() -> Result<Settings, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let data_dir = PathBuf::from(var("RDC_DATA_DIR").unwrap_or_else(|| "./data".into()));
        std::fs::create_dir_all(&data_dir).map_err(|source| ConfigError::DataDir { path: data_dir.clone(), source })?;
        let public_url = var("RDC_PUBLIC_URL").unwrap_or_else(|| "http://127.0.0.1:8080".into());
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::PublicUrl(public_url));
        }
        let secret_key = match var("RDC_SECRET_KEY") {
            Some(k) if k.len() < 64 => return Err(ConfigError::SecretTooShort(k.len())),
            Some(k) => k.into_bytes(),
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
        })
    }

    /// Cookies are marked Secure when the console is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The generated key lives in the data dir so that sessions and sealed secrets survive
/// restarts without any set-up.
fn load_or_create_secret(dir: &Path) -> Result<Vec<u8>, ConfigError> {
    let path = dir.join("secret.key");
    let io = |source| ConfigError::DataDir { path: path.clone(), source };
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 64 => Ok(s.trim().as_bytes().to_vec()),
        _ => {
            let bytes: [u8; 48] = rand::rng().random();
            let key = hex::encode(bytes);
            std::fs::write(&path, &key).map_err(io)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
            }
            Ok(key.into_bytes())
        }
    }
}
