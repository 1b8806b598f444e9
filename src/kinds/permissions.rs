//! Permission bits (CIS 3.x): no bit outside the allowed mask. Modes are compared as bits, not
//! numbers: 0600 is within 0644, 0611 is not.

use super::{FixOutcome, Status, Verdict, mode_string};
use super::{ItemKind, LoadContext};
use crate::error::Result;
use crate::facts::Facts;
use crate::plan::Workspace;
use crate::vocabulary::Target;
use crate::vocabulary::Variables;
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct PermissionsSpec {
    pub target: Target,
    /// No permission bit outside this mask is allowed.
    pub max_mode: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPermissions {
    target: Target,
    /// A string ("0644"): YAML 1.2 reads a bare 0644 as the decimal number 644.
    max_mode: String,
}

/// The sticky bit grants nobody anything; a rootless dockerd sets it on its files in
/// $XDG_RUNTIME_DIR so systemd's clean-up of the runtime directory leaves them alone, and
/// clearing it would get the socket deleted under the running daemon.
const STICKY: u32 = 0o1000;

/// The bits the mask does not allow.
fn extra_bits(mode: u32, max_mode: u32) -> u32 {
    mode & !max_mode & !STICKY
}

pub(crate) fn check(spec: &PermissionsSpec, facts: &Facts) -> Verdict {
    let paths = facts.target(&spec.target);
    if paths.is_empty() {
        let note = facts
            .target_notes
            .get(&spec.target)
            .cloned()
            .unwrap_or_default();
        return Verdict::info(format!("not present on this host: {note}"));
    }
    let mut bad = Vec::new();
    let mut good = Vec::new();
    for path in paths {
        let Some(meta) = facts.file(path).and_then(|f| f.meta) else {
            continue;
        };
        let extra = extra_bits(meta.mode, spec.max_mode);
        if extra == 0 {
            good.push(format!(
                "{}: mode {}",
                path.display(),
                mode_string(meta.mode)
            ));
        } else {
            bad.push(format!(
                "{}: mode {} allows more than {} (extra bits {})",
                path.display(),
                mode_string(meta.mode),
                mode_string(spec.max_mode),
                mode_string(extra)
            ));
        }
    }
    if bad.is_empty() {
        Verdict::new(Status::Pass, good)
    } else {
        Verdict::new(Status::Warn, bad)
    }
}

/// Clears only the disallowed bits, so a stricter mode the operator chose stays as it is.
pub(crate) fn fix(spec: &PermissionsSpec, facts: &Facts, ws: &mut Workspace) -> FixOutcome {
    for path in facts.target(&spec.target) {
        if let Some(mode) = ws.get(path).and_then(|f| f.mode)
            && extra_bits(mode, spec.max_mode) != 0
        {
            ws.set_mode(path, mode & (spec.max_mode | STICKY));
        }
    }
    FixOutcome::default()
}

impl ItemKind for PermissionsSpec {
    type Raw = RawPermissions;

    fn from_raw(raw: RawPermissions, load: &LoadContext<'_>) -> Result<PermissionsSpec> {
        let max_mode = u32::from_str_radix(raw.max_mode.trim_start_matches("0o"), 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .ok_or_else(|| {
                load.invalid(format!(
                    "permissions.max_mode `{}` is not an octal mode like \"0644\"",
                    raw.max_mode
                ))
            })?;
        Ok(PermissionsSpec {
            target: raw.target,
            max_mode,
        })
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
    use super::*;
    use crate::facts::builder::FactsBuilder;

    fn at_most(max_mode: u32) -> PermissionsSpec {
        PermissionsSpec {
            target: Target::DaemonJson,
            max_mode,
        }
    }

    #[test]
    fn the_fix_clears_only_the_bits_the_mask_forbids() {
        // World-writable and executable by its group: 0676 within 0644 leaves 0644.
        let facts = FactsBuilder::new()
            .text_file("/etc/docker/daemon.json", "{}", 0o676, 0, 0)
            .target(Target::DaemonJson, &["/etc/docker/daemon.json"])
            .build();
        let spec = at_most(0o644);
        let verdict = check(&spec, &facts);
        assert_eq!(verdict.status, Status::Warn);
        assert_eq!(
            verdict.evidence,
            ["/etc/docker/daemon.json: mode 0676 allows more than 0644 (extra bits 0032)"]
        );
        let mut ws = Workspace::new(&facts);
        fix(&spec, &facts, &mut ws);
        let changes = ws.changes();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].before.mode, Some(0o676));
        assert_eq!(changes[0].after.mode, Some(0o644));
        assert_eq!(changes[0].after.owner, Some((0, 0)));
    }

    #[test]
    fn a_stricter_mode_passes_and_stays() {
        let facts = FactsBuilder::new()
            .file("/etc/docker/key.json", 0o600, 0, 0)
            .target(Target::DaemonJson, &["/etc/docker/key.json"])
            .build();
        let spec = at_most(0o644);
        assert_eq!(check(&spec, &facts).status, Status::Pass);
        let mut ws = Workspace::new(&facts);
        fix(&spec, &facts, &mut ws);
        assert!(ws.changes().is_empty());
    }
}
