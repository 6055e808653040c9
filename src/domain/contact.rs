use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use sha2::{Digest, Sha256};

use super::ParseError;
use super::ids::random_alphanumeric;

/// A contact's id: `c-` and 16 letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContactId(String);

impl ContactId {
    pub fn generate() -> Self {
        ContactId(format!("c-{}", random_alphanumeric(16)))
    }
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        match s.strip_prefix("c-") {
            Some(rest) if rest.len() == 16 && rest.bytes().all(|b| b.is_ascii_alphanumeric()) => Ok(ContactId(s.to_owned())),
            _ => Err(ParseError::new("A contact id is c- followed by 16 letters or digits")),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// True for the CJK unified ideographs (the main block and extensions A to I).
fn is_cjk_ideograph(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F | 0x2B740..=0x2B81F
        | 0x2B820..=0x2CEAF | 0x2CEB0..=0x2EBEF | 0x2EBF0..=0x2EE5F | 0x30000..=0x3134F | 0x31350..=0x323AF)
}

/// A contact's name (rule C2): 2 to 12 characters, Chinese characters (CJK unified
/// ideographs) and English letters only. Uniqueness is the service's business: it
/// compares `key()`, which ignores the case of English letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactName(String);

impl ContactName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::new("Enter the contact's name"));
        }
        let len = s.chars().count();
        if !(2..=12).contains(&len) {
            return Err(ParseError::new(format!("The name must be 2 to 12 characters long (it has {len})")));
        }
        if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphabetic() || is_cjk_ideograph(*c))) {
            return Err(ParseError::new(format!("The name may contain Chinese characters and English letters only: {}", super::not_allowed(c))));
        }
        Ok(ContactName(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A contact's title; stored as its API value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Title {
    FinanceDirector,
    TechnicalDirector,
    MaintenanceDirector,
    Ceo,
    ProjectDirector,
    Other,
}

impl TryFrom<String> for Title {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Title::parse(&s)
    }
}

impl From<Title> for String {
    fn from(t: Title) -> String {
        t.api_name().to_owned()
    }
}

impl Title {
    pub const ALL: [Title; 6] =
        [Title::FinanceDirector, Title::TechnicalDirector, Title::MaintenanceDirector, Title::Ceo, Title::ProjectDirector, Title::Other];

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Title::ALL
            .into_iter()
            .find(|t| t.api_name() == s.trim())
            .ok_or_else(|| ParseError::new("Choose a title: FinanceDirector, TechnicalDirector, MaintenanceDirector, CEO, ProjectDirector or Other"))
    }
    /// The API's value.
    pub fn api_name(self) -> &'static str {
        match self {
            Title::FinanceDirector => "FinanceDirector",
            Title::TechnicalDirector => "TechnicalDirector",
            Title::MaintenanceDirector => "MaintenanceDirector",
            Title::Ceo => "CEO",
            Title::ProjectDirector => "ProjectDirector",
            Title::Other => "Other",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Title::FinanceDirector => "Finance director",
            Title::TechnicalDirector => "Technical director",
            Title::MaintenanceDirector => "O&M director",
            Title::Ceo => "CEO",
            Title::ProjectDirector => "Project director",
            Title::Other => "Other",
        }
    }
    /// The message types we suggest for someone with this title.
    pub fn suggested_types(self) -> MessageTypes {
        use MessageType::*;
        MessageTypes::from_iter(
            match self {
                Title::FinanceDirector => &[AccountExpenses, ServiceMessage][..],
                Title::TechnicalDirector => &[ProductMessage, SecurityMessage, FaultMessage][..],
                Title::MaintenanceDirector => &[ProductMessage, SecurityMessage, FaultMessage, ServiceMessage][..],
                Title::Ceo => &[AccountExpenses, SecurityMessage, ServiceMessage][..],
                Title::ProjectDirector => &[ProductMessage, FaultMessage, ActivityMessage][..],
                Title::Other => &[ProductMessage, ServiceMessage][..],
            }
            .iter()
            .copied(),
        )
    }
}

/// A category of notification (DESIGN.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageType {
    AccountExpenses,
    ProductMessage,
    SecurityMessage,
    FaultMessage,
    ActivityMessage,
    ServiceMessage,
}

impl MessageType {
    pub const ALL: [MessageType; 6] = [
        MessageType::AccountExpenses,
        MessageType::ProductMessage,
        MessageType::SecurityMessage,
        MessageType::FaultMessage,
        MessageType::ActivityMessage,
        MessageType::ServiceMessage,
    ];

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        MessageType::ALL.into_iter().find(|t| t.api_name() == s.trim()).ok_or_else(|| {
            ParseError::new(format!(
                "{:?} is not a message type: use AccountExpenses, ProductMessage, SecurityMessage, FaultMessage, ActivityMessage or ServiceMessage",
                s.chars().take(40).collect::<String>()
            ))
        })
    }
    pub fn api_name(self) -> &'static str {
        match self {
            MessageType::AccountExpenses => "AccountExpenses",
            MessageType::ProductMessage => "ProductMessage",
            MessageType::SecurityMessage => "SecurityMessage",
            MessageType::FaultMessage => "FaultMessage",
            MessageType::ActivityMessage => "ActivityMessage",
            MessageType::ServiceMessage => "ServiceMessage",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            MessageType::AccountExpenses => "Account / billing",
            MessageType::ProductMessage => "Product",
            MessageType::SecurityMessage => "Security",
            MessageType::FaultMessage => "Fault",
            MessageType::ActivityMessage => "Activity",
            MessageType::ServiceMessage => "Service",
        }
    }
    pub fn description(self) -> &'static str {
        match self {
            MessageType::AccountExpenses => "Balance, credit, refunds, payments, coupons",
            MessageType::ProductMessage => "Product activation, expiry and renewal notices",
            MessageType::SecurityMessage => "Security alerts, unusual logons, compliance notices",
            MessageType::FaultMessage => "Service failures and incidents, monitoring alerts",
            MessageType::ActivityMessage => "Promotions, launches, upgrades",
            MessageType::ServiceMessage => "Contracts, bills, invoices",
        }
    }
    /// The type's bit in a stored set.
    pub fn bit(self) -> i32 {
        1 << (self as i32)
    }
}

