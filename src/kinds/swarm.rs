//! Swarm items (CIS 5.1 and section 7), judged from the daemon's `/info` (this node's state,
//! the cluster spec a manager sees), the network and secret lists, and the host's listening
//! sockets. Every section 7 item passes with "swarm mode is inactive" when it is; report only.

use super::{ItemKind, LoadContext};
use crate::error::Result;
use std::net::SocketAddr;

use serde::Deserialize;

use super::{Status, Verdict};
use crate::engine::SwarmFacts;
use crate::facts::Facts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// 5.1: swarm mode is on only where it is wanted.
    Mode,
    /// 7.1
    Managers,
    /// 7.2
    ListenAddress,
    /// 7.3
    OverlayEncryption,
    /// 7.4
    Secrets,
    /// 7.5
    Autolock,
    /// 7.7
    NodeCertExpiry,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwarmSpec {
    pub rule: Rule,
}

/// Most managers worth having: Raft tolerates (N-1)/2 failures, and every manager more slows
/// every write.
const MAX_MANAGERS: u64 = 7;

/// The swarm port a manager listens on unless told otherwise.
const DEFAULT_MANAGER_PORT: u16 = 2377;

/// The certificate lifetime `docker swarm init` sets (90 days).
const DEFAULT_CERT_EXPIRY_SECS: u64 = 90 * 24 * 3600;

fn hours(secs: u64) -> String {
    let hours = secs / 3600;
    if hours.is_multiple_of(24) {
        format!("{hours}h ({} days)", hours / 24)
    } else {
        format!("{hours}h")
    }
}

pub(crate) fn check(spec: &SwarmSpec, facts: &Facts) -> Verdict {
    if !facts.live {
        return Verdict::info("swarm mode is judged through the Docker API on the live host");
    }
    let swarm = match &facts.daemon.engine {
        Some(Ok(info)) => &info.swarm,
        Some(Err(reason)) => {
            return Verdict::info(format!(
                "the Docker API did not answer, so swarm mode is unknown: {reason}"
            ));
        }
        None => return Verdict::info("dockerd is not running, so swarm mode is unknown"),
    };
    if !swarm.enabled() {
        return Verdict::pass("swarm mode is inactive on this daemon");
    }
    if spec.rule == Rule::Mode {
        let role = if swarm.manager {
            "a manager"
        } else {
            "a worker"
        };
        return Verdict::warn(format!(
            "swarm mode is {} on this node, {role} in a swarm of {} nodes",
            swarm.state,
            swarm.nodes.max(1)
        ))
        .fix("if this host has no swarm services to run, leave the swarm (`docker swarm leave`; the last manager needs `--force`)");
    }
    if spec.rule == Rule::ListenAddress {
        return listen_address(swarm, facts.host.tcp_listeners.as_deref());
    }
    if spec.rule == Rule::OverlayEncryption {
        return overlay_encryption(facts);
    }
    if !swarm.manager {
        return Verdict::info(
            "this node is a swarm worker; the swarm's settings are judged on a manager",
        );
    }
    match spec.rule {
        Rule::Managers => managers(swarm),
        Rule::Secrets => match facts.workloads.as_ref().and_then(|w| w.as_ref().ok()) {
            Some(w) => match w.secrets {
                Some(n) if n > 0 => Verdict::pass(format!(
                    "{n} secret{} managed by the swarm",
                    if n == 1 { "" } else { "s" }
                )),
                _ => Verdict::info("the swarm holds no secrets").fix("give services their passwords and keys with `docker secret create` and `--secret` (compose: secrets), not in environment variables or images",
                ),
            },
            None => super::workloads(facts, "swarm secrets").err().unwrap_or_else(|| {
                Verdict::info("the swarm's secrets were not listed in this run")
            }),
        },
        Rule::Autolock => match swarm.autolock {
            Some(true) => Verdict::pass("managers are locked when they restart (autolock on)"),
            Some(false) => Verdict::warn(
                "autolock is off: a stolen manager disk holds the swarm's Raft keys in the clear",
            )
            .fix("`docker swarm update --autolock=true`, and keep the unlock key it prints somewhere safe"),
            None => Verdict::info("the manager did not report the cluster's autolock setting"),
        },
        Rule::NodeCertExpiry => match swarm.node_cert_expiry_secs {
            Some(secs) if secs <= DEFAULT_CERT_EXPIRY_SECS => Verdict::pass(format!(
                "node certificates expire after {} and are renewed automatically",
                hours(secs)
            )),
            Some(secs) => Verdict::info(format!(
                "node certificates live {}, longer than the default 2160h (90 days)",
                hours(secs)
            ))
            .fix("choose a lifetime your policy accepts: `docker swarm update --cert-expiry 720h`"),
            None => Verdict::info("the manager did not report the node certificate lifetime"),
        },
        Rule::Mode | Rule::ListenAddress | Rule::OverlayEncryption => unreachable!(),
    }
}

