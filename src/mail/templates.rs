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
    /// A verified address asked to confirm again that it still reaches its contact.
    pub is_reconfirm: bool,
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
        subject: if m.is_reconfirm {
            "Do you still read this address? Confirm it for notifications".into()
        } else if m.is_change {
            "Confirm your new email address for notifications".into()
        } else {
            "Confirm your email address for notifications".into()
        },
        text: VerificationText { m }.render()?,
        html: VerificationHtml { m }.render()?,
    })
}

/// What an invitation to a member's Message Center says.
pub struct InvitationMail<'a> {
    pub to: &'a str,
    pub account_name: &'a str,
    pub account_id: &'a str,
    pub invited_by: &'a str,
    pub link: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "emails/invite.txt")]
struct InvitationText<'a> {
    m: &'a InvitationMail<'a>,
}

#[derive(Template)]
#[template(path = "emails/invite.html")]
struct InvitationHtml<'a> {
    m: &'a InvitationMail<'a>,
}

pub fn invitation_email(m: &InvitationMail<'_>) -> Result<Email, askama::Error> {
    Ok(Email {
        to: m.to.to_owned(),
        subject: format!("You are invited to manage the Message Center of {}", m.account_name),
        text: InvitationText { m }.render()?,
        html: InvitationHtml { m }.render()?,
    })
}

/// What an invitation to become an administrator of the console says.
pub struct AdminInvitationMail<'a> {
    pub to: &'a str,
    pub username: &'a str,
    pub role: crate::auth::Role,
    pub invited_by: &'a str,
    pub link: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "emails/admin_invite.txt")]
struct AdminInvitationText<'a> {
    m: &'a AdminInvitationMail<'a>,
}

#[derive(Template)]
#[template(path = "emails/admin_invite.html")]
struct AdminInvitationHtml<'a> {
    m: &'a AdminInvitationMail<'a>,
}

pub fn admin_invitation_email(m: &AdminInvitationMail<'_>) -> Result<Email, askama::Error> {
    Ok(Email {
        to: m.to.to_owned(),
        subject: "You are invited to administer the notification contacts of a resource directory".into(),
        text: AdminInvitationText { m }.render()?,
        html: AdminInvitationHtml { m }.render()?,
    })
}

/// Asks the owner of an address a member user added to its Message Center to confirm it
/// (rule M6).
pub struct RecipientMail<'a> {
    pub to: &'a str,
    pub account_name: &'a str,
    pub account_id: &'a str,
    pub added_by: &'a str,
    pub types: String,
    pub link: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "emails/recipient.txt")]
struct RecipientText<'a> {
    m: &'a RecipientMail<'a>,
}

#[derive(Template)]
#[template(path = "emails/recipient.html")]
struct RecipientHtml<'a> {
    m: &'a RecipientMail<'a>,
}

pub fn recipient_email(m: &RecipientMail<'_>) -> Result<Email, askama::Error> {
    Ok(Email {
        to: m.to.to_owned(),
        subject: format!("Confirm your address for the notifications of {}", m.account_name),
        text: RecipientText { m }.render()?,
        html: RecipientHtml { m }.render()?,
    })
}

/// A notification as one member's recipient receives it.
pub struct NotificationMail<'a> {
    pub to: &'a str,
    pub type_label: &'a str,
    pub subject: &'a str,
    pub content: &'a str,
    pub account_name: &'a str,
    pub account_id: &'a str,
}

#[derive(Template)]
#[template(path = "emails/notification.txt")]
struct NotificationText<'a> {
    m: &'a NotificationMail<'a>,
}

#[derive(Template)]
#[template(path = "emails/notification.html")]
struct NotificationHtml<'a> {
    m: &'a NotificationMail<'a>,
}

pub fn notification_email(m: &NotificationMail<'_>) -> Result<Email, askama::Error> {
    Ok(Email {
        to: m.to.to_owned(),
        subject: format!("[{}] {} ({})", m.type_label, m.subject, m.account_name),
        text: NotificationText { m }.render()?,
        html: NotificationHtml { m }.render()?,
    })
}