/// A non-empty set of message types, stored as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MessageTypes(i32);

impl MessageTypes {
    pub const EVERY: MessageTypes = MessageTypes(0b11_1111);

    /// Parses a list of API names; the list must not be empty.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, ParseError> {
        let mut set = MessageTypes(0);
        for item in items {
            set.0 |= MessageType::parse(item.as_ref())?.bit();
        }
        if set.0 == 0 {
            return Err(ParseError::new("Choose at least one message type"));
        }
        Ok(set)
    }
    /// From stored bits (unknown bits are dropped).
    pub fn from_bits(bits: i32) -> Self {
        MessageTypes(bits & Self::EVERY.0)
    }
    pub fn bits(self) -> i32 {
        self.0
    }
    pub fn contains(self, t: MessageType) -> bool {
        self.0 & t.bit() != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = MessageType> {
        MessageType::ALL.into_iter().filter(move |t| self.contains(*t))
    }
    pub fn api_names(self) -> Vec<&'static str> {
        self.iter().map(MessageType::api_name).collect()
    }
    pub fn labels(self) -> String {
        self.iter().map(MessageType::label).collect::<Vec<_>>().join(", ")
    }
}

impl FromIterator<MessageType> for MessageTypes {
    fn from_iter<I: IntoIterator<Item = MessageType>>(iter: I) -> Self {
        MessageTypes(iter.into_iter().fold(0, |acc, t| acc | t.bit()))
    }
}

/// A phone number for SMS, `86-` and 11 digits of a mainland-China mobile number
/// (stored only: this deployment sends no SMS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let (cc, number) = s.split_once('-').ok_or_else(|| ParseError::new("Write the phone number as <country code>-<number>, e.g. 86-13900001234"))?;
        if cc != "86" {
            return Err(ParseError::new("Only mainland China mobile numbers (86-…) are supported"));
        }
        if number.len() != 11 || !number.starts_with('1') || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new("A mainland China mobile number has 11 digits and starts with 1, e.g. 86-13900001234"));
        }
        Ok(PhoneNumber(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A single-use secret for a link (rule C6): 256 random bits, shown once in the link;
/// only its SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn generate() -> Token {
        let bytes: [u8; 32] = rand::rng().random();
        Token(URL_SAFE_NO_PAD.encode(bytes))
    }
    /// A token from a URL; anything that cannot be one of ours is refused before any lookup.
    pub fn parse(s: &str) -> Result<Token, ParseError> {
        if s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            Ok(Token(s.to_owned()))
        } else {
            Err(ParseError::new("This link is not valid"))
        }
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c2_a_refused_name_says_which_character_in_words() {
        let why = |s: &str| ContactName::parse(s).unwrap_err().message;
        assert!(why("Tom Lee").ends_with("spaces are not allowed"), "{}", why("Tom Lee"));
        assert!(why("张3").ends_with("digits are not allowed"));
        assert!(why("Tom#").ends_with("\u{201c}#\u{201d} is not allowed"));
        assert!(!why("Tom\tLee").contains("U+"));
    }

    #[test]
    fn contact_names_follow_rule_c2() {
        for ok in ["tom", "Alice", "张三", "王Tom", "abcdefghijkl", "东方明珠塔上海浦东新区中"] {
            assert!(ContactName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["a", "张", "abcdefghijklm", "tom1", "tom smith", "tom-x", "ｔｏｍ", "éric", "tom😀", ""] {
            assert!(ContactName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ContactName::parse("Tom").unwrap().key(), ContactName::parse("tOM").unwrap().key());
    }

    #[test]
    fn message_types_are_a_non_empty_set() {
        let set = MessageTypes::parse(&["SecurityMessage", "AccountExpenses", "SecurityMessage"]).unwrap();
        assert_eq!(set.api_names(), ["AccountExpenses", "SecurityMessage"]);
        assert_eq!(MessageTypes::from_bits(set.bits()), set);
        assert!(MessageTypes::parse::<&str>(&[]).is_err());
        assert!(MessageTypes::parse(&["Spam"]).is_err());
        assert_eq!(MessageTypes::EVERY.iter().count(), 6);
    }

    #[test]
    fn a_maintenance_director_is_suggested_product_security_fault_and_service() {
        let s = Title::MaintenanceDirector.suggested_types();
        assert_eq!(s.api_names(), ["ProductMessage", "SecurityMessage", "FaultMessage", "ServiceMessage"]);
        assert_eq!(Title::parse("CEO").unwrap(), Title::Ceo);
        assert!(Title::parse("ceo").is_err());
    }

    #[test]
    fn phone_numbers_are_mainland_mobiles() {
        assert!(PhoneNumber::parse("86-13900001234").is_ok());
        for bad in ["13900001234", "1-2025550123", "86-1390000123", "86-23900001234", "86-1390000123x"] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens_carry_256_bits_and_only_their_hash_is_kept() {
        let t = Token::generate();
        assert_eq!(t.expose().len(), 43);
        assert_eq!(Token::parse(t.expose()).unwrap().hash(), t.hash());
        assert_ne!(Token::generate().hash(), t.hash());
        assert!(!t.hash().contains(t.expose()));
        assert!(Token::parse("short").is_err());
    }
}
