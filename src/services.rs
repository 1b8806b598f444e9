//! Acting on services after the files are written, through the runner seam, each once and in
//! dependency order.

use crate::error::{Error, Result};
use crate::plan::ServiceAction;
use crate::runner::Runner;

/// Runs the actions in order; returns one line per action saying what happened.
pub fn run(
    actions: &[ServiceAction],
    uses_rules_d: bool,
    runner: &dyn Runner,
) -> Result<Vec<String>> {
    let mut log = Vec::new();
    for action in actions {
        match action {
            ServiceAction::LoadAuditRules => log.push(load_audit_rules(uses_rules_d, runner)?),
            ServiceAction::RestartRsyslog => log.push(systemctl(runner, "restart", "rsyslog")?),
            ServiceAction::ReloadDocker => log.push(systemctl(runner, "reload", "docker")?),
            ServiceAction::RestartDocker => log.push(systemctl(runner, "restart", "docker")?),
        }
    }
    Ok(log)
}

fn command(runner: &dyn Runner, program: &str, args: &[&str]) -> Result<String> {
    let line = std::iter::once(program)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let out = runner
        .run(program, args)
        .map_err(|message| Error::Command {
            command: line.clone(),
            message,
        })?;
    if !out.success {
        return Err(Error::Command {
            command: line,
            message: format!("{}{}", out.stderr.trim(), out.stdout.trim()),
        });
    }
    Ok(line)
}

fn systemctl(runner: &dyn Runner, verb: &str, unit: &str) -> Result<String> {
    command(runner, "systemctl", &[verb, unit]).map(|line| format!("ran `{line}`"))
}

fn load_audit_rules(uses_rules_d: bool, runner: &dyn Runner) -> Result<String> {
    let locked = runner
        .run("auditctl", &["-s"])
        .ok()
        .filter(|o| o.success)
        .and_then(|o| crate::audit_rules::enabled_flag(&o.stdout))
        == Some(2);
    if locked {
        return Ok(
            "audit rules are locked (-e 2) until reboot: the new watches are loaded at next boot"
                .into(),
        );
    }
    let line = if uses_rules_d {
        command(runner, "augenrules", &["--load"])?
    } else {
        command(runner, "auditctl", &["-R", "/etc/audit/audit.rules"])?
    };
    Ok(format!("ran `{line}`"))
}
