//! Remote logging (CIS 2.13): container logs leave the host. With the syslog driver pointed at
//! a local address, the local rsyslog must receive on it, or every `docker run` fails.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::daemon_setting::{configured, conflict, edit_daemon_json};
use super::{FixOutcome, Verdict, docker_missing, flag_move};
use crate::error::Result;
use crate::facts::Facts;
use crate::plan::{ServiceAction, Workspace};
use crate::playbook::{RemoteLoggingSpec, SyslogAddress, SyslogEndpoint, SyslogTransport};
use crate::rsyslog::{self, ConfFile, Proto};

/// Drivers that ship logs off the host (journald and json-file keep them local).
const REMOTE_DRIVERS: &[&str] = &[
    "syslog",
    "gelf",
    "fluentd",
    "awslogs",
    "splunk",
    "gcplogs",
    "logentries",
];
/// Options the syslog driver accepts; others (max-size from json-file...) make dockerd refuse it.
const SYSLOG_OPTS: &[&str] = &[
    "syslog-address",
    "syslog-facility",
    "syslog-tls-ca-cert",
    "syslog-tls-cert",
    "syslog-tls-key",
    "syslog-tls-skip-verify",
    "syslog-format",
    "tag",
    "labels",
    "labels-regex",
    "env",
    "env-regex",
    "mode",
    "max-buffer-size",
];
const RSYSLOG_FILE_MODE: u32 = 0o644;

/// The syslog-address dockerd will use: from --log-opt flags or daemon.json log-opts.
fn configured_address(facts: &Facts) -> Option<String> {
    let from_flag = facts
        .daemon
        .flags_for_key("log-opts")
        .iter()
        .rev()
        .find_map(|f| {
            f.flag
                .value
                .strip_prefix("syslog-address=")
                .map(str::to_string)
        });
    from_flag.or_else(|| {
        facts
            .daemon
            .json_value("log-opts")
            .and_then(|o| o.get("syslog-address"))
            .and_then(Value::as_str)
            .map(str::to_string)
    })
}

/// rsyslog's configuration as planned so far (so earlier edits in this run count).
fn rsyslog_files(facts: &Facts, ws: &Workspace) -> Vec<ConfFile> {
    let mut files: Vec<ConfFile> = facts
        .rsyslog
        .files
        .iter()
        .map(|f| ConfFile {
            path: f.path.clone(),
            text: ws.text(&PathBuf::from(&f.path)).unwrap_or_default(),
        })
        .collect();
    let dropin = facts.rsyslog.dropin.display().to_string();
    if let Some(text) = ws.text(&facts.rsyslog.dropin)
        && !files.iter().any(|f| f.path == dropin)
    {
        files.push(ConfFile { path: dropin, text });
    }
    files
}

/// Who would receive on a syslog-address, judged from the configuration as planned so far.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Receiver {
    /// Not on this host: docker-harden cannot tell, and takes the playbook's word.
    Elsewhere,
    /// Something on this host receives on it: what, and where it is configured.
    Here(String),
    /// rsyslog is installed and can be set to receive on it.
    RsyslogCould(Proto, u16),
    /// Nothing would, and docker-harden cannot set anything up: why. The syslog driver must
    /// not be switched on then: every container would fail to start.
    Nobody(String),
}

fn receiver(facts: &Facts, files: &[ConfFile], address: &str) -> Receiver {
    let typed: SyslogAddress = match address.parse() {
        Ok(a) => a,
        // Judged where the address is read: dockerd refuses it anyway.
        Err(_) => return Receiver::Elsewhere,
    };
    if !typed.is_local() {
        return Receiver::Elsewhere;
    }
    let SyslogEndpoint::Net { port, .. } = typed.endpoint else {
        return Receiver::Nobody(format!(
            "docker-harden cannot tell whether anything receives on the socket of {address} (dockerd refuses to start while it is missing); set this address by hand once it exists"
        ));
    };
    let proto = match typed.transport {
        SyslogTransport::Udp => Proto::Udp,
        _ => Proto::Tcp,
    };
    if facts.rsyslog.installed
        && let Some(at) = rsyslog::input_declared(files, proto, port)
            .filter(|_| rsyslog::listens(files, proto, port))
    {
        return Receiver::Here(format!(
            "rsyslog receives on {}/{port} ({}:{})",
            proto_name(proto),
            at.path,
            at.line
        ));
    }
    if proto == Proto::Tcp
        && let Some(listeners) = &facts.host.tcp_listeners
        && let Some(l) = listeners
            .iter()
            .find(|l| l.port() == port && (l.ip().is_loopback() || l.ip().is_unspecified()))
    {
        return Receiver::Here(format!("a TCP socket listens on {l}"));
    }
    if typed.transport == SyslogTransport::TcpTls {
        return Receiver::Nobody(format!(
            "nothing on this host receives TLS on {address}, and docker-harden sets up only plain tcp or udp reception; configure the TLS listener first"
        ));
    }
    if !facts.rsyslog.installed {
        return Receiver::Nobody(format!(
            "rsyslog is not installed, so nothing would receive on {address}; install rsyslog first"
        ));
    }
    Receiver::RsyslogCould(proto, port)
}

fn proto_name(proto: Proto) -> &'static str {
    match proto {
        Proto::Tcp => "tcp",
        Proto::Udp => "udp",
    }
}

