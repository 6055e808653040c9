//! The emails we send, as typed askama templates (a plain-text and an HTML part each).

use askama::Template;

use super::Email;

/// What a verification email says: who asked, for whom, what they will receive, and
/// until when the link works.
pub struct VerificationMail<'a> {
    pub to: &'a str,
    pub contact_name: &'a str,
    pub requested_by: &'a str,
    pub directory_id: &'a str,
    pub types: Vec<(&'static str, &'static str)>,
    pub link: String,
    pub expires: String,
    pub is_change: bool,
}

#[derive(Template)]
#[template(path = "emails/verify.txt")]
struct VerificationText<'a> {
    m: &'a VerificationMail<'a>,
}

#[derive(Template)]
#[template(path = "emails/verify.html")]
struct VerificationHtml<'a> {
    m: &'a VerificationMail<'a>,
}

pub fn verification_email(m: &VerificationMail<'_>) -> Result<Email, askama::Error> {
    Ok(Email {
        to: m.to.to_owned(),
        subject: if m.is_change { "Confirm your new email address for notifications".into() } else { "Confirm your email address for notifications".into() },
        text: VerificationText { m }.render()?,
        html: VerificationHtml { m }.render()?,
    })
}
