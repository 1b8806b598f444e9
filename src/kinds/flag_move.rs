//! Moving a setting off dockerd's command line, so daemon.json can carry it: dockerd refuses to
//! start when a setting is given both ways. A flag written in the unit's ExecStart is dropped
//! by a drop-in that replaces ExecStart; a flag that comes from DOCKER_OPTS or OPTIONS in an
//! environment file is removed from that variable.

use std::path::{Path, PathBuf};

use crate::daemon_flags::{self, Flag, UnitFile};
use crate::facts::{Facts, FlagSource, SourcedFlag};
use crate::plan::{ServiceAction, Workspace};

/// The drop-in docker-harden owns. Drop-ins apply in name order and the last ExecStart wins,
/// so the name sorts after the usual `override.conf`.
pub use crate::vocabulary::paths::FLAGS_DROPIN;
const DROPIN_MODE: u32 = 0o644;

/// Whether `word` is what dockerd gets as a stray argument after a boolean flag written
/// without `=`: a plain word, not a flag and not a variable the unit or shell expands.
fn is_stray_value(word: &str) -> bool {
    !word.is_empty() && !word.starts_with('-') && !word.contains('$')
}

/// Word positions of `flag` in `words`: one word (`--icc=false`) or two (`--log-level info`,
/// and `--icc false`, whose `false` dockerd refuses as a stray argument: it goes with the flag
/// it was written for).
fn find(words: &[String], flag: &Flag) -> Option<(usize, usize)> {
    for (i, w) in words.iter().enumerate() {
        if *w == flag.raw {
            let bare_bool = daemon_flags::is_bool_flag(&flag.name) && !w.contains('=');
            if bare_bool && words.get(i + 1).is_some_and(|n| is_stray_value(n)) {
                return Some((i, 2));
            }
            return Some((i, 1));
        }
        if let Some(rest) = flag
            .raw
            .strip_prefix(w.as_str())
            .and_then(|r| r.strip_prefix(' '))
            && words.get(i + 1).map(String::as_str) == Some(rest)
        {
            return Some((i, 2));
        }
    }
    None
}

/// Takes `flags` out of `words`, each with its value word, keeping every other word in order.
pub fn remove_flags(words: &mut Vec<String>, flags: &[&Flag]) -> bool {
    let mut removed = false;
    for flag in flags {
        while let Some((at, n)) = find(words, flag) {
            words.drain(at..at + n);
            removed = true;
        }
    }
    removed
}

