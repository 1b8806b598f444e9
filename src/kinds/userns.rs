//! userns-remap needs subordinate ID ranges for the remapped user in /etc/subuid and
//! /etc/subgid; without them dockerd refuses to start.

use std::path::{Path, PathBuf};

use crate::facts::Facts;
use crate::plan::Workspace;

pub const SUBUID: &str = "/etc/subuid";
pub const SUBGID: &str = "/etc/subgid";
/// shadow-utils' defaults: ranges start at 100000, 65536 IDs each.
const FIRST_ID: u64 = 100_000;
const RANGE: u64 = 65_536;
const MODE: u32 = 0o644;

/// The user whose ranges dockerd uses: "default" means dockerd's own `dockremap`.
pub fn remap_user(value: &str) -> &str {
    let user = value.split(':').next().unwrap_or(value);
    if user == "default" { "dockremap" } else { user }
}

/// `name:start:count` lines: (name, start, count).
fn ranges(text: &str) -> Vec<(String, u64, u64)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            let name = f.next()?.to_string();
            let start = f.next()?.parse().ok()?;
            let count = f.next()?.parse().ok()?;
            Some((name, start, count))
        })
        .collect()
}

/// Adds a range for `user` (by name or numeric ID) where there is none.
fn ensure(ws: &mut Workspace, path: &Path, user: &str, uid: Option<u32>) {
    let text = ws.text(path).unwrap_or_default();
    let existing = ranges(&text);
    if existing
        .iter()
        .any(|(n, _, _)| n == user || Some(n.as_str()) == uid.map(|u| u.to_string()).as_deref())
    {
        return;
    }
    let start = existing
        .iter()
        .map(|(_, s, c)| s + c)
        .max()
        .unwrap_or(FIRST_ID)
        .max(FIRST_ID);
    let mut new_text = text;
    if !new_text.is_empty() && !new_text.ends_with('\n') {
        new_text.push('\n');
    }
    new_text.push_str(&format!("{user}:{start}:{RANGE}\n"));
    ws.write(path, new_text, MODE);
}

/// Plans the subordinate ID entries; Err when a named user does not exist.
pub fn plan(facts: &Facts, ws: &mut Workspace, value: &str) -> Result<(), String> {
    let user = remap_user(value);
    let uid = facts.accounts.uid(user);
    if uid.is_none() && user != "dockremap" {
        return Err(format!(
            "userns-remap names user {user}, who does not exist in /etc/passwd"
        ));
    }
    for path in [&facts.userns_files.0, &facts.userns_files.1] {
        ensure(ws, path, user, uid);
    }
    Ok(())
}

/// Where the two files resolve on this host.
pub fn paths() -> (PathBuf, PathBuf) {
    (PathBuf::from(SUBUID), PathBuf::from(SUBGID))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users() {
        assert_eq!(remap_user("default"), "dockremap");
        assert_eq!(remap_user("alice:staff"), "alice");
    }

    #[test]
    fn parses_ranges() {
        assert_eq!(
            ranges("admin:100000:65536\n# x\n"),
            vec![("admin".to_string(), 100000, 65536)]
        );
    }
}
