//! Who made a change, and through what.

use std::fmt;

/// The kind of principal behind a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    Admin,
    MemberUser,
    AccessKey,
    /// Whoever holds an emailed link (a contact verifying its address, a recipient
    /// confirming): the address is all we know of them.
    EmailLink,
    /// The server itself: a job, upkeep, the command line.
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Admin => "admin",
            ActorKind::MemberUser => "member_user",
            ActorKind::AccessKey => "access_key",
            ActorKind::EmailLink => "email_link",
            ActorKind::System => "system",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActorKind::Admin => "Administrator",
            ActorKind::MemberUser => "Member user",
            ActorKind::AccessKey => "API access key",
            ActorKind::EmailLink => "Emailed link",
            ActorKind::System => "System",
        }
    }

    pub fn parse(s: &str) -> Option<ActorKind> {
        [ActorKind::Admin, ActorKind::MemberUser, ActorKind::AccessKey, ActorKind::EmailLink, ActorKind::System].into_iter().find(|k| k.as_str() == s)
    }
}

/// The way a change came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Console,
    Api,
    Cli,
    Job,
    Link,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Console => "console",
            Via::Api => "api",
            Via::Cli => "cli",
            Via::Job => "job",
            Via::Link => "link",
        }
    }
}

/// Who is acting, through what, in which request. Every function that changes something
/// takes one, and writes it into the audit trail with the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    /// A stable id: the administrator's or member user's number, the AccessKey ID, the
    /// job's id, the address of an emailed link.
    pub id: String,
    /// How people know them: the user name, the email, the AccessKey ID, "job 42".
    pub name: String,
    pub via: Via,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn admin(id: i32, username: &str, request_id: String) -> Actor {
        Actor { kind: ActorKind::Admin, id: id.to_string(), name: username.to_owned(), via: Via::Console, request_id: Some(request_id) }
    }

    pub fn member_user(id: i64, email: &str, request_id: String) -> Actor {
        Actor { kind: ActorKind::MemberUser, id: id.to_string(), name: email.to_owned(), via: Via::Console, request_id: Some(request_id) }
    }

    pub fn access_key(id: &str, request_id: String) -> Actor {
        Actor { kind: ActorKind::AccessKey, id: id.to_owned(), name: id.to_owned(), via: Via::Api, request_id: Some(request_id) }
    }

    pub fn email_link(address: &str, request_id: String) -> Actor {
        Actor { kind: ActorKind::EmailLink, id: address.to_owned(), name: address.to_owned(), via: Via::Link, request_id: Some(request_id) }
    }

    /// A job of the queue, by its id.
    pub fn job(job_id: i64) -> Actor {
        Actor { kind: ActorKind::System, id: format!("job:{job_id}"), name: format!("job {job_id}"), via: Via::Job, request_id: None }
    }

    /// Periodic upkeep with no job row of its own.
    pub fn upkeep(name: &str) -> Actor {
        Actor { kind: ActorKind::System, id: "upkeep".into(), name: name.to_owned(), via: Via::Job, request_id: None }
    }

    /// The mail server, by its answers (an address it refused for good).
    pub fn mail_server() -> Actor {
        Actor { kind: ActorKind::System, id: "smtp".into(), name: "the mail server's answer".into(), via: Via::Job, request_id: None }
    }

    /// Someone at the server's command line (`rd-contacts admin add`, `access-key create`).
    pub fn cli() -> Actor {
        let user = std::env::var("USER").unwrap_or_else(|_| "operator".into());
        Actor { kind: ActorKind::System, id: "cli".into(), name: format!("command line ({user})"), via: Via::Cli, request_id: None }
    }

    /// Someone at the console who is not signed in (a failed sign-in names only what was typed).
    pub fn anonymous(name: &str, request_id: String) -> Actor {
        Actor { kind: ActorKind::Admin, id: String::new(), name: name.to_owned(), via: Via::Console, request_id: Some(request_id) }
    }
}

impl fmt::Display for Actor {
    /// As the outbox and logs name whoever asked: "administrator alice", "API access key LTAI…".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ActorKind::Admin => write!(f, "administrator {}", self.name),
            ActorKind::MemberUser => write!(f, "member user {}", self.name),
            ActorKind::AccessKey => write!(f, "API access key {}", self.name),
            ActorKind::EmailLink => write!(f, "the emailed link to {}", self.name),
            ActorKind::System => f.write_str(&self.name),
        }
    }
}
