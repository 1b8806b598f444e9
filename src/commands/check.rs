//! `check`: one line per item with its evidence; exit 1 when any item is WARN.

use crate::error::{EXIT_CLEAN, EXIT_FINDINGS, Result};
use crate::kinds::Status;
use crate::render;
use crate::settings::{CheckArgs, Format};

use super::Env;

pub fn run(env: &mut Env<'_>, args: &CheckArgs) -> Result<i32> {
    let selection = env.selection(&args.selectors)?;
    let facts = env.gather()?;
    let findings = env.evaluate(&facts, &selection);
    match args.format {
        Format::Text => {
            env.header("check")?;
            render::check_text(env.out, &findings, env.settings.paint)?;
        }
        Format::Json => render::check_json(env.out, &findings, &env.settings.playbook, &facts)?,
    }
    Ok(if findings.iter().any(|f| f.status == Status::Warn) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}
