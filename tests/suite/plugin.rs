//! docker-harden as a Docker CLI plugin, driven through the real docker CLI: the binary is
//! installed in a temporary client configuration's cli-plugins directory and run as
//! `docker --config DIR harden ...`. Engines are loopback addresses nothing listens on, and
//! every live run here either is refused before it reads the host or only reads it.

use crate::common;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{BIN, Host, Run};

/// A port nothing listens on: refused connections, never another machine.
const REMOTE: &str = "tcp://127.0.0.1:1";

/// A docker client configuration with the plugin installed, as ~/.docker would hold it.
struct Client {
    config: tempfile::TempDir,
}

fn docker_cli() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("docker"))
        .find(|p| p.is_file())
        .expect("these tests need the docker CLI on PATH (.ci/run installs docker.io)")
}

fn output(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("run docker");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Client {
    fn new() -> Client {
        let config = tempfile::tempdir().unwrap();
        let plugins = config.path().join("cli-plugins");
        std::fs::create_dir(&plugins).unwrap();
        symlink(BIN, plugins.join("docker-harden")).unwrap();
        Client { config }
    }

    fn dir(&self) -> &Path {
        self.config.path()
    }

    /// `docker --config DIR ARGS`, with none of the caller's engine choices inherited.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(docker_cli());
        cmd.arg("--config")
            .arg(self.dir())
            .args(args)
            .env("NO_COLOR", "1")
            .env("DOCKER_HARDEN_BENCHMARK", "1.6.0")
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_CONFIG")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH");
        cmd
    }

    fn docker(&self, args: &[&str]) -> Run {
        output(&mut self.command(args))
    }

    fn create_remote_context(&self) {
        self.docker(&[
            "context",
            "create",
            "remote",
            "--docker",
            &format!("host={REMOTE}"),
        ])
        .code(0);
    }
}

/// A refused run stops before it gathers anything: nothing on stdout (where `fix --yes`
/// prints every change it makes), no header, one error naming the engine and what chose it.
fn refused(run: &Run, command: &str, origin: &str) {
    run.code(2)
        .stderr_has(&format!("refusing `{command}`"))
        .stderr_has(REMOTE)
        .stderr_has(origin);
    assert_eq!(run.stdout, "", "a refused run printed:\n{}", run.stdout);
    assert!(
        !run.stderr.contains(&format!("docker-harden {command}:")),
        "a refused run started:\n{}",
        run.stderr
    );
}

