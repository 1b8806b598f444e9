//! The account databases of the host under the root (never the machine running the tool: a
//! golden image has its own): /etc/passwd, /etc/group, /etc/subuid and /etc/subgid, each read
//! by one parser here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::rootfs::RootFs;
use crate::vocabulary::paths::{GROUP, PASSWD};

/// One /etc/passwd line: `name:password:UID:GID:gecos:home:shell`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

/// One /etc/group line: `name:password:GID:member,member`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// One /etc/subuid or /etc/subgid line: `owner:start:count`; the owner is a name or a UID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubordinateRange {
    pub owner: String,
    pub start: u64,
    pub count: u64,
}

impl SubordinateRange {
    /// Whether the range belongs to this user, by name or by UID.
    pub(crate) fn owned_by(&self, name: &str, uid: Option<u32>) -> bool {
        self.owner == name || uid.is_some_and(|u| self.owner == u.to_string())
    }

    pub(crate) fn contains(&self, id: u64) -> bool {
        (self.start..self.start.saturating_add(self.count)).contains(&id)
    }
}

fn records(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| l.trim().split(':').map(str::trim).collect::<Vec<_>>())
        .filter(|f| f.first().is_some_and(|name| !name.is_empty()))
}

/// The well-formed lines of an /etc/passwd text (seven fields, numeric IDs).
pub(crate) fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    records(text)
        .filter(|f| f.len() >= 7)
        .filter_map(|f| {
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: PathBuf::from(f[5]),
            })
        })
        .collect()
}

/// The well-formed lines of an /etc/group text (a numeric GID third).
pub(crate) fn parse_group(text: &str) -> Vec<GroupEntry> {
    records(text)
        .filter_map(|f| {
            Some(GroupEntry {
                name: f[0].to_string(),
                gid: f.get(2)?.parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .map(str::trim)
                            .filter(|m| !m.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// The well-formed lines of an /etc/subuid or /etc/subgid text.
pub(crate) fn parse_subordinate(text: &str) -> Vec<SubordinateRange> {
    records(text)
        .filter_map(|f| {
            Some(SubordinateRange {
                owner: f[0].to_string(),
                start: f.get(1)?.parse().ok()?,
                count: f.get(2)?.parse().ok()?,
            })
        })
        .collect()
}

/// /etc/passwd of the host under the root (empty when it has none).
pub(crate) fn read_passwd(rootfs: &RootFs) -> Result<Vec<PasswdEntry>> {
    Ok(rootfs
        .read_text(Path::new(PASSWD))?
        .map(|t| parse_passwd(&t))
        .unwrap_or_default())
}

/// An account an item names that the host's databases do not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MissingAccount {
    User(String),
    Group(String),
}

impl std::fmt::Display for MissingAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MissingAccount::User(name) => write!(f, "user {name} does not exist in {PASSWD}"),
            MissingAccount::Group(name) => write!(f, "group {name} does not exist in {GROUP}"),
        }
    }
}

/// User and group names by ID, for judging and printing owners.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts {
    users: BTreeMap<String, u32>,
    groups: BTreeMap<String, u32>,
}

impl Accounts {
    pub(crate) fn read(rootfs: &RootFs) -> Result<Accounts> {
        let users = read_passwd(rootfs)?
            .into_iter()
            .map(|e| (e.name, e.uid))
            .collect();
        let groups = rootfs
            .read_text(Path::new(GROUP))?
            .map(|t| parse_group(&t))
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.name, e.gid))
            .collect();
        Ok(Accounts { users, groups })
    }

    pub(crate) fn uid(&self, name: &str) -> Option<u32> {
        if name == "root" {
            return Some(0);
        }
        self.users.get(name).copied()
    }

    pub(crate) fn gid(&self, name: &str) -> Option<u32> {
        if name == "root" {
            return Some(0);
        }
        self.groups.get(name).copied()
    }

    pub(crate) fn user_name(&self, uid: u32) -> String {
        name_of(&self.users, uid)
    }

    pub(crate) fn group_name(&self, gid: u32) -> String {
        name_of(&self.groups, gid)
    }
}

/// The name the database gives `id`, else root's or the number.
fn name_of(names: &BTreeMap<String, u32>, id: u32) -> String {
    names
        .iter()
        .find(|(_, i)| **i == id)
        .map(|(n, _)| n.clone())
        .unwrap_or_else(|| {
            if id == 0 {
                "root".into()
            } else {
                id.to_string()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_group_file() {
        let g = parse_group("root:x:0:\n# c\ndocker:x:998:alice, bob\nbad\n");
        assert_eq!(g.len(), 2);
        assert_eq!(g[1].name, "docker");
        assert_eq!(g[1].gid, 998);
        assert_eq!(g[1].members, ["alice", "bob"]);
    }

    #[test]
    fn parses_passwd_lines_with_all_seven_fields() {
        let p = parse_passwd(
            "root:x:0:0:root:/root:/bin/bash\n#x:x:1:1::/:/\nshort:x:5:5\nalice:x:1000:1000::/home/alice:/bin/sh\n",
        );
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].home, Path::new("/home/alice"));
        assert_eq!((p[1].uid, p[1].gid), (1000, 1000));
    }

    #[test]
    fn parses_subordinate_ranges() {
        let r = parse_subordinate("admin:100000:65536\n# x\n1000:165536:65536\nbroken:1\n");
        assert_eq!(r.len(), 2);
        assert!(r[0].owned_by("admin", None));
        assert!(r[1].owned_by("alice", Some(1000)));
        assert!(r[1].contains(165536) && !r[1].contains(231072));
    }
}
