//! rd-contacts: notification contacts for a resource directory, with a web console and
//! an Alibaba Cloud ResourceDirectoryMaster-compatible API.

pub mod api;
pub mod audit;
pub mod auth;
pub mod bench;
pub mod bounces;
pub mod config;
pub mod contacts;
pub mod coverage;
pub mod csv;
pub mod db;
pub mod directory;
pub mod directory_file;
pub mod domain;
pub mod errors;
pub mod jobs;
pub mod latency;
pub mod limits;
pub mod mail;
pub mod membership;
pub mod memory;
pub mod message_center;
pub mod notifications;
pub mod observability;
pub mod secrets;
pub mod startup;
pub mod state;
pub mod web;
