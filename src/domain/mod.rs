//! Newtypes and pure rules. Every value that crosses a boundary (a form, an API
//! parameter) becomes one of these through `parse`, whose error says what to fix.
//! Nothing here does I/O or imports the rest of the crate.

mod contact;
mod email;
mod ids;
mod names;
mod paging;
mod search;
mod tag;

pub use contact::{ContactId, ContactName, MessageType, MessageTypes, PhoneNumber, Title, Token};
pub use email::EmailAddress;
pub use ids::{AccountId, FolderId, ResourceDirectoryId, TargetId, random_alphanumeric};
pub use names::{DisplayName, FolderName, Password, RecipientName, Username};
pub use paging::{Page, PageRequest};
pub use search::SearchText;
pub use tag::{MAX_TAGS, Tag, TagKey, TagValue, TaggedKind, distinct_tags};

/// `2026-11-28 04:19:07 UTC`: a moment as the console and emails say it, to the second.
pub fn when_utc(t: time::PrimitiveDateTime) -> String {
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

/// Why a character is refused, as a person reads it: "spaces are not allowed", never a
/// code point.
pub(crate) fn not_allowed(c: char) -> String {
    match c {
        '\n' | '\r' => "line breaks are not allowed".to_owned(),
        c if c.is_whitespace() => "spaces are not allowed".to_owned(),
        c if c.is_control() => "control characters are not allowed".to_owned(),
        c if c.is_ascii_digit() => "digits are not allowed".to_owned(),
        c => format!("\u{201c}{c}\u{201d} is not allowed"),
    }
}

/// Folders may nest at most this many levels below the root (the root is level 0).
pub const MAX_FOLDER_DEPTH: i32 = 5;

/// A value that failed to parse, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
}

impl ParseError {
    pub fn new(message: impl Into<String>) -> ParseError {
        ParseError { message: message.into() }
    }
}