#[test]
fn answers_the_metadata_request_at_once() {
    let start = Instant::now();
    // An unresolvable context and an unreadable root: the answer comes before either is read.
    let out = Command::new(BIN)
        .arg("docker-cli-plugin-metadata")
        .env("DOCKER_CONTEXT", "does-not-exist")
        .env("DOCKER_CONFIG", "/nonexistent")
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    assert_eq!(out.status.code(), Some(0));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(meta["SchemaVersion"], "0.1.0");
    assert_eq!(meta["Vendor"], "docker-harden");
    assert_eq!(meta["Version"], env!("CARGO_PKG_VERSION"));
    assert!(
        meta["ShortDescription"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(out.stderr.is_empty());
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[test]
fn docker_lists_the_plugin() {
    let client = Client::new();
    client
        .docker(&["--help"])
        .code(0)
        .stdout_has("harden*")
        .stdout_has("CIS Docker Benchmark");
    // `docker info` describes the client's plugins even when no daemon answers; the socket
    // is a path in the temporary directory, so no daemon on this machine is asked.
    let socket = format!("unix://{}/none.sock", client.dir().display());
    let info = client.docker(&[
        "-H",
        &socket,
        "info",
        "--format",
        "{{json .ClientInfo.Plugins}}",
    ]);
    let line = info.stdout.lines().next().unwrap_or_default();
    let plugins: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", info.stdout, info.stderr));
    let harden = plugins
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["Name"] == "harden")
        .unwrap_or_else(|| panic!("no harden plugin in {plugins}"));
    assert_eq!(harden["Version"], env!("CARGO_PKG_VERSION"));
    assert!(harden.get("Err").is_none(), "{harden}");
}

#[test]
fn help_through_docker() {
    let client = Client::new();
    client
        .docker(&["harden", "--help"])
        .code(0)
        .stdout_has("Usage: docker harden [OPTIONS] <COMMAND>")
        .stdout_has("rollback");
    client
        .docker(&["help", "harden"])
        .code(0)
        .stdout_has("Usage: docker harden");
    client
        .docker(&["harden", "check", "--help"])
        .code(0)
        .stdout_has("Usage: docker harden check");
}

#[test]
fn check_over_a_fixture_root() {
    let client = Client::new();
    let host = Host::debian12();
    let root = host.root().to_str().unwrap();
    let run = client.docker(&["harden", "check", "--root", root, "--format", "json"]);
    run.code(1);
    let report = run.json();
    assert_eq!(report["root"], root);
    assert_eq!(report["live"], false);
    assert!(report.get("engine").is_none(), "--root asks no engine");
    assert_eq!(run.status("2.2"), "WARN");
    // Advice names the commands as the user runs them: through docker here.
    assert!(
        run.remediation("2.2")
            .starts_with("`docker harden fix --only 2.2` makes the change"),
        "{}",
        run.remediation("2.2")
    );
    assert!(
        host.run(&["check", "--format", "json"])
            .remediation("2.2")
            .starts_with("`docker-harden fix --only 2.2`")
    );
}

#[test]
fn fix_diff_and_rollback_refuse_an_engine_from_host_option() {
    let client = Client::new();
    let origin = "from -H/--docker-host";
    refused(
        &client.docker(&["-H", REMOTE, "harden", "fix", "--yes"]),
        "fix",
        origin,
    );
    refused(
        &client.docker(&["-H", REMOTE, "harden", "diff"]),
        "diff",
        origin,
    );
    refused(
        &client.docker(&["-H", REMOTE, "harden", "rollback"]),
        "rollback",
        origin,
    );
    // Docker's spelling of the option, glued.
    refused(
        &client.docker(&[&format!("--host={REMOTE}"), "harden", "fix", "--yes"]),
        "fix",
        origin,
    );
}

#[test]
fn an_engine_from_docker_host_is_refused() {
    let client = Client::new();
    let run = output(
        client
            .command(&["harden", "fix", "--yes"])
            .env("DOCKER_HOST", REMOTE),
    );
    refused(&run, "fix", "from DOCKER_HOST");
}

#[test]
fn an_engine_from_a_context_is_refused() {
    let client = Client::new();
    client.create_remote_context();
    refused(
        &client.docker(&["--context", "remote", "harden", "fix", "--yes"]),
        "fix",
        "context \"remote\", from --context",
    );
    let run = output(
        client
            .command(&["harden", "diff"])
            .env("DOCKER_CONTEXT", "remote"),
    );
    refused(&run, "diff", "context \"remote\", from DOCKER_CONTEXT");

    client.docker(&["context", "use", "remote"]).code(0);
    let config = client.dir().join("config.json");
    refused(
        &client.docker(&["harden", "fix", "--yes"]),
        "fix",
        &format!(
            "context \"remote\", the current context in {}",
            config.display()
        ),
    );
}

/// docker-harden itself, as `docker-harden` (not through docker), with this client's
/// configuration.
fn standalone(client: &Client, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--docker-config")
        .arg(client.dir())
        .args(args)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DOCKER_CONFIG");
    cmd
}

#[test]
fn a_missing_context_is_an_error() {
    let client = Client::new();
    output(&mut standalone(&client, &["--context", "gone", "check"]))
        .code(2)
        .stderr_has("Docker context \"gone\" (from --context) does not exist");
    let run = output(standalone(&client, &["fix", "--yes"]).env("DOCKER_CONTEXT", "gone"));
    run.code(2)
        .stderr_has("Docker context \"gone\" (from DOCKER_CONTEXT) does not exist");
    assert_eq!(run.stdout, "");
    std::fs::write(
        client.dir().join("config.json"),
        r#"{"currentContext": "gone"}"#,
    )
    .unwrap();
    output(&mut standalone(&client, &["diff"]))
        .code(2)
        .stderr_has("Docker context \"gone\" (the current context in");

    // Commands that ask no engine do not resolve one.
    output(&mut standalone(&client, &["list"])).code(0);
    output(&mut standalone(&client, &["rollback", "--list"])).code(0);

    // Through docker: docker 28 leaves the context to the plugin, which refuses with 2;
    // docker 20.10 refuses by itself (exit 1) before it runs the plugin.
    let run = client.docker(&["--context", "gone", "harden", "fix", "--yes"]);
    assert!(
        (run.code == 2
            && run
                .stderr
                .contains("Docker context \"gone\" (from --context)"))
            || (run.code == 1 && run.stderr.contains("\"gone\" does not exist")),
        "{run:?}"
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn root_and_rollback_list_are_exempt() {
    let client = Client::new();
    let host = Host::debian12();
    let root = host.root().to_str().unwrap();
    // An offline root asks no engine, so the engine's whereabouts do not matter.
    client
        .docker(&[
            "-H", REMOTE, "harden", "fix", "--yes", "--root", root, "--only", "2.2",
        ])
        .code(0)
        .stdout_has("+++ b/etc/docker/daemon.json");
    assert!(
        host.read("/etc/docker/daemon.json")
            .contains("\"icc\": false")
    );
    client
        .docker(&["-H", REMOTE, "harden", "rollback", "--list", "--root", root])
        .code(0)
        .stdout_has("RUN-ID");
    client
        .docker(&["-H", REMOTE, "harden", "rollback", "--root", root])
        .code(0);
    assert!(!host.exists("/etc/docker/daemon.json"));
}

#[test]
fn check_names_a_remote_engine_it_did_not_ask() {
    // A live check only reads this host; the remote engine is not connected to.
    let client = Client::new();
    let run = client.docker(&[
        "-H", REMOTE, "harden", "check", "--format", "json", "--only", "2.2,5.1",
    ]);
    assert!(matches!(run.code, 0 | 1), "{run:?}");
    let report = run.json();
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/report-schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let engine = &report["engine"];
    assert_eq!(engine["address"], REMOTE);
    assert_eq!(engine["origin"], "docker-host-option");
    assert_eq!(engine["remote"], true);
    run.stderr_has(&format!(
        "the Docker engine {REMOTE} (from -H/--docker-host) is remote and was not asked"
    ));
    assert_eq!(run.status("5.1"), "INFO");
    assert!(run.evidence("5.1").contains("not a local Unix socket"));
}
