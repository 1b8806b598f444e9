//! The binary as an Ansible module: run as `docker-harden ARGS-FILE` the way Ansible runs it, on
//! fixture roots (`root:`), so no service, audit rule or Docker API is touched.

use crate::common;

use std::process::Command;

use common::{BIN, Host, changed};
use serde_json::{Value, json};

/// Runs the module with `args` (plus `root:` of `host` and v1.6.0 IDs unless given) and
/// returns its result, after proving stdout held nothing but that one JSON object and stderr
/// nothing at all (over ssh Ansible merges the two).
fn module(host: &Host, mut args: Value) -> Value {
    let obj = args.as_object_mut().unwrap();
    obj.entry("root")
        .or_insert(json!(host.root().display().to_string()));
    obj.entry("benchmark").or_insert(json!("1.6.0"));
    // What ansible-core 2.19 adds to every task's arguments.
    obj.entry("_ansible_check_mode").or_insert(json!(false));
    obj.entry("_ansible_diff").or_insert(json!(false));
    obj.entry("_ansible_version").or_insert(json!("2.19.14"));
    obj.entry("_ansible_module_name")
        .or_insert(json!("docker_harden"));
    obj.entry("_ansible_tmpdir").or_insert(json!("/tmp/x"));
    run_args_file(&args)
}

fn run_args_file(args: &Value) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("args");
    std::fs::write(&path, serde_json::to_vec(args).unwrap()).unwrap();
    let out = Command::new(BIN)
        .arg(&path)
        .env_remove("DOCKER_HARDEN_BENCHMARK")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr, "", "the module wrote to stderr");
    assert_eq!(
        stdout.lines().count(),
        1,
        "stdout is not one line of JSON:\n{stdout}"
    );
    let result: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}"));
    let failed = result["failed"].as_bool().unwrap();
    assert_eq!(
        out.status.code(),
        Some(if failed { 1 } else { 0 }),
        "{result}"
    );
    result
}

fn item<'a>(result: &'a Value, id: &str) -> &'a Value {
    result["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id} in {result}"))
}

#[test]
fn check_mode_writes_nothing_and_reports_changed() {
    let host = Host::debian12();
    let before = host.snapshot();
    let result = module(&host, json!({"_ansible_check_mode": true}));
    assert_eq!(result["changed"], true, "{result}");
    assert_eq!(result["failed"], false);
    assert!(
        result["msg"].as_str().unwrap().contains("check mode"),
        "{result}"
    );
    assert!(result.get("run_id").is_none());
    let audit = item(&result, "1.1.3");
    assert_eq!(audit["changed"], true);
    assert_eq!(
        audit["status"], "WARN",
        "check mode reports the host as it is"
    );
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
    assert!(
        !host.exists("/var/lib/docker-harden"),
        "not even the state dir"
    );
}

#[test]
fn fixed_changes_then_a_second_run_changes_nothing() {
    let host = Host::debian12();
    let original = host.snapshot();
    let first = module(&host, json!({"state": "fixed"}));
    assert_eq!(first["changed"], true, "{first}");
    assert!(first["run_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(host.exists(&format!(
        "/var/lib/docker-harden/backups/{}/manifest.json",
        first["run_id"].as_str().unwrap()
    )));
    let audit = item(&first, "1.1.3");
    assert_eq!(
        (&audit["status_before"], &audit["status"], &audit["changed"]),
        (&json!("WARN"), &json!("PASS"), &json!(true))
    );
    assert_eq!(item(&first, "2.2")["status"], "PASS", "icc fixed");
    // 2.9 (userns-remap) is disruptive: held back and said so.
    assert_eq!(item(&first, "2.9")["status"], "WARN");
    assert!(
        first["warnings"][0].as_str().unwrap().starts_with("2.9 "),
        "{first}"
    );
    assert!(first["summary"]["changed"].as_u64().unwrap() > 0);
    assert!(
        first["log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().starts_with("run ")),
        "{first}"
    );
    let fixed = host.snapshot();
    assert!(!changed(&original, &fixed).is_empty());

    let second = module(&host, json!({"state": "fixed"}));
    assert_eq!(second["changed"], false, "{second}");
    assert_eq!(second["failed"], false);
    assert!(
        second["msg"]
            .as_str()
            .unwrap()
            .starts_with("nothing to change")
    );
    assert!(second.get("run_id").is_none());
    assert_eq!(changed(&fixed, &host.snapshot()), Vec::<String>::new());
}

