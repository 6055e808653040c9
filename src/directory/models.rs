use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::schema::{accounts, folders, resource_directories};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = resource_directories)]
pub struct ResourceDirectory {
    pub id: String,
    pub root_folder_id: String,
    pub master_account_id: String,
    pub master_account_name: String,
    pub created_at: PrimitiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = folders)]
pub struct Folder {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub depth: i32,
    pub path: String,
    pub created_at: PrimitiveDateTime,
}

impl Folder {
    pub fn is_root(&self) -> bool {
        self.parent_id.is_none()
    }
    /// The folder's name as shown: "Root" for the root.
    pub fn shown_name(&self) -> &str {
        if self.is_root() { "Root" } else { &self.name }
    }
    /// The shown path of the last of these folders, given root first: "Root / ops / db".
    pub fn path_label(path: &[Folder]) -> String {
        path.iter().map(Folder::shown_name).collect::<Vec<_>>().join(" / ")
    }
    /// The ids of this folder's ancestors, root first, without the folder itself.
    pub fn ancestor_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.path.split('/').filter(|s| !s.is_empty()).collect();
        ids.pop();
        ids
    }
    /// Alibaba's `ResourceDirectoryPath`: `rd-…/r-…/fd-…`.
    pub fn directory_path(&self, rd_id: &str) -> String {
        format!("{rd_id}/{}", self.path.trim_end_matches('/'))
    }
}

/// A folder with the number of folders and members directly inside it.
#[derive(Debug, Clone, QueryableByName)]
pub struct FolderSummary {
    #[diesel(embed)]
    pub folder: Folder,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub subfolders: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub members: i64,
}

/// A folder as a choice in a list (move a member, pick a parent): indented by depth.
#[derive(Debug, Clone)]
pub struct FolderOption {
    pub id: String,
    pub label: String,
    pub depth: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: String,
    pub display_name: String,
    pub account_name: String,
    pub folder_id: Option<String>,
    pub security_email: Option<String>,
    pub join_method: String,
    pub joined_at: PrimitiveDateTime,
    pub modified_at: PrimitiveDateTime,
    pub removed_at: Option<PrimitiveDateTime>,
}

impl Account {
    pub fn is_removed(&self) -> bool {
        self.removed_at.is_some()
    }
}

/// How a member came into the directory (Alibaba's `JoinMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinMethod {
    Created,
    Invited,
}

impl JoinMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinMethod::Created => "created",
            JoinMethod::Invited => "invited",
        }
    }
}
