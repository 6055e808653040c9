//! The directory kept in step with a file (`rd-contacts directory import|export`): CSV
//! with the header `folder_path,account_id,display_name,security_email`, or a JSON list of
//! objects with those keys. An import brings the directory to the file's state: it makes
//! the folders, creates members (a row without an account id; one already in that folder
//! with that name is the same member, so a second import changes nothing), moves and
//! renames members, sets security emails, and with `remove_missing` removes the members
//! the file does not list. Moves follow rules U1–U3 and removals B4, as in the console.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::db::AnyConnection;
use crate::db::schema::{accounts, folders};
use crate::directory::{self, Account, DirectoryError, JoinMethod, NewAccount};
use crate::domain::{AccountId, DisplayName, EmailAddress, FolderId, FolderName, MAX_FOLDER_DEPTH, MessageType};

/// One row of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    #[serde(default)]
    pub folder_path: String,
    #[serde(default)]
    pub account_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub security_email: String,
}

pub const HEADER: &str = "folder_path,account_id,display_name,security_email";

/// A row, checked: the folder names from below the root, and the member it names, if any.
#[derive(Debug, Clone)]
struct Checked {
    line: usize,
    path: Vec<FolderName>,
    account: Option<AccountId>,
    member: Option<(DisplayName, Option<EmailAddress>)>,
}

/// The rows of a file: JSON when it starts with `[`, CSV otherwise (with its header).
pub fn parse(text: &str) -> Result<Vec<Row>, Vec<String>> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with('[') {
        return serde_json::from_str::<Vec<Row>>(text).map_err(|e| vec![format!("The JSON is not a list of rows with {HEADER}: {e}")]);
    }
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    match lines.next() {
        Some((_, h)) if h.trim().replace(' ', "").eq_ignore_ascii_case(HEADER) => {}
        _ => return Err(vec![format!("The first line must be the header {HEADER}")]),
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in lines {
        match crate::csv::record(line) {
            Ok(f) if f.len() == 4 => {
                rows.push(Row { folder_path: f[0].clone(), account_id: f[1].clone(), display_name: f[2].clone(), security_email: f[3].clone() })
            }
            Ok(f) => errors.push(format!("Line {}: {} fields; each line has 4 ({HEADER})", i + 1, f.len())),
            Err(e) => errors.push(format!("Line {}: {e}", i + 1)),
        }
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

fn check(rows: &[Row]) -> Result<Vec<Checked>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen_ids = HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        let line = i + 2;
        let result = (|| -> Result<Checked, String> {
            let path = row
                .folder_path
                .split('/')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| FolderName::parse(p).map_err(|e| e.message))
                .collect::<Result<Vec<_>, _>>()?;
            if path.len() > MAX_FOLDER_DEPTH as usize {
                return Err(format!("folders nest at most {MAX_FOLDER_DEPTH} levels below the root"));
            }
            let account = Some(row.account_id.trim()).filter(|a| !a.is_empty()).map(|a| AccountId::parse(a).map_err(|e| e.message)).transpose()?;
            if let Some(a) = &account
                && !seen_ids.insert(a.to_string())
            {
                return Err(format!("account {a} is listed twice"));
            }
            let member = match (row.display_name.trim(), row.security_email.trim()) {
                ("", "") if account.is_none() => None,
                ("", _) => return Err("a member needs a display name".into()),
                (name, email) => Some((
                    DisplayName::parse(name).map_err(|e| e.message)?,
                    Some(email).filter(|e| !e.is_empty()).map(|e| EmailAddress::parse(e).map_err(|e| e.message)).transpose()?,
                )),
            };
            Ok(Checked { line, path, account, member })
        })();
        match result {
            Ok(c) => out.push(c),
            Err(e) => errors.push(format!("Line {line}: {e}")),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub folders_added: Vec<String>,
    pub members_added: Vec<String>,
    pub moves: Vec<String>,
    pub renames: Vec<String>,
    pub email_changes: Vec<String>,
    pub removals: Vec<String>,
}

impl Plan {
    /// Each kind of change with what it names, in the order a reader expects.
    pub fn sections(&self) -> [(&'static str, &Vec<String>); 6] {
        [
            ("new folders", &self.folders_added),
            ("new members", &self.members_added),
            ("moved members", &self.moves),
            ("renamed members", &self.renames),
            ("changed security emails", &self.email_changes),
            ("removed members", &self.removals),
        ]
    }

    /// "new folders: 2, removed members: 1", the kinds of change it has.
    pub fn summary(&self) -> String {
        self.sections().iter().filter(|(_, items)| !items.is_empty()).map(|(what, items)| format!("{what}: {}", items.len())).collect::<Vec<_>>().join(", ")
    }

    pub fn is_empty(&self) -> bool {
        self.folders_added.is_empty()
            && self.members_added.is_empty()
            && self.moves.is_empty()
            && self.renames.is_empty()
            && self.email_changes.is_empty()
            && self.removals.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    #[error("Line {line}: {error}")]
    Line { line: usize, error: DirectoryError },
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error("The directory changed since the preview; review the new plan and apply again")]
    PlanChanged(Box<Outcome>),
    #[error(transparent)]
    Storage(#[from] crate::errors::StorageError),
}

crate::errors::storage_errors!(FileError);

/// How an import runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Works out the plan and its coverage gaps, then changes nothing.
    DryRun,
    /// Applies the file.
    Apply,
    /// Applies the file only when its plan is still the one previewed (its `digest`);
    /// otherwise changes nothing and answers `PlanChanged` with the new plan.
    ApplyIfPlanned(String),
}

/// An import's plan and the coverage gaps it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub plan: Plan,
    /// Per message type whose gaps grow: how many more members would have nobody for it.
    pub gaps_opened: Vec<(MessageType, i64)>,
}

impl Outcome {
    /// A short fingerprint of the plan, so that an apply can tell it is the one previewed.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let p = &self.plan;
        let mut h = Sha256::new();
        for list in [&p.folders_added, &p.members_added, &p.moves, &p.renames, &p.email_changes, &p.removals] {
            for item in list {
                h.update(item.as_bytes());
                h.update([0]);
            }
            h.update([1]);
        }
        hex::encode(&h.finalize()[..12])
    }

    /// "3 more members with nobody to notify for Security and Fault", one per count.
    pub fn gap_sentences(&self) -> Vec<String> {
        let mut counts: Vec<i64> = self.gaps_opened.iter().map(|(_, n)| *n).collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        counts.dedup();
        counts
            .into_iter()
            .map(|n| {
                let types: Vec<&str> = self.gaps_opened.iter().filter(|(_, m)| *m == n).map(|(t, _)| t.label()).collect();
                let listed = match types.split_last() {
                    Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                    _ => types.concat(),
                };
                format!("{n} more member{} with nobody to notify for {listed}", if n == 1 { "" } else { "s" })
            })
            .collect()
    }
}