/// A word as a unit file or shell line can take it back.
fn quote(word: &str) -> String {
    if !word.is_empty() && !word.contains(|c: char| c.is_whitespace() || "\"'\\;".contains(c)) {
        word.to_string()
    } else {
        format!("\"{}\"", word.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Removes the flags from a `VAR=...` assignment of an environment file's text.
pub(crate) fn edit_env_text(text: &str, flags: &[&Flag]) -> Option<String> {
    let mut changed = false;
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let trimmed = body.trim_start();
        let assignment = trimmed.strip_prefix("export ").unwrap_or(trimmed);
        let edited = assignment.split_once('=').and_then(|(name, value)| {
            if trimmed.starts_with('#') || !matches!(name, "DOCKER_OPTS" | "OPTIONS") {
                return None;
            }
            let unquoted = value.trim();
            let (q, inner) = match unquoted.chars().next() {
                Some(c @ ('"' | '\'')) if unquoted.len() >= 2 && unquoted.ends_with(c) => {
                    (Some(c), &unquoted[1..unquoted.len() - 1])
                }
                _ => (None, unquoted),
            };
            let mut words = daemon_flags::split_words(inner);
            if !remove_flags(&mut words, flags) {
                return None;
            }
            let q = q.unwrap_or('"');
            let joined = words.join(" ");
            let prefix = &body[..body.len() - assignment.len()];
            Some(format!("{prefix}{name}={q}{joined}{q}"))
        });
        match edited {
            Some(new_line) => {
                changed = true;
                out.push_str(&new_line);
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            None => out.push_str(line),
        }
    }
    changed.then_some(out)
}

/// Plans taking every flag for `key` off dockerd's command line. Returns the service action
/// the change needs, or why it cannot be done.
pub(crate) fn plan(
    facts: &Facts,
    ws: &mut Workspace,
    key: &str,
) -> Result<Option<ServiceAction>, String> {
    let flags: Vec<&SourcedFlag> = facts.daemon.flags_for_key(key);
    if flags.is_empty() {
        return Ok(None);
    }
    if flags
        .iter()
        .any(|f| matches!(f.source, FlagSource::Running(_)))
    {
        return Err(format!(
            "{key} is set on the running dockerd's command line ({}), not in its unit; restart dockerd without it, then run fix again",
            flags
                .iter()
                .map(|f| f.flag.raw.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    let flag_list: Vec<&Flag> = flags.iter().map(|f| &f.flag).collect();
    let mut unit_changed = false;

    // Flags written in ExecStart itself: replace ExecStart in our drop-in.
    if let Some((main, dropins)) = unit_files(facts, &|p: &Path| ws.text(p))
        && let Some((raw, _)) = daemon_flags::raw_exec_start(&main, &dropins)
        && let Some(mut words) = daemon_flags::unit_words(&raw)
        && remove_flags(&mut words, &flag_list)
    {
        let line = words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
        let text = format!(
            "# Managed by docker-harden: settings moved from dockerd's command line to daemon.json.\n[Service]\nExecStart=\nExecStart={line}\n"
        );
        ws.write_daemon_file(&facts.instance.flags_dropin(), text, DROPIN_MODE);
        unit_changed = true;
    }
    // Flags from DOCKER_OPTS / OPTIONS: remove them from the variable.
    let mut env_changed = false;
    for path in env_files(facts) {
        if let Some(text) = ws.text(&path)
            && let Some(new_text) = edit_env_text(&text, &flag_list)
        {
            ws.write(&path, new_text, DROPIN_MODE);
            env_changed = true;
        }
    }
    if !unit_changed && !env_changed {
        // An earlier item of this plan may already have moved them (log-driver, then log-opts).
        let already = ws
            .get(&facts.instance.flags_dropin())
            .is_some_and(|f| f.content.is_some())
            || env_files(facts).iter().any(|p| ws.text(p) != facts.text(p));
        if already {
            return Ok(None);
        }
        return Err(format!(
            "{key} comes from {} and docker-harden could not find it there to move it; remove it by hand",
            flags
                .iter()
                .map(|f| format!("{} ({})", f.flag.raw, f.source))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(Some(if unit_changed {
        ServiceAction::DaemonReload
    } else {
        ServiceAction::RestartDocker
    }))
}

/// docker.service and its drop-ins with the texts `text_of` gives (the plan's, so our drop-in
/// counts once written), in the order systemd applies them.
pub(crate) fn unit_files(
    facts: &Facts,
    text_of: &dyn Fn(&Path) -> Option<String>,
) -> Option<(UnitFile, Vec<UnitFile>)> {
    let main_path = facts.daemon.service_unit.clone()?;
    let main = UnitFile {
        path: main_path.display().to_string(),
        text: text_of(&main_path)?,
    };
    let ours = facts.instance.flags_dropin();
    let mut paths = facts.daemon.service_dropins.clone();
    if !paths.contains(&ours) {
        paths.push(ours);
    }
    let mut dropins: Vec<(String, UnitFile)> = paths
        .iter()
        .filter_map(|p| {
            Some((
                file_name(p),
                UnitFile {
                    path: p.display().to_string(),
                    text: text_of(p)?,
                },
            ))
        })
        .collect();
    dropins.sort_by(|a, b| a.0.cmp(&b.0));
    Some((main, dropins.into_iter().map(|(_, u)| u).collect()))
}

/// The flags dockerd gets at its next start, from unit and environment texts as `text_of`
/// gives them.
pub(crate) fn flags_at_next_start(
    facts: &Facts,
    text_of: &dyn Fn(&Path) -> Option<String>,
) -> Vec<Flag> {
    args_at_next_start(facts, text_of).flags
}

/// dockerd's arguments at its next start, parsed (stray words included), from unit and
/// environment texts as `text_of` gives them.
pub(crate) fn args_at_next_start(
    facts: &Facts,
    text_of: &dyn Fn(&Path) -> Option<String>,
) -> daemon_flags::ParsedArgs {
    match unit_files(facts, text_of) {
        Some((main, dropins)) => {
            let env: std::collections::HashMap<String, String> =
                daemon_flags::environment_files(&main, &dropins)
                    .into_iter()
                    .filter_map(|(p, _)| text_of(Path::new(&p)).map(|t| (p, t)))
                    .collect();
            daemon_flags::effective_exec_start(&main, &dropins, &env)
                .map(|e| daemon_flags::parse_dockerd_args(e.args()))
                .unwrap_or_default()
        }
        None => {
            let mut out = daemon_flags::ParsedArgs::default();
            for parsed in env_files(facts)
                .iter()
                .filter_map(|p| text_of(p))
                .map(|t| daemon_flags::env_file_flags(&t))
            {
                let offset = out.flags.len();
                out.flags.extend(parsed.flags);
                out.unparsed.extend(parsed.unparsed);
                out.bool_values
                    .extend(parsed.bool_values.into_iter().map(|(i, w)| (i + offset, w)));
            }
            out
        }
    }
}

/// A word dockerd will refuse at its next start that was written as the value of a boolean
/// flag for daemon.json `key` (`--icc false`): the flag as written, the word, and where.
pub(crate) fn stray_bool_value(facts: &Facts, key: &str) -> Option<(String, String, String)> {
    let text_of = |p: &Path| facts.text(p);
    let matching = |parsed: daemon_flags::ParsedArgs, source: String| {
        parsed.bool_values.iter().find_map(|(at, word)| {
            let flag = &parsed.flags[*at];
            (daemon_flags::json_key(&flag.name) == Some(key))
                .then(|| (flag.raw.clone(), word.clone(), source.clone()))
        })
    };
    match unit_files(facts, &text_of) {
        Some((main, dropins)) => {
            let env: std::collections::HashMap<String, String> =
                daemon_flags::environment_files(&main, &dropins)
                    .into_iter()
                    .filter_map(|(p, _)| text_of(Path::new(&p)).map(|t| (p, t)))
                    .collect();
            let exec = daemon_flags::effective_exec_start(&main, &dropins, &env)?;
            let source = format!("ExecStart in {}", exec.path);
            matching(daemon_flags::parse_dockerd_args(exec.args()), source)
        }
        None => env_files(facts).iter().find_map(|p| {
            let text = text_of(p)?;
            matching(
                daemon_flags::env_file_flags(&text),
                format!("DOCKER_OPTS or OPTIONS in {}", p.display()),
            )
        }),
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Environment files whose variables reach dockerd.
fn env_files(facts: &Facts) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = facts.daemon.env_files.clone();
    for f in &facts.daemon.configured_flags {
        if let FlagSource::InitDefaults(path, _) = &f.source
            && !out.contains(path)
        {
            out.push(path.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(raw: &str) -> Flag {
        Flag {
            name: String::new(),
            value: String::new(),
            raw: raw.into(),
        }
    }

    #[test]
    fn removes_one_and_two_word_flags() {
        let mut words: Vec<String> = [
            "/usr/bin/dockerd",
            "-H",
            "fd://",
            "--icc=true",
            "--log-level",
            "debug",
        ]
        .map(String::from)
        .to_vec();
        assert!(remove_flags(
            &mut words,
            &[&flag("--icc=true"), &flag("--log-level debug")]
        ));
        assert_eq!(words, ["/usr/bin/dockerd", "-H", "fd://"]);
    }

    #[test]
    fn edits_env_assignment_keeping_quotes_and_other_lines() {
        let text = "# comment\nOPTIONS='--selinux-enabled --icc=true'\nOTHER=1\n";
        assert_eq!(
            edit_env_text(text, &[&flag("--icc=true")]).unwrap(),
            "# comment\nOPTIONS='--selinux-enabled'\nOTHER=1\n"
        );
        assert_eq!(edit_env_text(text, &[&flag("--live-restore")]), None);
        assert_eq!(
            edit_env_text(
                "export DOCKER_OPTS=\"--dns 8.8.8.8 --icc=false\"\n",
                &[&flag("--icc=false")]
            )
            .unwrap(),
            "export DOCKER_OPTS=\"--dns 8.8.8.8\"\n"
        );
    }

    #[test]
    fn a_boolean_with_a_spaced_value_goes_with_its_value() {
        // dockerd 20.10 refuses `--icc false` ("accepts no argument(s)"); moving the flag must
        // take the `false` too, and leave a variable that expands to more words alone.
        let parsed = daemon_flags::parse_dockerd_args(&words("--icc false --dns 8.8.8.8"));
        let icc: Vec<&Flag> = parsed.flags.iter().filter(|f| f.name == "icc").collect();
        let mut w = words("/usr/sbin/dockerd --icc false --dns 8.8.8.8");
        assert!(remove_flags(&mut w, &icc));
        assert_eq!(w, words("/usr/sbin/dockerd --dns 8.8.8.8"));
        let mut w = words("/usr/sbin/dockerd --icc $DOCKER_OPTS");
        assert!(remove_flags(&mut w, &icc));
        assert_eq!(w, words("/usr/sbin/dockerd $DOCKER_OPTS"));
        assert_eq!(
            edit_env_text("DOCKER_OPTS=\"--icc false --dns 8.8.8.8\"\n", &icc).unwrap(),
            "DOCKER_OPTS=\"--dns 8.8.8.8\"\n"
        );
    }

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    use proptest::prelude::*;

    /// One flag as an operator writes it: (name, its words).
    fn written_flag() -> impl Strategy<Value = (&'static str, Vec<String>)> {
        let bools = proptest::sample::select(&["icc", "live-restore", "iptables", "debug"][..]);
        let values = proptest::sample::select(&["log-level", "dns", "log-opt", "host"][..]);
        let value = proptest::sample::select(&["info", "8.8.8.8", "max-size=10m", "fd://"][..]);
        let boolean = proptest::sample::select(&["true", "false", "0", "1"][..]);
        prop_oneof![
            bools.clone().prop_map(|n| (n, vec![format!("--{n}")])),
            (bools.clone(), boolean.clone()).prop_map(|(n, b)| (n, vec![format!("--{n}={b}")])),
            // The spaced value dockerd refuses: it belongs to the flag all the same.
            (bools, boolean).prop_map(|(n, b)| (n, vec![format!("--{n}"), b.to_string()])),
            (values.clone(), value.clone())
                .prop_map(|(n, v)| (n, vec![format!("--{n}"), v.to_string()])),
            (values, value.clone()).prop_map(|(n, v)| (n, vec![format!("--{n}={v}")])),
            value.prop_map(|v| ("host", vec!["-H".to_string(), v.to_string()])),
        ]
    }

    proptest! {
        #[test]
        fn removing_a_flag_leaves_no_value_and_keeps_the_rest(
            written in proptest::collection::vec(written_flag(), 1..8),
            pick in any::<proptest::sample::Index>(),
        ) {
            let target = written[pick.index(written.len())].0;
            let args: Vec<String> = written.iter().flat_map(|(_, w)| w.clone()).collect();
            let parsed = daemon_flags::parse_dockerd_args(&args);
            let remove: Vec<&Flag> = parsed.flags.iter().filter(|f| f.name == target).collect();
            let kept: Vec<String> = written
                .iter()
                .filter(|(n, _)| *n != target)
                .flat_map(|(_, w)| w.clone())
                .collect();

            // ExecStart words (with the program first) and a DOCKER_OPTS assignment.
            let mut unit = vec!["/usr/bin/dockerd".to_string()];
            unit.extend(args.clone());
            prop_assert!(remove_flags(&mut unit, &remove));
            prop_assert_eq!(&unit[1..], &kept[..]);
            let env = format!("# site\nDOCKER_OPTS=\"{}\"\nOTHER=1\n", args.join(" "));
            let edited = edit_env_text(&env, &remove).unwrap();
            prop_assert_eq!(&edited, &format!("# site\nDOCKER_OPTS=\"{}\"\nOTHER=1\n", kept.join(" ")));

            let after = daemon_flags::env_file_flags(&edited);
            prop_assert!(after.flags.iter().all(|f| f.name != target));
            // The stray words left are exactly those of the other flags.
            let strays_kept = daemon_flags::parse_dockerd_args(&kept).unparsed;
            prop_assert_eq!(&after.unparsed, &strays_kept);
        }
    }
}
