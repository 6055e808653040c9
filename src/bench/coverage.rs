//! `bench coverage`: how long the Coverage page's table and `ListCoverageGaps` take over
//! the whole directory (goal: ≤ 1 s at 100,000 members on PostgreSQL).

use std::time::Instant;

use crate::config::Settings;
use crate::coverage::{self, Within};
use crate::directory;
use crate::domain::MessageType;
use crate::errors::BoxError;

pub fn run(settings: Settings, folders: usize, members: usize) -> Result<(), BoxError> {
    let (_state, mut conn) = super::prepare_filled(settings, folders, members)?;
    let rd = directory::get_directory(&mut conn)?;
    let root = directory::get_folder(&mut conn, &crate::domain::FolderId::parse(&rd.root_folder_id)?)?;
    // Once to warm the caches, then timed.
    coverage::folder_gaps(&mut conn, &root.path)?;
    for round in 1..=3 {
        let started = Instant::now();
        let rows = coverage::folder_gaps(&mut conn, &root.path)?;
        let table = started.elapsed();
        let started = Instant::now();
        let (page, total) = coverage::members_with_gaps(&mut conn, Within::Subtree(&root.path), Some(MessageType::SecurityMessage), 0, 100)?;
        let reasons = coverage::reasons(&mut conn, &page)?;
        let api = started.elapsed();
        let members: i64 = rows.iter().map(|r| r.members).sum();
        println!(
            "round {round}: Coverage table of the root ({} rows, {members} members): {:.0} ms; ListCoverageGaps SecurityMessage, first 100 of {total} with reasons ({}): {:.0} ms",
            rows.len(),
            table.as_secs_f64() * 1000.0,
            reasons.len(),
            api.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}