#[test]
fn diff_has_one_entry_per_changed_file() {
    let host = Host::ubuntu2204();
    let without = module(&host, json!({"_ansible_check_mode": true}));
    assert!(without.get("diff").is_none(), "only when asked");
    let result = module(
        &host,
        json!({"_ansible_check_mode": true, "_ansible_diff": true, "only": "2.2,1.1.3,3.17,3.18"}),
    );
    let diff = result["diff"].as_array().unwrap();
    let headers: Vec<&str> = diff
        .iter()
        .map(|d| d["after_header"].as_str().unwrap())
        .collect();
    assert_eq!(diff.len(), 2, "{headers:?}");
    let json = diff
        .iter()
        .find(|d| d["before_header"] == "/etc/docker/daemon.json (mode 0666, owner ubuntu:ubuntu)")
        .unwrap_or_else(|| panic!("{headers:?}"));
    assert_eq!(
        json["after_header"],
        "/etc/docker/daemon.json (mode 0644, owner root:root)"
    );
    assert!(!json["before"].as_str().unwrap().contains("\"icc\""));
    assert!(json["after"].as_str().unwrap().contains("\"icc\": false"));
    let rules = diff
        .iter()
        .find(|d| d["before_header"] == "/etc/audit/rules.d/50-docker-harden.rules (absent)")
        .unwrap_or_else(|| panic!("{headers:?}"));
    assert_eq!(rules["before"], "");
    assert!(
        rules["after"]
            .as_str()
            .unwrap()
            .contains("-w /usr/bin/dockerd -p wa -k docker")
    );
}

#[test]
fn a_change_of_mode_alone_diffs_the_mode() {
    let host = Host::debian12().mode("/usr/lib/systemd/system/docker.service", 0o666);
    let result = module(
        &host,
        json!({"_ansible_check_mode": true, "_ansible_diff": true, "only": "3.2"}),
    );
    assert_eq!(
        result["diff"],
        json!([{
            "before": "mode 0666\nowner root:root\n",
            "after": "mode 0644\nowner root:root\n",
            "before_header": "/usr/lib/systemd/system/docker.service (mode 0666, owner root:root)",
            "after_header": "/usr/lib/systemd/system/docker.service (mode 0644, owner root:root)",
        }])
    );
}

#[test]
fn unknown_key_fails_naming_it_and_writes_nothing() {
    let host = Host::debian12();
    let before = host.snapshot();
    let result = module(&host, json!({"state": "fixed", "stat": "fixed"}));
    assert_eq!(result["failed"], true);
    assert_eq!(result["changed"], false);
    let msg = result["msg"].as_str().unwrap();
    assert!(
        msg.contains("Unsupported parameters for (docker_harden) module: stat."),
        "{msg}"
    );
    assert!(msg.contains("state, only, skip"), "{msg}");
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
}

#[test]
fn ansible_keys_of_other_versions_are_ignored() {
    let host = Host::debian12();
    let result = module(
        &host,
        json!({"state": "checked", "_ansible_foo": {"any": "thing"}, "_ansible_tracebacks_for": []}),
    );
    assert_eq!(result["failed"], false, "{result}");
    assert_eq!(result["changed"], false);
    assert_eq!(item(&result, "1.1.3")["status"], "WARN");
    assert!(result["summary"]["warn"].as_u64().unwrap() > 0);
    assert!(
        result["msg"].as_str().unwrap().starts_with("117 items: "),
        "{result}"
    );
}

