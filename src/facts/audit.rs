//! Audit rules: where persistent rules live on this host, which watches they hold, and (on the
//! live host) which watches the kernel has loaded.

use std::path::{Path, PathBuf};

use super::{LiveSources, Snapshot};
use crate::audit_rules::{self, Watch};
use crate::error::Result;

pub(crate) const AUDIT_DIR: &str = "/etc/audit";
pub(crate) const RULES_D: &str = "/etc/audit/rules.d";
pub(crate) const AUDIT_RULES: &str = "/etc/audit/audit.rules";
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

/// A rules line auditctl refuses; loading the rules at boot stops there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleStop {
    pub file: PathBuf,
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct AuditFacts {
    /// /etc/audit exists: auditd is installed in this root.
    pub installed: bool,
    /// augenrules builds audit.rules from rules.d: persistent rules belong there.
    pub uses_rules_d: bool,
    /// The file docker-harden writes its watches to (resolved host path).
    pub target_file: PathBuf,
    /// Persistent watches that load at boot, each with the file that holds it.
    pub persistent: Vec<(PathBuf, Watch)>,
    /// The rules.d files in the order augenrules joins them: (name, resolved path). Empty
    /// without rules.d.
    pub rules_files: Vec<(String, PathBuf)>,
    /// The line where loading the persistent rules stops, when auditctl refuses one.
    pub stop: Option<RuleStop>,
    /// Watches written in the rules files after `stop`, which therefore never load: file,
    /// line, watch.
    pub unreached: Vec<(PathBuf, usize, Watch)>,
    pub loaded: LoadedRules,
}

impl AuditFacts {
    pub(crate) fn empty() -> AuditFacts {
        AuditFacts {
            installed: false,
            uses_rules_d: false,
            target_file: PathBuf::from(AUDIT_RULES),
            persistent: Vec::new(),
            rules_files: Vec::new(),
            stop: None,
            unreached: Vec::new(),
            loaded: LoadedRules::NotConsulted,
        }
    }

    /// A watch on `path` that is written in the rules but never loads, with where it is.
    pub(crate) fn unreached_watch(&self, path: &str) -> Option<(&Path, usize)> {
        self.unreached
            .iter()
            .find(|(_, _, w)| w.covers(path))
            .map(|(f, l, _)| (f.as_path(), *l))
    }

    pub(crate) fn persistent_source(&self, path: &str) -> Option<&Path> {
        self.persistent
            .iter()
            .find(|(_, w)| w.covers(path))
            .map(|(f, _)| f.as_path())
    }

    pub(crate) fn loaded_covers(&self, path: &str) -> Option<bool> {
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
    let mut rules_files = Vec::new();
    let mut stop = None;
    let mut unreached = Vec::new();
    let target_file = if uses_rules_d {
        let mut names = snap.rootfs.list_dir(Path::new(RULES_D))?;
        names.retain(|n| n.ends_with(".rules"));
        names.sort_by(|a, b| audit_rules::augenrules_order(a, b));
        let mut texts = Vec::new();
        for name in names {
            let path = PathBuf::from(RULES_D).join(&name);
            if let (resolved, Some(text)) = snap.text(&path)? {
                rules_files.push((name, resolved));
                texts.push(text);
            }
        }
        let load =
            audit_rules::augenrules_load(&texts.iter().map(String::as_str).collect::<Vec<_>>());
        persistent.extend(
            load.watches
                .iter()
                .map(|((fi, _), w)| (rules_files[*fi].1.clone(), w.clone())),
        );
        if let Some(((fi, line), reason)) = load.stop {
            stop = Some(RuleStop {
                file: rules_files[fi].1.clone(),
                line,
                reason,
            });
            for (fi, text) in texts.iter().enumerate() {
                for (line, w) in audit_rules::watches(text) {
                    if !load.watches.iter().any(|(at, _)| *at == (fi, line)) {
                        unreached.push((rules_files[fi].1.clone(), line, w));
                    }
                }
            }
        }
        snap.file(Path::new(OWN_RULES_FILE))?
    } else {
        let (resolved, text) = snap.text(Path::new(AUDIT_RULES))?;
        if let Some(text) = text {
            let load = audit_rules::load_text(&text);
            persistent.extend(
                load.watches
                    .iter()
                    .map(|(_, w)| (resolved.clone(), w.clone())),
            );
            if let Some((line, reason)) = load.stop {
                stop = Some(RuleStop {
                    file: resolved.clone(),
                    line,
                    reason,
                });
                unreached.extend(
                    audit_rules::watches(&text)
                        .into_iter()
                        .filter(|(l, _)| *l > line)
                        .map(|(l, w)| (resolved.clone(), l, w)),
                );
            }
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
        rules_files,
        stop,
        unreached,
        loaded,
    })
}

fn read_loaded(live: &LiveSources<'_>) -> LoadedRules {
    let list = match live.runner.run("auditctl", &["-l"]) {
        Err(e) => return LoadedRules::Unavailable(e.to_string()),
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
