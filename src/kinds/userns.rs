//! userns-remap needs subordinate ID ranges for the remapped user in /etc/subuid and
//! /etc/subgid; without them dockerd refuses to start.

use std::path::Path;

use crate::accounts::parse_subordinate;
use crate::facts::Facts;
use crate::plan::Workspace;
use crate::vocabulary::paths::PASSWD;

/// shadow-utils' defaults: ranges start at 100000, 65536 IDs each.
const FIRST_ID: u64 = 100_000;
const RANGE: u64 = 65_536;
const MODE: u32 = 0o644;

/// The user whose ranges dockerd uses: "default" means dockerd's own `dockremap`.
pub(crate) fn remap_user(value: &str) -> &str {
    let user = value.split(':').next().unwrap_or(value);
    if user == "default" { "dockremap" } else { user }
}

/// Adds a range for `user` (by name or numeric ID) where there is none.
fn ensure(ws: &mut Workspace, path: &Path, user: &str, uid: Option<u32>) {
    let text = ws.text(path).unwrap_or_default();
    let existing = parse_subordinate(&text);
    if existing.iter().any(|r| r.owned_by(user, uid)) {
        return;
    }
    let start = existing
        .iter()
        .map(|r| r.start + r.count)
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

/// A userns-remap value naming a user the host does not have: dockerd would refuse to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownRemapUser(pub String);

impl std::fmt::Display for UnknownRemapUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "userns-remap names user {}, who does not exist in {PASSWD}",
            self.0
        )
    }
}

/// Plans the subordinate ID entries (dockerd creates `dockremap` itself).
pub(crate) fn plan(facts: &Facts, ws: &mut Workspace, value: &str) -> Result<(), UnknownRemapUser> {
    let user = remap_user(value);
    let uid = facts.accounts.uid(user);
    if uid.is_none() && user != "dockremap" {
        return Err(UnknownRemapUser(user.to_string()));
    }
    for path in [&facts.userns_files.0, &facts.userns_files.1] {
        ensure(ws, path, user, uid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users() {
        assert_eq!(remap_user("default"), "dockremap");
        assert_eq!(remap_user("alice:staff"), "alice");
    }
}