/// The members with a gap, per message type, in the whole directory.
fn gap_totals(conn: &mut AnyConnection) -> Result<Vec<i64>, FileError> {
    let rd = directory::get_directory(conn)?;
    let root = directory::get_folder(conn, &FolderId::parse(&rd.root_folder_id).map_err(|_| DirectoryError::FolderNotFound(rd.root_folder_id.clone()))?)?;
    let rows = crate::coverage::folder_gaps(conn, &root.path)?;
    Ok((0..MessageType::ALL.len()).map(|i| rows.iter().map(|r| r.gaps[i]).sum()).collect())
}

/// Brings the directory to the rows' state (or, in a dry run, says what that would do),
/// with the coverage gaps the change opens.
pub fn import(conn: &mut AnyConnection, rows: &[Row], remove_missing: bool, mode: Mode, actor: &Actor) -> Result<Outcome, FileError> {
    let run = |c: &mut AnyConnection| -> Result<Outcome, FileError> {
        let before = gap_totals(c)?;
        let plan = apply(c, rows, remove_missing, actor)?;
        let after = if plan.is_empty() { before.clone() } else { gap_totals(c)? };
        let gaps_opened = MessageType::ALL.iter().zip(before.iter().zip(&after)).filter(|(_, (b, a))| a > b).map(|(t, (b, a))| (*t, a - b)).collect();
        let outcome = Outcome { plan, gaps_opened };
        match &mode {
            Mode::ApplyIfPlanned(digest) if *digest != outcome.digest() => Err(FileError::PlanChanged(Box::new(outcome))),
            _ => Ok(outcome),
        }
    };
    match mode {
        Mode::DryRun => crate::db::dry_run(conn, run),
        Mode::Apply | Mode::ApplyIfPlanned(_) => crate::db::transaction(conn, run),
    }
}

/// The directory's current members by id, and by folder and name.
struct Members {
    by_id: HashMap<String, Account>,
    /// Ids by (folder id, display name), in id order.
    by_place: HashMap<(String, String), Vec<String>>,
}

