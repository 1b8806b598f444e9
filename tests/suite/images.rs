//! Images (4.1, 4.6, 4.7, 4.9), sprawl (6.1, 6.2) and the default bridge (5.30) against a
//! private dockerd: images built from the FROM-scratch busybox image with the classic builder,
//! containers run from them, and `check` run live against the daemon.
//!
//! The default bridge needs a dockerd with docker0 and iptables: that one runs in a network
//! namespace of its own (`Net::Isolated`), so the host's interfaces are never touched.

use crate::common;

use common::Run;
use common::dockerd::*;
use common::workloads::*;
use serde_json::json;

/// Builds the test images; returns their tags.
fn build_images(sandbox: &Sandbox) -> [&'static str; 4] {
    let hello = [("hello", "hello\n")];
    sandbox.build_image(
        "dh-good:1",
        "FROM dh-busybox\nCOPY hello /hello\nHEALTHCHECK CMD [\"/bin/busybox\", \"true\"]\nUSER 1000\n",
        &hello,
    );
    sandbox.build_image("dh-add:1", "FROM dh-busybox\nADD hello /hello\n", &hello);
    // The image has no shell: exec-form RUNs whose words look like package manager calls.
    sandbox.build_image(
        "dh-update:1",
        "FROM dh-busybox\nRUN [\"/bin/busybox\", \"true\", \"apt-get\", \"-q\", \"update\"]\n",
        &[],
    );
    sandbox.build_image(
        "dh-update-install:1",
        "FROM dh-busybox\nRUN [\"/bin/busybox\", \"true\", \"apt-get\", \"update\", \"&&\", \"apt-get\", \"install\", \"-y\", \"x\"]\n",
        &[],
    );
    [
        "dh-good:1",
        "dh-add:1",
        "dh-update:1",
        "dh-update-install:1",
    ]
}

/// The image names an item's evidence lists (every line but the closing `fix:` line).
fn images_named(run: &Run, id: &str) -> Vec<String> {
    offenders(run, id)
}

#[test]
fn image_items_read_configuration_and_history() {
    let _serial = exclusive();
    let sandbox = sandbox();
    let _cleanup = Cleanup(&sandbox);
    let (run, requests) = check_json(&sandbox, &["--only", "4.6,4.7,4.9,6.1"]);
    assert_eq!(run.status("4.6"), "WARN", "the bare busybox image");
    assert_eq!(images_named(&run, "4.6"), sorted(&["dh-busybox:latest"]));
    assert_eq!(run.status("4.7"), "PASS");
    assert_eq!(
        run.evidence("4.9"),
        "1 image checked: none was built with ADD"
    );
    assert_eq!(
        requests.images,
        1 + 2,
        "a list, then an inspect and a history"
    );

    let tags = build_images(&sandbox);
    let (run, requests) = check_json(&sandbox, &["--only", "4.6,4.7,4.9"]);
    assert_eq!(
        requests.images,
        1 + 2 * (tags.len() + 1),
        "two requests per image"
    );
    assert_eq!(requests.containers, 1, "only the container list");
    assert_eq!(
        images_named(&run, "4.6"),
        sorted(&[
            "dh-busybox:latest",
            "dh-add:1",
            "dh-update:1",
            "dh-update-install:1"
        ])
    );
    assert_eq!(run.status("4.7"), "INFO", "{}", run.evidence("4.7"));
    assert_eq!(images_named(&run, "4.7"), sorted(&["dh-update:1"]));
    assert!(
        run.evidence("4.7")
            .contains("index refreshed alone in `/bin/busybox true apt-get -q update`"),
        "{}",
        run.evidence("4.7")
    );
    assert_eq!(run.status("4.9"), "INFO");
    assert_eq!(images_named(&run, "4.9"), sorted(&["dh-add:1"]));
    assert!(
        run.evidence("4.9").contains("): built with `ADD file:")
            && run.evidence("4.9").contains(" in /hello`"),
        "{}",
        run.evidence("4.9")
    );
    assert!(run.remediation("4.9").starts_with("use COPY"));
}

