//! Permission bits (CIS 3.x): no bit outside the allowed mask. Modes are compared as bits, not
//! numbers: 0600 is within 0644, 0611 is not.

use super::{FixOutcome, Status, Verdict, mode_string};
use crate::facts::Facts;
use crate::plan::Workspace;
use crate::playbook::PermissionsSpec;

/// The sticky bit grants nobody anything; a rootless dockerd sets it on its files in
/// $XDG_RUNTIME_DIR so systemd's clean-up of the runtime directory leaves them alone, and
/// clearing it would get the socket deleted under the running daemon.
const STICKY: u32 = 0o1000;

/// The bits the mask does not allow.
fn extra_bits(mode: u32, max_mode: u32) -> u32 {
    mode & !max_mode & !STICKY
}

pub fn check(spec: &PermissionsSpec, facts: &Facts) -> Verdict {
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
pub fn fix(spec: &PermissionsSpec, facts: &Facts, ws: &mut Workspace) -> FixOutcome {
    for path in facts.target(&spec.target) {
        if let Some(mode) = ws.get(path).and_then(|f| f.mode)
            && extra_bits(mode, spec.max_mode) != 0
        {
            ws.set_mode(path, mode & (spec.max_mode | STICKY));
        }
    }
    FixOutcome::default()
}
