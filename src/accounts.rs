//! User and group names of the host under the root (never the machine running the tool: a
//! golden image has its own /etc/passwd and /etc/group).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::Result;
use crate::rootfs::RootFs;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts {
    users: BTreeMap<String, u32>,
    groups: BTreeMap<String, u32>,
}

impl Accounts {
    pub fn read(rootfs: &RootFs) -> Result<Accounts> {
        let users = rootfs
            .read_text(Path::new("/etc/passwd"))?
            .map(|t| parse_id_file(&t))
            .unwrap_or_default();
        let groups = rootfs
            .read_text(Path::new("/etc/group"))?
            .map(|t| parse_id_file(&t))
            .unwrap_or_default();
        Ok(Accounts { users, groups })
    }

    pub fn uid(&self, name: &str) -> Option<u32> {
        if name == "root" {
            return Some(0);
        }
        self.users.get(name).copied()
    }

    pub fn gid(&self, name: &str) -> Option<u32> {
        if name == "root" {
            return Some(0);
        }
        self.groups.get(name).copied()
    }

    pub fn user_name(&self, uid: u32) -> String {
        self.users
            .iter()
            .find(|(_, id)| **id == uid)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| {
                if uid == 0 {
                    "root".into()
                } else {
                    uid.to_string()
                }
            })
    }

    pub fn group_name(&self, gid: u32) -> String {
        self.groups
            .iter()
            .find(|(_, id)| **id == gid)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| {
                if gid == 0 {
                    "root".into()
                } else {
                    gid.to_string()
                }
            })
    }
}

/// name:x:ID:... lines (both /etc/passwd and /etc/group keep the numeric ID third).
fn parse_id_file(text: &str) -> BTreeMap<String, u32> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?.trim();
            let id = fields.nth(1)?.trim().parse().ok()?;
            (!name.is_empty()).then(|| (name.to_string(), id))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_group_file() {
        let g = parse_id_file("root:x:0:\n# c\ndocker:x:998:alice\nbad\n");
        assert_eq!(g.get("docker"), Some(&998));
        assert_eq!(g.len(), 2);
    }
}