pub fn check(spec: &RemoteLoggingSpec, facts: &Facts) -> Verdict {
    if let Some(v) = docker_missing(facts) {
        return v;
    }
    for key in ["log-driver", "log-opts"] {
        if let Some(message) = conflict(facts, key) {
            return Verdict::warn(message);
        }
    }
    let (driver, source) = configured(facts, "log-driver", &Value::String("json-file".into()));
    let driver = driver.as_str().unwrap_or_default().to_string();
    if !REMOTE_DRIVERS.contains(&driver.as_str()) {
        return Verdict::warn(format!(
            "log-driver is {driver} ({source}): container logs stay on this host; want syslog to {}",
            spec.address
        ));
    }
    let mut evidence = vec![format!("log-driver is {driver} ({source})")];
    if driver == "syslog" {
        let Some(address) = configured_address(facts) else {
            return Verdict::warn(format!(
                "log-driver is syslog ({source}) without syslog-address: logs go to the local /dev/log only; want {}",
                spec.address
            ));
        };
        if let Err(why) = address.parse::<SyslogAddress>() {
            return Verdict::warn(format!("syslog-address: {why}"));
        }
        evidence.push(format!("syslog-address is {address}"));
        match receiver(facts, &facts.rsyslog.files, &address) {
            Receiver::Elsewhere => {}
            Receiver::Here(what) => evidence.push(what),
            Receiver::RsyslogCould(proto, port) => {
                let mut v = Verdict::warn(format!(
                    "syslog-address {address} is on this host but rsyslog's configuration does not receive on {}/{port}",
                    proto_name(proto)
                ));
                v.evidence.extend(evidence);
                return v;
            }
            Receiver::Nobody(why) if !facts.rsyslog.installed => {
                let mut v = Verdict::warn(format!(
                    "syslog-address {address} is on this host but rsyslog is not installed: containers will fail to start"
                ));
                v.evidence.push(why);
                return v;
            }
            Receiver::Nobody(why) => {
                let mut v = Verdict::warn(format!(
                    "syslog-address {address} is on this host but nothing receives on it: containers will fail to start"
                ));
                v.evidence.push(why);
                return v;
            }
        }
    }
    if let Some(info) = facts.daemon.engine_info()
        && info.logging_driver != driver
    {
        let mut v = Verdict::pending(format!(
            "the running dockerd logs with {} but the configuration says {driver}: pending restart",
            info.logging_driver
        ));
        v.evidence.extend(evidence);
        return v;
    }
    super::Verdict::new(super::Status::Pass, evidence)
}

pub fn fix(spec: &RemoteLoggingSpec, facts: &Facts, ws: &mut Workspace) -> Result<FixOutcome> {
    if !facts.daemon.installed {
        return Ok(FixOutcome::blocked("dockerd is not installed"));
    }
    let opt_flags = facts.daemon.flags_for_key("log-opts");
    let (driver, _) = configured(facts, "log-driver", &Value::String("json-file".into()));
    let driver = driver.as_str().unwrap_or_default().to_string();
    let address_now = configured_address(facts);
    // An address dockerd cannot use counts as none: the playbook's replaces it.
    let address_now = address_now.filter(|a| a.parse::<SyslogAddress>().is_ok());
    let needs_driver =
        !REMOTE_DRIVERS.contains(&driver.as_str()) || (driver == "syslog" && address_now.is_none());
    let address = if needs_driver {
        Some(spec.address.as_str().to_string())
    } else if driver == "syslog" {
        address_now
    } else {
        None
    };
    // Decided before anything is planned: with nothing to receive, switching the driver on
    // would make every container fail to start.
    let receiving = address
        .as_deref()
        .map(|a| receiver(facts, &rsyslog_files(facts, ws), a));
    if let Some(Receiver::Nobody(why)) = &receiving {
        return Ok(FixOutcome::blocked(why.clone()));
    }

    let mut outcome = FixOutcome::default();
    if needs_driver {
        // Options given as --log-opt flags that the syslog driver accepts move into log-opts.
        let moved_opts: Vec<(String, String)> = opt_flags
            .iter()
            .filter_map(|f| f.flag.value.split_once('='))
            .filter(|(k, _)| SYSLOG_OPTS.contains(k))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for key in ["log-driver", "log-opts"] {
            match flag_move::plan(facts, ws, key) {
                Ok(action) => outcome.actions.extend(action),
                Err(reason) => return Ok(FixOutcome::blocked(reason)),
            }
        }
        let addr = spec.address.as_str().to_string();
        edit_daemon_json(facts, ws, move |map| {
            map.insert("log-driver".into(), Value::String("syslog".into()));
            let mut opts: Map<String, Value> = map
                .get("log-opts")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            opts.retain(|k, _| SYSLOG_OPTS.contains(&k.as_str()));
            for (k, v) in moved_opts {
                opts.insert(k, Value::String(v));
            }
            opts.insert("syslog-address".into(), Value::String(addr));
            map.insert("log-opts".into(), Value::Object(opts));
        })?;
        outcome.actions.insert(ServiceAction::RestartDocker);
    }

    if let Some(Receiver::RsyslogCould(proto, port)) = receiving {
        let files = rsyslog_files(facts, ws);
        for edit in rsyslog::plan_listen(
            &files,
            proto,
            port,
            &facts.rsyslog.dropin.display().to_string(),
        ) {
            ws.write(&PathBuf::from(&edit.path), edit.after, RSYSLOG_FILE_MODE);
        }
        outcome.actions.insert(ServiceAction::RestartRsyslog);
        // dockerd opens the syslog connection at start; restart it after rsyslog listens.
        outcome.actions.insert(ServiceAction::RestartDocker);
    }
    if outcome.actions.is_empty()
        && facts.live
        && let Some(info) = facts.daemon.engine_info()
        && info.logging_driver != driver
    {
        outcome.actions.insert(ServiceAction::RestartDocker);
    }
    Ok(outcome)
}
