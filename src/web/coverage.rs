//! The Coverage page: which members would hear nothing, per folder and message type (a
//! table that reads as a heat map), drilled down to the members and why; a CSV of them.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use askama::Template;
use serde::Deserialize;

use crate::coverage::{self, GapRow, MemberGap, Reason, Within};
use crate::db;
use crate::directory::{self, Folder};
use crate::domain::{FolderId, MessageType, Page, PageRequest};
use crate::state::AppState;
use crate::web::filters;
use crate::web::session::CurrentAdmin;
use crate::web::{AppError, Chrome, Reply, html};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/coverage", web::get().to(overview)).route("/coverage/members", web::get().to(members)).route("/coverage.csv", web::get().to(csv));
}

const PER_PAGE: i64 = 50;

/// A row of the table, with its folder's name and where its cells lead.
struct Row {
    label: String,
    /// The folder to open (a subfolder row).
    open: Option<String>,
    /// The query of its members' list, without the type.
    members_query: String,
    counts: GapRow,
}

impl Row {
    /// A cell: the count, its share of the row's members as a heat level 0–4, and its link.
    fn cells(&self) -> Vec<(i64, u8, String, &'static str)> {
        MessageType::ALL
            .iter()
            .zip(&self.counts.gaps)
            .map(|(t, n)| {
                let level = if *n == 0 { 0 } else { (1 + (*n * 3) / self.counts.members.max(1)).min(4) as u8 };
                (*n, level, format!("/coverage/members?{}&type={}", self.members_query, t.api_name()), t.label())
            })
            .collect()
    }
}

#[derive(Template)]
#[template(path = "coverage/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    folder: Folder,
    ancestors: Vec<Folder>,
    rows: Vec<Row>,
    types: Vec<&'static str>,
}

impl OverviewPage {
    fn members(&self) -> i64 {
        self.rows.iter().map(|r| r.counts.members).sum()
    }
    fn total_gaps(&self) -> Vec<i64> {
        (0..MessageType::ALL.len()).map(|i| self.rows.iter().map(|r| r.counts.gaps[i]).sum()).collect()
    }
}

#[derive(Deserialize)]
struct FolderQuery {
    folder: Option<String>,
}

async fn folder_or_root(state: &AppState, id: Option<&str>) -> Result<(Folder, Vec<Folder>), AppError> {
    let id = id.map(|f| FolderId::parse(f).map_err(|_| AppError::NotFound(format!("There is no folder {f}.")))).transpose()?;
    let root = FolderId::parse(&state.directory.root_folder_id).expect("stored ids are valid");
    Ok(db::run(&state.pool, move |c| {
        let id = id.unwrap_or(root);
        let folder = directory::get_folder(c, &id)?;
        let ancestors = directory::ancestors(c, &folder)?;
        Ok::<_, directory::DirectoryError>((folder, ancestors))
    })
    .await?)
}

async fn overview(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<FolderQuery>) -> Reply {
    let (folder, ancestors) = folder_or_root(&state, query.folder.as_deref()).await?;
    let path = folder.path.clone();
    let (counts, names) = db::run(&state.pool, move |c| {
        let counts = coverage::folder_gaps(c, &path)?;
        let ids: Vec<String> = counts.iter().filter_map(|r| r.child.clone()).collect();
        let names = directory::folders_by_id(c, ids)?;
        Ok::<_, directory::DirectoryError>((counts, names))
    })
    .await?;
    let rows = counts
        .into_iter()
        .map(|counts| match &counts.child {
            None => Row { label: format!("Directly in {}", folder.name), open: None, members_query: format!("folder={}&direct=1", folder.id), counts },
            Some(child) => {
                let name = names.iter().find(|f| f.id == *child).map_or_else(|| child.clone(), |f| f.name.clone());
                Row { label: name, open: Some(child.clone()), members_query: format!("folder={child}"), counts }
            }
        })
        .collect();
    let types = MessageType::ALL.iter().map(|t| t.label()).collect();
    html(StatusCode::OK, &OverviewPage { chrome: Chrome::new(&admin, "coverage"), folder, ancestors, rows, types })
}

#[derive(Deserialize)]
struct MembersQuery {
    folder: Option<String>,
    #[serde(rename = "type")]
    message_type: Option<String>,
    direct: Option<String>,
    page: Option<i64>,
}

impl MembersQuery {
    fn message_type(&self) -> Result<Option<MessageType>, AppError> {
        self.message_type.as_deref().filter(|t| !t.is_empty()).map(|t| MessageType::parse(t).map_err(|e| AppError::BadRequest(e.message))).transpose()
    }
    fn directly(&self) -> bool {
        self.direct.as_deref() == Some("1")
    }
}

