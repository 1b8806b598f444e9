//! `fix` without --yes, driven through a real pseudo-terminal: the per-item prompt (yes / no /
//! show details / all remaining / quit), what ends up written for each answer, and the refusal
//! to run without a terminal.

use crate::common;

use std::process::Command;

use common::{BIN, Host, changed};
use rexpect::process::WaitStatus;
use rexpect::session::{Options, PtySession, spawn_with_options};

/// The prompt's items, in the order the menu shows them.
const CHOICES: [&str; 5] = ["yes", "no", "show details", "all remaining", "quit"];
const PROMPT: &str = "Apply this fix?";
const DISRUPTIVE_PROMPT: &str = "Apply this disruptive fix?";
/// Every expectation gives up after this long, so a hang fails the test instead of blocking it.
const TIMEOUT_MS: u64 = 20_000;

/// Debian 12 with a world-writable docker.service, so that 3.2 is WARN too.
fn host() -> Host {
    Host::debian12().mode("/usr/lib/systemd/system/docker.service", 0o666)
}

/// One `docker-harden fix --only ONLY --root DIR` on a pseudo-terminal (stdin, stdout and stderr,
/// and its controlling terminal), with everything it printed so far kept for failure messages.
struct Fix {
    session: PtySession,
    transcript: String,
}

impl Fix {
    fn start(host: &Host, only: &str) -> Fix {
        let mut cmd = Command::new(BIN);
        cmd.args(["fix", "--only", only, "--root"])
            .arg(host.root())
            .env("NO_COLOR", "1")
            .env("DOCKER_HARDEN_BENCHMARK", "1.6.0")
            .env("TERM", "xterm")
            .env_remove("DOCKER_HOST");
        let options = Options::new()
            .timeout_ms(Some(TIMEOUT_MS))
            .strip_ansi_escape_codes(true);
        let session = spawn_with_options(cmd, options).expect("spawn docker-harden on a pty");
        Fix {
            session,
            transcript: String::new(),
        }
    }

    /// Waits for `needle`; returns what came before it (line ends normalised to \n).
    fn expect(&mut self, needle: &str) -> String {
        match self.session.exp_string(needle) {
            Ok(before) => {
                let before = before.replace("\r\n", "\n");
                self.transcript.push_str(&before);
                self.transcript.push_str(needle);
                before
            }
            Err(e) => panic!(
                "waiting for {needle:?}: {e}\n--- transcript so far\n{}",
                self.transcript
            ),
        }
    }

    fn send(&mut self, keys: &str) {
        self.session.send(keys).expect("write to the pty");
        self.session.flush().expect("flush the pty");
    }

    /// Waits for `prompt` and its whole menu; returns what the item printed before it.
    fn prompt(&mut self, prompt: &str) -> String {
        let before = self.expect(&format!("{prompt}:"));
        self.expect("  quit");
        before
    }

    /// Moves down to `choice` (with 'j', or the arrow key), waiting for each redraw, and
    /// selects it with Enter; waits for the prompt to report the answer.
    fn pick(&mut self, prompt: &str, choice: &str, down: &str) {
        let index = CHOICES.iter().position(|c| *c == choice).unwrap();
        for item in &CHOICES[1..=index] {
            self.send(down);
            self.expect(&format!("> {item}"));
            if *item != "quit" {
                // The rest of the redrawn menu.
                self.expect("  quit");
            }
        }
        self.send("\r");
        self.expect(&format!("{prompt}: {choice}"));
    }

    /// Waits for the prompt, answers it; returns what the item printed before the prompt.
    fn answer(&mut self, prompt: &str, choice: &str) -> String {
        let before = self.prompt(prompt);
        self.pick(prompt, choice, "j");
        before
    }

    /// Waits for the end; returns the exit code and everything printed after the last answer.
    fn finish(mut self) -> (i32, String) {
        let rest = match self.session.exp_eof() {
            Ok(rest) => rest.replace("\r\n", "\n"),
            Err(e) => panic!(
                "waiting for the end: {e}\n--- transcript so far\n{}",
                self.transcript
            ),
        };
        let code = match self.session.process().wait() {
            Ok(WaitStatus::Exited(_, code)) => code,
            other => panic!("docker-harden did not exit normally: {other:?}\n{rest}"),
        };
        (code, rest)
    }
}

fn daemon_json(host: &Host) -> serde_json::Value {
    serde_json::from_str(&host.read("/etc/docker/daemon.json")).unwrap()
}

/// The ID from "run ID: changed N file(s)", checked against the saved run's manifest.
fn applied_run(host: &Host, out: &str) -> serde_json::Value {
    let line = out
        .lines()
        .find(|l| l.starts_with("run ") && l.contains(": changed "))
        .unwrap_or_else(|| panic!("no applied run reported:\n{out}"));
    let id = &line["run ".len()..line.find(':').unwrap()];
    assert!(
        line.contains(&format!("docker-harden rollback {id}")),
        "{line}"
    );
    let manifest = host.read(&format!(
        "/var/lib/docker-harden/backups/{id}/manifest.json"
    ));
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["run_id"], id);
    manifest
}