#[test]
fn users_and_sprawl_follow_the_containers() {
    let _serial = exclusive();
    let sandbox = sandbox();
    let _cleanup = Cleanup(&sandbox);
    let (run, _) = check_json(&sandbox, &["--only", "4.1,6.1,6.2"]);
    assert_eq!(run.evidence("4.1"), "no running containers");
    assert_eq!(run.status("6.1"), "INFO");
    assert!(
        run.evidence("6.1")
            .starts_with("1 image, 1 used by no container: dh-busybox:latest ("),
        "{}",
        run.evidence("6.1")
    );
    assert_eq!(run.evidence("6.2"), "no containers on this host");

    build_images(&sandbox);
    sleeper(&sandbox, "as-root", &[]);
    sleeper(&sandbox, "as-zero", &["--user", "0:0"]);
    sandbox.docker_ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "as-app",
        "dh-good:1",
        "/bin/busybox",
        "sleep",
        "300",
    ]);
    sandbox.docker_ok(&[
        "create",
        "--name",
        "stopped",
        "--network",
        "none",
        "dh-add:1",
        "/bin/busybox",
        "true",
    ]);
    let (run, requests) = check_json(&sandbox, &["--only", "4.1,6.1,6.2"]);
    assert_eq!(requests.containers, 1 + 3);
    assert_eq!(offenders(&run, "4.1"), sorted(&["as-root", "as-zero"]));
    assert!(
        run.evidence("4.1")
            .contains("): runs as root (no user set in the image or on the command line)")
            && run.evidence("4.1").contains("): runs as root (user 0:0)"),
        "{}",
        run.evidence("4.1")
    );
    // The stopped container still holds dh-add: three of five images are unused.
    assert_eq!(run.status("6.1"), "INFO");
    let first = run.item("6.1")["evidence"][0].as_str().unwrap().to_string();
    assert!(
        first.starts_with("5 images, 2 used by no container: dh-update-install:1 (")
            && first.contains("dh-update:1 ("),
        "{first}"
    );
    assert_eq!(run.status("6.2"), "INFO");
    let first = run.item("6.2")["evidence"][0].as_str().unwrap().to_string();
    assert!(
        first.starts_with("4 containers, 1 not running: stopped ("),
        "{first}"
    );

    // Clean up the sprawl: both items pass.
    sandbox.docker_ok(&["rm", "stopped"]);
    sandbox.docker_ok(&["rmi", "dh-add:1", "dh-update:1", "dh-update-install:1"]);
    let (run, _) = check_json(&sandbox, &["--only", "6.1,6.2"]);
    assert_eq!(run.evidence("6.1"), "2 images, each used by a container");
    assert_eq!(run.evidence("6.2"), "3 containers, all running");
}

#[test]
fn containers_on_the_default_bridge_are_named() {
    let _serial = exclusive();
    let mut sandbox = Sandbox::new(json!({}));
    sandbox.start(Net::Isolated, &[]);
    sandbox.import_busybox();
    let _cleanup = Cleanup(&sandbox);
    let networks = sandbox.docker_ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(networks.lines().any(|n| n == "bridge"), "{networks}");
    // No --network: the default bridge.
    sandbox.docker_ok(&[
        "run",
        "-d",
        "--name",
        "on-bridge",
        "dh-busybox",
        "/bin/busybox",
        "sleep",
        "300",
    ]);
    sleeper(&sandbox, "no-net", &[]);
    sandbox.docker_ok(&["network", "create", "appnet"]);
    sleeper(&sandbox, "own-net", &["--network", "appnet"]);
    let (run, _) = check_json(&sandbox, &["--only", "5.30"]);
    assert_eq!(run.status("5.30"), "INFO", "{}", run.evidence("5.30"));
    assert_eq!(offenders(&run, "5.30"), sorted(&["on-bridge"]));
    assert!(
        run.evidence("5.30")
            .contains("): attached to the default bridge network `bridge`"),
        "{}",
        run.evidence("5.30")
    );
    sandbox.docker_ok(&["rm", "-f", "on-bridge"]);
    let (run, _) = check_json(&sandbox, &["--only", "5.30"]);
    assert_eq!(
        run.evidence("5.30"),
        "2 containers checked: none is attached to the default bridge"
    );
}
