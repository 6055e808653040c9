//! What handlers share: the state of a running server, and the id of the request being
//! served. Built by `startup`, read by the console (`web`) and the API (`api`).

use actix_web::HttpMessage;

use crate::auth::SecretBox;
use crate::config::Settings;
use crate::db::DbPool;
use crate::directory::ResourceDirectory;
use crate::jobs::{JobContext, Registry};
use crate::mail::{Mailer, Sender};

/// Shared state of a running server.
#[derive(Clone, Debug)]
pub struct AppState {
    pub settings: Settings,
    pub pool: DbPool,
    /// The resource directory, read once at start-up: its id, root folder and management
    /// account never change after it is created (its contact quota, which does, is not
    /// here). Pages and API calls take it from here instead of reading it each time.
    pub directory: std::sync::Arc<ResourceDirectory>,
    pub mailer: Mailer,
    pub secrets: SecretBox,
    pub registry: std::sync::Arc<Registry>,
    pub hasher: crate::auth::passwords::Hasher,
    /// The job workers this process runs, for `/readyz`.
    pub workers: crate::jobs::WorkerWatch,
}

impl AppState {
    pub fn jobs(&self) -> JobContext {
        JobContext {
            pool: self.pool.clone(),
            mailer: self.mailer.clone(),
            secrets: self.secrets.clone(),
            settings: self.settings.jobs.clone(),
            registry: self.registry.clone(),
            public_url: self.settings.public_url.clone(),
        }
    }

    /// Who asks for an email with a link (a console user, an API caller), with where
    /// links point and the key that seals them while the email waits.
    pub fn sender(&self, requested_by: &str) -> Sender {
        Sender { requested_by: requested_by.to_owned(), public_url: self.settings.public_url.clone(), secrets: self.secrets.clone() }
    }
}

/// The id of the request being served (see the logging middleware in `app`).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id of this request (a fresh one when the middleware did not run, as in a unit test).
    pub fn of(req: &actix_web::HttpRequest) -> String {
        req.extensions().get::<RequestId>().map_or_else(|| uuid::Uuid::new_v4().to_string().to_uppercase(), |r| r.0.clone())
    }
}
