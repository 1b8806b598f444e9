//! The known-keys table of the installed dockerd's release, held against that dockerd: every key
//! the table accepts passes dockerd's unknown-directive check, every flag its `--help` lists is
//! in the table, and a key the table refuses is refused by dockerd too. dockerd only loads its
//! configuration here and exits: a flag also given in the file (`--debug` and `"debug"`) makes
//! it stop right after the key check, so nothing starts. vm-tests scenario 09 does the same on
//! both guests' engines (20.10 and 26.1).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use docker_harden::engine_release::{EngineVersion, KeyTable, Release};
use serde_json::{Map, Value};

use crate::common::dockerd::require;

const UNKNOWN: &str = "the following directives don't match any configuration option";
const CONFLICT: &str =
    "the following directives are specified both as a flag and in the configuration file";

fn installed_release(dockerd: &Path) -> (&'static Release, String) {
    let out = Command::new(dockerd).arg("--version").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let version = EngineVersion::parse(&said).unwrap_or_else(|| panic!("no version in {said:?}"));
    match KeyTable::for_version(version) {
        KeyTable::Exact(release) => (release, said.trim().to_string()),
        _ => panic!(
            "{said}: docker-harden's key tables were measured on Docker 20.10 and 26.1; these tests \
             hold the installed dockerd to its release's table (install docker.io from Debian 12)"
        ),
    }
}

/// What dockerd says loading a daemon.json with `keys` (all null) and `--debug` set.
fn load_config(dockerd: &Path, keys: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("daemon.json");
    let json: Map<String, Value> = keys.iter().map(|k| (k.to_string(), Value::Null)).collect();
    std::fs::write(&config, serde_json::to_vec(&json).unwrap()).unwrap();
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let mut child = Command::new(dockerd)
        .args(["--debug", "--config-file", &p("daemon.json")])
        .args(["--data-root", &p("data"), "--exec-root", &p("exec")])
        .args([
            "--pidfile",
            &p("pid"),
            "-H",
            &format!("unix://{}", p("sock")),
        ])
        .args(["--iptables=false", "--bridge=none"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dockerd did not stop at its configuration within 30 s: it started");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    )
}

#[test]
fn every_key_the_table_accepts_the_real_dockerd_accepts() {
    let dockerd = require("dockerd");
    let (release, version) = installed_release(&dockerd);
    let keys: Vec<&str> = release.keys().collect();
    assert!(keys.len() > 50, "{}: {} keys", release.name, keys.len());
    let said = load_config(&dockerd, &keys);
    assert!(
        !said.contains(UNKNOWN),
        "{version} refuses keys the {} table accepts: {said}",
        release.name
    );
    assert!(said.contains(CONFLICT), "{version}: {said}");
}

#[test]
fn every_flag_dockerd_lists_is_in_the_table() {
    let dockerd = require("dockerd");
    let (release, version) = installed_release(&dockerd);
    let out = Command::new(&dockerd).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let flags: Vec<&str> = help
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.split_once(", ").map(|(_, r)| r).unwrap_or(l);
            l.strip_prefix("--")?.split([' ', '=']).next()
        })
        .collect();
    assert!(flags.len() > 50, "{version}: {flags:?}");
    let missing: Vec<&&str> = flags.iter().filter(|f| !release.accepts(f)).collect();
    assert!(
        missing.is_empty(),
        "{version} lists flags the {} table lacks: {missing:?}",
        release.name
    );
}

#[test]
fn a_key_the_table_refuses_the_real_dockerd_refuses() {
    let dockerd = require("dockerd");
    let (release, version) = installed_release(&dockerd);
    // Keys one checked release accepts and another does not.
    let refused: Vec<&str> = [
        "cdi-spec-dirs",
        "default-network-opts",
        "graph",
        "cluster-store",
    ]
    .into_iter()
    .filter(|k| !release.accepts(k))
    .collect();
    assert!(!refused.is_empty());
    let said = load_config(&dockerd, &[&["debug"], refused.as_slice()].concat());
    assert!(said.contains(UNKNOWN), "{version}: {said}");
    for key in refused {
        assert!(said.contains(key), "{version} did not name {key}: {said}");
    }
}
