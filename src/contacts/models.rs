use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::{contact_verifications, contacts};
use crate::domain::{MessageTypes, Title};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contacts)]
pub struct Contact {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub email: String,
    pub pending_email: Option<String>,
    pub phone: Option<String>,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub title: Title,
    pub message_types: i32,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: ContactStatus,
    pub verified_at: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
    pub modified_at: PrimitiveDateTime,
    pub deletion_failed_at: Option<PrimitiveDateTime>,
    /// When it was last asked to confirm its address again (`RDC_RECONFIRM_MONTHS`);
    /// cleared when it does.
    pub reconfirm_sent_at: Option<PrimitiveDateTime>,
}

/// How long a contact asked to confirm its address again has before it is shown stale.
pub const RECONFIRM_GRACE: time::Duration = time::Duration::days(30);

/// A contact's status (the API's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactStatus {
    /// Created, its address not verified yet.
    Verifying,
    /// Its address is verified: it can be bound and receives notifications.
    Active,
    /// Being removed from the members (a background task).
    Deleting,
}

impl ContactStatus {
    pub const ALL: [ContactStatus; 3] = [ContactStatus::Verifying, ContactStatus::Active, ContactStatus::Deleting];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactStatus::Verifying => "Verifying",
            ContactStatus::Active => "Active",
            ContactStatus::Deleting => "Deleting",
        }
    }
    pub fn is_active(self) -> bool {
        self == ContactStatus::Active
    }
    pub fn is_deleting(self) -> bool {
        self == ContactStatus::Deleting
    }
}

crate::stored_as_text!(ContactStatus, "contact status");

impl Contact {
    pub fn status(&self) -> ContactStatus {
        self.status
    }
    pub fn types(&self) -> MessageTypes {
        MessageTypes::from_bits(self.message_types)
    }
    /// The address a verification is waiting for: the contact's own while it is
    /// Verifying, or the pending new one of an Active contact.
    pub fn address_to_verify(&self) -> Option<&str> {
        match self.status() {
            ContactStatus::Verifying => Some(&self.email),
            ContactStatus::Active => self.pending_email.as_deref().or_else(|| self.reconfirm_sent_at.map(|_| self.email.as_str())),
            ContactStatus::Deleting => None,
        }
    }
    /// It was asked to confirm its address again and has not for [`RECONFIRM_GRACE`]
    /// (it still receives).
    pub fn is_stale(&self, now: &PrimitiveDateTime) -> bool {
        self.status.is_active() && self.reconfirm_sent_at.is_some_and(|at| at + RECONFIRM_GRACE < *now)
    }
    /// It was asked to confirm its address again and has not yet.
    pub fn awaits_reconfirmation(&self) -> bool {
        self.status.is_active() && self.pending_email.is_none() && self.reconfirm_sent_at.is_some()
    }
    /// Where notifications go: the verified address (rule C5), none before verification.
    pub fn deliverable_email(&self) -> Option<&str> {
        (self.verified_at.is_some()).then_some(self.email.as_str())
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = contact_verifications)]
pub struct Verification {
    pub id: i64,
    pub contact_id: Option<String>,
    pub address: String,
    pub address_key: String,
    pub token_hash: String,
    pub requested_by: String,
    pub sent_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
    pub used_at: Option<PrimitiveDateTime>,
}

impl Verification {
    pub fn is_expired(&self, now: PrimitiveDateTime) -> bool {
        self.used_at.is_none() && self.expires_at <= now
    }

    /// What became of this link: used, expired, no longer wanted (the change it was for
    /// was cancelled or replaced), or still waiting.
    pub fn outcome(&self, contact: &Contact, now: PrimitiveDateTime) -> LinkOutcome {
        if let Some(at) = self.used_at {
            return LinkOutcome::Confirmed(at);
        }
        let wanted = contact.address_to_verify().is_some_and(|a| a.eq_ignore_ascii_case(&self.address));
        match (wanted, self.expires_at <= now) {
            (false, _) => LinkOutcome::Withdrawn,
            (true, true) => LinkOutcome::Expired,
            (true, false) => LinkOutcome::Waiting,
        }
    }
}

/// What became of a verification link (the contact page's history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    Confirmed(PrimitiveDateTime),
    Waiting,
    Expired,
    /// The contact no longer waits for this address: the change was cancelled or replaced.
    Withdrawn,
}

impl LinkOutcome {
    pub fn confirmed_at(self) -> Option<PrimitiveDateTime> {
        if let LinkOutcome::Confirmed(t) = self { Some(t) } else { None }
    }
    pub fn is_waiting(self) -> bool {
        self == LinkOutcome::Waiting
    }
    pub fn is_expired(self) -> bool {
        self == LinkOutcome::Expired
    }
}

/// A contact in the list, with what its latest verification email says about it.
#[derive(Debug, Clone)]
pub struct ContactRow {
    pub contact: Contact,
    /// The latest link for the address waiting for verification has expired.
    pub link_expired: bool,
}

/// What the confirm page shows: whose address is being verified.
#[derive(Debug, Clone)]
pub struct VerificationView {
    pub contact_name: String,
    pub address: String,
    pub expires_at: PrimitiveDateTime,
    pub requested_by: String,
}
