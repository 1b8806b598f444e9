//! Host items docker-harden reports on (CIS 1.1.1, 1.1.2, 1.2.2, 2.1, 4.5): partitions, group
//! membership, versions and daemon users are the operator's decisions, so each rule says what
//! it found and what to check or change.

use super::{ItemKind, LoadContext};
use crate::error::Result;
use serde::Deserialize;

use super::{Status, Verdict, docker_missing, owner_string};
use crate::engine_release::{EngineVersion, VersionSource, deprecated_keys};
use crate::facts::Facts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// 1.1.1: the data root is on a filesystem of its own.
    SeparatePartition,
    /// 1.1.2: the docker group (root-equivalent) has only trusted members.
    DockerGroup,
    /// 1.2.2: the engine is a supported, patched release.
    DockerVersion,
    /// 2.1: dockerd runs rootless where possible.
    Rootless,
    /// 4.5: content trust is on for docker commands.
    ContentTrust,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostReportSpec {
    pub rule: Rule,
}

/// Who can reach a rootless daemon: its socket's owner (the user) and root; the docker group
/// grants nothing. Group or other access to the socket would let others in.
fn rootless_access(facts: &Facts, user: &crate::daemons::RootlessUser) -> Verdict {
    let socket = &facts.daemon.api_socket;
    let meta = facts
        .target(&crate::vocabulary::Target::DockerSock)
        .first()
        .and_then(|p| facts.file(p))
        .and_then(|f| f.meta);
    match meta {
        Some(m) if m.mode & 0o007 != 0 => Verdict::warn(format!(
            "{} is mode {:04o}: users other than {} can reach this daemon",
            socket.display(),
            m.mode & 0o7777,
            user.name
        ))
        .fix(format!("chmod o-rwx {}", socket.display())),
        Some(m) => Verdict::new(
            Status::Note,
            vec![format!(
                "{} is {}'s (mode {:04o}): whoever can act as {} (and root) controls this daemon; the docker group grants nothing here",
                socket.display(),
                owner_string(facts, m.uid, m.gid),
                m.mode & 0o7777,
                user.name
            )],
        ),
        None => Verdict::new(
            Status::Note,
            vec![format!(
                "whoever can act as {} (and root) controls this daemon; the docker group grants nothing here",
                user.name
            )],
        ),
    }
}

/// The mount (point, device) that holds `path`: the longest mount point that is a prefix.
fn holding_mount<'a>(mounts: &'a [(String, String)], path: &str) -> Option<&'a (String, String)> {
    mounts
        .iter()
        .filter(|(point, _)| {
            point == "/"
                || path == point
                || path.starts_with(&format!("{}/", point.trim_end_matches('/')))
        })
        .max_by_key(|(point, _)| point.len())
}

/// (mount point, device) from /proc/self/mountinfo; the device is major:minor and the root
/// within it, so a bind mount of the root filesystem is recognisable.
fn mountinfo(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((
                f.get(4)?.to_string(),
                format!("{} {}", f.get(2)?, f.get(3)?),
            ))
        })
        .collect()
}

fn fstab(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(2) != Some(&"swap"))
                .then(|| Some((f.get(1)?.to_string(), f.first()?.to_string())))?
        })
        .collect()
}

pub(crate) fn check(spec: &HostReportSpec, facts: &Facts) -> Verdict {
    match spec.rule {
        Rule::SeparatePartition => separate_partition(facts),
        Rule::DockerGroup if facts.instance.rootless().is_some() => {
            rootless_access(facts, facts.instance.rootless().unwrap())
        }
        Rule::DockerGroup => match &facts.host.docker_group_members {
            None => Verdict::info("there is no docker group on this host"),
            Some(m) if m.is_empty() => {
                Verdict::pass("the docker group has no members (only root controls Docker)")
            }
            Some(m) => Verdict::new(
                Status::Note,
                vec![format!(
                    "docker group members: {}; each can become root through the Docker API, so confirm every one is trusted",
                    m.join(", ")
                )],
            ),
        },
        Rule::DockerVersion => {
            if let Some(v) = docker_missing(facts) {
                return v;
            }
            let info = facts.daemon.engine_info();
            let running = info
                .map(|i| i.server_version.as_str())
                .filter(|v| !v.is_empty());
            // The API version the checks of this run spoke (negotiated with the engine).
            let api = info
                .map(|i| i.api_version.as_str())
                .filter(|v| !v.is_empty())
                .map(|v| format!(" (API {v})"))
                .unwrap_or_default();
            let found = facts.engine_version();
            let installed = found.as_ref().filter(|f| f.source != VersionSource::Api);
            let mut evidence = vec![match (running, installed) {
                (Some(v), _) => format!(
                    "the running engine is Docker {v}{api}; confirm it is a supported release with the latest security fixes"
                ),
                (None, Some(found)) => format!(
                    "{}; confirm it is a supported release with the latest security fixes",
                    match &found.source {
                        VersionSource::Package(p) => format!("installed package {p} {}", found.text),
                        source => format!("installed dockerd {} (from {source})", found.text),
                    }
                ),
                (None, None) => "the engine's version is not known (no API, no package record, no dockerd answer); confirm it is a supported release with the latest security fixes".into(),
            }];
            // A package upgraded under a running daemon: the next restart runs another engine,
            // with its own defaults and daemon.json keys.
            if let (Some(running), Some(found)) = (running, installed)
                && EngineVersion::parse(running).is_some_and(|r| {
                    (r.major, r.minor) != (found.version.major, found.version.minor)
                })
            {
                evidence.push(format!(
                    "the installed dockerd is {} (from {}): the next restart of docker runs it",
                    found.text, found.source
                ));
            }
            if let (Some(found), Some(json)) = (&found, &facts.daemon.json) {
                for d in deprecated_keys(found.version, json.keys().map(String::as_str)) {
                    evidence.push(match d.removed_in {
                        Some(v) => format!(
                            "{} holds `{}`, deprecated: Docker {}.{} and newer refuse to start with it; use {} before upgrading",
                            facts.daemon.config_file.display(),
                            d.key,
                            v.major,
                            v.minor,
                            d.instead
                        ),
                        None => format!(
                            "{} holds `{}`, deprecated and without effect; instead: {}",
                            facts.daemon.config_file.display(),
                            d.key,
                            d.instead
                        ),
                    });
                }
            }
            Verdict::new(Status::Note, evidence)
        }
        Rule::Rootless => {
            if let Some(user) = facts.instance.rootless() {
                return Verdict::pass(format!(
                    "this is the rootless daemon of {} (uid {}): it runs under RootlessKit without root",
                    user.name, user.uid
                ));
            }
            if let Some(v) = docker_missing(facts) {
                return v;
            }
            match facts.host.dockerd_uid {
                Some(0) => Verdict::new(
                    Status::Note,
                    vec!["dockerd runs as root; where the workloads allow it, rootless mode limits what a daemon compromise can reach".into()],
                ),
                Some(uid) => Verdict::pass(format!("dockerd runs as user {uid} (rootless)")),
                None => Verdict::new(
                    Status::Note,
                    vec!["dockerd is installed as a root daemon; consider rootless mode where the workloads allow it".into()],
                ),
            }
        }
        Rule::ContentTrust => {
            let set = facts.host.environment.as_deref().is_some_and(|env| {
                env.lines().any(|l| {
                    let l = l
                        .trim()
                        .trim_start_matches("export ")
                        .replace(['"', '\''], "");
                    l == "DOCKER_CONTENT_TRUST=1"
                })
            });
            if set {
                Verdict::pass(
                    "DOCKER_CONTENT_TRUST=1 is set for every login session (/etc/environment)",
                )
            } else {
                Verdict::warn(
                    "DOCKER_CONTENT_TRUST is not set to 1 in /etc/environment: docker pull and run accept unsigned images; set it where your registries sign images",
                )
            }
        }
    }
}

