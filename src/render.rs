//! Everything the user reads: check reports (text, JSON) and diffs of planned changes.

use std::io::Write;

use console::Style;
use serde::Serialize;

use crate::assess::Finding;
use crate::endpoint::Endpoint;
use crate::facts::Facts;
use crate::kinds::{Status, mode_string, owner_string};
use crate::plan::{FileChange, ItemPlan, ServiceAction};
use crate::playbook::Playbook;

/// Colours on or off, decided once from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Paint {
    pub enabled: bool,
}

impl Paint {
    fn style(&self, style: Style) -> Style {
        style.force_styling(self.enabled)
    }
    pub(crate) fn status(&self, status: Status) -> String {
        let label = format!("[{}]", status.label());
        let style = match status {
            Status::Pass => Style::new().green(),
            Status::Warn => Style::new().red().bold(),
            Status::Info => Style::new().blue(),
            Status::Note => Style::new().cyan(),
            Status::Waived => Style::new().yellow(),
            Status::NotApplicable => Style::new().dim(),
        };
        self.style(style).apply_to(label).to_string()
    }
    pub(crate) fn bold(&self, text: &str) -> String {
        self.style(Style::new().bold()).apply_to(text).to_string()
    }
    fn added(&self, text: &str) -> String {
        self.style(Style::new().green()).apply_to(text).to_string()
    }
    fn removed(&self, text: &str) -> String {
        self.style(Style::new().red()).apply_to(text).to_string()
    }
    fn hunk(&self, text: &str) -> String {
        self.style(Style::new().cyan()).apply_to(text).to_string()
    }
}

#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub info: usize,
    pub note: usize,
    pub waived: usize,
    pub not_applicable: usize,
}

impl Counts {
    pub(crate) fn of(findings: &[Finding]) -> Counts {
        let mut c = Counts::default();
        for f in findings {
            match f.status {
                Status::Pass => c.pass += 1,
                Status::Warn => c.warn += 1,
                Status::Info => c.info += 1,
                Status::Note => c.note += 1,
                Status::Waived => c.waived += 1,
                Status::NotApplicable => c.not_applicable += 1,
            }
        }
        c
    }
}

/// Evidence carries data (container names, labels, paths): on a terminal, control characters
/// (a newline, an escape sequence) are shown escaped so they cannot forge lines or colours.
pub(crate) fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// One line per item with its evidence; on a host with a rootless daemon, each daemon's items
/// under a heading that says which daemon, with its socket and configuration file.
pub(crate) fn check_text(
    out: &mut dyn Write,
    findings: &[Finding],
    judged: &[Facts],
    paint: Paint,
) -> std::io::Result<()> {
    let headings = judged.len() > 1 || judged.iter().any(|f| f.instance.rootless().is_some());
    for facts in judged {
        let key = facts.instance.key();
        if headings {
            writeln!(
                out,
                "{}",
                paint.bold(&format!(
                    "== {} ({}): socket {}, configuration {}",
                    facts.instance.describe(),
                    key,
                    facts.daemon.api_socket.display(),
                    facts.daemon.config_file.display()
                ))
            )?;
        }
        // Said before the items: they judge the configuration alone, and a dockerd running
        // elsewhere was not taken for this one.
        if let Some(why) = &facts.daemon.not_running {
            writeln!(out, "note: {}", escape_controls(why))?;
        }
        let mine: Vec<&Finding> = findings.iter().filter(|f| f.daemon == key).collect();
        for f in &mine {
            writeln!(out, "{} {} {}", paint.status(f.status), f.id, f.title)?;
            for e in &f.evidence {
                writeln!(out, "        {}", escape_controls(e))?;
            }
            if let Some(fix) = &f.remediation {
                writeln!(out, "        fix: {}", escape_controls(fix))?;
            }
        }
        if headings {
            writeln!(out)?;
        }
    }
    let c = Counts::of(findings);
    let not_applicable = if c.not_applicable > 0 {
        format!(", {} N/A", c.not_applicable)
    } else {
        String::new()
    };
    writeln!(
        out,
        "\n{} items: {} PASS, {} WARN, {} INFO, {} NOTE, {} WAIVED{not_applicable}",
        findings.len(),
        c.pass,
        c.warn,
        c.info,
        c.note,
        c.waived
    )
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    tool_version: &'static str,
    playbook: &'a str,
    benchmark: &'a str,
    root: String,
    live: bool,
    daemons: Vec<JsonDaemon>,
    /// The engine the live run judged (absent under --root, which asks none).
    #[serde(skip_serializing_if = "Option::is_none")]
    engine: Option<EngineReport<'a>>,
    summary: Counts,
    items: &'a [Finding],
}

/// A daemon the report judged; items name it by `key`.
#[derive(Serialize)]
struct JsonDaemon {
    key: String,
    rootless: bool,
    user: Option<String>,
    uid: Option<u32>,
    socket: String,
    config_file: String,
    running: bool,
    /// The dockerd serving its socket (live runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    /// Why no running dockerd was found for it (live runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    not_running: Option<String>,
}

#[derive(Serialize)]
struct EngineReport<'a> {
    address: String,
    origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a str>,
    remote: bool,
}

