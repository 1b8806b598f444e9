//! Audit watches (CIS 1.1.x): a watch must be persistent, and on the live host also loaded.

use super::{ItemKind, LoadContext};
use crate::error::Result;
use crate::vocabulary::{Target, Variables};
use serde::Deserialize;
use std::path::{Path, PathBuf};

use super::{FixOutcome, Status, Verdict};
use crate::audit_rules::{self, Watch};
use crate::facts::{Facts, LoadedRules, RuleStop};
use crate::plan::{ServiceAction, Workspace};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSpec {
    pub target: Target,
}

/// Audit rules files are root-only on Debian and RHEL (they reveal what is watched).
const RULES_FILE_MODE: u32 = 0o640;

/// The paths to watch: those that exist, and under --root those a daemon creates at start.
fn paths(spec: &AuditSpec, facts: &Facts) -> Vec<String> {
    facts
        .target(&spec.target)
        .iter()
        .chain(facts.runtime_targets.get(&spec.target))
        .map(|p| p.display().to_string())
        .collect()
}

/// Whether a watch on `path` can load when the rules load at boot. /run is an empty tmpfs
/// then: a watch needs its parent directory to exist, and the first rule that fails stops
/// auditctl from loading every rule after it (a later `-e 2` included). So nothing deeper
/// than /run/NAME may be in the persistent rules.
pub(crate) fn loads_at_boot(path: &str) -> bool {
    let under_run = path
        .strip_prefix("/run/")
        .or_else(|| path.strip_prefix("/var/run/"));
    under_run.is_none_or(|rest| !rest.trim_end_matches('/').contains('/'))
}

/// Says so when a path is judged before it exists (an image that has not booted yet).
fn runtime_note(spec: &AuditSpec, facts: &Facts, path: &str) -> &'static str {
    match facts.runtime_targets.get(&spec.target) {
        Some(p) if p.as_os_str() == path => " (created when its daemon starts)",
        _ => "",
    }
}

pub(crate) fn check(spec: &AuditSpec, facts: &Facts) -> Verdict {
    if !facts.audit.installed {
        return Verdict::info(
            "auditd is not installed (no /etc/audit); nothing records file changes",
        );
    }
    let paths = paths(spec, facts);
    if paths.is_empty() {
        let note = facts
            .target_notes
            .get(&spec.target)
            .cloned()
            .unwrap_or_else(|| "nothing to watch".into());
        return Verdict::info(format!("not present on this host: {note}"));
    }
    let mut evidence = Vec::new();
    let mut missing = Vec::new();
    let mut not_loaded = Vec::new();
    let (paths, boot_unsafe): (Vec<String>, Vec<String>) =
        paths.into_iter().partition(|p| loads_at_boot(p));
    for path in &boot_unsafe {
        match facts.audit.loaded_covers(path) {
            Some(true) => evidence.push(format!("{path}: watched (loaded now; a boot-time rule cannot hold it)")),
            _ => evidence.push(format!(
                "{path}: not watched; it is created under /run after the audit rules load at boot, where a rule for it would fail and stop every rule after it, so docker-harden does not add one (the parent directory's watch records its creation)"
            )),
        }
    }
    if paths.is_empty() {
        return Verdict::new(Status::Info, evidence);
    }
    for path in &paths {
        match facts.audit.persistent_source(path) {
            None => missing.push(path.clone()),
            Some(file) => {
                let loaded = facts.audit.loaded_covers(path);
                if loaded == Some(false) {
                    not_loaded.push(path.clone());
                }
                let state = match loaded {
                    Some(true) => ", loaded",
                    Some(false) => ", not loaded",
                    None => "",
                };
                evidence.push(format!(
                    "{path}: watched in {}{state}{}",
                    file.display(),
                    runtime_note(spec, facts, path)
                ));
            }
        }
    }
    // A line auditctl refuses ends the load at boot: the watches after it are written but
    // never loaded.
    if let Some(stop) = &facts.audit.stop {
        evidence.insert(0, stop_evidence(stop));
    }
    if !missing.is_empty() {
        let mut v = Verdict::new(
            Status::Warn,
            missing
                .iter()
                .map(|p| match facts.audit.unreached_watch(p) {
                    Some((file, line)) => format!(
                        "{p}: the watch at {}:{line} never loads: auditctl stops at a broken line before it",
                        file.display()
                    ),
                    None => format!(
                        "{p}: no persistent audit watch{}",
                        runtime_note(spec, facts, p)
                    ),
                })
                .collect(),
        );
        v.evidence.extend(evidence);
        if let Some(stop) = &facts.audit.stop {
            v = v.fix(format!(
                "repair {}:{} first: auditctl refuses it and loads no rule after it; then docker-harden's fix can add the missing watches",
                stop.file.display(),
                stop.line
            ));
        }
        return v;
    }
    match &facts.audit.loaded {
        LoadedRules::NotConsulted => Verdict::new(Status::Pass, evidence),
        LoadedRules::Unavailable(reason) => {
            evidence.push(format!("loaded rules unknown: {reason}"));
            Verdict::new(Status::Info, evidence)
        }
        LoadedRules::Loaded { immutable, .. } => {
            if not_loaded.is_empty() {
                Verdict::new(Status::Pass, evidence)
            } else if *immutable {
                evidence.push(
                    "loaded at next boot: the kernel's audit rules are locked (-e 2) until reboot"
                        .into(),
                );
                Verdict::new(Status::Info, evidence)
            } else {
                Verdict::new(Status::Warn, evidence)
            }
        }
    }
}

fn stop_evidence(stop: &RuleStop) -> String {
    format!(
        "{}:{}: broken rule: {}; auditctl stops loading the rules at this line, so no rule after it loads",
        stop.file.display(),
        stop.line,
        stop.reason
    )
}

