//! `check`: one line per item with its evidence; exit 1 when any item is WARN.

use crate::commands::args::{CheckArgs, Format};
use crate::error::{EXIT_CLEAN, EXIT_FINDINGS, Result};
use crate::kinds::Status;
use crate::render;
use crate::reports;

use super::Env;

pub fn run(env: &mut Env<'_>, args: &CheckArgs) -> Result<i32> {
    let selection = env.selection(&args.selectors)?;
    let daemons = env.daemons()?;
    let mut findings = Vec::new();
    let mut judged = Vec::new();
    for daemon in &daemons {
        let facts = env.gather_for(daemon, &selection, &args.containers.filter())?;
        findings.extend(env.evaluate(&facts, &selection));
        judged.push(facts);
    }
    if args.format == Format::Text {
        env.header("check")?;
    }
    env.remote_engine_note()?;
    // A report file is rendered whole in memory first and then put in place at once, so no
    // failure halfway leaves a truncated one (see `reports::save`).
    let mut report = Vec::new();
    let out: &mut dyn std::io::Write = match &args.output {
        Some(_) => &mut report,
        None => env.out,
    };
    let playbook = &env.settings.playbook;
    match args.format {
        Format::Text => {
            let paint = if args.output.is_some() {
                render::Paint { enabled: false }
            } else {
                env.settings.paint
            };
            render::check_text(out, &findings, &judged, paint)?;
        }
        Format::Json => {
            render::check_json(out, &findings, playbook, &judged, &env.settings.engine)?
        }
        Format::Junit => reports::junit::write(out, &findings, playbook)?,
        Format::Sarif => reports::sarif::write(out, &findings, playbook)?,
    }
    if let Some(path) = &args.output {
        reports::save(path, &report)?;
    }
    Ok(if findings.iter().any(|f| f.status == Status::Warn) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}
