//! A member joins or moves: the directory's change, then the rules that follow it (M4: its
//! security email in its Message Center; B3 and B5: the contacts its new place gives it,
//! U2 for those it loses; B6: not while an unbinding works on either chain). This service
//! sits above `directory`, `message_center` and `contacts`, which know nothing of each
//! other's side of it.

use crate::audit::{self, Actor, Changes, Event};
use crate::contacts::{bindings, propagation};
use crate::db::AnyConnection;
use crate::directory::{self, Account, DirectoryError, JoinMethod, NewAccount};
use crate::domain::{AccountId, FolderId};
use crate::message_center;

/// Creates a member account in its folder, with its Message Center and its contacts.
pub fn create_account(conn: &mut AnyConnection, new: &NewAccount, actor: &Actor) -> Result<Account, DirectoryError> {
    crate::db::transaction(conn, |conn| {
        let account = directory::insert_account(conn, new)?;
        if let Some(email) = &account.security_email {
            message_center::add_security_email_recipient(conn, &account.id, &account.display_name, email)?;
        }
        // Rule B3: a member joining a covered folder gets its contacts.
        propagation::reconcile_member(conn, &account.id)?;
        let folder = account.folder_id.clone().unwrap_or_default();
        let changes = Changes::new()
            .set("display_name", account.display_name.clone())
            .set("folder", folder.clone())
            .set("security_email", account.security_email.clone())
            .set("join_method", account.join_method.clone());
        audit::record(conn, actor, Event::new("account.create", &account.id).related(folder).changes(changes))?;
        Ok(account)
    })
}

/// Moves a member into another folder. Moving into its own folder changes nothing.
pub fn move_account(conn: &mut AnyConnection, id: &AccountId, destination: &FolderId, actor: &Actor) -> Result<Account, DirectoryError> {
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
        let before = account.folder_id.clone();
        let account = directory::set_account_folder(conn, &account, &dest)?;
        // Rule B5: what only the old chain gave goes (U2 applies), the new chain's comes.
        propagation::reconcile_member(conn, &account.id)?;
        let changes = Changes::new().field("folder", before, dest.id.clone());
        audit::record(conn, actor, Event::new("account.move", &account.id).related(dest.id.clone()).changes(changes))?;
        Ok(account)
    })
}

/// What an import added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub folders: usize,
    pub members: usize,
}

/// An import stopped at one line (nothing of it was kept).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("Line {line}: {error}")]
    Line { line: usize, error: DirectoryError },
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(ImportError);

/// The folders a path names below the root, made where missing (an existing one is
/// found by name, in any case); `known` remembers those already found, by lower-case path.
/// Returns the last folder and the paths of those made.
pub fn ensure_folders(
    conn: &mut AnyConnection,
    root: &FolderId,
    path: &[crate::domain::FolderName],
    known: &mut std::collections::HashMap<Vec<String>, FolderId>,
    actor: &Actor,
) -> Result<(FolderId, Vec<String>), DirectoryError> {
    let mut parent = root.clone();
    let mut key = Vec::new();
    let mut made = Vec::new();
    for name in path {
        key.push(name.as_str().to_lowercase());
        if let Some(id) = known.get(&key) {
            parent = id.clone();
            continue;
        }
        let folder = match directory::child_named(conn, &parent, name)? {
            Some(f) => f,
            None => {
                made.push(key.join("/"));
                directory::create_folder(conn, &parent, name, actor)?
            }
        };
        parent = FolderId::parse(&folder.id).map_err(|_| DirectoryError::FolderNotFound(folder.id.clone()))?;
        known.insert(key.clone(), parent.clone());
    }
    Ok((parent, made))
}

/// Adds a pasted tree in one transaction: each line's folders (those that exist are
/// reused, by name in any case) and its member, who gets its contacts as any new member
/// does (rule B3). A line that cannot be added undoes the whole import.
pub fn import_tree(conn: &mut AnyConnection, lines: &[directory::import::Line], actor: &Actor) -> Result<Imported, ImportError> {
    crate::db::transaction(conn, |conn| {
        let rd = directory::get_directory(conn)?;
        let root = FolderId::parse(&rd.root_folder_id).map_err(|_| DirectoryError::FolderNotFound(rd.root_folder_id.clone()))?;
        let mut known: std::collections::HashMap<Vec<String>, FolderId> = std::collections::HashMap::new();
        let mut added = Imported { folders: 0, members: 0 };
        for line in lines {
            let at = |error: DirectoryError| ImportError::Line { line: line.number, error };
            let (parent, made) = ensure_folders(conn, &root, &line.path, &mut known, actor).map_err(at)?;
            added.folders += made.len();
            if let Some((name, email)) = &line.member {
                let new = NewAccount {
                    display_name: name.clone(),
                    folder: parent,
                    security_email: email.clone(),
                    account_name_prefix: None,
                    join_method: JoinMethod::Created,
                };
                create_account(conn, &new, actor).map_err(at)?;
                added.members += 1;
            }
        }
        Ok(added)
    })
}