impl Members {
    fn load(conn: &mut AnyConnection) -> QueryResult<Members> {
        let all: Vec<Account> = accounts::table.filter(accounts::removed_at.is_null()).order(accounts::id).select(Account::as_select()).load(conn)?;
        let mut members = Members { by_id: HashMap::with_capacity(all.len()), by_place: HashMap::new() };
        for a in all {
            members.by_place.entry((a.folder_id.clone().unwrap_or_default(), a.display_name.clone())).or_default().push(a.id.clone());
            members.by_id.insert(a.id.clone(), a);
        }
        Ok(members)
    }

    /// The first member of that name in that folder that no row has claimed yet.
    fn at(&self, folder: &str, name: &str, claimed: &HashSet<String>) -> Option<Account> {
        let ids = self.by_place.get(&(folder.to_owned(), name.to_owned()))?;
        ids.iter().find(|id| !claimed.contains(*id)).and_then(|id| self.by_id.get(id)).cloned()
    }

    /// Records a move and/or a rename of member `id`.
    fn place(&mut self, id: &str, folder: Option<&str>, name: Option<&str>) {
        let Some(a) = self.by_id.get_mut(id) else { return };
        let old = (a.folder_id.clone().unwrap_or_default(), a.display_name.clone());
        if let Some(f) = folder {
            a.folder_id = Some(f.to_owned());
        }
        if let Some(n) = name {
            a.display_name = n.to_owned();
        }
        let new = (a.folder_id.clone().unwrap_or_default(), a.display_name.clone());
        if let Some(ids) = self.by_place.get_mut(&old) {
            ids.retain(|i| i != id);
        }
        let ids = self.by_place.entry(new).or_default();
        ids.push(id.to_owned());
        ids.sort();
    }
}

/// A folder path as a plan shows it.
fn shown_path(path: &[FolderName]) -> String {
    if path.is_empty() { "the root".to_owned() } else { path.iter().map(|p| p.as_str()).collect::<Vec<_>>().join("/") }
}

/// Brings the directory to the rows' state in one transaction (see the module's doc).
fn apply(conn: &mut AnyConnection, rows: &[Row], remove_missing: bool, actor: &Actor) -> Result<Plan, FileError> {
    let checked = check(rows).map_err(FileError::Invalid)?;
    crate::db::transaction(conn, |conn| {
        let rd = directory::get_directory(conn)?;
        let root = FolderId::parse(&rd.root_folder_id).map_err(|_| DirectoryError::FolderNotFound(rd.root_folder_id.clone()))?;
        let mut known = HashMap::new();
        let mut plan = Plan::default();
        let mut listed: HashSet<String> = HashSet::new();
        // The directory's members, read once (a row costs no query unless it changes
        // something), kept up to date as rows move and rename them.
        let mut current = Members::load(conn)?;
        for row in &checked {
            let at = |error: DirectoryError| FileError::Line { line: row.line, error };
            let (folder, made) = crate::membership::ensure_folders(conn, &root, &row.path, &mut known, actor).map_err(at)?;
            plan.folders_added.extend(made);
            let Some((name, email)) = &row.member else { continue };
            let existing = match &row.account {
                Some(id) => match current.by_id.get(id.as_str()) {
                    Some(account) => Some(account.clone()),
                    // Unknown or removed: the service says which.
                    None => Some(directory::get_current_account(conn, id).map_err(at)?),
                },
                // Without an id, a member of that name in that folder is the row's member.
                None => current.at(folder.as_str(), name.as_str(), &listed),
            };
            let Some(account) = existing else {
                let new = NewAccount {
                    display_name: name.clone(),
                    folder: folder.clone(),
                    security_email: email.clone(),
                    account_name_prefix: None,
                    join_method: JoinMethod::Created,
                };
                let created = crate::membership::create_account(conn, &new, actor).map_err(at)?;
                // Without its new id, which a dry run makes up: the plan an apply checks
                // against its preview names nothing that differs between the two.
                plan.members_added.push(format!("{} in {}", created.display_name, shown_path(&row.path)));
                listed.insert(created.id);
                continue;
            };
            listed.insert(account.id.clone());
            let id = AccountId::parse(&account.id).expect("stored ids are valid");
            if account.folder_id.as_deref() != Some(folder.as_str()) {
                crate::membership::move_account(conn, &id, &folder, actor).map_err(at)?;
                current.place(&account.id, Some(folder.as_str()), None);
                plan.moves.push(format!("{} ({}) to {}", account.display_name, account.id, shown_path(&row.path)));
            }
            let rename = (account.display_name != name.as_str()).then_some(name);
            let wanted = email.as_ref().map(|e| e.as_str().to_owned());
            let email_change = (account.security_email != wanted).then_some(email.as_ref());
            if rename.is_some() || email_change.is_some() {
                directory::update_account(conn, &id, rename, email_change, actor).map_err(at)?;
                current.place(&account.id, None, rename.map(|n| n.as_str()));
                if rename.is_some() {
                    plan.renames.push(format!("{} to {} ({})", account.display_name, name.as_str(), account.id));
                }
                if email_change.is_some() {
                    plan.email_changes.push(format!("{} ({}): {}", name.as_str(), account.id, wanted.as_deref().unwrap_or("none")));
                }
            }
        }
        if remove_missing {
            let mut missing: Vec<(String, String)> =
                current.by_id.values().filter(|a| !listed.contains(&a.id)).map(|a| (a.id.clone(), a.display_name.clone())).collect();
            missing.sort();
            for (id, name) in missing {
                directory::remove_account(conn, &AccountId::parse(&id).expect("stored ids are valid"), actor)?;
                plan.removals.push(format!("{name} ({id})"));
            }
        }
        Ok(plan)
    })
}

