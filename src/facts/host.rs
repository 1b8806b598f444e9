//! Host facts for the section 1 items and a few others: mounts, the docker group, installed
//! package versions, the system environment, who dockerd runs as.

use std::path::Path;

use super::Snapshot;
use crate::accounts::{parse_group, parse_passwd};
use crate::error::Result;

#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// /etc/fstab, for a root that is not running.
    pub fstab: Option<String>,
    /// /proc/self/mountinfo on the live host.
    pub mountinfo: Option<String>,
    /// /etc/environment (system-wide variables for login sessions).
    pub environment: Option<String>,
    /// (package, version) of the installed Docker engine package, from dpkg's or rpm's view.
    pub docker_package: Option<(String, String)>,
    /// Members of the docker group, from /etc/group and primary groups in /etc/passwd.
    pub docker_group_members: Option<Vec<String>>,
    /// The user ID the running dockerd has.
    pub dockerd_uid: Option<u32>,
    /// TCP sockets listening in dockerd's network namespace on the live host.
    pub tcp_listeners: Option<Vec<std::net::SocketAddr>>,
}

/// Engine packages, most specific first.
const ENGINE_PACKAGES: &[&str] = &["docker-ce", "docker.io", "moby-engine", "docker-engine"];

fn dpkg_version(status: &str) -> Option<(String, String)> {
    let mut found = Vec::new();
    for stanza in status.split("\n\n") {
        let field = |name: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
        };
        let (Some(package), Some(version), Some(state)) =
            (field("Package:"), field("Version:"), field("Status:"))
        else {
            continue;
        };
        if state.ends_with("installed")
            && !state.contains("not-installed")
            && ENGINE_PACKAGES.contains(&package.as_str())
        {
            found.push((package, version));
        }
    }
    found.sort_by_key(|(p, _)| ENGINE_PACKAGES.iter().position(|e| e == p));
    found.into_iter().next()
}

/// The docker group's members: those it lists, then the users whose primary group it is.
fn group_members(group: &str, passwd: &str) -> Option<Vec<String>> {
    let docker = parse_group(group)
        .into_iter()
        .find(|g| g.name == "docker")?;
    let mut members = docker.members;
    for user in parse_passwd(passwd) {
        if user.gid == docker.gid && !members.contains(&user.name) {
            members.push(user.name);
        }
    }
    Some(members)
}

pub(crate) fn gather(
    snap: &mut Snapshot<'_>,
    live: bool,
    dockerd_pid: Option<u32>,
) -> Result<HostFacts> {
    let rootfs = snap.rootfs;
    // The host's files: a FIFO, a device or an oversize file there is an error naming it.
    let file = |p: &str| -> Result<Option<String>> {
        Ok(rootfs
            .read(Path::new(p))?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    };
    // The kernel's: a process can be gone by the time its files are read.
    let read = |p: &str| {
        rootfs
            .read(Path::new(p))
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let dpkg = file("/var/lib/dpkg/status")?
        .as_deref()
        .and_then(dpkg_version);
    let docker_group_members = match (file("/etc/group")?, file("/etc/passwd")?) {
        (Some(g), p) => group_members(&g, &p.unwrap_or_default()),
        _ => None,
    };
    let (_, environment) = snap.text(Path::new("/etc/environment"))?;
    let dockerd_uid = match (live, dockerd_pid) {
        (true, Some(pid)) => read(&format!("/proc/{pid}/status")).and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        }),
        _ => None,
    };
    // dockerd's own network namespace, where its swarm ports are (a rootless or unshared
    // daemon has its own), else ours.
    let net = match dockerd_pid {
        Some(pid) => format!("/proc/{pid}/net"),
        None => "/proc/net".to_string(),
    };
    let tcp_listeners = live.then(|| {
        ["tcp", "tcp6"]
            .iter()
            .filter_map(|table| read(&format!("{net}/{table}")))
            .flat_map(|table| super::listeners::parse(&table))
            .collect()
    });
    Ok(HostFacts {
        tcp_listeners,
        fstab: file("/etc/fstab")?,
        mountinfo: if live {
            read("/proc/self/mountinfo")
        } else {
            None
        },
        environment,
        docker_package: dpkg,
        docker_group_members,
        dockerd_uid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_engine_package() {
        let status = "Package: docker.io\nStatus: install ok installed\nVersion: 20.10.24+dfsg1-1+b3\n\nPackage: docker-ce\nStatus: deinstall ok config-files\nVersion: 5:24.0.7-1\n";
        assert_eq!(
            dpkg_version(status),
            Some(("docker.io".into(), "20.10.24+dfsg1-1+b3".into()))
        );
        // Debian 13's engine beside a client of Docker's: the engine counts.
        let status = "Package: docker-ce-cli\nStatus: install ok installed\nVersion: 5:28.2.2-1~debian.12~bookworm\n\n\
                      Package: docker.io\nStatus: install ok installed\nVersion: 26.1.5+dfsg1-9+deb13u1+b1\n";
        assert_eq!(
            dpkg_version(status),
            Some(("docker.io".into(), "26.1.5+dfsg1-9+deb13u1+b1".into()))
        );
    }

    #[test]
    fn members_include_primary_group_users() {
        let members = group_members(
            "docker:x:999:alice,bob\n",
            "carol:x:1002:999::/home/carol:/bin/sh\n",
        )
        .unwrap();
        assert_eq!(members, ["alice", "bob", "carol"]);
        assert_eq!(group_members("root:x:0:\n", ""), None);
    }
}