fn managers(swarm: &SwarmFacts) -> Verdict {
    let n = swarm.managers;
    let summary = format!(
        "{n} manager{} among {} node{}",
        if n == 1 { "" } else { "s" },
        swarm.nodes,
        if swarm.nodes == 1 { "" } else { "s" }
    );
    if n > MAX_MANAGERS {
        return Verdict::warn(format!(
            "{summary}: more than {MAX_MANAGERS} managers slow every change and add no useful fault tolerance"
        ))
        .fix("demote the extra managers (`docker node demote NODE`) to an odd number of at most 7");
    }
    if n > 0 && n.is_multiple_of(2) {
        return Verdict::warn(format!(
            "{summary}: an even number tolerates no more failures than {} managers would",
            n - 1
        ))
        .fix(
            "demote one manager (`docker node demote NODE`) or promote a worker, for an odd number",
        );
    }
    Verdict::pass(format!(
        "{summary}: the swarm survives the loss of {}",
        n.saturating_sub(1) / 2
    ))
}

fn listen_address(swarm: &SwarmFacts, listeners: Option<&[SocketAddr]>) -> Verdict {
    let port = swarm
        .manager_addr
        .as_deref()
        .and_then(|a| a.rsplit_once(':'))
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(DEFAULT_MANAGER_PORT);
    let Some(listeners) = listeners else {
        return Verdict::info("the host's listening sockets could not be read");
    };
    let bound: Vec<&SocketAddr> = listeners.iter().filter(|a| a.port() == port).collect();
    if bound.is_empty() {
        return if swarm.manager {
            Verdict::info(format!(
                "no socket listens on the manager port {port}; the swarm listen address could not be judged"
            ))
        } else {
            Verdict::pass(format!(
                "this node is a worker: it does not listen on the manager port {port}"
            ))
        };
    }
    let wildcard: Vec<String> = bound
        .iter()
        .filter(|a| a.ip().is_unspecified())
        .map(|a| a.to_string())
        .collect();
    if !wildcard.is_empty() {
        return Verdict::warn(format!(
            "the swarm manager port listens on every address: {}",
            wildcard.join(", ")
        ))
        .fix("re-join or re-initialise the swarm with `--listen-addr ADDRESS:2377` naming the management interface");
    }
    let specific: Vec<String> = bound.iter().map(|a| a.to_string()).collect();
    Verdict::pass(format!(
        "the swarm manager port listens on {} only",
        specific.join(", ")
    ))
}

fn overlay_encryption(facts: &Facts) -> Verdict {
    let workloads = match super::workloads(facts, "overlay networks") {
        Ok(w) => w,
        Err(verdict) => return verdict,
    };
    let overlays: Vec<_> = workloads
        .networks
        .iter()
        .filter(|n| n.driver == "overlay")
        .collect();
    let plain: Vec<String> = overlays
        .iter()
        .filter(|n| !n.encrypted())
        .map(|n| n.name.clone())
        .collect();
    if plain.is_empty() {
        return Verdict::pass(if overlays.is_empty() {
            "no overlay networks".to_string()
        } else {
            format!("{} overlay networks, all encrypted", overlays.len())
        });
    }
    Verdict::new(
        Status::Warn,
        vec![format!(
            "overlay networks without encryption: {}",
            plain.join(", ")
        )],
    )
    .fix(
            "re-create each with `docker network create --driver overlay --opt encrypted NAME` (compose: driver_opts: {encrypted: \"\"}); the ingress network is re-created with `docker network rm ingress` then `docker network create --driver overlay --ingress --opt encrypted ingress`",
    )
}

