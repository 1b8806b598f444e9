//! The report-only daemon items (2.4, 2.5, 2.7, 2.8, 2.10, 2.11, 2.12, 2.17, 2.18): the PASS
//! case and each WARN case, from daemon.json and from flags in both forms.

use crate::common;

use common::Host;

fn status(host: &Host, id: &str) -> (String, String) {
    let run = host.run(&["check", "--only", id, "--format", "json"]);
    (run.status(id), run.evidence(id))
}

fn with_json(json: &str) -> Host {
    Host::debian12().file("/etc/docker/daemon.json", json)
}

/// Debian's unit passes $DOCKER_OPTS from /etc/default/docker.
fn with_opts(opts: &str) -> Host {
    Host::debian12().file("/etc/default/docker", &format!("DOCKER_OPTS=\"{opts}\"\n"))
}

#[test]
fn iptables() {
    assert_eq!(status(&Host::debian12(), "2.4").0, "PASS");
    let (s, e) = status(&with_json("{\"iptables\": false}"), "2.4");
    assert_eq!(s, "WARN", "{e}");
    assert!(e.contains("in /etc/docker/daemon.json"), "{e}");
    let (s, e) = status(&with_opts("--iptables=false"), "2.4");
    assert_eq!(s, "WARN");
    assert!(e.contains("--iptables=false on ExecStart"), "{e}");
}

#[test]
fn insecure_registries() {
    assert_eq!(status(&Host::debian12(), "2.5").0, "PASS");
    let (s, e) = status(
        &with_json("{\"insecure-registries\": [\"registry.lan:5000\"]}"),
        "2.5",
    );
    assert_eq!(s, "WARN");
    assert!(e.contains("registry.lan:5000"), "{e}");
    // Both flag forms, repeated.
    let (s, e) = status(
        &with_opts("--insecure-registry=a.lan:5000 --insecure-registry b.lan:5000"),
        "2.5",
    );
    assert_eq!(s, "WARN");
    assert!(e.contains("a.lan:5000, b.lan:5000"), "{e}");
    // Loopback registries are always plain HTTP and are not counted.
    assert_eq!(
        status(
            &with_json("{\"insecure-registries\": [\"127.0.0.1:5000\"]}"),
            "2.5"
        )
        .0,
        "PASS"
    );
}

#[test]
fn tls() {
    assert_eq!(status(&Host::debian12(), "2.7").0, "PASS");
    let (s, e) = status(&with_opts("-H tcp://0.0.0.0:2375"), "2.7");
    assert_eq!(s, "WARN");
    assert!(
        e.contains("tlsverify is off, tlscacert, tlscert, tlskey not set"),
        "{e}"
    );
    let tls = "-H tcp://0.0.0.0:2376 --tlsverify --tlscacert=/etc/docker/ca.pem --tlscert /etc/docker/cert.pem --tlskey=/etc/docker/key.pem";
    assert_eq!(status(&with_opts(tls), "2.7").0, "PASS");
}

#[test]
fn default_ulimits_is_a_note() {
    assert_eq!(status(&Host::debian12(), "2.8").0, "NOTE");
    let (s, e) = status(&Host::rhel9(), "2.8");
    assert_eq!(s, "NOTE");
    assert!(e.contains("nofile=1024:1024"), "{e}");
}

#[test]
fn cgroup_parent() {
    assert_eq!(status(&Host::debian12(), "2.10").0, "PASS");
    let (s, e) = status(&with_json("{\"cgroup-parent\": \"/docker-jobs\"}"), "2.10");
    assert_eq!(s, "INFO");
    assert!(e.contains("/docker-jobs"), "{e}");
}

#[test]
fn base_device_size() {
    assert_eq!(status(&Host::debian12(), "2.11").0, "PASS");
    assert_eq!(
        status(
            &with_json("{\"storage-opts\": [\"dm.basesize=20G\"]}"),
            "2.11"
        )
        .0,
        "WARN"
    );
    assert_eq!(
        status(&with_opts("--storage-opt dm.basesize=20G"), "2.11").0,
        "WARN"
    );
}

#[test]
fn authorization_plugins() {
    assert_eq!(status(&Host::debian12(), "2.12").0, "WARN");
    assert_eq!(
        status(
            &with_json("{\"authorization-plugins\": [\"opa-docker-authz\"]}"),
            "2.12"
        )
        .0,
        "PASS"
    );
    // Legacy guides call this item 2.11, but 2.11 is an item of v1.6.0 too: the current ID wins.
    let run = Host::debian12().run(&["check", "--only", "2.11", "--format", "json"]);
    assert!(
        run.item("2.11")["title"]
            .as_str()
            .unwrap()
            .contains("base device")
    );
    assert_eq!(run.json()["items"].as_array().unwrap().len(), 1);
}

#[test]
fn seccomp_profile() {
    assert_eq!(status(&Host::debian12(), "2.17").0, "PASS");
    assert_eq!(
        status(&with_json("{\"seccomp-profile\": \"unconfined\"}"), "2.17").0,
        "WARN"
    );
    assert_eq!(
        status(
            &with_json("{\"seccomp-profile\": \"/etc/docker/seccomp.json\"}"),
            "2.17"
        )
        .0,
        "INFO"
    );
}

#[test]
fn experimental() {
    assert_eq!(status(&Host::debian12(), "2.18").0, "PASS");
    assert_eq!(
        status(&with_json("{\"experimental\": true}"), "2.18").0,
        "WARN"
    );
    assert_eq!(status(&with_opts("--experimental"), "2.18").0, "WARN");
}

#[test]
fn report_only_items_are_never_written() {
    let host = with_json("{\"experimental\": true}");
    host.run(&["fix", "--yes", "--only", "2.18"])
        .code(1)
        .stdout_has("nothing to change");
    assert_eq!(
        host.read("/etc/docker/daemon.json"),
        "{\"experimental\": true}"
    );
}
