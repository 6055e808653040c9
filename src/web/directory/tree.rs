//! The folder tree as pages draw it (the Resource Organization View, Select Objects): the
//! root and the way down to one folder opened, flattened depth first for a template.

use std::collections::HashMap;

use crate::db::AnyConnection;
use crate::directory::{self, DirectoryError, Folder, FolderSummary};
use crate::domain::{FolderId, Page, PageRequest};

use super::TREE_FOLDERS;

/// One folder of the tree: a row, opened (its children follow, then `closes`) or not.
pub(crate) struct TreeRow {
    pub node: FolderSummary,
    pub expanded: bool,
    pub selected: bool,
    /// The groups this row ends (it is the last of their subtrees), innermost first;
    /// each may end with a link to the folders the tree does not show.
    pub closes: Vec<Close>,
}

pub(crate) struct Close {
    pub more: Option<(String, String, i64)>,
}

impl TreeRow {
    pub fn closed(node: FolderSummary) -> TreeRow {
        TreeRow { node, expanded: false, selected: false, closes: Vec::new() }
    }
    pub fn label(&self) -> &str {
        self.node.folder.shown_name()
    }
    pub fn has_children(&self) -> bool {
        self.node.subfolders > 0
    }
}

/// The tree from the root with the way down to `target` opened (and `target` itself), and
/// that way: the folders from the root to `target`.
pub(crate) fn opened(c: &mut AnyConnection, root: &FolderId, target: &FolderSummary) -> Result<(Vec<TreeRow>, Vec<Folder>), DirectoryError> {
    let mut open = directory::ancestors(c, &target.folder)?;
    open.push(target.folder.clone());
    let mut children = HashMap::new();
    for f in open.iter().filter(|f| f.id != target.folder.id || target.subfolders > 0) {
        let id = FolderId::parse(&f.id).expect("stored ids are valid");
        children.insert(f.id.clone(), directory::list_subfolders(c, &id, None, PageRequest::with_size(None, TREE_FOLDERS))?);
    }
    let top = if target.folder.id == root.as_str() { target.clone() } else { directory::folder_summary(c, root)? };
    let mut tree = Vec::new();
    flatten(&mut tree, top, &mut children, &target.folder.id);
    Ok((tree, open))
}

/// Flattens the opened part of the tree, depth first, from `node`.
fn flatten(out: &mut Vec<TreeRow>, node: FolderSummary, children: &mut HashMap<String, Page<FolderSummary>>, selected: &str) {
    let id = node.folder.id.clone();
    let opened = children.remove(&id).filter(|_| node.subfolders > 0);
    out.push(TreeRow { expanded: opened.is_some(), selected: id == selected, node, closes: Vec::new() });
    if let Some(kids) = opened {
        let more = (kids.total > kids.items.len() as i64).then(|| (id.clone(), out.last().map(|r| r.label().to_owned()).unwrap_or_default(), kids.total));
        for kid in kids.items {
            flatten(out, kid, children, selected);
        }
        if let Some(last) = out.last_mut() {
            last.closes.push(Close { more });
        }
    }
}
