//! Integration tests: the real app on a fresh database per test (SQLite by default,
//! PostgreSQL when TEST_DATABASE_URL is a postgres:// URL).

mod api;
mod audit;
mod bindings;
mod clients;
mod concurrency;
mod console;
mod contacts;
mod coverage;
mod credentials;
mod deletion;
mod directory;
mod directory_file;
mod jobs;
mod message_center;
mod model;
mod notifications;
mod operations;
mod pages;
mod reconfirmation;
mod rules;
mod security;
mod storage;
mod support;