pub(crate) fn check_json(
    out: &mut dyn Write,
    findings: &[Finding],
    playbook: &Playbook,
    judged: &[Facts],
    engine: &Endpoint,
) -> std::io::Result<()> {
    let first = &judged[0];
    let report = JsonReport {
        schema_version: 1,
        tool_version: env!("CARGO_PKG_VERSION"),
        playbook: &playbook.name,
        benchmark: playbook.benchmark.as_str(),
        root: first.rootfs.root().display().to_string(),
        live: first.live,
        daemons: judged
            .iter()
            .map(|f| {
                let user = f.instance.rootless();
                JsonDaemon {
                    key: f.instance.key(),
                    rootless: user.is_some(),
                    user: user.map(|u| u.name.clone()),
                    uid: user.map(|u| u.uid),
                    socket: f.daemon.api_socket.display().to_string(),
                    config_file: f.daemon.config_file.display().to_string(),
                    running: f.daemon.running.is_some(),
                    pid: f.daemon.running.as_ref().map(|r| r.pid),
                    not_running: f.daemon.not_running.clone(),
                }
            })
            .collect(),
        engine: first.live.then(|| EngineReport {
            address: engine.address(&first.daemon.api_socket),
            origin: engine.origin.key(),
            context: engine.origin.context(),
            remote: engine.is_remote(),
        }),
        summary: Counts::of(findings),
        items: findings,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

/// A unified diff of one file's content, then one line per metadata change.
pub(crate) fn file_change(
    out: &mut dyn Write,
    change: &FileChange,
    facts: &Facts,
    paint: Paint,
) -> std::io::Result<()> {
    let path = change.path.display().to_string();
    if change.content_changed() {
        let before = change
            .before
            .content
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let after = change
            .after
            .content
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let old_name = if change.before.content.is_some() {
            format!("a{path}")
        } else {
            "/dev/null".into()
        };
        let new_name = if change.after.content.is_some() {
            format!("b{path}")
        } else {
            "/dev/null".into()
        };
        let diff = similar::TextDiff::from_lines(before.as_ref(), after.as_ref());
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&old_name, &new_name)
            .to_string();
        for line in text.lines() {
            let painted = if line.starts_with("+++") || line.starts_with("---") {
                paint.bold(line)
            } else if line.starts_with('+') {
                paint.added(line)
            } else if line.starts_with('-') {
                paint.removed(line)
            } else if line.starts_with("@@") {
                paint.hunk(line)
            } else {
                line.to_string()
            };
            writeln!(out, "{painted}")?;
        }
        if !after.is_empty() && !after.ends_with('\n') {
            writeln!(out, "\\ No newline at end of file")?;
        }
        if change.created()
            && let (Some(mode), Some((uid, gid))) = (change.after.mode, change.after.owner)
        {
            writeln!(
                out,
                "{path}: new file, mode {}, owner {}",
                mode_string(mode),
                owner_string(facts, uid, gid)
            )?;
        }
    }
    if !change.created() {
        if let (Some(b), Some(a)) = (change.before.mode, change.after.mode)
            && a != b
        {
            writeln!(
                out,
                "{path}: mode {} -> {}",
                paint.removed(&mode_string(b)),
                paint.added(&mode_string(a))
            )?;
        }
        if let (Some(b), Some(a)) = (change.before.owner, change.after.owner)
            && a != b
        {
            writeln!(
                out,
                "{path}: owner {} -> {}",
                paint.removed(&format!("{}:{}", b.0, b.1)),
                paint.added(&owner_string(facts, a.0, a.1))
            )?;
        }
    }
    Ok(())
}

pub(crate) fn actions_line(actions: &[ServiceAction]) -> String {
    actions
        .iter()
        .map(|a| a.describe())
        .collect::<Vec<_>>()
        .join(", then ")
}

/// One item's planned fix: header, diffs, services.
pub(crate) fn item_plan(
    out: &mut dyn Write,
    playbook: &Playbook,
    plan: &ItemPlan,
    facts: &Facts,
    paint: Paint,
) -> std::io::Result<()> {
    let title = playbook
        .item(&plan.id)
        .map(|i| i.title.as_str())
        .unwrap_or("");
    writeln!(out, "{}", paint.bold(&format!("== {} {title}", plan.id)))?;
    if let Some(reason) = &plan.blocked {
        writeln!(out, "not fixed automatically: {reason}")?;
    }
    for change in &plan.changes {
        file_change(out, change, facts, paint)?;
    }
    let actions: Vec<ServiceAction> = plan.actions.iter().copied().collect();
    if !actions.is_empty() {
        // Docker's actions reach a rootless daemon's unit through its user's manager: say whose.
        let whose = match facts.instance.rootless() {
            Some(user)
                if actions.iter().any(|a| {
                    matches!(
                        a,
                        ServiceAction::RestartDocker
                            | ServiceAction::ReloadDocker
                            | ServiceAction::DaemonReload
                    )
                }) =>
            {
                format!(" (docker is {}'s user unit)", user.name)
            }
            _ => String::new(),
        };
        writeln!(out, "afterwards: {}{whose}", actions_line(&actions))?;
    }
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_in_evidence_are_escaped() {
        assert_eq!(escape_controls("plain \"quoted\" ü"), "plain \"quoted\" ü");
        assert_eq!(escape_controls("a\nb\x1b[31mc\td"), "a\\nb\\u{1b}[31mc\\td");
    }
}