/// A member with a gap, and why, per type.
struct GapLine {
    gap: MemberGap,
    why: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "coverage/members.html")]
struct MembersPage {
    chrome: Chrome,
    folder: Folder,
    directly: bool,
    message_type: Option<MessageType>,
    lines: Page<GapLine>,
    query: String,
}

impl MembersPage {
    fn link(&self, page: impl crate::web::render::Value<i64>) -> String {
        format!("?{}&page={}", self.query, page.value())
    }
}

fn explain(gaps: Vec<MemberGap>, reasons: &std::collections::HashMap<(String, MessageType), Reason>) -> Vec<GapLine> {
    gaps.into_iter()
        .map(|gap| {
            let why = gap.gaps.iter().map(|t| (t.label(), reasons.get(&(gap.account_id.clone(), t)).copied().unwrap_or(Reason::NoRecipient).label())).collect();
            GapLine { gap, why }
        })
        .collect()
}

async fn members(state: web::Data<AppState>, admin: CurrentAdmin, query: web::Query<MembersQuery>) -> Reply {
    let only = query.message_type()?;
    let (folder, _) = folder_or_root(&state, query.folder.as_deref()).await?;
    let request = PageRequest::with_size(query.page, PER_PAGE);
    let (path, directly) = (folder.path.clone(), query.directly());
    let (gaps, total, reasons) = db::run(&state.pool, move |c| {
        let within = if directly { Within::Directly(&path) } else { Within::Subtree(&path) };
        let (gaps, total) = coverage::members_with_gaps(c, within, only, request.offset(), request.size)?;
        let reasons = coverage::reasons(c, &gaps)?;
        Ok::<_, crate::errors::StorageError>((gaps, total, reasons))
    })
    .await
    .map_err(AppError::from)?;
    let lines = Page { items: explain(gaps, &reasons), total, request };
    let mut q = vec![("folder", folder.id.clone())];
    if directly {
        q.push(("direct", "1".into()));
    }
    if let Some(t) = only {
        q.push(("type", t.api_name().into()));
    }
    let query = serde_urlencoded::to_string(q).unwrap_or_default();
    html(StatusCode::OK, &MembersPage { chrome: Chrome::new(&admin, "coverage"), folder, directly, message_type: only, lines, query })
}

/// Every member with a gap under the folder (for the type, when given), read a batch at a time.
async fn csv(state: web::Data<AppState>, _admin: CurrentAdmin, query: web::Query<MembersQuery>) -> Reply {
    let only = query.message_type()?;
    let (folder, _) = folder_or_root(&state, query.folder.as_deref()).await?;
    let (pool, path, directly) = (state.pool.clone(), folder.path.clone(), query.directly());
    const BATCH: i64 = 1000;
    let body = futures_util::stream::unfold(Some(0_i64), move |offset| {
        let (pool, path) = (pool.clone(), path.clone());
        async move {
            let offset = offset?;
            let page = db::run(&pool, move |c| {
                let within = if directly { Within::Directly(&path) } else { Within::Subtree(&path) };
                let (gaps, _) = coverage::members_with_gaps(c, within, only, offset, BATCH)?;
                let reasons = coverage::reasons(c, &gaps)?;
                Ok::<_, crate::errors::StorageError>((gaps, reasons))
            })
            .await;
            let (gaps, reasons) = match page {
                Ok(p) => p,
                Err(e) => return Some((Err(AppError::from(e)), None)),
            };
            let mut out = if offset == 0 { "account_id,display_name,folder_id,message_types,reasons\r\n".to_owned() } else { String::new() };
            let more = gaps.len() as i64 == BATCH;
            for line in explain(gaps, &reasons) {
                let types: Vec<&str> = line.gap.gaps.api_names();
                let why: Vec<String> = line.gap.gaps.iter().zip(&line.why).map(|(t, (_, r))| format!("{}: {r}", t.api_name())).collect();
                for (i, v) in [line.gap.account_id.as_str(), &line.gap.display_name, &line.gap.folder_id, &types.join(" "), &why.join("; ")].iter().enumerate()
                {
                    if i > 0 {
                        out.push(',');
                    }
                    crate::csv::field(&mut out, v);
                }
                out.push_str("\r\n");
            }
            Some((Ok::<_, AppError>(Bytes::from(out)), more.then_some(offset + BATCH)))
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"coverage-gaps.csv\""))
        .streaming(body))
}
