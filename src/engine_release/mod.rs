//! What docker-harden knows of the Docker engine releases it was checked against: which
//! daemon.json keys each dockerd accepts (it refuses to start on any other), which keys are on
//! their way out, and whether dockerd can judge a configuration itself (`--validate`, 23.0+).
//!
//! The key tables are measured, not transcribed: each file lists what that engine accepted
//! when given every candidate key, and tests run the tables against the real engines again
//! (tests/suite/engine_keys.rs here, vm-tests scenario 09 on both guests).

use std::fmt;
use std::path::PathBuf;

/// A Docker engine version as dockerd, the API or a package states it ("26.1.5+dfsg1").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EngineVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl EngineVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> EngineVersion {
        EngineVersion {
            major,
            minor,
            patch,
        }
    }

    /// The first version in `text`: "20.10.24+dfsg1", "Docker version 26.1.5+dfsg1, build
    /// 411e817", a package's "5:26.1.5-1~debian.12~bookworm" (the epoch is skipped).
    pub fn parse(text: &str) -> Option<EngineVersion> {
        let text = text.trim();
        let text = text.strip_prefix("Docker version").unwrap_or(text).trim();
        // A Debian epoch ("5:") is not part of the version.
        let text = match text.split_once(':') {
            Some((epoch, rest)) if epoch.chars().all(|c| c.is_ascii_digit()) => rest,
            _ => text,
        };
        let start = text.find(|c: char| c.is_ascii_digit())?;
        let mut parts = text[start..].split(|c: char| !c.is_ascii_digit());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        Some(EngineVersion::new(major, minor, patch))
    }

    /// dockerd checks a configuration and exits with `--validate` from 23.0 on.
    pub fn validates_config(&self) -> bool {
        self.major >= 23
    }
}

impl fmt::Display for EngineVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Where the version of the engine was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSource {
    /// The running dockerd's API (`/version`).
    Api,
    /// `dockerd --version` of this binary.
    Binary(PathBuf),
    /// The installed package (name) in the dpkg database.
    Package(String),
}

impl fmt::Display for VersionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSource::Api => write!(f, "the running dockerd's API"),
            VersionSource::Binary(path) => write!(f, "`{} --version`", path.display()),
            VersionSource::Package(name) => write!(f, "the {name} package"),
        }
    }
}

/// An engine version and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundVersion {
    pub version: EngineVersion,
    /// As stated, e.g. "26.1.5+dfsg1".
    pub text: String,
    pub source: VersionSource,
}

/// A key dockerd accepts today that a later release refuses or ignores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeprecatedKey {
    pub key: &'static str,
    /// The release that stops accepting it (dockerd then refuses to start), if any yet.
    pub removed_in: Option<EngineVersion>,
    pub instead: &'static str,
}

/// One engine release docker-harden was checked against.
#[derive(Debug)]
pub struct Release {
    /// "26.1": the release's major and minor version.
    pub name: &'static str,
    pub version: EngineVersion,
    keys: &'static str,
    pub deprecated: &'static [DeprecatedKey],
}

const V23: EngineVersion = EngineVersion::new(23, 0, 0);
const V25: EngineVersion = EngineVersion::new(25, 0, 0);

/// Deprecated in every release checked, removed in none yet.
const RESTART: DeprecatedKey = DeprecatedKey {
    key: "restart",
    removed_in: None,
    instead: "a restart policy per container (`docker run --restart`)",
};
const DEPRECATED_KEY_PATH: DeprecatedKey = DeprecatedKey {
    key: "deprecated-key-path",
    removed_in: None,
    instead: "nothing: dockerd ignores it",
};

/// Bottom first.
pub static RELEASES: &[Release] = &[
    Release {
        name: "20.10",
        version: EngineVersion::new(20, 10, 0),
        keys: include_str!("daemon-json-keys-20.10.txt"),
        deprecated: &[
            DeprecatedKey {
                key: "graph",
                removed_in: Some(V23),
                instead: "data-root",
            },
            DeprecatedKey {
                key: "cluster-store",
                removed_in: Some(V23),
                instead: "swarm mode (legacy overlay networking was removed)",
            },
            DeprecatedKey {
                key: "cluster-store-opts",
                removed_in: Some(V23),
                instead: "swarm mode (legacy overlay networking was removed)",
            },
            DeprecatedKey {
                key: "cluster-advertise",
                removed_in: Some(V23),
                instead: "swarm mode (legacy overlay networking was removed)",
            },
            DeprecatedKey {
                key: "oom-score-adjust",
                removed_in: Some(V25),
                instead: "OOMScoreAdjust= in dockerd's systemd unit",
            },
            RESTART,
            DEPRECATED_KEY_PATH,
        ],
    },
    Release {
        name: "26.1",
        version: EngineVersion::new(26, 1, 0),
        keys: include_str!("daemon-json-keys-26.1.txt"),
        deprecated: &[RESTART, DEPRECATED_KEY_PATH],
    },
];

