//! Remote logging (CIS 2.13): container logs leave the host. With the syslog driver pointed at
//! a local address, the local rsyslog must receive on it, or every `docker run` fails.

use super::{ItemKind, LoadContext};
use crate::vocabulary::Variables;
use crate::vocabulary::{SyslogAddress, SyslogEndpoint, SyslogTransport};
use serde::Deserialize;
use std::path::PathBuf;

use serde_json::{Map, Value};

use super::daemon_setting::{configured, conflict, edit_daemon_json};
use super::{FixOutcome, Verdict, docker_missing, flag_move};
use crate::error::Result;
use crate::facts::Facts;
use crate::facts::listeners;
use crate::plan::{ServiceAction, Workspace};
use crate::rsyslog::{self, Bind, ConfFile, Input, Proto};

#[derive(Debug, Clone)]
pub struct RemoteLoggingSpec {
    pub address: SyslogAddress,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRemoteLogging {
    address: String,
}

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

/// A plain network syslog-address on this host: what rsyslog must receive on, and the host
/// dockerd connects to, which is the only address a listener for it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Local {
    proto: Proto,
    host: String,
    port: u16,
}

fn local(address: &str) -> Option<Local> {
    let typed: SyslogAddress = address.parse().ok()?;
    match (&typed.endpoint, typed.transport) {
        (_, SyslogTransport::TcpTls) => None,
        (SyslogEndpoint::Net { host, port }, transport) if typed.is_local() => Some(Local {
            proto: if transport == SyslogTransport::Udp {
                Proto::Udp
            } else {
                Proto::Tcp
            },
            host: host.clone(),
            port: *port,
        }),
        _ => None,
    }
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
    let SyslogEndpoint::Net { port, host } = &typed.endpoint else {
        return Receiver::Nobody(format!(
            "docker-harden cannot tell whether anything receives on the socket of {address} (dockerd refuses to start while it is missing); set this address by hand once it exists"
        ));
    };
    let port = *port;
    let proto = match typed.transport {
        SyslogTransport::Udp => Proto::Udp,
        _ => Proto::Tcp,
    };
    if facts.rsyslog.installed
        && rsyslog::listens(files, proto, port, host)
        && let Some(input) = rsyslog::inputs(files, proto, port)
            .into_iter()
            .find(|i| i.bind.serves(host))
    {
        return Receiver::Here(format!(
            "rsyslog receives on {}/{port} {} ({}:{})",
            proto_name(proto),
            bound(&input.bind),
            input.at.path,
            input.at.line
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

fn bound(bind: &Bind) -> String {
    match bind {
        Bind::Every => "on every interface".into(),
        Bind::Only(a) => format!("at {a}"),
    }
}

/// How docker-harden knows it started an input itself, if it did. Only such an input is
/// narrowed by the fix: one the operator configured may serve other senders (a log collector
/// for the network), and rewriting it would cut them off without a word, so it is reported
/// with what to change instead. The proof is either a saved run (not rolled back) whose copy
/// of the file has the input active where its original did not, the statement unchanged
/// since; or the header docker-harden writes above the statements it appends. An input
/// uncommented by hand looks like one the 2.13 fix of earlier versions uncommented, so
/// without a run's record it counts as the operator's: the safe side, as reporting it
/// changes nothing.
fn started_by_us(
    facts: &Facts,
    files: &[ConfFile],
    target: &Local,
    input: &Input,
) -> Option<String> {
    let by_run = facts.rsyslog.written.iter().find(|w| {
        w.path == input.at.path
            && rsyslog::inputs_started(w.before.as_deref(), &w.after, target.proto, target.port)
                .contains(&input.key)
    });
    if let Some(w) = by_run {
        return Some(format!("docker-harden run {} started it", w.run_id));
    }
    files
        .iter()
        .find(|f| f.path == input.at.path)
        .filter(|f| rsyslog::in_own_block(&f.text, input.at.line))
        .map(|_| "docker-harden appended it under its header".to_string())
}

/// What listens for dockerd's logs wider than dockerd needs.
#[derive(Debug, Clone, Default)]
struct Exposure {
    /// Active inputs on the port bound to every interface, each with how docker-harden knows
    /// it started it (None: the operator's).
    wide: Vec<(Input, Option<String>)>,
    /// Live sockets on the port elsewhere than dockerd's host, when no input explains them.
    sockets: Vec<std::net::SocketAddr>,
    /// rsyslog's configuration receives for dockerd (so the sockets are not its inputs').
    rsyslog_serves: bool,
}

fn exposure(facts: &Facts, files: &[ConfFile], target: &Local) -> Exposure {
    let mut out = Exposure::default();
    if !facts.rsyslog.installed {
        return out;
    }
    // An input whose module is not loaded does not run: it listens nowhere.
    if rsyslog::module_loaded(files, target.proto).is_some() {
        out.wide = rsyslog::inputs(files, target.proto, target.port)
            .into_iter()
            .filter(|i| i.bind == Bind::Every)
            .map(|i| {
                let ours = started_by_us(facts, files, target, &i);
                (i, ours)
            })
            .collect();
    }
    if out.wide.is_empty()
        && target.proto == Proto::Tcp
        && let Some(live) = &facts.rsyslog.listeners
    {
        out.sockets = listeners::elsewhere(live, &target.host, target.port);
        out.rsyslog_serves = rsyslog::listens(files, target.proto, target.port, &target.host);
    }
    out
}

/// The WARN for an exposure, with what to change; None when nothing listens wider.
fn exposure_verdict(exp: &Exposure, target: &Local) -> Option<Verdict> {
    let proto = proto_name(target.proto);
    let (port, host) = (target.port, rsyslog::bind_address(&target.host));
    if let Some((first, _)) = exp.wide.first() {
        let mut v = Verdict::warn(format!(
            "rsyslog listens on every interface on {proto}/{port} ({}:{}): anyone who reaches this host can write its logs, while the one client, dockerd, sends to {host}",
            first.at.path, first.at.line
        ));
        let mut theirs = Vec::new();
        for (input, ours) in &exp.wide {
            match ours {
                Some(how) => v.evidence.push(format!(
                    "{}:{}: {how}; `docker-harden fix` binds it to {host}",
                    input.at.path, input.at.line
                )),
                None => {
                    v.evidence.push(format!(
                        "{}:{}: configured outside docker-harden, which leaves it as it is",
                        input.at.path, input.at.line
                    ));
                    theirs.push(input);
                }
            }
        }
        if !theirs.is_empty() {
            let wanted = format!(
                "input(type=\"{}\" port=\"{port}\" address=\"{host}\")",
                target.proto.module()
            );
            let how: Vec<String> = theirs
                .iter()
                .map(|i| {
                    if i.legacy {
                        format!(
                            "replace the legacy input at {}:{} (it cannot name an address) with {wanted}",
                            i.at.path, i.at.line
                        )
                    } else {
                        format!(
                            "add address=\"{host}\" to the input at {}:{}",
                            i.at.path, i.at.line
                        )
                    }
                })
                .collect();
            v = v.fix(format!(
                "unless other hosts send to this port on purpose, {}, then restart rsyslog",
                how.join("; ")
            ));
        }
        return Some(v);
    }
    if !exp.sockets.is_empty() {
        let whose = if exp.rsyslog_serves {
            format!("though rsyslog's inputs on it bind {host} alone")
        } else {
            "and no rsyslog input explains it".to_string()
        };
        return Some(
            Verdict::warn(format!(
                "tcp port {port} is open at {}, not only at {host} where dockerd sends, {whose}",
                listeners::names(&exp.sockets)
            ))
            .fix(format!(
                "if rsyslogd holds these sockets it still runs an older configuration: restart it (`systemctl restart rsyslog`); otherwise `ss -ltnp 'sport = :{port}'` names the program"
            )),
        );
    }
    None
}

fn proto_name(proto: Proto) -> &'static str {
    match proto {
        Proto::Tcp => "tcp",
        Proto::Udp => "udp",
    }
}

pub(crate) fn check(spec: &RemoteLoggingSpec, facts: &Facts) -> Verdict {
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
        if let Some(target) = local(&address)
            && let Some(mut v) =
                exposure_verdict(&exposure(facts, &facts.rsyslog.files, &target), &target)
        {
            v.evidence.extend(evidence);
            return v;
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

pub(crate) fn fix(
    spec: &RemoteLoggingSpec,
    facts: &Facts,
    ws: &mut Workspace,
) -> Result<FixOutcome> {
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

    let target = address.as_deref().and_then(local);
    if let (Some(Receiver::RsyslogCould(proto, port)), Some(target)) = (&receiving, &target) {
        let files = rsyslog_files(facts, ws);
        // Loading the module starts every input of its type: one docker-harden does not need
        // would be a listener nobody asked it for.
        if let Some(other) = rsyslog::woken_by_load(&files, *proto, *port, &target.host).first() {
            return Ok(FixOutcome::blocked(format!(
                "loading {} for dockerd's logs would also start the input at {}:{} (bound {}), which rsyslog does not run now because the module is not loaded; remove that input, or load the module yourself if it is wanted",
                proto.module(),
                other.at.path,
                other.at.line,
                match &other.bind {
                    Bind::Every => "to every interface".to_string(),
                    Bind::Only(a) => format!("to {a}"),
                }
            )));
        }
        for edit in rsyslog::plan_listen(
            &files,
            *proto,
            *port,
            &target.host,
            &facts.rsyslog.dropin.display().to_string(),
        ) {
            ws.write(&PathBuf::from(&edit.path), edit.after, RSYSLOG_FILE_MODE);
        }
        outcome.actions.insert(ServiceAction::RestartRsyslog);
        // dockerd opens the syslog connection at start; restart it after rsyslog listens.
        outcome.actions.insert(ServiceAction::RestartDocker);
    }
    // Inputs docker-harden started on every interface (the 2.13 fix of earlier versions
    // uncommented the distribution's lines as they were) are bound to dockerd's host; the
    // operator's are left for the check to report.
    let mut report_only = None;
    if let (Some(Receiver::Here(_) | Receiver::RsyslogCould(..)), Some(target)) =
        (&receiving, &target)
    {
        let files = rsyslog_files(facts, ws);
        let exp = exposure(facts, &files, target);
        let ours: Vec<Input> = exp
            .wide
            .iter()
            .filter(|(_, ours)| ours.is_some())
            .map(|(i, _)| i.clone())
            .collect();
        if !ours.is_empty() {
            for edit in rsyslog::plan_narrow(&files, target.proto, target.port, &target.host, &ours)
            {
                ws.write(&PathBuf::from(&edit.path), edit.after, RSYSLOG_FILE_MODE);
            }
            // rsyslog alone: the input keeps serving dockerd's address, and the syslog driver
            // dials again when a write on its old connection fails (srslog's writeAndRetry),
            // so a restart of dockerd, which stops containers without live-restore, buys
            // nothing.
            outcome.actions.insert(ServiceAction::RestartRsyslog);
        }
        let after = exposure(facts, &rsyslog_files(facts, ws), target);
        report_only = exposure_verdict(&after, target).map(|v| {
            let mut why = v.evidence.first().cloned().unwrap_or_default();
            if let Some(fix) = v.remediation {
                why = format!("{why}; {fix}");
            }
            why
        });
    }
    if outcome.actions.is_empty()
        && facts.live
        && let Some(info) = facts.daemon.engine_info()
        && info.logging_driver != driver
    {
        outcome.actions.insert(ServiceAction::RestartDocker);
    }
    // With nothing else to do, a listener wider than dockerd needs that is not
    // docker-harden's is what keeps the item from passing: say so instead of "nothing".
    if outcome.actions.is_empty()
        && let Some(why) = report_only
    {
        return Ok(FixOutcome::blocked(format!("report only: {why}")));
    }
    Ok(outcome)
}

impl ItemKind for RemoteLoggingSpec {
    type Raw = RawRemoteLogging;

    fn from_raw(raw: RawRemoteLogging, load: &LoadContext<'_>) -> Result<RemoteLoggingSpec> {
        let address = load.substitute(&raw.address)?;
        Ok(RemoteLoggingSpec {
            address: address
                .parse()
                .map_err(|e| load.invalid(format!("remote_logging.address: {e}")))?,
        })
    }
    fn check(&self, facts: &Facts) -> Verdict {
        check(self, facts)
    }
    fn fix(&self, facts: &Facts, _: &Variables, ws: &mut Workspace) -> Result<FixOutcome> {
        fix(self, facts, ws)
    }
}