/// The directory as rows: every folder (a row of its own when it has no member) and
/// every member of the directory, by folder path.
pub fn export(conn: &mut AnyConnection) -> QueryResult<Vec<Row>> {
    let all: Vec<(String, String, Option<String>)> = folders::table.select((folders::id, folders::name, folders::parent_id)).load(conn)?;
    let by_id: HashMap<&str, (&str, Option<&str>)> = all.iter().map(|(id, name, parent)| (id.as_str(), (name.as_str(), parent.as_deref()))).collect();
    fn path<'a>(by_id: &HashMap<&'a str, (&'a str, Option<&'a str>)>, mut id: &'a str) -> String {
        let mut names = Vec::new();
        while let Some((name, Some(parent))) = by_id.get(id).copied() {
            names.push(name);
            id = parent;
        }
        names.reverse();
        names.join("/")
    }
    let path_of = |id: &str| path(&by_id, by_id.get_key_value(id).map_or("", |(k, _)| *k));
    let members: Vec<(String, String, Option<String>, Option<String>)> = accounts::table
        .filter(accounts::removed_at.is_null())
        .order(accounts::id)
        .select((accounts::id, accounts::display_name, accounts::folder_id, accounts::security_email))
        .load(conn)?;
    let with_members: HashSet<&str> = members.iter().filter_map(|m| m.2.as_deref()).collect();
    let mut rows: Vec<Row> = all
        .iter()
        .filter(|(id, _, parent)| parent.is_some() && !with_members.contains(id.as_str()))
        .map(|(id, _, _)| Row { folder_path: path_of(id), account_id: String::new(), display_name: String::new(), security_email: String::new() })
        .collect();
    rows.extend(members.iter().map(|(id, name, folder, email)| Row {
        folder_path: folder.as_deref().map(path_of).unwrap_or_default(),
        account_id: id.clone(),
        display_name: name.clone(),
        security_email: email.clone().unwrap_or_default(),
    }));
    rows.sort_by(|a, b| (&a.folder_path, &a.account_id).cmp(&(&b.folder_path, &b.account_id)));
    Ok(rows)
}

/// The rows as CSV (with its header).
pub fn to_csv(rows: &[Row]) -> String {
    let mut out = format!("{HEADER}\n");
    for r in rows {
        for (i, v) in [&r.folder_path, &r.account_id, &r.display_name, &r.security_email].iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            crate::csv::field(&mut out, v);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_csv() {
        let rows = vec![Row { folder_path: "ops".into(), account_id: String::new(), display_name: "-A, \"B\"".into(), security_email: String::new() }];
        assert_eq!(parse(&to_csv(&rows)).unwrap(), rows);
    }

    #[test]
    fn every_bad_line_is_reported_at_once() {
        let text = format!("{HEADER}\nops,,,\nbad/na%me,,x,\nops,12,,\n");
        let errors = check(&parse(&text).unwrap()).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("Line 3") && errors[1].starts_with("Line 4"), "{errors:?}");
    }

    #[test]
    fn the_gaps_an_import_opens_read_as_one_sentence_per_count() {
        let outcome = Outcome {
            plan: Plan::default(),
            gaps_opened: vec![(MessageType::SecurityMessage, 3), (MessageType::FaultMessage, 1), (MessageType::ProductMessage, 3)],
        };
        let security = MessageType::SecurityMessage.label();
        let product = MessageType::ProductMessage.label();
        let fault = MessageType::FaultMessage.label();
        assert_eq!(
            outcome.gap_sentences(),
            [format!("3 more members with nobody to notify for {security} and {product}"), format!("1 more member with nobody to notify for {fault}")]
        );
    }
}