#[test]
fn checked_lists_passing_items_only_when_asked() {
    let host = Host::debian12();
    let some = module(&host, json!({"state": "checked"}));
    assert!(
        some["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] != "PASS")
    );
    let all = module(&host, json!({"state": "checked", "include_passing": true}));
    assert_eq!(all["results"].as_array().unwrap().len(), 117);
    let one = &item(&all, "1.1.3");
    for key in [
        "id",
        "legacy_id",
        "title",
        "status",
        "status_before",
        "changed",
        "fixable",
        "evidence",
        "remediation",
    ] {
        assert!(one.get(key).is_some(), "{key} missing in {one}");
    }
    assert_eq!(one["legacy_id"], "1.5");
}

#[test]
fn benchmark_chooses_the_ids() {
    let host = Host::debian12();
    // v1.8.0 adds 2.7 and numbers v1.6.0's 2.7 as 2.8.
    let v16 = module(
        &host,
        json!({"state": "checked", "include_passing": true, "only": "2.7"}),
    );
    let v18 = module(
        &host,
        json!({"state": "checked", "include_passing": true, "benchmark": "1.8.0", "only": "2.8"}),
    );
    assert_eq!(v18["summary"]["items"], 1, "{v18}");
    assert_eq!(item(&v16, "2.7")["title"], item(&v18, "2.8")["title"]);
}

#[test]
fn broken_daemon_json_fails_with_its_line_and_writes_nothing() {
    let host = Host::ubuntu2204().file("/etc/docker/daemon.json", "{\n  \"icc\": false,\n}\n");
    let before = host.snapshot();
    let result = module(&host, json!({"state": "fixed"}));
    assert_eq!(result["failed"], true);
    assert_eq!(result["changed"], false);
    let msg = result["msg"].as_str().unwrap();
    assert!(
        msg.contains("/etc/docker/daemon.json:3:1: not valid JSON"),
        "{msg}"
    );
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
    assert!(!host.exists("/var/lib/docker-harden"));
}

#[test]
fn rolled_back_restores_byte_identical_once() {
    let host = Host::ubuntu2204();
    let original = host.snapshot();
    let fixed = module(&host, json!({"state": "fixed"}));
    let run_id = fixed["run_id"].as_str().unwrap().to_string();
    let after_fix = host.snapshot();

    // Check mode: the diff of the way back, nothing written.
    let preview = module(
        &host,
        json!({"state": "rolled_back", "_ansible_check_mode": true, "_ansible_diff": true}),
    );
    assert_eq!(preview["changed"], true, "{preview}");
    assert_eq!(preview["run_id"], run_id.as_str());
    assert!(
        preview["diff"].as_array().unwrap().iter().any(
            |d| d["after_header"] == "/etc/docker/daemon.json (mode 0666, owner ubuntu:ubuntu)"
        )
    );
    assert_eq!(changed(&after_fix, &host.snapshot()), Vec::<String>::new());

    let back = module(&host, json!({"state": "rolled_back"}));
    assert_eq!(back["changed"], true, "{back}");
    assert_eq!(back["run_id"], run_id.as_str());
    assert_eq!(changed(&original, &host.snapshot()), Vec::<String>::new());

    // Again: the latest run is rolled back already, so nothing to do (not the run before).
    let again = module(&host, json!({"state": "rolled_back"}));
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(again["failed"], false);
    assert!(
        again["msg"]
            .as_str()
            .unwrap()
            .contains("already rolled back")
    );
}

#[test]
fn rollback_refuses_files_changed_since_unless_forced() {
    let host = Host::debian12();
    let original = host.snapshot();
    let fixed = module(&host, json!({"state": "fixed"}));
    let run_id = fixed["run_id"].as_str().unwrap();
    std::fs::write(host.path("/etc/docker/daemon.json"), "{\"debug\": true}\n").unwrap();
    let touched = host.snapshot();
    let refused = module(&host, json!({"state": "rolled_back", "run_id": run_id}));
    assert_eq!(refused["failed"], true);
    let msg = refused["msg"].as_str().unwrap();
    assert!(
        msg.contains("/etc/docker/daemon.json: content changed"),
        "{msg}"
    );
    assert!(msg.contains("force: true"), "{msg}");
    assert_eq!(changed(&touched, &host.snapshot()), Vec::<String>::new());

    let forced = module(
        &host,
        json!({"state": "rolled_back", "run_id": run_id, "force": true}),
    );
    assert_eq!(forced["changed"], true, "{forced}");
    assert!(
        forced["warnings"][0]
            .as_str()
            .unwrap()
            .contains("daemon.json")
    );
    assert_eq!(changed(&original, &host.snapshot()), Vec::<String>::new());
}

#[test]
fn rolled_back_without_runs_or_with_an_unknown_run() {
    let host = Host::debian12();
    let none = module(&host, json!({"state": "rolled_back"}));
    assert_eq!(
        (&none["changed"], &none["failed"]),
        (&json!(false), &json!(false))
    );
    assert!(!host.exists("/var/lib/docker-harden"));
    let unknown = module(
        &host,
        json!({"state": "rolled_back", "run_id": "19700101T000000Z"}),
    );
    assert_eq!(unknown["failed"], true);
    assert!(
        unknown["msg"]
            .as_str()
            .unwrap()
            .contains("no saved run 19700101T000000Z")
    );
}

#[test]
fn playbook_content_and_variables() {
    let host = Host::debian12();
    let result = module(
        &host,
        json!({
            "only": ["1.1"],
            "playbook_content": "include: default\nname: site\nvariables:\n  audit_key: fromtext\n",
            "variables": {"audit_key": "site"},
        }),
    );
    assert_eq!(result["changed"], true, "{result}");
    let rules = host.read("/etc/audit/rules.d/50-docker-harden.rules");
    assert!(
        rules.contains("-w /usr/sbin/dockerd -p wa -k site"),
        "{rules}"
    );
    assert!(!host.exists("/etc/docker/daemon.json"), "only section 1.1");

    let broken = module(
        &host,
        json!({"playbook_content": "include: default\nskip: 2.2\n"}),
    );
    assert_eq!(broken["failed"], true);
    assert!(
        broken["msg"]
            .as_str()
            .unwrap()
            .starts_with("playbook_content:2:"),
        "{broken}"
    );
}

#[test]
fn a_playbook_file_on_the_host() {
    let host = Host::debian12().file("/srv/pb.yml", "include: default\nskip: [\"1\"]\n");
    let result = module(
        &host,
        json!({"state": "checked", "playbook": host.path("/srv/pb.yml").display().to_string()}),
    );
    assert_eq!(result["failed"], false, "{result}");
    assert!(
        result["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| !i["id"].as_str().unwrap().starts_with("1."))
    );
}

/// A subcommand stays the CLI's even when a JSON file of that name is in the working directory.
#[test]
fn subcommands_are_not_taken_for_args_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("list"), "{}").unwrap();
    let out = Command::new(BIN)
        .arg("list")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("1.1.3"), "{stdout}");
    assert!(serde_json::from_str::<Value>(&stdout).is_err());
}

