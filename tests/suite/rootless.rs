//! Rootless Docker beside the system daemon: each daemon is found, judged against its own
//! paths (the user's ~/.config/docker, /run/user/UID/docker.sock, the user unit), items that
//! do not apply say so, and a fix writes the user's files as the user and restarts the user's
//! unit. Fixture roots only; the live case fakes /proc and scripts the runner and engine.

use crate::common;

use std::sync::Mutex;

use common::{Host, changed};
use docker_harden::cli::flags::Command;
use docker_harden::commands::args::{CheckArgs, FixArgs, Format, Selectors};
use docker_harden::engine::{Engine, EngineInfo};
use docker_harden::error::EngineError;
use docker_harden::rootfs::RootFs;
use docker_harden::runner::{CommandOutput, RecordingRunner};
use docker_harden::settings::Settings;
use serde_json::Value;

const ALICE_UID: u32 = 1001;
const BOB_UID: u32 = 1002;
const ALICE_JSON: &str = "/home/alice/.config/docker/daemon.json";
const ALICE_UNIT: &str = "/home/alice/.config/systemd/user/docker.service";
const ALICE_SOCK: &str = "/run/user/1001/docker.sock";

/// What dockerd-rootless-setuptool.sh installs for a user.
const USER_UNIT: &str = "[Unit]\n\
Description=Docker Application Container Engine (Rootless)\n\
Documentation=https://docs.docker.com/go/rootless/\n\
\n\
[Service]\n\
Environment=PATH=/usr/bin:/sbin:/usr/sbin:/usr/local/bin\n\
ExecStart=/usr/bin/dockerd-rootless.sh\n\
ExecReload=/bin/kill -s HUP $MAINPID\n\
TimeoutSec=0\n\
RestartSec=2\n\
Restart=always\n\
StartLimitBurst=3\n\
StartLimitInterval=60s\n\
LimitNOFILE=infinity\n\
LimitNPROC=infinity\n\
LimitCORE=infinity\n\
TasksMax=infinity\n\
Delegate=yes\n\
Type=notify\n\
NotifyAccess=all\n\
KillMode=mixed\n\
\n\
[Install]\n\
WantedBy=default.target\n";

/// Debian 12 with the system daemon installed, and two users: alice runs a rootless daemon
/// (user unit, socket, her own daemon.json, which root created by mistake), bob has only a
/// socket and no ~/.config at all.
fn host() -> Host {
    Host::debian12()
        .file(
            "/etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\n\
             daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
             admin:x:1000:1000:Admin,,,:/home/admin:/bin/bash\n\
             alice:x:1001:1001:Alice:/home/alice:/bin/bash\n\
             bob:x:1002:1002:Bob:/home/bob:/bin/bash\n",
        )
        .file(
            "/etc/group",
            "root:x:0:\ndocker:x:999:admin\nadmin:x:1000:\nalice:x:1001:\nbob:x:1002:\n",
        )
        .file("/usr/bin/dockerd-rootless.sh", "#!/bin/sh\n")
        .file("/usr/bin/rootlesskit", "")
        .executables(&["/usr/bin/dockerd-rootless.sh", "/usr/bin/rootlesskit"])
        .dir("/home/alice", 0o700)
        .dir("/home/alice/.config", 0o755)
        .dir("/home/alice/.config/docker", 0o755)
        .dir("/home/alice/.config/systemd", 0o755)
        .dir("/home/alice/.config/systemd/user", 0o755)
        .file(ALICE_UNIT, USER_UNIT)
        .file(ALICE_JSON, "{\n  \"log-level\": \"debug\"\n}\n")
        .owner("/home/alice", ALICE_UID, ALICE_UID)
        .owner("/home/alice/.config", ALICE_UID, ALICE_UID)
        .owner("/home/alice/.config/docker", ALICE_UID, ALICE_UID)
        .owner("/home/alice/.config/systemd", ALICE_UID, ALICE_UID)
        .owner("/home/alice/.config/systemd/user", ALICE_UID, ALICE_UID)
        .owner(ALICE_UNIT, ALICE_UID, ALICE_UID)
        .dir("/run/user", 0o755)
        .dir("/run/user/1001", 0o700)
        .owner("/run/user/1001", ALICE_UID, ALICE_UID)
        .socket(ALICE_SOCK, 0o660, ALICE_UID, ALICE_UID)
        .dir("/home/bob", 0o750)
        .owner("/home/bob", BOB_UID, BOB_UID)
        .dir("/run/user/1002", 0o700)
        .owner("/run/user/1002", BOB_UID, BOB_UID)
        .socket("/run/user/1002/docker.sock", 0o660, BOB_UID, BOB_UID)
}

