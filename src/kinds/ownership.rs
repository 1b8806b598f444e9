//! File ownership (CIS 3.x): every file of the target owned by the wanted user and group.

use super::{FixOutcome, Status, Verdict, owner_string};
use super::{ItemKind, LoadContext};
use crate::accounts::{MissingAccount, parse_subordinate};
use crate::error::Result;
use crate::facts::Facts;
use crate::plan::Workspace;
use crate::vocabulary::Target;
use crate::vocabulary::Variables;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnershipSpec {
    pub target: Target,
    pub user: String,
    pub group: String,
}

/// The owner the item wants; a rootless daemon's files belong to its user, who must be able
/// to read (and the daemon to write) them.
fn wanted_ids(spec: &OwnershipSpec, facts: &Facts) -> Result<(u32, u32), MissingAccount> {
    if let Some(ids) = facts.instance.file_owner() {
        return Ok(ids);
    }
    let uid = facts
        .accounts
        .uid(&spec.user)
        .ok_or_else(|| MissingAccount::User(spec.user.clone()))?;
    let gid = facts
        .accounts
        .gid(&spec.group)
        .ok_or_else(|| MissingAccount::Group(spec.group.clone()))?;
    Ok((uid, gid))
}

pub(crate) fn check(spec: &OwnershipSpec, facts: &Facts) -> Verdict {
    let paths = facts.target(&spec.target);
    if paths.is_empty() {
        let note = facts
            .target_notes
            .get(&spec.target)
            .cloned()
            .unwrap_or_default();
        return Verdict::info(format!("not present on this host: {note}"));
    }
    let (uid, gid) = match wanted_ids(spec, facts) {
        Ok(ids) => ids,
        Err(e) => return Verdict::warn(e.to_string()),
    };
    let mut bad = Vec::new();
    let mut good = Vec::new();
    for path in paths {
        let Some(meta) = facts.file(path).and_then(|f| f.meta) else {
            continue;
        };
        let line = format!(
            "{}: owner {}",
            path.display(),
            owner_string(facts, meta.uid, meta.gid)
        );
        if (meta.uid, meta.gid) == (uid, gid) {
            good.push(line);
        } else if let Some(user) = facts.instance.rootless()
            && meta.uid == user.uid
            && subordinate_gid(facts, user, meta.gid)
        {
            good.push(format!(
                "{line} (group {} is one of {}'s subordinate IDs: the daemon's own group inside its user namespace)",
                meta.gid, user.name
            ));
        } else {
            bad.push(format!("{line}; want {}", owner_string(facts, uid, gid)));
        }
    }
    if bad.is_empty() {
        Verdict::new(Status::Pass, good)
    } else {
        Verdict::new(Status::Warn, bad)
    }
}

/// Whether `gid` is in one of the user's /etc/subgid ranges: a rootless dockerd gives its
/// socket the docker group of its own user namespace, which maps to such an ID, and nobody but
/// the user can act as it.
fn subordinate_gid(facts: &Facts, user: &crate::daemons::RootlessUser, gid: u32) -> bool {
    let Some(text) = facts.text(&facts.userns_files.1) else {
        return false;
    };
    parse_subordinate(&text)
        .iter()
        .any(|r| r.owned_by(&user.name, Some(user.uid)) && r.contains(u64::from(gid)))
}

pub(crate) fn fix(spec: &OwnershipSpec, facts: &Facts, ws: &mut Workspace) -> FixOutcome {
    let (uid, gid) = match wanted_ids(spec, facts) {
        Ok(ids) => ids,
        Err(e) => return FixOutcome::blocked(e.to_string()),
    };
    for path in facts.target(&spec.target) {
        let acceptable = |(u, g): (u32, u32)| {
            (u, g) == (uid, gid)
                || facts
                    .instance
                    .rootless()
                    .is_some_and(|user| u == user.uid && subordinate_gid(facts, user, g))
        };
        if ws
            .get(path)
            .and_then(|f| f.owner)
            .is_some_and(|o| !acceptable(o))
        {
            ws.set_owner(path, uid, gid);
        }
    }
    FixOutcome::default()
}

impl ItemKind for OwnershipSpec {
    type Raw = OwnershipSpec;

    fn from_raw(raw: OwnershipSpec, _: &LoadContext<'_>) -> Result<OwnershipSpec> {
        Ok(raw)
    }
    fn check(&self, facts: &Facts) -> Verdict {
        check(self, facts)
    }
    fn fix(&self, facts: &Facts, _: &Variables, ws: &mut Workspace) -> Result<FixOutcome> {
        Ok(fix(self, facts, ws))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::facts::builder::FactsBuilder;

    fn owned_by(group: &str) -> OwnershipSpec {
        OwnershipSpec {
            target: Target::ConfigDir,
            user: "root".into(),
            group: group.into(),
        }
    }

    #[test]
    fn a_directory_of_another_user_warns_and_the_fix_gives_it_to_root() {
        let facts = FactsBuilder::new()
            .dir("/etc/docker", 0o755, 1000, 1000)
            .target(Target::ConfigDir, &["/etc/docker"])
            .build();
        let spec = owned_by("root");
        assert_eq!(check(&spec, &facts).status, Status::Warn);
        let mut ws = Workspace::new(&facts);
        let outcome = fix(&spec, &facts, &mut ws);
        assert!(outcome.blocked.is_none());
        let changes = ws.changes();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].path, Path::new("/etc/docker"));
        assert_eq!(changes[0].before.owner, Some((1000, 1000)));
        assert_eq!(changes[0].after.owner, Some((0, 0)));
        assert_eq!(changes[0].after.mode, Some(0o755));
        assert!(!changes[0].content_changed());
    }

    #[test]
    fn a_directory_root_owns_passes_and_the_fix_plans_nothing() {
        let facts = FactsBuilder::new()
            .dir("/etc/docker", 0o755, 0, 0)
            .target(Target::ConfigDir, &["/etc/docker"])
            .build();
        let spec = owned_by("root");
        assert_eq!(check(&spec, &facts).status, Status::Pass);
        let mut ws = Workspace::new(&facts);
        fix(&spec, &facts, &mut ws);
        assert!(ws.changes().is_empty());
    }

    #[test]
    fn a_group_the_host_lacks_blocks_the_fix() {
        let facts = FactsBuilder::new()
            .dir("/etc/docker", 0o755, 1000, 1000)
            .target(Target::ConfigDir, &["/etc/docker"])
            .build();
        let spec = owned_by("docker");
        let verdict = check(&spec, &facts);
        assert_eq!(verdict.status, Status::Warn);
        assert_eq!(
            verdict.evidence,
            ["group docker does not exist in /etc/group"]
        );
        let mut ws = Workspace::new(&facts);
        let outcome = fix(&spec, &facts, &mut ws);
        assert_eq!(
            outcome.blocked.as_deref(),
            Some("group docker does not exist in /etc/group")
        );
        assert!(ws.changes().is_empty());
    }

    #[test]
    fn a_target_the_host_lacks_is_info() {
        let facts = FactsBuilder::new().build();
        assert_eq!(check(&owned_by("root"), &facts).status, Status::Info);
    }
}