/// A file that is not a JSON object is not an args file: the CLI says what it cannot parse.
#[test]
fn other_files_are_left_to_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("array", "[1]"), ("yaml", "state: fixed\n")] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = Command::new(BIN).arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized subcommand"));
    }
}

/// Run by hand on a JSON object that is not Ansible's args file (a daemon.json, or module
/// arguments someone wrote), the binary is not a module: a usage error, and nothing is done.
/// Fed to the module, `{"root": ..., "state": "fixed"}` would fix that root, and `{}` the
/// live host.
#[test]
fn a_json_file_without_ansibles_keys_is_a_usage_error_and_nothing_is_done() {
    let host = Host::debian12();
    let before = host.snapshot();
    let dir = tempfile::tempdir().unwrap();
    let root = host.root().display().to_string();
    for (name, args, missing) in [
        (
            "daemon.json",
            json!({"icc": false, "log-driver": "syslog"}),
            "`_ansible_module_name` and `_ansible_version`",
        ),
        (
            "task.json",
            json!({"root": root, "state": "fixed", "benchmark": "1.6.0"}),
            "`_ansible_module_name` and `_ansible_version`",
        ),
        (
            "almost.json",
            json!({"root": root, "state": "fixed", "_ansible_check_mode": false, "_ansible_version": "2.19.14"}),
            "`_ansible_module_name`,",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(&args).unwrap()).unwrap();
        let out = Command::new(BIN)
            .arg(&path)
            .env_remove("DOCKER_HARDEN_BENCHMARK")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "", "{name}");
        assert!(
            stderr.starts_with(&format!(
                "docker-harden: error: {} holds a JSON object but not an Ansible module's arguments: it lacks {missing}",
                path.display()
            )),
            "{name}: {stderr}"
        );
        assert!(stderr.contains("nothing was done"), "{stderr}");
        assert!(stderr.contains("`docker-harden check`"), "{stderr}");
    }
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
    assert!(!host.exists("/var/lib/docker-harden"));
}

