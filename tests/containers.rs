//! Section 5 (container runtime) against real containers: a private dockerd from the harness in
//! tests/common/dockerd.rs, purpose-built containers from the FROM-scratch busybox image
//! (`--network none` unless the test is about the network, `sleep 300`, `--stop-timeout 1`
//! so dockerd stops them at once), and docker-harden's `check` run live through the real CLI
//! parser with the engine pointed at the private socket.
//!
//! dockerd runs with `--bridge=none`, so no container with published ports can start: ports are
//! judged on a container that is created, not started, and listed with --all-containers. So is
//! the privileged container: runc cannot start one where the tests run without every
//! capability.

mod common;

use clap::Parser;
use common::dockerd::*;
use common::{Host, Run};
use docker_harden::settings::Cli;
use serde_json::json;

/// `docker-harden ARGS` (parsed by the real CLI) run live against the sandbox's dockerd: the
/// run and the number of container requests (list, inspect, top) the engine made.
fn harden(sandbox: &Sandbox, args: &[&str]) -> (Run, usize) {
    let cli = Cli::try_parse_from(std::iter::once("docker-harden").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("docker-harden {args:?}: {e}"));
    let settings = live_settings();
    let runner = recording_runner();
    let engine = sandbox.engine();
    let run = common::dispatch(&settings, &runner, &engine, &cli.command);
    assert!(run.code == 0 || run.code == 1, "check failed: {run:?}");
    assert_eq!(acting_calls(&runner), Vec::<String>::new(), "check acted");
    (run, engine.container_requests())
}

/// `check --format json` with these extra arguments.
fn check_json(sandbox: &Sandbox, extra: &[&str]) -> (Run, usize) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    harden(sandbox, &args)
}

/// A dockerd with the busybox image, and nothing else.
fn sandbox() -> Sandbox {
    let mut sandbox = Sandbox::new(json!({}));
    sandbox.start(Net::Host, &[]);
    sandbox.import_busybox();
    sandbox
}

/// `docker run -d --name NAME [--network none] EXTRA dh-busybox COMMAND`; returns the full ID.
fn run_container(sandbox: &Sandbox, name: &str, extra: &[&str], command: &[&str]) -> String {
    let mut args = vec!["run", "-d", "--stop-timeout", "1", "--name", name];
    if !extra.iter().any(|a| a.starts_with("--network")) {
        args.extend_from_slice(&["--network", "none"]);
    }
    args.extend_from_slice(extra);
    args.push("dh-busybox");
    args.extend_from_slice(command);
    sandbox.docker_ok(&args).trim().to_string()
}

const SLEEP: &[&str] = &["/bin/busybox", "sleep", "300"];

fn sleeper(sandbox: &Sandbox, name: &str, extra: &[&str]) -> String {
    run_container(sandbox, name, extra, SLEEP)
}

/// The containers an item's evidence names (every line but the closing `fix:` line), sorted.
fn offenders(run: &Run, id: &str) -> Vec<String> {
    let evidence = run.item(id)["evidence"].as_array().unwrap().clone();
    let lines: Vec<&str> = evidence.iter().map(|e| e.as_str().unwrap()).collect();
    if run.status(id) == "PASS" {
        return Vec::new();
    }
    let (fix, named) = lines.split_last().unwrap();
    assert!(fix.starts_with("fix: "), "{id}: last line {fix:?}");
    let mut names: Vec<String> = named
        .iter()
        .map(|l| {
            l.split_once(" (")
                .unwrap_or_else(|| panic!("{id}: {l:?} names no container"))
                .0
                .to_string()
        })
        .collect();
    names.sort();
    names
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Every name in `all` but those in `but`.
fn all_but(all: &[&str], but: &[&str]) -> Vec<String> {
    sorted(
        &all.iter()
            .copied()
            .filter(|n| !but.contains(n))
            .collect::<Vec<_>>(),
    )
}

/// Removes every container before dockerd stops (also when the test fails).
struct Cleanup<'a>(&'a Sandbox);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let ids = String::from_utf8(self.0.docker(&["ps", "-a", "-q"]).stdout).unwrap_or_default();
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids);
            let _ = self.0.docker(&args);
        }
    }
}

