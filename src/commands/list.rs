//! `list`: the playbook's items.

use crate::error::{EXIT_CLEAN, Result};

use super::Env;

pub fn run(env: &mut Env<'_>) -> Result<i32> {
    let playbook = &env.settings.playbook;
    writeln!(env.out, "{:<12} {:<8} {:<12} TITLE", "ID", "LEGACY", "FIX")?;
    for item in &playbook.items {
        let fix = if !item.kind.fixable() {
            "report-only"
        } else if item.disruptive.is_some() {
            "disruptive"
        } else {
            "fixable"
        };
        writeln!(
            env.out,
            "{:<12} {:<8} {:<12} {}",
            item.id,
            item.legacy_id.as_deref().unwrap_or("-"),
            fix,
            item.title
        )?;
    }
    Ok(EXIT_CLEAN)
}
