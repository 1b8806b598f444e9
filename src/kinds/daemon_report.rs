//! Daemon settings docker-harden reports on but does not change (CIS 2.4, 2.5, 2.7, 2.8, 2.10,
//! 2.11, 2.12, 2.17, 2.18): changing them needs a decision only the operator can make (a
//! registry, a plugin, a profile, TLS material), so each rule judges the effective value and
//! says what to do.

use super::{ItemKind, LoadContext};
use crate::error::Result;
use serde::Deserialize;
use serde_json::Value;

use super::daemon_setting::{configured, conflict};
use super::{Status, Verdict, docker_missing};
use crate::daemon_flags;
use crate::facts::Facts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// 2.4: dockerd manages iptables (the default).
    Iptables,
    /// 2.5: no insecure registries.
    InsecureRegistries,
    /// 2.7: a TCP listener only with TLS verification and its CA, certificate and key.
    Tls,
    /// 2.8: default ulimits are a deliberate choice.
    DefaultUlimits,
    /// 2.10: the default cgroup parent is unchanged unless deliberately set.
    CgroupParent,
    /// 2.11: the devicemapper base device size is not changed.
    BaseDeviceSize,
    /// 2.12: an authorization plugin guards the API.
    AuthorizationPlugins,
    /// 2.17: the default seccomp profile, or a deliberate custom one, applies.
    SeccompProfile,
    /// 2.18: experimental features are off.
    Experimental,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonReportSpec {
    pub rule: Rule,
}

/// Every value a list setting gets: each flag occurrence, or the daemon.json array.
fn list(facts: &Facts, key: &str) -> (Vec<String>, String) {
    let flags = facts.daemon.flags_for_key(key);
    if let Some(first) = flags.first() {
        let values = flags.iter().map(|f| f.flag.value.clone()).collect();
        return (values, format!("flags on {}", first.source));
    }
    match facts.daemon.json_value(key) {
        Some(Value::Array(items)) => (
            items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect(),
            format!("in {}", facts.daemon.config_file.display()),
        ),
        Some(Value::Object(map)) => (
            map.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            format!("in {}", facts.daemon.config_file.display()),
        ),
        Some(other) => (
            vec![other.to_string()],
            format!("in {}", facts.daemon.config_file.display()),
        ),
        None => (Vec::new(), "not set".into()),
    }
}

fn string(facts: &Facts, key: &str) -> (String, String) {
    let (value, source) = configured(facts, key, &Value::String(String::new()));
    (
        value
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| value.to_string()),
        source,
    )
}

fn boolean(facts: &Facts, key: &str, default: bool) -> (bool, String) {
    let (value, source) = configured(facts, key, &Value::Bool(default));
    let on = match &value {
        Value::Bool(b) => *b,
        Value::String(s) => daemon_flags::parse_bool(s).unwrap_or(default),
        _ => default,
    };
    (on, source)
}

