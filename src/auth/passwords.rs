//! Password hashing (argon2) off the async workers and outside any database connection,
//! a few at a time: a burst of sign-ins queues here instead of starving the pool and the
//! CPU for every other request. Each hash runs on a thread of its own, not on an HTTP
//! worker's blocking threads: those are few (`startup::blocking_threads`) and kept for
//! database work, which a burst of sign-ins would otherwise hold up.

use std::sync::Arc;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use super::AuthError;

#[derive(Clone, Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
}

impl Default for Hasher {
    fn default() -> Self {
        // One hash per core at most: each takes a core for tens of milliseconds.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hasher { permits: Arc::new(Semaphore::new(cores)) }
    }
}

/// A hash that no password matches, checked when the user does not exist, so that the
/// answer takes as long either way.
const NO_USER: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$3gVnmtu8Z3c5d3pIhB2cAv7rqoT7Nfm0vKN0fVZVn1k";

impl Hasher {
    pub async fn hash(&self, password: &str) -> Result<String, AuthError> {
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        let password = password.to_owned();
        on_own_thread(move || hash_password(&password)).await.unwrap_or_else(|| Err(AuthError::Hash("the hashing thread stopped".into())))
    }

    /// Whether `password` matches `hash`; with no hash (no such user) it still takes the
    /// time of a check and answers false.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        let (password, known, hash) = (password.to_owned(), hash.is_some(), hash.unwrap_or(NO_USER).to_owned());
        let matched = on_own_thread(move || Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok()).await.unwrap_or(false);
        known && matched
    }
}

/// Runs `f` on a new thread and waits for its answer (none if it panicked). The semaphore
/// bounds how many run at once; each takes tens of milliseconds, next to which starting a
/// thread costs nothing.
async fn on_own_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.await.ok()
}

/// Hashes a password now, on this thread (the CLI, and `Hasher` underneath).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| AuthError::Hash(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn a_password_matches_its_hash_only_and_an_unknown_user_matches_nothing() {
        let h = Hasher::default();
        let hash = h.hash("Tide-lantern-91-quartz").await.unwrap();
        assert!(h.verify("Tide-lantern-91-quartz", Some(&hash)).await);
        assert!(!h.verify("tide-lantern-91-quartz", Some(&hash)).await);
        assert!(!h.verify("anything", None).await);
        assert!(argon2::password_hash::phc::PasswordHash::new(NO_USER).is_ok(), "the stand-in hash is a valid one");
    }
}