fn separate_partition(facts: &Facts) -> Verdict {
    if let Some(v) = docker_missing(facts) {
        return v;
    }
    let root = facts.daemon.data_root.display().to_string();
    if let Some(text) = &facts.host.mountinfo {
        let mounts = mountinfo(text);
        let slash = mounts
            .iter()
            .find(|(p, _)| p == "/")
            .map(|(_, d)| d.clone());
        return match holding_mount(&mounts, &root) {
            Some((point, _)) if point == "/" => Verdict::warn(format!(
                "{root} is on the root filesystem: a full data root fills the host; give it a partition of its own"
            )),
            Some((point, device))
                if Some(device.split(' ').next())
                    == slash.as_deref().map(|s| s.split(' ').next()) =>
            {
                Verdict::warn(format!(
                    "{root} is on {point}, a bind mount of the root filesystem's device {device}"
                ))
            }
            Some((point, device)) => Verdict::pass(format!(
                "{root} is on its own filesystem ({point}, device {device})"
            )),
            None => Verdict::info("the mount table could not be read"),
        };
    }
    match &facts.host.fstab {
        Some(text) => match holding_mount(&fstab(text), &root) {
            Some((point, device)) if point != "/" => Verdict::pass(format!(
                "/etc/fstab mounts {device} on {point}, which holds {root}"
            )),
            _ => Verdict::warn(format!(
                "no /etc/fstab entry gives {root} (or a parent) a filesystem of its own"
            )),
        },
        None => Verdict::info(
            "no /etc/fstab and no mount table: cannot tell which filesystem holds the data root",
        ),
    }
}

impl ItemKind for HostReportSpec {
    type Raw = HostReportSpec;
    const REPORT_ONLY: Option<&'static str> =
        Some("report only: the change needs a decision only the operator can make");

    fn from_raw(raw: HostReportSpec, _: &LoadContext<'_>) -> Result<HostReportSpec> {
        Ok(raw)
    }
    fn check(&self, facts: &Facts) -> Verdict {
        check(self, facts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_mount_wins() {
        let mounts = vec![
            ("/".to_string(), "a".to_string()),
            ("/var".to_string(), "b".to_string()),
            ("/var/lib/docker".to_string(), "c".to_string()),
        ];
        assert_eq!(holding_mount(&mounts, "/var/lib/docker").unwrap().1, "c");
        assert_eq!(holding_mount(&mounts, "/var/lib/dockerd").unwrap().1, "b");
        assert_eq!(holding_mount(&mounts, "/srv").unwrap().1, "a");
    }

    #[test]
    fn parses_fstab_and_mountinfo() {
        assert_eq!(
            fstab(
                "# c\nUUID=1 / ext4 defaults 0 1\nUUID=2 none swap sw 0 0\n/dev/vdb /var/lib/docker xfs defaults 0 2\n"
            ),
            vec![
                ("/".to_string(), "UUID=1".to_string()),
                ("/var/lib/docker".to_string(), "/dev/vdb".to_string())
            ]
        );
        let mi = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n90 22 254:1 /srv/docker /var/lib/docker rw - ext4 /dev/vda1 rw\n";
        assert_eq!(
            mountinfo(mi)[1],
            (
                "/var/lib/docker".to_string(),
                "254:1 /srv/docker".to_string()
            )
        );
    }
}
