//! Audit rules: where persistent rules live on this host, which watches they hold, and (on the
//! live host) which watches the kernel has loaded.

use std::path::{Path, PathBuf};

use super::{LiveSources, Snapshot};
use crate::audit_rules::{self, Watch};
use crate::error::Result;

pub const AUDIT_DIR: &str = "/etc/audit";
pub const RULES_D: &str = "/etc/audit/rules.d";
pub const AUDIT_RULES: &str = "/etc/audit/audit.rules";
/// Our own rules file. augenrules joins rules.d in name order and a `99-finalize.rules` may
/// lock the rules (`-e 2`); a name below 99 keeps our watches before that lock.
pub const OWN_RULES_FILE: &str = "/etc/audit/rules.d/50-docker-harden.rules";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadedRules {
    /// Under --root: the kernel's rules are not this image's.
    NotConsulted,
    /// auditctl could not tell (not installed, not permitted).
    Unavailable(String),
    Loaded {
        watches: Vec<Watch>,
        immutable: bool,
    },
}

#[derive(Debug, Clone)]
pub struct AuditFacts {
    /// /etc/audit exists: auditd is installed in this root.
    pub installed: bool,
    /// augenrules builds audit.rules from rules.d: persistent rules belong there.
    pub uses_rules_d: bool,
    /// The file docker-harden writes its watches to (resolved host path).
    pub target_file: PathBuf,
    /// Persistent watches, each with the file that holds it.
    pub persistent: Vec<(PathBuf, Watch)>,
    pub loaded: LoadedRules,
}

impl AuditFacts {
    pub fn empty() -> AuditFacts {
        AuditFacts {
            installed: false,
            uses_rules_d: false,
            target_file: PathBuf::from(AUDIT_RULES),
            persistent: Vec::new(),
            loaded: LoadedRules::NotConsulted,
        }
    }

    pub fn persistent_source(&self, path: &str) -> Option<&Path> {
        self.persistent
            .iter()
            .find(|(_, w)| w.covers(path))
            .map(|(f, _)| f.as_path())
    }

    pub fn loaded_covers(&self, path: &str) -> Option<bool> {
        match &self.loaded {
            LoadedRules::Loaded { watches, .. } => Some(watches.iter().any(|w| w.covers(path))),
            _ => None,
        }
    }
}

pub(crate) fn gather(
    snap: &mut Snapshot<'_>,
    live: Option<&LiveSources<'_>>,
) -> Result<AuditFacts> {
    let installed = snap.meta(Path::new(AUDIT_DIR))?.is_some();
    let uses_rules_d = snap.meta(Path::new(RULES_D))?.is_some();
    let mut persistent = Vec::new();
    let target_file = if uses_rules_d {
        let names = snap.rootfs.list_dir(Path::new(RULES_D))?;
        for name in names.iter().filter(|n| n.ends_with(".rules")) {
            let path = PathBuf::from(RULES_D).join(name);
            if let (resolved, Some(text)) = snap.text(&path)? {
                persistent.extend(
                    audit_rules::watches(&text)
                        .into_iter()
                        .map(|(_, w)| (resolved.clone(), w)),
                );
            }
        }
        snap.file(Path::new(OWN_RULES_FILE))?
    } else {
        let (resolved, text) = snap.text(Path::new(AUDIT_RULES))?;
        if let Some(text) = text {
            persistent.extend(
                audit_rules::effective_watches(&text)
                    .into_iter()
                    .map(|(_, w)| (resolved.clone(), w)),
            );
        }
        resolved
    };
    let loaded = match live {
        None => LoadedRules::NotConsulted,
        Some(live) => read_loaded(live),
    };
    Ok(AuditFacts {
        installed,
        uses_rules_d,
        target_file,
        persistent,
        loaded,
    })
}

fn read_loaded(live: &LiveSources<'_>) -> LoadedRules {
    let list = match live.runner.run("auditctl", &["-l"]) {
        Err(e) => return LoadedRules::Unavailable(e),
        Ok(out) if !out.success => {
            return LoadedRules::Unavailable(format!("auditctl -l failed: {}", out.stderr.trim()));
        }
        Ok(out) => out.stdout,
    };
    let immutable = live
        .runner
        .run("auditctl", &["-s"])
        .ok()
        .filter(|o| o.success)
        .and_then(|o| audit_rules::enabled_flag(&o.stdout))
        == Some(2);
    LoadedRules::Loaded {
        watches: audit_rules::parse_auditctl_list(&list),
        immutable,
    }
}