impl Release {
    /// The daemon.json keys this release's dockerd accepts.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.keys
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
    }

    pub fn accepts(&self, key: &str) -> bool {
        self.keys().any(|k| k == key)
    }

    pub fn deprecation(&self, key: &str) -> Option<&'static DeprecatedKey> {
        self.deprecated.iter().find(|d| d.key == key)
    }

    fn same_release(&self, version: EngineVersion) -> bool {
        (self.version.major, self.version.minor) == (version.major, version.minor)
    }
}

/// The known keys that judge one engine version: its own release's table, or, for a version
/// docker-harden was not checked against, what the checked releases around it agree on.
#[derive(Debug, Clone, Copy)]
pub enum KeyTable {
    /// A release checked against.
    Exact(&'static Release),
    /// Between two checked releases: a key both accept (a key added or removed in between is
    /// refused: refusing is the safe mistake).
    Between(&'static Release, &'static Release),
    /// Newer than every checked release: its keys, less those removed by this version.
    Newer(&'static Release, EngineVersion),
    /// Older than every checked release: the oldest one's keys.
    Older(&'static Release),
}

impl KeyTable {
    pub fn for_version(version: EngineVersion) -> KeyTable {
        let minor = (version.major, version.minor);
        let at = |r: &Release| (r.version.major, r.version.minor);
        if let Some(r) = RELEASES.iter().find(|r| r.same_release(version)) {
            return KeyTable::Exact(r);
        }
        let lower = RELEASES.iter().rev().find(|r| at(r) < minor);
        let upper = RELEASES.iter().find(|r| at(r) > minor);
        match (lower, upper) {
            (Some(l), Some(u)) => KeyTable::Between(l, u),
            (Some(l), None) => KeyTable::Newer(l, version),
            (None, _) => KeyTable::Older(&RELEASES[0]),
        }
    }

    pub fn accepts(&self, key: &str) -> bool {
        match self {
            KeyTable::Exact(r) | KeyTable::Older(r) => r.accepts(key),
            KeyTable::Between(l, u) => l.accepts(key) && u.accepts(key),
            KeyTable::Newer(r, version) => {
                r.accepts(key)
                    && !deprecations(key).any(|d| d.removed_in.is_some_and(|v| v <= *version))
            }
        }
    }

    /// "the daemon.json keys Docker 26.1 accepts", and how the table was chosen when the
    /// version is not one checked against.
    pub fn describe(&self) -> String {
        match self {
            KeyTable::Exact(r) => format!("the daemon.json keys Docker {} accepts", r.name),
            KeyTable::Between(l, u) => format!(
                "the daemon.json keys both Docker {} and {} accept (this engine is between the releases checked)",
                l.name, u.name
            ),
            KeyTable::Newer(r, _) => format!(
                "the daemon.json keys Docker {} accepts, less those removed since (this engine is newer than every release checked)",
                r.name
            ),
            KeyTable::Older(r) => format!(
                "the daemon.json keys Docker {} accepts (this engine is older than every release checked)",
                r.name
            ),
        }
    }
}

/// The deprecated keys of `json_keys` for an engine at `version`: accepted today, refused or
/// ignored by a later release.
pub fn deprecated_keys<'k>(
    version: EngineVersion,
    json_keys: impl IntoIterator<Item = &'k str>,
) -> Vec<&'static DeprecatedKey> {
    let table = KeyTable::for_version(version);
    let mut found: Vec<&'static DeprecatedKey> = Vec::new();
    for key in json_keys {
        if !table.accepts(key) {
            continue;
        }
        if let Some(d) = deprecations(key).find(|d| d.removed_in.is_none_or(|v| v > version))
            && !found.iter().any(|f| f.key == d.key)
        {
            found.push(d);
        }
    }
    found
}

/// What every checked release says of `key` as deprecated, oldest release first.
fn deprecations(key: &str) -> impl Iterator<Item = &'static DeprecatedKey> + '_ {
    RELEASES.iter().filter_map(move |r| r.deprecation(key))
}

/// The release that removed `key`, among the deprecations docker-harden knows.
pub fn removal(key: &str) -> Option<(&'static DeprecatedKey, EngineVersion)> {
    deprecations(key).find_map(|d| Some((d, d.removed_in?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_as_stated() {
        let v = |s| EngineVersion::parse(s);
        assert_eq!(v("20.10.24+dfsg1"), Some(EngineVersion::new(20, 10, 24)));
        assert_eq!(
            v("Docker version 26.1.5+dfsg1, build 411e817"),
            Some(EngineVersion::new(26, 1, 5))
        );
        assert_eq!(
            v("5:26.1.5-1~debian.12~bookworm"),
            Some(EngineVersion::new(26, 1, 5))
        );
        assert_eq!(
            v("26.1.5+dfsg1-9+deb13u1+b1"),
            Some(EngineVersion::new(26, 1, 5))
        );
        assert_eq!(v("28.2"), Some(EngineVersion::new(28, 2, 0)));
        assert_eq!(v("dev"), None);
        assert_eq!(v(""), None);
    }

    #[test]
    fn validation_from_23() {
        assert!(!EngineVersion::new(20, 10, 24).validates_config());
        assert!(EngineVersion::new(23, 0, 0).validates_config());
        assert!(EngineVersion::new(26, 1, 5).validates_config());
    }

    #[test]
    fn versions_not_checked_are_judged_by_what_the_checked_ones_agree_on() {
        let table = |a, b| KeyTable::for_version(EngineVersion::new(a, b, 0));
        assert!(matches!(table(20, 10), KeyTable::Exact(r) if r.name == "20.10"));
        assert!(matches!(table(26, 1), KeyTable::Exact(r) if r.name == "26.1"));
        assert!(matches!(table(19, 3), KeyTable::Older(r) if r.name == "20.10"));
        assert!(
            matches!(table(24, 0), KeyTable::Between(l, u) if l.name == "20.10" && u.name == "26.1")
        );
        assert!(matches!(table(28, 2), KeyTable::Newer(r, _) if r.name == "26.1"));
        // 24.0: graph is gone (23.0), cdi-spec-dirs is not known to be there yet.
        assert!(!table(24, 0).accepts("graph"));
        assert!(!table(24, 0).accepts("cdi-spec-dirs"));
        assert!(table(24, 0).accepts("live-restore"));
        assert!(table(20, 10).accepts("graph"));
    }

    #[test]
    fn deprecated_keys_are_those_a_later_release_drops() {
        let keys = ["graph", "live-restore", "restart", "cluster-store"];
        let names = |v| -> Vec<&str> {
            deprecated_keys(v, keys.iter().copied())
                .iter()
                .map(|d| d.key)
                .collect()
        };
        assert_eq!(
            names(EngineVersion::new(20, 10, 24)),
            ["graph", "restart", "cluster-store"]
        );
        // On 26.1 graph and cluster-store are not deprecated but refused (pre-flight says so).
        assert_eq!(names(EngineVersion::new(26, 1, 5)), ["restart"]);
        assert_eq!(removal("graph").map(|(_, v)| v), Some(V23));
    }

    #[test]
    fn tables_hold_what_docker_harden_writes() {
        for release in RELEASES {
            for key in [
                "icc",
                "live-restore",
                "log-driver",
                "log-opts",
                "no-new-privileges",
                "storage-driver",
                "userland-proxy",
                "userns-remap",
            ] {
                assert!(release.accepts(key), "{} lacks {key}", release.name);
            }
        }
    }

    #[test]
    fn measured_differences() {
        let (KeyTable::Exact(old), KeyTable::Exact(new)) = (
            KeyTable::for_version(EngineVersion::new(20, 10, 24)),
            KeyTable::for_version(EngineVersion::new(26, 1, 5)),
        ) else {
            panic!("20.10 and 26.1 are checked releases");
        };
        for removed in [
            "graph",
            "cluster-store",
            "cluster-advertise",
            "oom-score-adjust",
        ] {
            assert!(old.accepts(removed) && !new.accepts(removed), "{removed}");
            assert!(old.deprecation(removed).is_some(), "{removed}");
        }
        for added in [
            "cdi-spec-dirs",
            "default-network-opts",
            "log-format",
            "http-proxy",
        ] {
            assert!(!old.accepts(added) && new.accepts(added), "{added}");
        }
        // Every deprecated key is one its release accepts.
        for release in RELEASES {
            for d in release.deprecated {
                assert!(release.accepts(d.key), "{} {}", release.name, d.key);
            }
        }
    }
}
