use std::collections::HashMap;

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::bounces::Bounce;
use crate::db::schema::mc_recipients;
use crate::domain::{MessageType, MessageTypes};

/// A recipient the member added itself (or its security email, rule M4).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mc_recipients)]
pub struct OwnRecipient {
    pub id: i64,
    pub account_id: String,
    pub name: String,
    pub email: String,
    pub message_types: i32,
    pub created_at: PrimitiveDateTime,
    pub modified_at: PrimitiveDateTime,
    /// When its owner confirmed the address; until then it receives nothing (rule M6).
    pub verified_at: Option<PrimitiveDateTime>,
}

impl OwnRecipient {
    pub fn types(&self) -> MessageTypes {
        MessageTypes::from_bits(self.message_types)
    }
    /// The types chosen for it (what the form shows).
    pub fn chosen(&self, t: &MessageType) -> bool {
        self.types().contains(*t)
    }
    /// It receives `t`: chosen and confirmed.
    pub fn receives(&self, t: &MessageType) -> bool {
        self.verified_at.is_some() && self.chosen(t)
    }
    pub fn is_confirmed(&self) -> bool {
        self.verified_at.is_some()
    }
}

/// A contact the directory put in the member's Message Center, as the member sees it.
#[derive(Debug, Clone)]
pub struct DirectoryEntry {
    pub contact_id: String,
    pub contact_name: String,
    /// The verified address notifications go to (none while unverified).
    pub email: Option<String>,
    /// The types the directory set on the contact.
    pub contact_types: MessageTypes,
    /// The types the member turned off.
    pub opt_out: MessageTypes,
    /// When the member removed the entry (it stays associated in the directory's view).
    pub removed_at: Option<PrimitiveDateTime>,
    pub associated_at: PrimitiveDateTime,
    /// The mark of its address when the mail server refuses it for good.
    pub bounce: Option<Bounce>,
}

impl DirectoryEntry {
    /// The types this entry receives in the member's Message Center.
    pub fn effective(&self) -> MessageTypes {
        if self.removed_at.is_some() {
            return MessageTypes::default();
        }
        MessageTypes::from_bits(self.contact_types.bits() & !self.opt_out.bits())
    }
    pub fn receives(&self, t: &MessageType) -> bool {
        self.effective().contains(*t)
    }
    pub fn offers(&self, t: &MessageType) -> bool {
        self.contact_types.contains(*t)
    }
    /// The member changed what the directory set (drift, shown to administrators).
    pub fn has_drift(&self) -> bool {
        self.removed_at.is_some() || self.contact_types.bits() & self.opt_out.bits() != 0
    }
    pub fn opted_out_labels(&self) -> String {
        MessageTypes::from_bits(self.contact_types.bits() & self.opt_out.bits()).labels()
    }
}

/// A member's whole Message Center.
#[derive(Debug, Clone)]
pub struct MessageCenter {
    pub account_id: String,
    pub own: Vec<OwnRecipient>,
    pub entries: Vec<DirectoryEntry>,
    /// The marks of its addresses that bounce.
    pub bounces: HashMap<String, Bounce>,
}

impl MessageCenter {
    /// The bounce mark of an address of this Message Center, if it has one.
    pub fn bounce(&self, address: &str) -> Option<Bounce> {
        crate::bounces::lookup(&self.bounces, address)
    }

    /// Message types whose email reaches nobody: no recipient receives them, or every
    /// one that does bounces (a coverage gap).
    pub fn uncovered(&self) -> MessageTypes {
        MessageType::ALL
            .into_iter()
            .filter(|t| {
                !self.own.iter().any(|r| r.receives(t) && self.bounce(&r.email).is_none())
                    && !self.entries.iter().any(|e| e.receives(t) && e.email.is_some() && e.bounce.is_none())
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientKind {
    Own,
    Directory { contact_id: String },
}

/// Who receives one message type for one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub name: String,
    pub email: String,
    pub kind: RecipientKind,
}