pub(crate) fn check(spec: &DaemonReportSpec, facts: &Facts) -> Verdict {
    if let Some(v) = docker_missing(facts) {
        return v;
    }
    let key = match spec.rule {
        Rule::Iptables => "iptables",
        Rule::InsecureRegistries => "insecure-registries",
        Rule::Tls => "hosts",
        Rule::DefaultUlimits => "default-ulimits",
        Rule::CgroupParent => "cgroup-parent",
        Rule::BaseDeviceSize => "storage-opts",
        Rule::AuthorizationPlugins => "authorization-plugins",
        Rule::SeccompProfile => "seccomp-profile",
        Rule::Experimental => "experimental",
    };
    if let Some(message) = conflict(facts, key) {
        return Verdict::warn(message);
    }
    match spec.rule {
        Rule::Iptables => {
            let (on, source) = boolean(facts, "iptables", true);
            if on {
                Verdict::pass(format!("iptables is on ({source})"))
            } else {
                Verdict::warn(format!(
                    "iptables is off ({source}): dockerd cannot set up the firewall rules its networks rely on; remove --iptables=false / \"iptables\": false unless another tool manages them"
                ))
            }
        }
        Rule::InsecureRegistries => {
            let (registries, source) = list(facts, "insecure-registries");
            // dockerd always trusts 127.0.0.0/8 without TLS; only others count.
            let named: Vec<&String> = registries
                .iter()
                .filter(|r| !r.starts_with("127."))
                .collect();
            if named.is_empty() {
                Verdict::pass("no insecure registries are configured")
            } else {
                Verdict::warn(format!(
                    "insecure registries ({source}): {}; give them TLS certificates (certs.d) and remove them from insecure-registries",
                    named
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
        Rule::Tls => {
            let (hosts, source) = list(facts, "hosts");
            let tcp: Vec<&String> = hosts.iter().filter(|h| h.starts_with("tcp://")).collect();
            if tcp.is_empty() {
                return Verdict::pass(if hosts.is_empty() {
                    "no TCP listener: the API is on the local Unix socket only".to_string()
                } else {
                    format!("no TCP listener ({source}: {})", hosts.join(", "))
                });
            }
            let (verify, _) = boolean(facts, "tlsverify", false);
            let missing: Vec<&str> = ["tlscacert", "tlscert", "tlskey"]
                .into_iter()
                .filter(|k| string(facts, k).0.is_empty())
                .collect();
            let listeners = tcp
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            if verify && missing.is_empty() {
                Verdict::pass(format!(
                    "TCP listener {listeners} with tlsverify and a CA, certificate and key"
                ))
            } else {
                let mut why = Vec::new();
                if !verify {
                    why.push("tlsverify is off".to_string());
                }
                if !missing.is_empty() {
                    why.push(format!("{} not set", missing.join(", ")));
                }
                Verdict::warn(format!(
                    "TCP listener {listeners} ({source}) without client verification: {}; anyone who reaches the port controls the host",
                    why.join(", ")
                ))
            }
        }
        Rule::DefaultUlimits => {
            let (limits, source) = list(facts, "default-ulimits");
            if limits.is_empty() {
                Verdict::new(Status::Note, vec!["no default ulimits are set: containers inherit dockerd's limits; set default-ulimits if your workloads need bounds".into()])
            } else {
                Verdict::new(
                    Status::Note,
                    vec![format!(
                        "default ulimits ({source}): {}; confirm they suit your workloads",
                        limits.join(", ")
                    )],
                )
            }
        }
        Rule::CgroupParent => {
            let (parent, source) = string(facts, "cgroup-parent");
            if parent.is_empty() {
                Verdict::pass("cgroup-parent is not set: containers use the default cgroup")
            } else {
                Verdict::info(format!(
                    "cgroup-parent is {parent} ({source}); confirm this was a deliberate choice"
                ))
            }
        }
        Rule::BaseDeviceSize => {
            let (opts, source) = list(facts, "storage-opts");
            let basesize: Vec<&String> = opts
                .iter()
                .filter(|o| o.starts_with("dm.basesize"))
                .collect();
            if basesize.is_empty() {
                Verdict::pass("the base device size (dm.basesize) is not changed")
            } else {
                Verdict::warn(format!(
                    "{} ({source}): a larger base device uses more space for every container; remove it unless needed",
                    basesize
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
        Rule::AuthorizationPlugins => {
            let (plugins, source) = list(facts, "authorization-plugins");
            if plugins.is_empty() {
                Verdict::warn(
                    "no authorization plugin: anyone who reaches the API can do everything; install one (e.g. OPA's docker plugin) and name it in authorization-plugins",
                )
            } else {
                Verdict::pass(format!(
                    "authorization plugins ({source}): {}",
                    plugins.join(", ")
                ))
            }
        }
        Rule::SeccompProfile => {
            let (profile, source) = string(facts, "seccomp-profile");
            match profile.as_str() {
                "" | "builtin" | "default" => {
                    Verdict::pass("containers get Docker's default seccomp profile")
                }
                "unconfined" => Verdict::warn(format!(
                    "seccomp-profile is unconfined ({source}): containers run without a syscall filter"
                )),
                custom => Verdict::info(format!(
                    "custom seccomp profile {custom} ({source}); confirm it is at least as strict as Docker's default"
                )),
            }
        }
        Rule::Experimental => {
            let (on, source) = boolean(facts, "experimental", false);
            if on {
                Verdict::warn(format!(
                    "experimental features are on ({source}); turn them off in production"
                ))
            } else {
                Verdict::pass(format!("experimental features are off ({source})"))
            }
        }
    }
}

impl ItemKind for DaemonReportSpec {
    type Raw = DaemonReportSpec;
    const REPORT_ONLY: Option<&'static str> =
        Some("report only: the change needs a decision only the operator can make");

    fn from_raw(raw: DaemonReportSpec, _: &LoadContext<'_>) -> Result<DaemonReportSpec> {
        Ok(raw)
    }
    fn check(&self, facts: &Facts) -> Verdict {
        check(self, facts)
    }
}