impl ItemKind for SwarmSpec {
    type Raw = SwarmSpec;
    const REPORT_ONLY: Option<&'static str> = Some(
        "report only: swarm settings are changed with `docker swarm` and `docker node` by the swarm's operator",
    );

    fn from_raw(raw: SwarmSpec, _: &LoadContext<'_>) -> Result<SwarmSpec> {
        Ok(raw)
    }
    fn check(&self, facts: &Facts) -> Verdict {
        check(self, facts)
    }
    fn needs_workloads(&self) -> bool {
        matches!(self.rule, Rule::OverlayEncryption | Rule::Secrets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineInfo;
    use crate::workloads::{NetworkFacts, Workloads};

    fn manager() -> SwarmFacts {
        SwarmFacts {
            state: "active".into(),
            manager: true,
            managers: 1,
            nodes: 1,
            node_addr: "127.0.0.1".into(),
            manager_addr: Some("127.0.0.1:2377".into()),
            autolock: Some(true),
            node_cert_expiry_secs: Some(DEFAULT_CERT_EXPIRY_SECS),
        }
    }

    fn facts(swarm: SwarmFacts, workloads: Workloads) -> (tempfile::TempDir, Facts) {
        let dir = tempfile::tempdir().unwrap();
        let mut facts =
            Facts::names_only(&crate::rootfs::RootFs::new(dir.path()).unwrap()).unwrap();
        facts.live = true;
        facts.daemon.engine = Some(Ok(EngineInfo {
            swarm_active: swarm.state == "active",
            swarm,
            ..EngineInfo::default()
        }));
        facts.workloads = Some(Ok(workloads));
        facts.host.tcp_listeners = Some(vec!["127.0.0.1:2377".parse().unwrap()]);
        (dir, facts)
    }

    fn verdict(rule: Rule, f: &Facts) -> Verdict {
        check(&SwarmSpec { rule }, f)
    }

    const ALL: [Rule; 7] = [
        Rule::Mode,
        Rule::Managers,
        Rule::ListenAddress,
        Rule::OverlayEncryption,
        Rule::Secrets,
        Rule::Autolock,
        Rule::NodeCertExpiry,
    ];

    #[test]
    fn inactive_swarm_passes_everything() {
        let (_d, f) = facts(
            SwarmFacts {
                state: "inactive".into(),
                ..SwarmFacts::default()
            },
            Workloads::default(),
        );
        for rule in ALL {
            assert_eq!(
                verdict(rule, &f),
                Verdict::pass("swarm mode is inactive on this daemon"),
                "{rule:?}"
            );
        }
    }

    #[test]
    fn a_well_set_manager_passes_all_but_the_mode_item() {
        let w = Workloads {
            networks: vec![NetworkFacts {
                name: "ov".into(),
                driver: "overlay".into(),
                options: [("encrypted".to_string(), String::new())].into(),
                ..NetworkFacts::default()
            }],
            secrets: Some(2),
            ..Workloads::default()
        };
        let (_d, f) = facts(manager(), w);
        for rule in ALL {
            let v = verdict(rule, &f);
            let want = if rule == Rule::Mode {
                Status::Warn
            } else {
                Status::Pass
            };
            assert_eq!(v.status, want, "{rule:?}: {v:?}");
        }
    }

    #[test]
    fn each_swarm_setting_can_warn() {
        let mut swarm = manager();
        swarm.managers = 2;
        swarm.nodes = 5;
        swarm.autolock = Some(false);
        swarm.node_cert_expiry_secs = Some(365 * 24 * 3600);
        let w = Workloads {
            networks: vec![NetworkFacts {
                name: "ingress".into(),
                driver: "overlay".into(),
                ..NetworkFacts::default()
            }],
            secrets: Some(0),
            ..Workloads::default()
        };
        let (_d, mut f) = facts(swarm, w);
        f.host.tcp_listeners = Some(vec!["[::]:2377".parse().unwrap()]);
        let v = verdict(Rule::Managers, &f);
        assert_eq!(v.status, Status::Warn);
        assert!(
            v.evidence[0].starts_with("2 managers among 5 nodes"),
            "{v:?}"
        );
        assert_eq!(verdict(Rule::Autolock, &f).status, Status::Warn);
        let v = verdict(Rule::NodeCertExpiry, &f);
        assert_eq!(v.status, Status::Info);
        assert!(v.evidence[0].contains("8760h (365 days)"), "{v:?}");
        assert_eq!(verdict(Rule::Secrets, &f).status, Status::Info);
        let v = verdict(Rule::OverlayEncryption, &f);
        assert_eq!(
            v.evidence[0],
            "overlay networks without encryption: ingress"
        );
        let v = verdict(Rule::ListenAddress, &f);
        assert_eq!(v.status, Status::Warn);
        assert!(v.evidence[0].ends_with("[::]:2377"), "{v:?}");
    }

    #[test]
    fn workers_defer_to_managers() {
        let mut swarm = manager();
        swarm.manager = false;
        swarm.manager_addr = None;
        swarm.autolock = None;
        let (_d, mut f) = facts(swarm, Workloads::default());
        f.host.tcp_listeners = Some(Vec::new());
        assert_eq!(verdict(Rule::ListenAddress, &f).status, Status::Pass);
        for rule in [
            Rule::Managers,
            Rule::Secrets,
            Rule::Autolock,
            Rule::NodeCertExpiry,
        ] {
            assert_eq!(verdict(rule, &f).status, Status::Info, "{rule:?}");
        }
    }

    #[test]
    fn nine_managers_are_too_many() {
        let mut swarm = manager();
        swarm.managers = 9;
        assert_eq!(managers(&swarm).status, Status::Warn);
        swarm.managers = 3;
        swarm.nodes = 3;
        assert_eq!(
            managers(&swarm),
            Verdict::pass("3 managers among 3 nodes: the swarm survives the loss of 1")
        );
    }
}