#[test]
fn fixture_items_are_warn() {
    // The scenarios below rely on these five items needing a fix on this fixture.
    let run = host().run(&["check", "--only", "2.2,2.9,2.14,2.16,3.2"]);
    run.code(1).stdout_has("5 items: 0 PASS, 5 WARN");
}

#[test]
fn no_then_yes_applies_only_the_accepted_items() {
    let host = host();
    let mut fix = Fix::start(&host, "2.2,2.14,2.16,3.2");
    let first = fix.answer(PROMPT, "no");
    assert!(
        first.contains("[1/4] 2.2 ") && first.contains("+  \"icc\": false"),
        "{first}"
    );
    // The next diff builds on what is accepted so far: nothing, so daemon.json is new.
    let second = fix.answer(PROMPT, "yes");
    assert!(second.contains("[2/4] 2.14 "), "{second}");
    assert!(second.contains("--- /dev/null"), "{second}");
    assert!(!second.contains("icc"), "{second}");
    let third = fix.answer(PROMPT, "yes");
    assert!(third.contains("[3/4] 2.16 "), "{third}");
    assert!(third.contains("  \"no-new-privileges\": true"), "{third}");
    let fourth = fix.answer(PROMPT, "yes");
    assert!(fourth.contains("[4/4] 3.2 "), "{fourth}");
    let (code, out) = fix.finish();
    assert_eq!(code, 1, "2.2 is still WARN:\n{out}");
    assert!(out.contains("still WARN: 2.2"), "{out}");
    assert!(out.contains("changed 2 file(s)"), "{out}");

    let json = daemon_json(&host);
    assert!(json.get("icc").is_none(), "{json}");
    assert_eq!(json["no-new-privileges"], true);
    assert_eq!(json["userland-proxy"], false);
    assert_eq!(json.as_object().unwrap().len(), 2, "{json}");
    assert_eq!(host.meta("/usr/lib/systemd/system/docker.service").0, 0o644);
    let manifest = applied_run(&host, &out);
    assert_eq!(
        manifest["items"],
        serde_json::json!(["2.14", "2.16", "3.2"])
    );
}

#[test]
fn show_details_then_prompts_again_for_the_same_item() {
    let host = host();
    let mut fix = Fix::start(&host, "2.2,2.14");
    fix.answer(PROMPT, "show details");
    // The details, then the same item's prompt again (not the next item's header).
    let details = fix.prompt(PROMPT);
    assert!(details.contains("details for 2.2:"), "{details}");
    assert!(
        details.contains("  found: icc is true (not set: dockerd's default); want false"),
        "{details}"
    );
    assert!(
        details.contains("  file: /etc/docker/daemon.json"),
        "{details}"
    );
    assert!(details.contains("  then: restart docker"), "{details}");
    assert!(!details.contains("[2/2]"), "{details}");
    // Arrow-down works as well as 'j'.
    fix.pick(PROMPT, "yes", "\x1b[B");
    let second = fix.answer(PROMPT, "no");
    assert!(second.contains("[2/2] 2.14 "), "{second}");
    assert!(!second.contains("details for"), "{second}");
    let (code, out) = fix.finish();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("still WARN: 2.14"), "{out}");

    let json = daemon_json(&host);
    assert_eq!(json["icc"], false);
    assert!(json.get("no-new-privileges").is_none(), "{json}");
    let manifest = applied_run(&host, &out);
    assert_eq!(manifest["items"], serde_json::json!(["2.2"]));
}

#[test]
fn show_details_with_arrow_keys() {
    let host = host();
    let mut fix = Fix::start(&host, "3.2");
    fix.prompt(PROMPT);
    fix.pick(PROMPT, "show details", "\x1b[B");
    let details = fix.prompt(PROMPT);
    assert!(details.contains("details for 3.2:"), "{details}");
    assert!(
        details.contains("  file: /usr/lib/systemd/system/docker.service"),
        "{details}"
    );
    fix.pick(PROMPT, "yes", "\x1b[B");
    let (code, out) = fix.finish();
    assert_eq!(code, 0, "{out}");
    assert_eq!(host.meta("/usr/lib/systemd/system/docker.service").0, 0o644);
}

#[test]
fn all_remaining_applies_the_rest_without_asking() {
    let host = host();
    let mut fix = Fix::start(&host, "2.2,2.14,2.16,3.2");
    fix.answer(PROMPT, "all remaining");
    let (code, out) = fix.finish();
    assert_eq!(code, 0, "every selected item passes now:\n{out}");
    assert!(!out.contains("Apply this"), "asked again:\n{out}");
    for item in ["2.14", "2.16", "3.2"] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("== {item} "))
                && l.ends_with(": accepted (all remaining)")),
            "{item} not accepted:\n{out}"
        );
    }
    assert!(
        out.contains("every selected item passes or needs no action"),
        "{out}"
    );

    let json = daemon_json(&host);
    assert_eq!(json["icc"], false);
    assert_eq!(json["no-new-privileges"], true);
    assert_eq!(json["userland-proxy"], false);
    assert_eq!(host.meta("/usr/lib/systemd/system/docker.service").0, 0o644);
    let manifest = applied_run(&host, &out);
    assert_eq!(
        manifest["items"],
        serde_json::json!(["2.2", "2.14", "2.16", "3.2"])
    );
}

