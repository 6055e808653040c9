//! A member joins or moves: the directory's change, then the rules that follow it (M4: its
//! security email in its Message Center; B3 and B5: the contacts its new place gives it,
//! U2 for those it loses; B6: not while an unbinding works on either chain). This service
//! sits above `directory`, `message_center` and `contacts`, which know nothing of each
//! other's side of it.

use crate::contacts::{bindings, propagation};
use crate::db::AnyConnection;
use crate::directory::{self, Account, DirectoryError, NewAccount};
use crate::domain::{AccountId, FolderId};
use crate::message_center;

/// Creates a member account in its folder, with its Message Center and its contacts.
pub fn create_account(conn: &mut AnyConnection, new: &NewAccount) -> Result<Account, DirectoryError> {
    crate::db::transaction(conn, |conn| {
        let account = directory::insert_account(conn, new)?;
        if let Some(email) = &account.security_email {
            message_center::add_security_email_recipient(conn, &account.id, &account.display_name, email)?;
        }
        // Rule B3: a member joining a covered folder gets its contacts.
        propagation::reconcile_member(conn, &account.id)?;
        Ok(account)
    })
}

/// Moves a member into another folder. Moving into its own folder changes nothing.
pub fn move_account(conn: &mut AnyConnection, id: &AccountId, destination: &FolderId) -> Result<Account, DirectoryError> {
    crate::db::transaction(conn, |conn| {
        let account = directory::get_current_account(conn, id)?;
        let dest = directory::get_folder(conn, destination)?;
        if account.folder_id.as_deref() == Some(dest.id.as_str()) {
            return Ok(account);
        }
        // Rule B6: not while an unbinding task works on either chain.
        let from = match &account.folder_id {
            Some(f) => directory::get_folder(conn, &FolderId::parse(f).map_err(|_| DirectoryError::FolderNotFound(f.clone()))?)?.path,
            None => String::new(),
        };
        if bindings::unbind_running_over(conn, &from)? || bindings::unbind_running_over(conn, &dest.path)? {
            return Err(DirectoryError::MoveBlocked(account.id.clone()));
        }
        let account = directory::set_account_folder(conn, &account, &dest)?;
        // Rule B5: what only the old chain gave goes (U2 applies), the new chain's comes.
        propagation::reconcile_member(conn, &account.id)?;
        Ok(account)
    })
}
