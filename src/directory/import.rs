//! A tree pasted as text, one line per folder or member, for a first directory:
//!
//! ```text
//! ops/db                                  a folder (and those above it)
//! ops/db, Payments prod, sec@example.com  a member of ops/db, with a security email
//! , Lone member                           a member of the root folder
//! ```
//!
//! Parsing is pure and reports every bad line at once; `membership::import_tree` writes.

use crate::domain::{DisplayName, EmailAddress, FolderName, MAX_FOLDER_DEPTH};

/// Lines an import takes at the most.
pub const MAX_LINES: usize = 2000;

/// One line of an imported tree: a folder path (names from below the root), and a member
/// in it when the line names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Its number in the text, from 1.
    pub number: usize,
    pub path: Vec<FolderName>,
    pub member: Option<(DisplayName, Option<EmailAddress>)>,
}

/// The lines of a pasted tree, or every line that is wrong (its number, from 1, and why).
pub fn parse(text: &str) -> Result<Vec<Line>, Vec<(usize, String)>> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let numbered: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty() && !l.starts_with('#')).collect();
    if numbered.is_empty() {
        return Err(vec![(0, "Paste at least one folder or member".into())]);
    }
    if numbered.len() > MAX_LINES {
        return Err(vec![(0, format!("At most {MAX_LINES} lines at once (this has {}); import the rest afterwards", numbered.len()))]);
    }
    for (n, raw) in numbered {
        match parse_line(n, raw) {
            Ok(line) => lines.push(line),
            Err(e) => errors.push((n, e)),
        }
    }
    if errors.is_empty() { Ok(lines) } else { Err(errors) }
}

fn parse_line(number: usize, raw: &str) -> Result<Line, String> {
    let mut fields = raw.split(',').map(str::trim);
    let path_text = fields.next().unwrap_or("");
    let path =
        path_text.split('/').map(str::trim).filter(|p| !p.is_empty()).map(|p| FolderName::parse(p).map_err(|e| e.message)).collect::<Result<Vec<_>, _>>()?;
    if path.len() > MAX_FOLDER_DEPTH as usize {
        return Err(format!("Folders nest at most {MAX_FOLDER_DEPTH} levels below the root; {path_text} has {}", path.len()));
    }
    let member = match (fields.next(), fields.next(), fields.next()) {
        (None, _, _) => None,
        (Some(name), email, None) => {
            let name = DisplayName::parse(name).map_err(|e| e.message)?;
            let email = match email.filter(|e| !e.is_empty()) {
                Some(e) => Some(EmailAddress::parse(e).map_err(|e| e.message)?),
                None => None,
            };
            Some((name, email))
        }
        _ => return Err("A line is a folder path, then a member's display name and security email: at most two commas".into()),
    };
    if path.is_empty() && member.is_none() {
        return Err("Name a folder path, or a member after a comma".into());
    }
    Ok(Line { number, path, member })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_tree_is_read_line_by_line_and_every_bad_line_is_named() {
        let lines = parse("ops/db\n\n# a comment\nops/db, Payments prod, sec@example.com\n, Lone member\n").unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].path.iter().map(FolderName::as_str).collect::<Vec<_>>(), ["ops", "db"]);
        assert!(lines[0].member.is_none());
        let (name, email) = lines[1].member.clone().unwrap();
        assert_eq!((name.as_str(), email.map(|e| e.as_str().to_owned())), ("Payments prod", Some("sec@example.com".to_owned())));
        assert!(lines[2].path.is_empty() && lines[2].member.is_some());
        let errors = parse("good\nbad folder\nops, X, not-an-email\na/b/c/d/e/f\n").unwrap_err();
        assert_eq!(errors.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [2, 3, 4]);
        assert!(errors[0].1.contains("spaces are not allowed"), "{errors:?}");
        assert!(errors[2].1.contains("at most 5 levels"));
        assert_eq!(parse("  \n# only a comment").unwrap_err()[0].0, 0);
    }
}
