//! Swarm items (5.1, 7.1-7.5, 7.7) against a private dockerd that becomes a one-node swarm.
//! dockerd runs in a network namespace of its own (`Net::Isolated`): swarm creates bridges
//! (docker_gwbridge) and listens on the manager port, and neither may touch the host. The
//! listening sockets are read from dockerd's own namespace (/proc/PID/net/tcp), as on a host
//! where dockerd runs in one.

use crate::common;

use common::Run;
use common::dockerd::*;
use common::workloads::*;
use serde_json::json;

const SWARM_ITEMS: &str = "5.1,7.1,7.2,7.3,7.4,7.5,7.7";

fn check(sandbox: &Sandbox) -> Run {
    check_json(sandbox, &["--only", SWARM_ITEMS]).0
}

/// Leaves the swarm before dockerd stops, also when the test fails.
struct LeaveSwarm<'a>(&'a Sandbox);

impl Drop for LeaveSwarm<'_> {
    fn drop(&mut self) {
        let _ = self.0.docker(&["swarm", "leave", "--force"]);
    }
}

#[test]
fn swarm_items_pass_when_inactive_and_judge_a_manager() {
    let _serial = exclusive();
    let mut sandbox = Sandbox::new(json!({}));
    sandbox.start(Net::Isolated, &[]);
    let _leave = LeaveSwarm(&sandbox);

    let run = check(&sandbox);
    for id in SWARM_ITEMS.split(',') {
        assert_eq!(
            (run.status(id).as_str(), run.evidence(id).as_str()),
            ("PASS", "swarm mode is inactive on this daemon"),
            "{id}"
        );
    }

    sandbox.docker_ok(&[
        "swarm",
        "init",
        "--advertise-addr",
        "127.0.0.1",
        "--listen-addr",
        "127.0.0.1:2377",
    ]);
    sandbox.docker_ok(&[
        "network",
        "create",
        "--driver",
        "overlay",
        "--opt",
        "encrypted",
        "secure-net",
    ]);
    sandbox.docker_ok(&["network", "create", "--driver", "overlay", "plain-net"]);
    let run = check(&sandbox);
    let expect = [
        (
            "5.1",
            "WARN",
            "swarm mode is active on this node, a manager in a swarm of 1 nodes",
        ),
        (
            "7.1",
            "PASS",
            "1 manager among 1 node: the swarm survives the loss of 0",
        ),
        (
            "7.2",
            "PASS",
            "the swarm manager port listens on 127.0.0.1:2377 only",
        ),
        (
            "7.3",
            "WARN",
            "overlay networks without encryption: ingress, plain-net",
        ),
        ("7.4", "INFO", "the swarm holds no secrets"),
        (
            "7.5",
            "WARN",
            "autolock is off: a stolen manager disk holds the swarm's Raft keys in the clear",
        ),
        (
            "7.7",
            "PASS",
            "node certificates expire after 2160h (90 days) and are renewed automatically",
        ),
    ];
    for (id, status, first) in expect {
        let evidence = run.item(id)["evidence"][0].as_str().unwrap().to_string();
        assert_eq!(
            (run.status(id).as_str(), evidence.as_str()),
            (status, first),
            "{id}: {}",
            run.evidence(id)
        );
    }

    let secret = sandbox.path("db-password");
    std::fs::write(&secret, "s3cret").unwrap();
    sandbox.docker_ok(&["secret", "create", "db-password", secret.to_str().unwrap()]);
    sandbox.docker_ok(&["swarm", "update", "--autolock=true"]);
    sandbox.docker_ok(&["swarm", "update", "--cert-expiry", "8760h"]);
    let run = check(&sandbox);
    assert_eq!(run.status("7.4"), "PASS");
    assert_eq!(run.evidence("7.4"), "1 secret managed by the swarm");
    assert_eq!(run.status("7.5"), "PASS");
    assert_eq!(run.status("7.7"), "INFO");
    assert!(
        run.evidence("7.7")
            .starts_with("node certificates live 8760h (365 days), longer than"),
        "{}",
        run.evidence("7.7")
    );

    // A manager port on every address.
    sandbox.docker_ok(&["swarm", "leave", "--force"]);
    sandbox.docker_ok(&[
        "swarm",
        "init",
        "--advertise-addr",
        "127.0.0.1",
        "--listen-addr",
        "0.0.0.0:2377",
    ]);
    let run = check(&sandbox);
    assert_eq!(run.status("7.2"), "WARN", "{}", run.evidence("7.2"));
    assert!(
        run.evidence("7.2")
            .starts_with("the swarm manager port listens on every address: "),
        "{}",
        run.evidence("7.2")
    );
}
