//! `fix`: apply the selected fixes, interactively or with --yes, as one transaction; then act
//! on services with health checks, roll back by itself if dockerd does not come back, and
//! check again.

use std::io::IsTerminal;

use crate::assess::Finding;
use crate::commands::args::FixArgs;
use crate::error::{EXIT_CLEAN, EXIT_FINDINGS, Error, Result};
use crate::interactive;
use crate::kinds::Status;
use crate::run::{self, RestartConsent};

use super::Env;
use super::diff::{print_held, print_plan, print_refused, safe_plan};

pub fn run(env: &mut Env<'_>, args: &FixArgs) -> Result<i32> {
    env.local_engine_only("fix")?;
    let selection = env.selection(&args.selectors)?;
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !(args.yes || terminal) {
        return Err(Error::NoTerminal);
    }
    env.refuse_interrupted("fix")?;
    let daemon = env.daemon()?;
    let facts = env.gather(&daemon)?;
    let findings = env.evaluate(&facts, &selection);
    env.header("fix")?;
    let plan = if args.yes {
        let unattended = run::plan_unattended(
            &env.settings.playbook,
            &facts,
            &selection,
            run::candidates(&findings),
            &args.selectors.only,
            args.skip_preflight,
            env.runner,
        )?;
        print_refused(env, &unattended.refused)?;
        print_held(env, &unattended.held)?;
        print_refused(env, &unattended.safe.refused)?;
        unattended.safe.plan
    } else {
        let candidates = run::candidates(&findings);
        let (_, safe) = safe_plan(env, &facts, &selection, candidates, args.skip_preflight)?;
        let chosen = interactive::choose(env, &facts, &findings, &safe, &selection)?;
        safe_plan(env, &facts, &selection, chosen, args.skip_preflight)?.0
    };
    if args.yes {
        // Unattended runs still show every change they make.
        print_plan(env, &plan, &facts)?;
    }
    if plan.is_empty() {
        writeln!(env.out, "nothing to change")?;
        return Ok(exit_code(&findings));
    }

    let consent = match args.yes {
        true => RestartConsent::unattended(
            args.allow_container_restart || env.settings.playbook.variables.allow_container_restart,
        ),
        false if args.allow_container_restart => RestartConsent::Allowed,
        false => RestartConsent::Ask,
    };
    let options = run::Options {
        health_timeout: args.health_timeout,
        consent,
    };
    run::apply(&env.host(), env, &facts, &plan, options)?;

    // Judge again from fresh facts, and say what changed.
    let after_facts = env.gather(&daemon)?;
    let after = env.evaluate(&after_facts, &selection);
    writeln!(env.out)?;
    for (b, a) in findings.iter().zip(after.iter()) {
        if b.status != a.status {
            writeln!(
                env.out,
                "{} {}: {} -> {}",
                a.id,
                a.title,
                b.status.label(),
                a.status.label()
            )?;
        }
    }
    let still: Vec<&str> = after
        .iter()
        .filter(|f| f.status == Status::Warn)
        .map(|f| f.id.as_str())
        .collect();
    if still.is_empty() {
        writeln!(env.out, "every selected item passes or needs no action")?;
    } else {
        writeln!(env.out, "still WARN: {}", still.join(", "))?;
    }
    Ok(exit_code(&after))
}

fn exit_code(findings: &[Finding]) -> i32 {
    if findings.iter().any(|f| f.status == Status::Warn) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}
