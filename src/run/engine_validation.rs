//! The engine's own judgement before a write: where dockerd can validate a configuration
//! (23.0+), the planned daemon.json goes to `dockerd --validate` with the flags dockerd will
//! start with, and a configuration it refuses is not written.

use std::io::Write;
use std::path::Path;

use crate::facts::Facts;
use crate::plan::Plan;
use crate::preflight::{self, KeyJudge};
use crate::runner::Runner;

/// What the validation found: nothing to judge, dockerd's acceptance (or the table's, already
/// applied by pre-flight), or dockerd's refusal in its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// The plan does not change daemon.json.
    Unchanged,
    /// Accepted; how it was judged (for the run record).
    Accepted(String),
    /// dockerd refused the planned file: why, in its own words.
    Refused(String),
}

/// Judges the planned daemon.json as [`preflight::key_judge`] says: runs dockerd for
/// [`KeyJudge::Dockerd`]; the other judges were applied by pre-flight already.
pub(crate) fn judge(facts: &Facts, plan: &Plan, runner: &dyn Runner) -> Judgement {
    let config = &facts.daemon.config_file_resolved;
    let Some(change) = plan
        .changes
        .iter()
        .find(|c| &c.path == config && c.content_changed())
    else {
        return Judgement::Unchanged;
    };
    let judge = preflight::key_judge(facts);
    let KeyJudge::Dockerd { binary, found } = &judge else {
        return Judgement::Accepted(judge.describe());
    };
    let Some(content) = change.after.content.as_deref() else {
        // Removing daemon.json leaves dockerd its defaults: nothing to validate.
        return Judgement::Accepted(
            "daemon.json is removed: dockerd starts with its defaults".into(),
        );
    };
    match run_validate(facts, plan, runner, binary, content) {
        Ok(()) => Judgement::Accepted(judge.describe()),
        Err(why) => Judgement::Refused(format!(
            "dockerd {} refuses the planned {}: {why}",
            found.text,
            facts.daemon.config_file.display()
        )),
    }
}

/// `BINARY --validate --config-file COPY FLAGS...`, the copy being the planned file in a
/// private temporary file (mode 0600: daemon.json can hold credentials in proxy URLs), the
/// flags those of dockerd's next start but its own --config-file.
fn run_validate(
    facts: &Facts,
    plan: &Plan,
    runner: &dyn Runner,
    binary: &Path,
    content: &[u8],
) -> Result<(), String> {
    let mut copy = tempfile::Builder::new()
        .prefix("docker-harden-validate-")
        .suffix(".json")
        .tempfile()
        .map_err(|e| format!("could not write a copy to validate: {e}"))?;
    copy.write_all(content)
        .and_then(|()| copy.flush())
        .map_err(|e| format!("could not write a copy to validate: {e}"))?;
    let copy_path = copy.path().to_string_lossy().into_owned();
    let mut args = vec![
        "--validate".to_string(),
        "--config-file".to_string(),
        copy_path.clone(),
    ];
    args.extend(
        preflight::planned_flags(facts, plan)
            .into_iter()
            .map(|(flag, _)| flag)
            .filter(|f| f.name != "config-file" && f.name != "validate")
            .map(|f| format!("--{}={}", f.name, f.value)),
    );
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = runner
        .run(&binary.to_string_lossy(), &argv)
        .map_err(|e| e.to_string())?;
    if out.success {
        return Ok(());
    }
    // dockerd names the file it read: name the real one.
    let said = format!("{}\n{}", out.stderr.trim(), out.stdout.trim());
    let said = said
        .replace(&copy_path, &facts.daemon.config_file.to_string_lossy())
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Err(if said.is_empty() {
        "it exited with an error and said nothing".into()
    } else {
        said
    })
}