#[test]
fn all_remaining_still_asks_before_a_disruptive_fix() {
    let host = host();
    let mut fix = Fix::start(&host, "2.2,2.9,2.14");
    fix.answer(PROMPT, "all remaining");
    let disruptive = fix.answer(DISRUPTIVE_PROMPT, "no");
    assert!(disruptive.contains("[2/3] 2.9 "), "{disruptive}");
    let (code, out) = fix.finish();
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("Apply this"), "asked again:\n{out}");
    assert!(out.contains("== 2.14 "), "{out}");
    assert!(out.contains("still WARN: 2.9"), "{out}");

    let json = daemon_json(&host);
    assert_eq!(json["icc"], false);
    assert_eq!(json["no-new-privileges"], true);
    assert!(json.get("userns-remap").is_none(), "{json}");
}

#[test]
fn quit_keeps_what_was_accepted_before() {
    let host = host();
    let mut fix = Fix::start(&host, "2.2,2.14,2.16,3.2");
    fix.answer(PROMPT, "yes");
    fix.answer(PROMPT, "quit");
    let (code, out) = fix.finish();
    assert_eq!(code, 1, "{out}");
    assert!(
        !out.contains("Apply this"),
        "asked again after quit:\n{out}"
    );
    assert!(!out.contains("[3/4]"), "{out}");
    assert!(out.contains("still WARN: 2.14, 2.16, 3.2"), "{out}");

    let json = daemon_json(&host);
    assert_eq!(json, serde_json::json!({ "icc": false }));
    assert_eq!(host.meta("/usr/lib/systemd/system/docker.service").0, 0o666);
    let manifest = applied_run(&host, &out);
    assert_eq!(manifest["items"], serde_json::json!(["2.2"]));
}

#[test]
fn quit_on_the_first_item_writes_nothing() {
    let host = host();
    let before = host.snapshot();
    let mut fix = Fix::start(&host, "2.2,2.14,2.16,3.2");
    fix.answer(PROMPT, "quit");
    let (code, out) = fix.finish();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("nothing to change"), "{out}");
    assert!(
        !out.contains("Apply this"),
        "asked again after quit:\n{out}"
    );
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
    assert!(!host.exists("/var/lib/docker-harden"));
}

#[test]
fn disruptive_item_shows_its_consequence() {
    let host = host();
    let mut fix = Fix::start(&host, "2.9");
    let item = fix.answer(DISRUPTIVE_PROMPT, "yes");
    assert!(item.contains("[1/1] 2.9 "), "{item}");
    let warn = item
        .lines()
        .find(|l| l.starts_with("[WARN] "))
        .unwrap_or_else(|| panic!("no consequence line:\n{item}"));
    assert!(warn.contains("existing images"), "{warn}");
    assert!(item.contains("+  \"userns-remap\": \"default\""), "{item}");
    let (code, out) = fix.finish();
    assert_eq!(code, 0, "{out}");
    assert_eq!(daemon_json(&host)["userns-remap"], "default");
}

#[test]
fn without_a_terminal_fix_refuses_and_writes_nothing() {
    let host = host();
    let before = host.snapshot();
    // Command::output gives the child a null stdin and piped stdout/stderr: no terminal.
    let run = host.run(&["fix"]);
    run.code(2).stderr_has("needs a terminal");
    assert!(!run.stdout.contains("Apply this"), "{}", run.stdout);
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
    assert!(!host.exists("/var/lib/docker-harden"));
}

#[test]
fn a_directory_swapped_for_a_symlink_while_the_user_decides_is_never_written_through() {
    // The plan names /etc/docker/daemon.json, resolved when the facts were read; while the
    // prompt waits, /etc/docker becomes a symlink out of the root to a copy with the same
    // content. The write walks the path without following it, so it is refused.
    let host = Host::debian12()
        .dir("/etc/docker", 0o755)
        .file("/etc/docker/daemon.json", "{}\n");
    let outside = tempfile::tempdir().unwrap();
    let copy = outside.path().join("docker");
    std::fs::create_dir(&copy).unwrap();
    std::fs::write(copy.join("daemon.json"), "{}\n").unwrap();
    let mut fix = Fix::start(&host, "2.2");
    fix.prompt(PROMPT);
    std::fs::remove_dir_all(host.path("/etc/docker")).unwrap();
    std::os::unix::fs::symlink(&copy, host.path("/etc/docker")).unwrap();
    fix.pick(PROMPT, "yes", "j");
    let (code, out) = fix.finish();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("/etc/docker is a symlink"), "{out}");
    assert_eq!(
        std::fs::read_to_string(copy.join("daemon.json")).unwrap(),
        "{}\n"
    );
    assert_eq!(std::fs::read_dir(&copy).unwrap().count(), 1);
}
