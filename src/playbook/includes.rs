//! `include:`: a playbook on top of another (the built-in default or a file), resolved before
//! validation so the result is validated whole.

use std::path::{Path, PathBuf};

use super::raw::{RawPlaybook, parse_raw};
use super::{DEFAULT_PLAYBOOK, DEFAULT_PLAYBOOK_NAME, MAX_INCLUDE_DEPTH};
use crate::error::{Error, Result};

pub(super) fn resolve_includes_default() -> Result<RawPlaybook> {
    parse_raw("built-in default playbook", DEFAULT_PLAYBOOK)
}

pub(super) fn read_with_includes(path: &Path, depth: usize) -> Result<RawPlaybook> {
    if depth > MAX_INCLUDE_DEPTH {
        return Err(Error::Playbook {
            path: path.display().to_string(),
            message: "includes nest too deeply (a loop?)".into(),
        });
    }
    let text = crate::input::read_text_file(path)?;
    let raw = parse_raw(&path.display().to_string(), &text)?;
    resolve_include(raw, path.parent().unwrap_or(Path::new(".")), depth)
}

/// `raw` on top of what it includes; a relative include is relative to `dir`.
pub(super) fn resolve_include(raw: RawPlaybook, dir: &Path, depth: usize) -> Result<RawPlaybook> {
    let base = match raw.include.as_deref() {
        None => return Ok(raw),
        Some(DEFAULT_PLAYBOOK_NAME) => resolve_includes_default()?,
        Some(other) => {
            let included = PathBuf::from(other);
            let included = if included.is_absolute() {
                included
            } else {
                dir.join(included)
            };
            read_with_includes(&included, depth + 1)?
        }
    };
    Ok(overlay(base, raw))
}

/// The operator's playbook on top of what it includes: variables override one by one, items
/// with the same ID replace, new items are appended, lists of skips, enables and waivers add up.
pub(super) fn overlay(mut base: RawPlaybook, top: RawPlaybook) -> RawPlaybook {
    base.name = top.name.or(base.name);
    base.benchmark = top.benchmark.or(base.benchmark);
    base.variables = base.variables.overlay(top.variables);
    for item in top.items {
        match base.items.iter_mut().find(|i| i.id == item.id) {
            Some(existing) => *existing = item,
            None => base.items.push(item),
        }
    }
    base.skip.extend(top.skip);
    base.enable.extend(top.enable);
    base.waivers.extend(top.waivers);
    base
}
