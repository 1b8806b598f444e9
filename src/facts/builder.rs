//! Facts made in memory, so kinds, assess, plan and transaction can be unit-tested without a
//! fixture tree on disk:
//! `FactsBuilder::new().daemon_json(r#"{"icc":false}"#).dir("/etc/docker", 0o755, 0, 0).build()`.
//!
//! Paths are taken as resolved already: the root is `/` and nothing is read from it, as
//! checks and fixers read only the facts. The host it starts from has dockerd installed and
//! nothing else: no daemon.json, no unit, no files, accounts that know only root.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{DaemonFacts, Facts, FileState, FlagSource, SourcedFlag};
use crate::accounts::Accounts;
use crate::daemon_flags::{self, UnitFile};
use crate::daemon_json;
use crate::rootfs::{FileKind, Meta, RootFs};
use crate::vocabulary::Target;

/// Where `unit` puts docker.service, as Debian and docker-ce install it.
pub(crate) const SERVICE_UNIT: &str = "/lib/systemd/system/docker.service";

pub(crate) struct FactsBuilder {
    facts: Facts,
}

impl FactsBuilder {
    pub(crate) fn new() -> FactsBuilder {
        FactsBuilder {
            facts: Facts {
                daemon: DaemonFacts {
                    installed: true,
                    ..DaemonFacts::empty()
                },
                ..Facts::nothing_gathered(RootFs::host(), Accounts::default())
            },
        }
    }

    /// No dockerd binary on the host.
    pub(crate) fn without_dockerd(mut self) -> FactsBuilder {
        self.facts.daemon.installed = false;
        self
    }

    /// daemon.json at the default --config-file (root's, mode 0644), parsed as gathering
    /// parses it, and the daemon_json target naming it. Panics on text dockerd would refuse.
    pub(crate) fn daemon_json(mut self, text: &str) -> FactsBuilder {
        let json = daemon_json::parse(text).expect("daemon.json the test gives is valid JSON");
        self.facts.daemon.json = Some(json);
        let path = self.facts.daemon.config_file_resolved.clone();
        self.facts
            .targets
            .insert(Target::DaemonJson, vec![path.clone()]);
        self.put(&path, Some(text), FileKind::File, 0o644, 0, 0)
    }

    /// docker.service at SERVICE_UNIT with this text (root's, mode 0644); its ExecStart's
    /// flags are the ones dockerd gets at its next start.
    pub(crate) fn unit(mut self, text: &str) -> FactsBuilder {
        let path = PathBuf::from(SERVICE_UNIT);
        let unit = UnitFile {
            path: SERVICE_UNIT.into(),
            text: text.into(),
        };
        let exec = daemon_flags::effective_exec_start(&unit, &[], &HashMap::new());
        let flags = exec
            .map(|e| daemon_flags::parse_dockerd_args(e.args()).flags)
            .unwrap_or_default();
        self.facts.daemon.configured_flags = flags
            .into_iter()
            .map(|flag| SourcedFlag {
                flag,
                source: FlagSource::Unit(path.clone()),
            })
            .collect();
        self.facts.daemon.service_unit = Some(path.clone());
        self.put(&path, Some(text), FileKind::File, 0o644, 0, 0)
    }

    /// A regular file with this text.
    pub(crate) fn text_file(
        self,
        path: &str,
        text: &str,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> FactsBuilder {
        self.put(Path::new(path), Some(text), FileKind::File, mode, uid, gid)
    }

    /// A regular file known by its metadata only, as gathering records binaries and sockets'
    /// units it does not read.
    pub(crate) fn file(self, path: &str, mode: u32, uid: u32, gid: u32) -> FactsBuilder {
        self.put(Path::new(path), None, FileKind::File, mode, uid, gid)
    }

    pub(crate) fn dir(self, path: &str, mode: u32, uid: u32, gid: u32) -> FactsBuilder {
        self.put(Path::new(path), None, FileKind::Dir, mode, uid, gid)
    }

    /// What `target` names on this host; give each path as a file or directory too, or the
    /// items judging the target skip it as gone.
    pub(crate) fn target(mut self, target: Target, paths: &[&str]) -> FactsBuilder {
        self.facts
            .targets
            .insert(target, paths.iter().map(PathBuf::from).collect());
        self
    }

    pub(crate) fn build(self) -> Facts {
        self.facts
    }

    fn put(
        mut self,
        path: &Path,
        text: Option<&str>,
        kind: FileKind,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> FactsBuilder {
        let meta = Meta {
            kind,
            mode,
            uid,
            gid,
            mtime_ns: 0,
        };
        self.facts.files.insert(
            path.to_path_buf(),
            FileState {
                content: text.map(|t| t.as_bytes().to_vec()),
                meta: Some(meta),
            },
        );
        self
    }
}