/// The items of one daemon in a JSON report, by ID.
fn items_of(report: &Value, daemon: &str) -> Vec<Value> {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["daemon"] == daemon)
        .cloned()
        .collect()
}

fn item(report: &Value, daemon: &str, id: &str) -> Value {
    items_of(report, daemon)
        .into_iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id} for {daemon}"))
}

fn evidence(item: &Value) -> String {
    item["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn check_finds_every_daemon_and_judges_each_against_its_own_paths() {
    let host = host();
    let run = host.run(&["check", "--format", "json"]);
    run.code(1);
    let report = run.json();
    let keys: Vec<&str> = report["daemons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["system", "rootless:alice", "rootless:bob"]);
    let alice = &report["daemons"][1];
    assert_eq!(alice["rootless"], true);
    assert_eq!(alice["uid"], ALICE_UID);
    assert_eq!(alice["socket"], ALICE_SOCK);
    assert_eq!(alice["config_file"], ALICE_JSON);
    // Every item is judged once per daemon.
    let per_daemon = items_of(&report, "system").len();
    assert!(per_daemon > 100);
    assert_eq!(items_of(&report, "rootless:alice").len(), per_daemon);

    // Her daemon.json, not /etc/docker's, decides her daemon's settings.
    let log_level = item(&report, "rootless:alice", "2.3");
    assert_eq!(log_level["status"], "WARN");
    assert!(evidence(&log_level).contains(ALICE_JSON), "{log_level}");
    assert_eq!(item(&report, "system", "2.3")["status"], "PASS");
    // The fix command it suggests names her daemon.
    assert!(
        log_level["remediation"]
            .as_str()
            .unwrap()
            .contains("docker-harden fix --daemon rootless:alice --only 2.3"),
        "{log_level}"
    );
    // The docker group gives no access to her daemon; her socket's owner is who counts.
    let access = item(&report, "rootless:alice", "1.1.2");
    assert!(
        evidence(&access).contains("the docker group grants nothing here"),
        "{access}"
    );

    // Her files belong to her: root owning her daemon.json is the finding.
    let owner = item(&report, "rootless:alice", "3.17");
    assert_eq!(owner["status"], "WARN", "{owner}");
    assert!(evidence(&owner).contains("want alice:alice"), "{owner}");
    // Her unit is her own: it passes as hers (the system rule would want root:root).
    let unit_owner = item(&report, "rootless:alice", "3.1");
    assert_eq!(unit_owner["status"], "PASS", "{unit_owner}");
    assert!(evidence(&unit_owner).contains(ALICE_UNIT), "{unit_owner}");
    // Her socket is /run/user/1001/docker.sock, hers and not the docker group's.
    let sock = item(&report, "rootless:alice", "3.15");
    assert_eq!(sock["status"], "PASS", "{sock}");
    assert!(evidence(&sock).contains(ALICE_SOCK), "{sock}");
    // The audit watch for her daemon.json names her path.
    let watch = item(&report, "rootless:alice", "1.1.11");
    assert!(evidence(&watch).contains(ALICE_JSON), "{watch}");

    // Items that do not apply to a rootless daemon say so, and why.
    for id in [
        "1.1.9", "1.1.10", "1.1.13", "3.3", "3.4", "3.19", "3.22", "5.2", "7.1",
    ] {
        let i = item(&report, "rootless:alice", id);
        assert_eq!(i["status"], "N/A", "{i}");
        assert!(evidence(&i).starts_with("does not apply to a rootless daemon: "));
        assert_eq!(i["remediation"], Value::Null);
        // The system daemon still judges them.
        assert_ne!(item(&report, "system", id)["status"], "N/A", "{id}");
    }
    // Rootless mode is itself what 2.1 asks for, and what userns-remap achieves.
    assert_eq!(item(&report, "rootless:alice", "2.1")["status"], "PASS");
    let userns = item(&report, "rootless:alice", "2.9");
    assert_eq!(userns["status"], "PASS");
    assert!(evidence(&userns).contains("rootless by design"));
    assert_eq!(item(&report, "system", "2.9")["status"], "WARN");
    assert!(report["summary"]["not_applicable"].as_u64().unwrap() >= 2 * 20);

    // The text report heads each daemon's items with which daemon, socket and file.
    let text = host.run(&["check"]);
    text.stdout_has(&format!(
        "== the rootless daemon of alice (uid 1001) (rootless:alice): socket {ALICE_SOCK}, configuration {ALICE_JSON}"
    ))
    .stdout_has("== the system daemon (system): socket /var/run/docker.sock")
    .stdout_has("[N/A] 3.3");
}

#[test]
fn daemon_selector_picks_one_and_unknown_daemons_are_errors() {
    let host = host();
    let run = host.run(&["check", "--format", "json", "--daemon", "rootless:alice"]);
    let report = run.json();
    assert_eq!(report["daemons"].as_array().unwrap().len(), 1);
    assert!(
        report["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["daemon"] == "rootless:alice")
    );
    host.run(&["check", "--daemon", "rootless:carol"])
        .code(2)
        .stderr_has("--daemon rootless:carol: no such daemon on this host (found: system, rootless:alice, rootless:bob)");
    // diff works on one daemon and says which others it left alone.
    host.run(&["diff", "--only", "2.3"])
        .stderr_has("also found rootless:alice, rootless:bob (choose one with --daemon)");
}

#[test]
fn fix_writes_the_users_files_as_the_user_and_rolls_back_byte_for_byte() {
    // Her daemon.json is hers, as a rootless setup makes it.
    let host = host().owner(ALICE_JSON, ALICE_UID, ALICE_UID);
    let before = host.snapshot();
    let run = host.run(&[
        "fix",
        "--yes",
        "--daemon",
        "rootless:alice",
        "--only",
        "2.2,2.3,3.17,1.1.11",
    ]);
    run.code(0);
    let json: Value = serde_json::from_str(&host.read(ALICE_JSON)).unwrap();
    assert_eq!(json["log-level"], "info");
    assert_eq!(json["icc"], false);
    // Hers, as her daemon needs: the owner fix and the rewrite agree.
    let (mode, uid, gid) = host.meta(ALICE_JSON);
    assert_eq!((uid, gid), (ALICE_UID, ALICE_UID));
    assert_eq!(mode & 0o022, 0);
    // The audit watch is the system's (rules.d is root's) and names her path.
    let rules = host.read("/etc/audit/rules.d/50-docker-harden.rules");
    assert!(
        rules.contains(&format!("-w {ALICE_JSON} -p wa -k docker")),
        "{rules}"
    );
    assert_eq!(host.meta("/etc/audit/rules.d/50-docker-harden.rules").1, 0);
    // The system daemon was not touched.
    assert!(!host.exists("/etc/docker/daemon.json"));
    let after_fix = host.snapshot();
    let mut touched = changed(&before, &after_fix);
    touched.sort();
    assert_eq!(
        touched,
        [
            "/etc/audit/rules.d/50-docker-harden.rules".to_string(),
            ALICE_JSON.to_string()
        ]
    );

    assert!(
        run.stdout
            .contains("afterwards: restart docker (docker is alice's user unit)"),
        "{}",
        run.stdout
    );
    // Applying again changes nothing.
    host.run(&[
        "fix",
        "--yes",
        "--daemon",
        "rootless:alice",
        "--only",
        "2.2,2.3,3.17,1.1.11",
    ])
    .code(0)
    .stdout_has("nothing to change");
    assert!(changed(&after_fix, &host.snapshot()).is_empty());
    // check after fix passes those items for her daemon.
    let report = host
        .run(&["check", "--format", "json", "--daemon", "rootless:alice"])
        .json();
    for id in ["2.2", "2.3", "3.17", "1.1.11"] {
        assert_eq!(
            item(&report, "rootless:alice", id)["status"],
            "PASS",
            "{id}"
        );
    }

    host.run(&["rollback"]).code(0);
    assert!(changed(&before, &host.snapshot()).is_empty());
}

#[test]
fn fix_creates_a_missing_config_dir_owned_by_the_user() {
    let host = host();
    let before = host.snapshot();
    host.run(&["fix", "--yes", "--daemon", "rootless:bob", "--only", "2.2"])
        .code(0);
    let path = "/home/bob/.config/docker/daemon.json";
    assert!(host.read(path).contains("\"icc\": false"));
    for p in ["/home/bob/.config", "/home/bob/.config/docker", path] {
        let (_, uid, gid) = host.meta(p);
        assert_eq!((uid, gid), (BOB_UID, BOB_UID), "{p}");
    }
    host.run(&["rollback"]).code(0);
    assert!(changed(&before, &host.snapshot()).is_empty());
    assert!(!host.exists("/home/bob/.config"));
}

/// Answers for the daemon whose socket it is asked at, and remembers what it was asked.
struct PerSocket {
    asked: Mutex<Vec<String>>,
}

impl Engine for PerSocket {
    fn info(&self, socket: &str) -> Result<EngineInfo, EngineError> {
        self.asked.lock().unwrap().push(socket.to_string());
        let rootless = socket.contains("/run/user/");
        Ok(EngineInfo {
            server_version: "24.0.7".into(),
            api_version: "1.41".into(),
            logging_driver: "json-file".into(),
            live_restore: false,
            storage_driver: "overlay2".into(),
            docker_root_dir: if rootless {
                "/home/alice/.local/share/docker".into()
            } else {
                "/var/lib/docker".into()
            },
            security_options: if rootless {
                vec![
                    "name=seccomp,profile=builtin".into(),
                    "name=rootless".into(),
                ]
            } else {
                vec!["name=seccomp,profile=builtin".into()]
            },
            swarm_active: false,
            swarm: Default::default(),
            containers_running: 0,
        })
    }
}

/// A fake /proc with the system dockerd (root, on systemd's /run/docker.sock) and alice's
/// (her uid, under RootlessKit, on her socket).
fn with_processes(host: Host) -> Host {
    let stat = |pid: u32| {
        format!(
            "{pid} (dockerd) S 1 {pid} {pid} 0 -1 4194560 28871 541220 113 2207 1204 977 6107 \
             3185 20 0 24 0 100 2409205760 19453 18446744073709551615 1 1 0 0 0 0 \
             1006254591 4096 1260 0 0 0 17 3 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
        )
    };
    host.file("/proc/stat", "cpu  1 2 3 4\nbtime 1700000000\n")
        .file("/proc/100/comm", "dockerd\n")
        .bytes("/proc/100/cmdline", b"/usr/sbin/dockerd\0-H\0fd://\0")
        .file("/proc/100/stat", &stat(100))
        .serving(100, 0, "/run/docker.sock")
        .bytes("/proc/100/environ", b"PATH=/usr/sbin:/usr/bin\0")
        .file("/proc/200/comm", "dockerd\n")
        .bytes("/proc/200/cmdline", b"dockerd\0--log-level=debug\0")
        .file("/proc/200/stat", &stat(200))
        .serving(200, ALICE_UID, ALICE_SOCK)
        .bytes(
            "/proc/200/environ",
            b"HOME=/home/alice\0XDG_RUNTIME_DIR=/run/user/1001\0ROOTLESSKIT_STATE_DIR=/run/user/1001/dockerd-rootless\0",
        )
}

fn settings(host: &Host, daemon: Option<&str>) -> Settings {
    common::settings(None)
        .with_rootfs(RootFs::new(host.root()).unwrap())
        .with_daemon(daemon.map(str::to_string))
}

fn runner() -> RecordingRunner {
    let ok = |s: &str| Ok(CommandOutput::ok(s));
    RecordingRunner::new()
        .answer("auditctl -l", ok("No rules\n"))
        .answer("auditctl -s", ok("enabled 1\nfailure 1\npid 612\n"))
        .answer("systemctl is-active docker", ok("active\n"))
        .answer(
            "runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/1001 systemctl --user is-active docker",
            ok("active\n"),
        )
}

#[test]
fn live_rootless_daemon_is_asked_at_its_socket_and_restarted_by_its_users_manager() {
    let host = with_processes(host().owner(ALICE_JSON, ALICE_UID, ALICE_UID));
    let engine = PerSocket {
        asked: Mutex::new(Vec::new()),
    };
    let probe = runner();
    let check = Command::Check(CheckArgs {
        selectors: Selectors {
            only: vec!["2.3".into(), "2.1".into()],
            skip: Vec::new(),
        },
        containers: Default::default(),
        format: Format::Json,
        output: None,
    });
    let run = common::dispatch(&settings(&host, None), &probe, &engine, &check);
    let report = run.json();
    // alice's running dockerd was started with --log-level=debug: that is the evidence.
    let log_level = item(&report, "rootless:alice", "2.3");
    assert_eq!(log_level["status"], "WARN");
    assert!(evidence(&log_level).contains("pid 200"), "{log_level}");
    assert_eq!(report["daemons"][1]["running"], true);
    let rootless = item(&report, "rootless:alice", "2.1");
    assert!(evidence(&rootless).contains("uid 1001"), "{rootless}");
    // Each daemon was asked at its own socket; bob runs none, and his socket is still asked.
    let asked = engine.asked.lock().unwrap().clone();
    assert!(
        asked.contains(&"/var/run/docker.sock".to_string()),
        "{asked:?}"
    );
    assert!(asked.contains(&format!("unix://{ALICE_SOCK}")), "{asked:?}");

    // DOCKER_HOST at her socket (what her shell sets) means her daemon, and only hers.
    let hers = settings(&host, None).with_engine(docker_harden::endpoint::Endpoint {
        host: Some(format!("unix://{ALICE_SOCK}")),
        origin: docker_harden::endpoint::Origin::HostEnv,
    });
    let report = common::dispatch(&hers, &runner(), &engine, &check).json();
    let keys: Vec<&str> = report["daemons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["rootless:alice"]);

    // Fixing her daemon.json restarts her unit through her own systemd manager, never the
    // system's docker.
    let fix = Command::Fix(FixArgs {
        selectors: Selectors {
            only: vec!["2.2".into()],
            skip: Vec::new(),
        },
        yes: true,
        health_timeout: 0,
        allow_container_restart: false,
        skip_preflight: false,
    });
    let runner = runner();
    let run = common::dispatch(
        &settings(&host, Some("rootless:alice")),
        &runner,
        &engine,
        &fix,
    );
    assert!(
        run.code == 0 || run.code == 1,
        "{}{}",
        run.stdout,
        run.stderr
    );
    let calls = runner.calls();
    assert!(
        calls.contains(
            &"runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/1001 systemctl --user restart docker"
                .to_string()
        ),
        "{calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c == "systemctl restart docker"),
        "{calls:?}"
    );
    assert!(host.read(ALICE_JSON).contains("\"icc\": false"));
    assert!(!host.exists("/etc/docker/daemon.json"));
}