#[test]
fn each_setting_is_reported_for_the_containers_that_have_it() {
    let _serial = exclusive();
    let sandbox = sandbox();
    let _cleanup = Cleanup(&sandbox);
    let socket = sandbox.socket().display().to_string();
    sleeper(&sandbox, "plain", &[]);
    let limited = sleeper(
        &sandbox,
        "limited",
        &[
            "--memory",
            "64m",
            "--cpus",
            "0.5",
            "--read-only",
            "--pids-limit",
            "50",
            "--security-opt",
            "no-new-privileges",
            "--ulimit",
            "nofile=512:1024",
            "--health-cmd",
            "/bin/busybox true",
            "-v",
            "/etc:/host-etc:ro",
        ],
    );
    // A privileged container cannot start where the tests themselves run without every
    // capability (runc: "unable to apply caps"): created, and judged with --all-containers.
    sandbox.docker_ok(&[
        "create",
        "--name",
        "priv",
        "--network",
        "none",
        "--privileged",
        "dh-busybox",
        "/bin/busybox",
        "sleep",
        "300",
    ]);
    sleeper(&sandbox, "hostnet", &["--network", "host"]);
    sleeper(
        &sandbox,
        "sock",
        &["-v", &format!("{socket}:/var/run/docker.sock")],
    );
    sleeper(&sandbox, "hostpid", &["--pid", "host"]);
    sleeper(&sandbox, "netadmin", &["--cap-add", "NET_ADMIN"]);
    sleeper(
        &sandbox,
        "shared",
        &[
            "--ipc",
            "host",
            "--uts",
            "host",
            "--userns",
            "host",
            "--security-opt",
            "seccomp=unconfined",
            "--device",
            "/dev/null:/dev/xnull",
        ],
    );
    sleeper(&sandbox, "retry", &["--restart", "on-failure:7"]);
    sleeper(&sandbox, "usrmount", &["-v", "/usr/share:/host-share"]);
    // The kernel names a process after the script it runs: this one is "sshd".
    run_container(
        &sandbox,
        "sshd",
        &[],
        &[
            "/bin/busybox",
            "sh",
            "-c",
            "printf '#!/bin/busybox sh\\n/bin/busybox sleep 300\\n' > /sshd && \
             /bin/busybox chmod +x /sshd && exec /sshd",
        ],
    );
    let names = [
        "plain", "limited", "priv", "hostnet", "sock", "hostpid", "netadmin", "shared", "retry",
        "usrmount", "sshd",
    ];
    // The script must be running before the process list is asked for.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !sandbox
        .docker_ok(&["top", "sshd"])
        .lines()
        .any(|l| l.ends_with("/sshd"))
    {
        assert!(std::time::Instant::now() < deadline, "sshd never started");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    let (run, requests) = check_json(&sandbox, &["--only", "5", "--all-containers"]);
    assert_eq!(
        requests,
        1 + 2 * (names.len() - 1) + 1,
        "one list, an inspect each, a process list for each running one"
    );
    let everyone_but_limited = all_but(&names, &["limited"]);
    let expect: &[(&str, &str, Vec<String>)] = &[
        ("5.4", "WARN", sorted(&["netadmin"])),
        ("5.5", "WARN", sorted(&["priv"])),
        ("5.6", "WARN", sorted(&["usrmount"])),
        ("5.7", "WARN", sorted(&["sshd"])),
        ("5.8", "PASS", vec![]),
        ("5.9", "PASS", vec![]),
        ("5.10", "WARN", sorted(&["hostnet"])),
        ("5.11", "WARN", everyone_but_limited.clone()),
        ("5.12", "WARN", everyone_but_limited.clone()),
        ("5.13", "WARN", everyone_but_limited.clone()),
        ("5.14", "PASS", vec![]),
        ("5.15", "WARN", sorted(&["retry"])),
        ("5.16", "WARN", sorted(&["hostpid"])),
        ("5.17", "WARN", sorted(&["shared"])),
        ("5.18", "INFO", sorted(&["shared"])),
        ("5.19", "INFO", everyone_but_limited.clone()),
        ("5.20", "PASS", vec![]),
        ("5.21", "WARN", sorted(&["shared"])),
        ("5.22", "WARN", sorted(&["shared"])),
        ("5.25", "PASS", vec![]),
        ("5.26", "WARN", everyone_but_limited.clone()),
        ("5.27", "WARN", everyone_but_limited.clone()),
        ("5.29", "WARN", everyone_but_limited.clone()),
        ("5.31", "WARN", sorted(&["shared"])),
        ("5.32", "WARN", sorted(&["sock"])),
    ];
    for (id, status, who) in expect {
        assert_eq!(
            (run.status(id).as_str(), &offenders(&run, id)),
            (*status, who),
            "{id}: {}",
            run.evidence(id)
        );
    }
    let short = &limited[..12];
    assert!(
        run.evidence("5.4").contains("netadmin (")
            && run
                .evidence("5.4")
                .contains("): adds capabilities CAP_NET_ADMIN"),
        "{}",
        run.evidence("5.4")
    );
    assert!(
        run.evidence("5.32").contains(&format!(
            "mounts the Docker socket {socket} -> /var/run/docker.sock"
        )),
        "{}",
        run.evidence("5.32")
    );
    assert!(
        run.evidence("5.7")
            .contains("runs sshd `/bin/busybox sh /sshd`"),
        "{}",
        run.evidence("5.7")
    );
    assert!(
        run.evidence("5.11")
            .lines()
            .last()
            .unwrap()
            .contains("--memory"),
        "{}",
        run.evidence("5.11")
    );
    assert!(!run.evidence("5.11").contains(short));
    assert!(run.evidence("5.5").contains("--privileged"));

    // AppArmor and SELinux are judged only where dockerd uses them.
    let security = sandbox.info()["SecurityOptions"].to_string();
    for (id, driver) in [("5.2", "name=apparmor"), ("5.3", "name=selinux")] {
        if security.contains(driver) {
            assert_eq!(run.status(id), "WARN", "{id}: {}", run.evidence(id));
        } else {
            assert_eq!(run.status(id), "INFO", "{id}: {}", run.evidence(id));
            assert!(run.evidence(id).contains("not enabled in dockerd"));
        }
    }
    if security.contains("name=apparmor") {
        assert!(offenders(&run, "5.2").contains(&"priv".to_string()));
        assert!(!offenders(&run, "5.2").contains(&"plain".to_string()));
    }
}

#[test]
fn requests_per_container_are_constant_and_stopped_ones_need_all_containers() {
    let _serial = exclusive();
    let sandbox = sandbox();
    let _cleanup = Cleanup(&sandbox);

    let (run, requests) = check_json(&sandbox, &["--only", "5.5"]);
    assert_eq!(run.status("5.5"), "PASS");
    assert_eq!(run.evidence("5.5"), "no running containers");
    assert_eq!(requests, 1, "only the list");

    for name in ["c1", "c2"] {
        sleeper(&sandbox, name, &[]);
    }
    let (run, requests) = check_json(&sandbox, &["--only", "5.11"]);
    assert_eq!(offenders(&run, "5.11"), sorted(&["c1", "c2"]));
    assert_eq!(requests, 1 + 2 * 2);
    for name in ["c3", "c4", "c5"] {
        sleeper(&sandbox, name, &[]);
    }
    let (run, requests) = check_json(&sandbox, &["--only", "5.11,5.13"]);
    assert_eq!(
        offenders(&run, "5.13"),
        sorted(&["c1", "c2", "c3", "c4", "c5"])
    );
    assert_eq!(requests, 1 + 2 * 5, "the same per container, whatever N");

    // Items that do not judge containers do not ask for them.
    let (_, requests) = check_json(&sandbox, &["--only", "5.23"]);
    assert_eq!(requests, 0);

    // Published ports need a network dockerd lacks here (--bridge=none): created, not started.
    sandbox.docker_ok(&[
        "create",
        "--name",
        "ported",
        "-p",
        "80:80",
        "-p",
        "127.0.0.1:8080:8080",
        "dh-busybox",
        "/bin/busybox",
        "sleep",
        "300",
    ]);
    let ports = ["--only", "5.8,5.9,5.14,5.11"];
    let (run, requests) = check_json(&sandbox, &ports);
    assert_eq!(requests, 1 + 2 * 5, "a created container is not inspected");
    for id in ["5.8", "5.9", "5.14"] {
        assert_eq!(run.status(id), "PASS", "{id}: {}", run.evidence(id));
    }
    let mut all = ports.to_vec();
    all.push("--all-containers");
    let (run, requests) = check_json(&sandbox, &all);
    assert_eq!(requests, 1 + 2 * 5 + 1, "inspect only: no process list");
    assert_eq!(
        offenders(&run, "5.11"),
        sorted(&["c1", "c2", "c3", "c4", "c5", "ported"])
    );
    assert_eq!(run.status("5.8"), "WARN");
    let first = |id: &str| run.item(id)["evidence"][0].as_str().unwrap().to_string();
    assert!(
        first("5.8").starts_with("ported (")
            && first("5.8").ends_with("): publishes 0.0.0.0:80->80/tcp"),
        "{}",
        run.evidence("5.8")
    );
    assert_eq!(run.status("5.9"), "INFO");
    assert!(
        first("5.9").ends_with("): publishes 0.0.0.0:80->80/tcp, 127.0.0.1:8080->8080/tcp"),
        "{}",
        run.evidence("5.9")
    );
    assert_eq!(run.status("5.14"), "WARN");
    assert!(
        first("5.14").ends_with("): binds every host address: 0.0.0.0:80->80/tcp"),
        "{}",
        run.evidence("5.14")
    );
}

#[test]
fn include_exclude_and_odd_names_labels_and_paths() {
    let _serial = exclusive();
    let sandbox = sandbox();
    let _cleanup = Cleanup(&sandbox);
    let label = "he said \"hi\"\nbye";
    let odd_dir = sandbox.path("we\"ird\nx");
    std::fs::create_dir_all(&odd_dir).unwrap();
    let odd_sock = odd_dir.join("docker.sock");
    std::fs::write(&odd_sock, "").unwrap();
    sleeper(&sandbox, "web-1", &["--label", "tier=front"]);
    sleeper(&sandbox, "web-2", &["--label", "tier=front"]);
    sleeper(&sandbox, "db", &["--label", "tier=back"]);
    let odd = sleeper(
        &sandbox,
        "odd.name_1-x",
        &[
            "--label",
            &format!("note={label}"),
            "-v",
            &format!("{}:/var/run/docker.sock", odd_sock.display()),
        ],
    );

    let only = ["--only", "5.11,5.32"];
    let with = |extra: &[&str]| {
        let mut args = only.to_vec();
        args.extend_from_slice(extra);
        check_json(&sandbox, &args)
    };
    let (run, requests) = with(&["--include", "web-*"]);
    assert_eq!(offenders(&run, "5.11"), sorted(&["web-1", "web-2"]));
    assert_eq!(requests, 1 + 2 * 4, "filters apply to what was inspected");
    let (run, _) = with(&["--include", "label:tier=back"]);
    assert_eq!(offenders(&run, "5.11"), sorted(&["db"]));
    let (run, _) = with(&["--exclude", "web-*", "--exclude", "label:tier=back"]);
    assert_eq!(offenders(&run, "5.11"), sorted(&["odd.name_1-x"]));
    let (run, _) = with(&["--include", "label:tier", "--exclude", "web-?"]);
    assert_eq!(offenders(&run, "5.11"), sorted(&["db"]));
    let (run, _) = with(&["--include", &format!("label:note={label}")]);
    assert_eq!(offenders(&run, "5.11"), sorted(&["odd.name_1-x"]));
    let (run, _) = with(&["--include", "label:note=he said \"hi\""]);
    assert_eq!(run.evidence("5.11"), "no running containers");
    let (run, _) = with(&["--include", "odd.name_?-x"]);
    assert_eq!(offenders(&run, "5.11"), sorted(&["odd.name_1-x"]));

    // The path with a quote and a newline comes through JSON exactly.
    let line = format!(
        "odd.name_1-x ({}): mounts the Docker socket {} -> /var/run/docker.sock",
        &odd[..12],
        odd_sock.display()
    );
    assert_eq!(run.status("5.32"), "WARN");
    let evidence = run.item("5.32")["evidence"].clone();
    assert_eq!(evidence[0], json!(line), "{evidence:#}");

    // JUnit: a valid document whose failure carries the same text.
    let (junit, _) = harden(
        &sandbox,
        &[
            "check",
            "--format",
            "junit",
            "--only",
            "5.32",
            "--include",
            "odd.*",
        ],
    );
    let doc = roxmltree::Document::parse(&junit.stdout)
        .unwrap_or_else(|e| panic!("invalid JUnit XML: {e}\n{}", junit.stdout));
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("5.32 is a failure");
    assert_eq!(failure.attribute("message"), Some(line.as_str()));
    assert!(
        failure.text().unwrap().starts_with(&line),
        "{:?}",
        failure.text()
    );

    // Text: the newline is shown escaped, not as a forged line.
    let (text, _) = harden(
        &sandbox,
        &[
            "check",
            "--only",
            "5.32",
            "--include",
            "odd.*",
            "--color",
            "never",
        ],
    );
    let escaped = line.replace('\n', "\\n");
    assert!(text.stdout.contains(&escaped), "{}", text.stdout);
    assert!(!text.stdout.contains("\nx/docker.sock"), "{}", text.stdout);
}

#[test]
fn under_root_containers_are_info() {
    let run = Host::debian12().run(&["check", "--format", "json", "--only", "5.5,5.32"]);
    for id in ["5.5", "5.32"] {
        assert_eq!(run.status(id), "INFO");
        assert_eq!(
            run.evidence(id),
            "containers are judged through the Docker API on the live host"
        );
    }
}