/// Ansible's own keys are all it takes: what an ansible-core run passes, and nothing more.
#[test]
fn ansibles_own_keys_make_the_module() {
    let host = Host::debian12();
    let result = run_args_file(&json!({
        "root": host.root().display().to_string(),
        "state": "checked",
        "benchmark": "1.6.0",
        "_ansible_module_name": "docker_harden",
        "_ansible_version": "2.19.14",
    }));
    assert_eq!(result["failed"], false, "{result}");
    assert_eq!(item(&result, "1.1.3")["status"], "WARN");
}

/// What pre-flight refuses is left out of the run and said in `warnings`; the rest is fixed.
#[test]
fn preflight_refusals_are_warnings() {
    let host = Host::debian12().file("/etc/default/docker", "DOCKER_OPTS=\"--iptables=false\"\n");
    let result = module(&host, json!({"state": "fixed"}));
    assert_eq!(result["changed"], true, "{result}");
    let refusal = result["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|w| w.starts_with("2.2 "))
        .unwrap_or_else(|| panic!("no warning about 2.2: {result}"));
    assert!(
        refusal.contains("refused by pre-flight: icc=false needs iptables"),
        "{refusal}"
    );
    let icc = item(&result, "2.2");
    assert_eq!(
        (&icc["status"], &icc["changed"]),
        (&json!("WARN"), &json!(false))
    );
    assert!(!host.read("/etc/docker/daemon.json").contains("icc"));
}

#[test]
fn daemon_names_a_rootless_daemon_whose_files_it_fixes() {
    let host = Host::debian12()
        .file(
            "/etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\ncara:x:1003:1003::/home/cara:/bin/bash\n",
        )
        .file("/etc/group", "root:x:0:\ncara:x:1003:\n")
        .dir("/home/cara", 0o700)
        .owner("/home/cara", 1003, 1003)
        .dir("/run/user", 0o755)
        .dir("/run/user/1003", 0o700)
        .owner("/run/user/1003", 1003, 1003)
        .socket("/run/user/1003/docker.sock", 0o660, 1003, 1003);
    let result = module(
        &host,
        json!({"state": "fixed", "daemon": "rootless:cara", "only": ["2.2"], "benchmark": "1.6.0"}),
    );
    assert_eq!(result["failed"], false, "{result}");
    assert_eq!(result["changed"], true, "{result}");
    let path = "/home/cara/.config/docker/daemon.json";
    assert!(host.read(path).contains("\"icc\": false"));
    assert_eq!(host.meta(path).1, 1003);
    assert!(!host.exists("/etc/docker/daemon.json"));

    let unknown = module(&host, json!({"state": "checked", "daemon": "rootless:dan"}));
    assert_eq!(unknown["failed"], true);
    assert!(
        unknown["msg"]
            .as_str()
            .unwrap()
            .contains("--daemon rootless:dan: no such daemon on this host"),
        "{unknown}"
    );
}
