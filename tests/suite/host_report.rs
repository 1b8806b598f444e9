//! Host items (1.1.1, 1.1.2, 1.2.2, 2.1, 4.5) and the manual NOTE items: each PASS and WARN case
//! from fixture roots.

use crate::common;

use common::Host;

fn status(host: &Host, id: &str) -> (String, String) {
    let run = host.run(&["check", "--only", id, "--format", "json"]);
    (run.status(id), run.evidence(id))
}

#[test]
fn separate_partition_from_fstab() {
    let own = Host::debian12().file(
        "/etc/fstab",
        "UUID=a / ext4 errors=remount-ro 0 1\nUUID=b /var/lib/docker xfs defaults 0 2\n",
    );
    let (s, e) = status(&own, "1.1.1");
    assert_eq!(s, "PASS", "{e}");
    assert!(e.contains("UUID=b on /var/lib/docker"), "{e}");
    let shared = Host::debian12().file(
        "/etc/fstab",
        "UUID=a / ext4 errors=remount-ro 0 1\nUUID=s none swap sw 0 0\n",
    );
    assert_eq!(status(&shared, "1.1.1").0, "WARN");
    // A data root moved under a separate /srv counts.
    let moved = Host::debian12()
        .file(
            "/etc/fstab",
            "UUID=a / ext4 defaults 0 1\nUUID=c /srv ext4 defaults 0 2\n",
        )
        .file(
            "/etc/docker/daemon.json",
            "{\"data-root\": \"/srv/docker\"}",
        );
    assert_eq!(status(&moved, "1.1.1").0, "PASS");
}

#[test]
fn docker_group_members() {
    let (s, e) = status(&Host::debian12(), "1.1.2");
    assert_eq!(s, "NOTE");
    assert!(e.contains("docker group members: admin"), "{e}");
    let empty = Host::debian12().file("/etc/group", "root:x:0:\ndocker:x:103:\n");
    assert_eq!(status(&empty, "1.1.2").0, "PASS");
}

#[test]
fn engine_version_from_the_package_database() {
    let host = Host::debian12().file(
        "/var/lib/dpkg/status",
        "Package: docker.io\nStatus: install ok installed\nVersion: 20.10.24+dfsg1-1+deb12u1\n\n",
    );
    let (s, e) = status(&host, "1.2.2");
    assert_eq!(s, "NOTE");
    assert!(
        e.contains("installed package docker.io 20.10.24+dfsg1-1+deb12u1"),
        "{e}"
    );
}

#[test]
fn deprecated_daemon_json_keys_are_named_for_the_installed_engine() {
    let host = |version: &str| {
        Host::debian12()
            .file(
                "/var/lib/dpkg/status",
                &format!(
                    "Package: docker.io\nStatus: install ok installed\nVersion: {version}\n\n"
                ),
            )
            .file(
                "/etc/docker/daemon.json",
                "{\"graph\": \"/srv/docker\", \"restart\": false, \"live-restore\": true}",
            )
    };
    // On 20.10 graph still works, and the next major engine refuses it.
    let (s, e) = status(&host("20.10.24+dfsg1-1+deb12u1"), "1.2.2");
    assert_eq!(s, "NOTE");
    assert!(
        e.contains("/etc/docker/daemon.json holds `graph`, deprecated: Docker 23.0 and newer refuse to start with it; use data-root before upgrading"),
        "{e}"
    );
    assert!(
        e.contains("holds `restart`, deprecated and without effect"),
        "{e}"
    );
    assert!(!e.contains("live-restore"), "{e}");
    // On 26.1 graph is no longer deprecated but unknown: pre-flight refuses it (see
    // tests/suite/engine_release.rs); `restart` is still accepted and still deprecated.
    let (_, e) = status(&host("26.1.5+dfsg1-9+deb13u1+b1"), "1.2.2");
    assert!(!e.contains("`graph`"), "{e}");
    assert!(e.contains("holds `restart`"), "{e}");
}

#[test]
fn content_trust() {
    assert_eq!(status(&Host::debian12(), "4.5").0, "WARN");
    let on = Host::debian12().file(
        "/etc/environment",
        "PATH=\"/usr/bin:/bin\"\nDOCKER_CONTENT_TRUST=\"1\"\n",
    );
    assert_eq!(status(&on, "4.5").0, "PASS");
}

#[test]
fn manual_items_say_what_to_verify() {
    let run = Host::debian12().run(&["check", "--only", "4.10", "--format", "json"]);
    assert_eq!(run.status("4.10"), "NOTE");
    assert_eq!(
        run.evidence("4.10"),
        "docker-harden cannot judge this from the host"
    );
    assert!(
        run.remediation("4.10").starts_with("verify by hand: "),
        "{}",
        run.remediation("4.10")
    );
    // A report-only WARN says what to change; a fixable one names the command.
    let run = Host::debian12().run(&["check", "--only", "4.5,2.2", "--format", "json"]);
    assert!(run.remediation("4.5").contains("DOCKER_CONTENT_TRUST=1"));
    assert!(
        run.remediation("2.2")
            .starts_with("`docker-harden fix --only 2.2`")
    );
    // Without the API (--root), swarm-only items cannot be ruled out.
    assert_eq!(status(&Host::debian12(), "7.6").0, "NOTE");
}