/// Why `wanted` would not load at boot with `file` planned as `text`: the line where loading
/// stops before them.
fn blocked_load(
    facts: &Facts,
    ws: &Workspace,
    file: &Path,
    text: &str,
    wanted: &[Watch],
) -> Option<String> {
    let loads = |loaded: &[Watch]| {
        wanted
            .iter()
            .all(|w| loaded.iter().any(|l| l.covers(&w.path)))
    };
    let stop = if facts.audit.uses_rules_d {
        let mut files = facts.audit.rules_files.clone();
        if !files.iter().any(|(_, p)| p == file) {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push((name, file.to_path_buf()));
            files.sort_by(|a, b| audit_rules::augenrules_order(&a.0, &b.0));
        }
        let texts: Vec<String> = files
            .iter()
            .map(|(_, p)| {
                if p == file {
                    text.to_string()
                } else {
                    ws.text(p).unwrap_or_default()
                }
            })
            .collect();
        let load =
            audit_rules::augenrules_load(&texts.iter().map(String::as_str).collect::<Vec<_>>());
        let loaded: Vec<Watch> = load.watches.into_iter().map(|(_, w)| w).collect();
        if loads(&loaded) {
            return None;
        }
        load.stop.map(|((fi, line), reason)| RuleStop {
            file: files[fi].1.clone(),
            line,
            reason,
        })
    } else {
        let load = audit_rules::load_text(text);
        let loaded: Vec<Watch> = load.watches.into_iter().map(|(_, w)| w).collect();
        if loads(&loaded) {
            return None;
        }
        load.stop.map(|(line, reason)| RuleStop {
            file: file.to_path_buf(),
            line,
            reason,
        })
    };
    Some(match stop {
        Some(stop) => format!(
            "{}:{}: broken rule: {}; auditctl stops loading the rules at this line, before docker-harden's watches would load: fix or remove it, then run fix again",
            stop.file.display(),
            stop.line,
            stop.reason
        ),
        None => format!(
            "the rules as planned would not load the watches docker-harden adds to {}",
            file.display()
        ),
    })
}

/// Whether this item's target is a file the plan so far creates.
pub(crate) fn target_created(spec: &AuditSpec, facts: &Facts, ws: &Workspace) -> bool {
    facts
        .absent_targets
        .get(&spec.target)
        .and_then(|p| ws.get(p))
        .is_some_and(|f| f.content.is_some())
}

pub(crate) fn fix(
    spec: &AuditSpec,
    facts: &Facts,
    vars: &Variables,
    ws: &mut Workspace,
) -> FixOutcome {
    if !facts.audit.installed {
        return FixOutcome::blocked(
            "auditd is not installed; install it first (apt-get install auditd)",
        );
    }
    let mut paths = paths(spec, facts);
    // A file this run creates (daemon.json) is watched from the start.
    if target_created(spec, facts, ws)
        && let Some(p) = facts.absent_targets.get(&spec.target)
    {
        paths.push(p.display().to_string());
    }
    let file: PathBuf = facts.audit.target_file.clone();
    let current = ws.text(&file);
    let covered_now = current
        .as_deref()
        .map(|t| {
            if facts.audit.uses_rules_d {
                audit_rules::watches(t)
            } else {
                audit_rules::effective_watches(t)
            }
        })
        .unwrap_or_default();
    let wanted: Vec<Watch> = paths
        .iter()
        .filter(|p| loads_at_boot(p))
        .filter(|p| facts.audit.persistent_source(p).is_none())
        .filter(|p| !covered_now.iter().any(|(_, w)| w.covers(p)))
        .map(|p| Watch::new(p, "wa", Some(&vars.audit_key)))
        .collect();
    let mut outcome = FixOutcome::default();
    if !wanted.is_empty() {
        let new_text = if facts.audit.uses_rules_d {
            audit_rules::plan_own_rules_file(current.as_deref(), &wanted)
        } else {
            audit_rules::plan_append(current.as_deref().unwrap_or(""), &wanted)
        };
        if let Some(reason) = blocked_load(facts, ws, &file, &new_text, &wanted) {
            return FixOutcome::blocked(reason);
        }
        ws.write(&file, new_text, RULES_FILE_MODE);
        outcome.actions.insert(ServiceAction::LoadAuditRules);
    }
    let needs_load = paths
        .iter()
        .filter(|p| loads_at_boot(p))
        .any(|p| facts.audit.loaded_covers(p) == Some(false));
    let locked = matches!(
        facts.audit.loaded,
        LoadedRules::Loaded {
            immutable: true,
            ..
        }
    );
    if needs_load && !locked {
        outcome.actions.insert(ServiceAction::LoadAuditRules);
    }
    outcome
}

impl ItemKind for AuditSpec {
    type Raw = AuditSpec;

    fn from_raw(raw: AuditSpec, _: &LoadContext<'_>) -> Result<AuditSpec> {
        Ok(raw)
    }
    fn check(&self, facts: &Facts) -> Verdict {
        check(self, facts)
    }
    fn fix(&self, facts: &Facts, vars: &Variables, ws: &mut Workspace) -> Result<FixOutcome> {
        Ok(fix(self, facts, vars, ws))
    }
}

#[cfg(test)]
mod tests {
    use super::loads_at_boot;

    #[test]
    fn run_subdirectories_do_not_exist_at_boot() {
        assert!(loads_at_boot("/usr/sbin/dockerd"));
        assert!(loads_at_boot("/run/containerd"));
        assert!(loads_at_boot("/var/run/docker.sock"));
        assert!(!loads_at_boot("/run/containerd/containerd.sock"));
        assert!(!loads_at_boot("/var/run/docker/containerd/containerd.sock"));
    }
}
