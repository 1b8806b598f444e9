//! Shell integration: the completion scripts and the man page the binary prints, checked by
//! the shells and man themselves where they are installed.

use crate::common;

use std::process::Command;

use common::{BIN, Run};

fn run(args: &[&str]) -> Run {
    // No settings are read for these: an engine that cannot be resolved must not matter.
    let out = Command::new(BIN)
        .args(args)
        .env("DOCKER_CONTEXT", "does-not-exist")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn completions_name_every_command() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = run(&["completions", shell]);
        run.code(0);
        for command in [
            "check",
            "diff",
            "fix",
            "rollback",
            "list",
            "completions",
            "man",
        ] {
            run.stdout_has(command);
        }
        run.stdout_has("docker-harden");
        assert_eq!(run.stderr, "", "{shell}");
    }
    // Options too, with their values.
    run(&["completions", "bash"])
        .stdout_has("--format")
        .stdout_has("--docker-host")
        .stdout_has("junit");
}

#[test]
fn bash_completion_parses_and_completes() {
    let script = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(script.path(), run(&["completions", "bash"]).stdout).unwrap();
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(script.path())
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    // Sourced, it completes the commands after `docker-harden `.
    let complete = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(docker-harden ro); COMP_CWORD=1; COMP_LINE='docker-harden ro'; COMP_POINT=16; f=$(complete -p docker-harden | sed 's/.*-F \\([^ ]*\\).*/\\1/'); $f docker-harden ro docker-harden; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.path().display()
        ))
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&complete.stdout);
    assert!(
        words.lines().any(|w| w == "rollback"),
        "{words}\n{}",
        String::from_utf8_lossy(&complete.stderr)
    );
}

#[test]
fn zsh_and_fish_completions_parse_where_installed() {
    for (shell, check) in [
        ("zsh", ["-n"].as_slice()),
        ("fish", ["--no-execute"].as_slice()),
    ] {
        if !installed(shell) {
            continue;
        }
        let script = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(script.path(), run(&["completions", shell]).stdout).unwrap();
        let out = Command::new(shell)
            .args(check)
            .arg(script.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn man_page_renders() {
    let page = run(&["man"]);
    page.code(0)
        .stdout_has(".TH docker-harden 1")
        .stdout_has(".SH SYNOPSIS")
        .stdout_has("rollback");
    if !installed("man") {
        return;
    }
    let file = tempfile::Builder::new().suffix(".1").tempfile().unwrap();
    std::fs::write(file.path(), &page.stdout).unwrap();
    let out = Command::new("man")
        .arg("-l")
        .arg(file.path())
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "200")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("NAME"), "{text}");
    assert!(
        text.contains("docker-harden - Audit a Docker host"),
        "{text}"
    );
    assert!(text.contains("--docker-host"), "{text}");
}

#[test]
fn each_command_has_its_own_page_with_its_options() {
    let page = run(&["man", "fix"]);
    page.code(0)
        .stdout_has(".TH docker-harden-fix 1")
        // Used as `docker-harden fix`, with fix's own options.
        .stdout_has("\\fBdocker\\-harden fix\\fR")
        .stdout_has("health\\-timeout");
    // The main page names every command's page.
    let main = run(&["man"]);
    for command in ["check", "diff", "fix", "rollback", "list"] {
        main.stdout_has(&format!("docker\\-harden\\-{command}(1)"));
        run(&["man", command]).code(0);
    }
    run(&["man", "nope"]).code(2).stderr_has(
        "man nope: no such command (one of check, diff, fix, rollback, list, completions, man)",
    );
}
