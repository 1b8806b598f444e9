//! Which Docker engine a run targets, chosen by the docker CLI's own rules so that
//! `docker harden` and `docker-harden` mean the engine `docker` itself would talk to:
//! --context, then -H/--docker-host or DOCKER_HOST, then DOCKER_CONTEXT, then the current
//! context of the client configuration, then this host's daemon.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The context that stands for "no context": docker builds it from -H/DOCKER_HOST and the
/// local socket, and keeps no metadata for it.
const DEFAULT_CONTEXT: &str = "default";

/// The engine a run talks to, and what chose it (named in messages and reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The address (`unix:///run/docker.sock`, `tcp://host:2376`, `ssh://host`); `None` for
    /// this host's daemon at its configured socket, which the daemon facts find.
    pub host: Option<String>,
    pub origin: Origin,
}

/// What chose the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Nothing did: this host's daemon.
    Default,
    /// The -H/--docker-host option (docker's -H in plugin mode).
    HostFlag,
    /// The DOCKER_HOST environment variable.
    HostEnv,
    /// A docker context, and what named it.
    Context { name: String, named_by: NamedBy },
}

/// What named the context in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamedBy {
    /// --context (docker's --context in plugin mode).
    Flag,
    /// The DOCKER_CONTEXT environment variable.
    Env,
    /// `currentContext` in this client configuration file (`docker context use`).
    Config(PathBuf),
}

impl fmt::Display for NamedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamedBy::Flag => write!(f, "from --context"),
            NamedBy::Env => write!(f, "from DOCKER_CONTEXT"),
            NamedBy::Config(path) => write!(f, "the current context in {}", path.display()),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => write!(f, "the default"),
            Origin::HostFlag => write!(f, "from -H/--docker-host"),
            Origin::HostEnv => write!(f, "from DOCKER_HOST"),
            Origin::Context { name, named_by } => write!(f, "context \"{name}\", {named_by}"),
        }
    }
}

impl Origin {
    /// A stable name for reports (the JSON `engine.origin`).
    pub(crate) fn key(&self) -> &'static str {
        match self {
            Origin::Default => "default",
            Origin::HostFlag => "docker-host-option",
            Origin::HostEnv => "DOCKER_HOST",
            Origin::Context {
                named_by: NamedBy::Flag,
                ..
            } => "context-option",
            Origin::Context {
                named_by: NamedBy::Env,
                ..
            } => "DOCKER_CONTEXT",
            Origin::Context {
                named_by: NamedBy::Config(_),
                ..
            } => "current-context",
        }
    }

    /// How to undo this choice and reach this host's daemon instead.
    fn local_hint(&self) -> &'static str {
        match self {
            // Never remote: the default is the local daemon.
            Origin::Default => "drop the engine options",
            Origin::HostFlag => "drop -H/--docker-host",
            Origin::HostEnv => "unset DOCKER_HOST or pass -H unix:///var/run/docker.sock",
            Origin::Context {
                named_by: NamedBy::Flag,
                ..
            } => "pass --context default",
            Origin::Context {
                named_by: NamedBy::Env,
                ..
            } => "unset DOCKER_CONTEXT or pass --context default",
            Origin::Context {
                named_by: NamedBy::Config(_),
                ..
            } => "pass --context default or run `docker context use default`",
        }
    }

    pub(crate) fn context(&self) -> Option<&str> {
        match self {
            Origin::Context { name, .. } => Some(name),
            _ => None,
        }
    }
}

impl Endpoint {
    /// This host's daemon at its configured socket.
    pub fn local() -> Endpoint {
        Endpoint {
            host: None,
            origin: Origin::Default,
        }
    }

    /// Not a Unix socket on this machine. Only the address is judged: a Unix socket is this
    /// machine's by construction, while a TCP address may loop back to a daemon elsewhere
    /// (a tunnel), so every non-socket address counts as remote. docker reads an address
    /// without a scheme as TCP (`host:2375`); a bare absolute path is a socket.
    pub(crate) fn is_remote(&self) -> bool {
        self.host
            .as_deref()
            .is_some_and(|h| !(h.starts_with("unix://") || h.starts_with('/')))
    }

    /// The address, with this host's daemon socket standing in for the default.
    pub(crate) fn address(&self, daemon_socket: &Path) -> String {
        match &self.host {
            Some(host) => host.clone(),
            None => format!("unix://{}", daemon_socket.display()),
        }
    }

    /// Refuses `command` (which works on this host's files) when the engine is remote: its
    /// findings and fixes would be about this host while the user pointed at another one.
    pub(crate) fn refuse_remote(&self, command: &str) -> Result<()> {
        match &self.host {
            Some(address) if self.is_remote() => Err(Error::RemoteEngine {
                command: command.to_string(),
                address: address.clone(),
                origin: self.origin.to_string(),
                hint: self.origin.local_hint().to_string(),
            }),
            _ => Ok(()),
        }
    }
}

/// What chooses the engine: the options given, and the client's environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Choice {
    /// --context.
    pub context: Option<String>,
    /// -H/--docker-host.
    pub host: Option<String>,
    /// --docker-config (docker's --config in plugin mode).
    pub config_dir: Option<PathBuf>,
    pub env: ClientEnv,
}

/// The environment variables the docker CLI reads to choose an engine (empty counts as unset,
/// as it does for docker).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientEnv {
    pub docker_host: Option<String>,
    pub docker_context: Option<String>,
    pub docker_config: Option<PathBuf>,
    pub home: Option<PathBuf>,
}

impl ClientEnv {
    pub(crate) fn from_process() -> ClientEnv {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        ClientEnv {
            docker_host: var("DOCKER_HOST").map(|v| v.to_string_lossy().into_owned()),
            docker_context: var("DOCKER_CONTEXT").map(|v| v.to_string_lossy().into_owned()),
            docker_config: var("DOCKER_CONFIG").map(PathBuf::from),
            // sudo and su may leave HOME unset; docker then asks the user database too.
            home: var("HOME").map(PathBuf::from).or_else(|| {
                nix::unistd::User::from_uid(nix::unistd::getuid())
                    .ok()
                    .flatten()
                    .map(|u| u.dir)
            }),
        }
    }
}

impl Choice {
    /// The client configuration directory: --docker-config, DOCKER_CONFIG, ~/.docker.
    pub(crate) fn config_dir(&self) -> Option<PathBuf> {
        self.config_dir
            .clone()
            .or_else(|| self.env.docker_config.clone())
            .or_else(|| self.env.home.as_ref().map(|h| h.join(".docker")))
    }

    /// The engine, by docker's precedence. A context that does not exist is an error, as it
    /// is for docker: guessing another engine could fix the wrong host.
    pub(crate) fn resolve(&self) -> Result<Endpoint> {
        if let Some(name) = self.context.as_deref().filter(|n| !n.is_empty()) {
            return self.context_endpoint(name, NamedBy::Flag);
        }
        if let Some(host) = self.host_endpoint() {
            return Ok(host);
        }
        if let Some(name) = self.env.docker_context.as_deref() {
            return self.context_endpoint(name, NamedBy::Env);
        }
        let Some(dir) = self.config_dir() else {
            return Ok(Endpoint::local());
        };
        let config = dir.join("config.json");
        match current_context(&config)? {
            Some(name) => self.context_endpoint(&name, NamedBy::Config(config)),
            None => Ok(Endpoint::local()),
        }
    }

    fn host_endpoint(&self) -> Option<Endpoint> {
        let flag = self.host.as_ref().filter(|h| !h.is_empty());
        flag.map(|h| (h, Origin::HostFlag))
            .or_else(|| self.env.docker_host.as_ref().map(|h| (h, Origin::HostEnv)))
            .map(|(host, origin)| Endpoint {
                host: Some(host.clone()),
                origin,
            })
    }

    fn context_endpoint(&self, name: &str, named_by: NamedBy) -> Result<Endpoint> {
        if name == DEFAULT_CONTEXT {
            return Ok(self.host_endpoint().unwrap_or_else(Endpoint::local));
        }
        // Without HOME or DOCKER_CONFIG there is no configuration, so no context: the path
        // stays in the message to say where docker would have looked.
        let meta = self
            .config_dir()
            .unwrap_or_else(|| PathBuf::from("~/.docker"))
            .join("contexts/meta")
            .join(context_dir(name))
            .join("meta.json");
        let text = match crate::input::read_file(&meta)? {
            Some(bytes) => crate::rootfs::text_from_bytes(&meta, bytes)?,
            None => {
                return Err(Error::UnknownContext {
                    name: name.to_string(),
                    named_by: named_by.to_string(),
                    path: meta,
                });
            }
        };
        let value = parse_json(&meta, &text)?;
        let host = value
            .pointer("/Endpoints/docker/Host")
            .and_then(Value::as_str)
            .filter(|h| !h.is_empty())
            .ok_or_else(|| Error::InvalidFile {
                path: meta.clone(),
                message: format!(
                    "context \"{name}\" has no Docker endpoint (Endpoints.docker.Host)"
                ),
            })?;
        Ok(Endpoint {
            host: Some(host.to_string()),
            origin: Origin::Context {
                name: name.to_string(),
                named_by,
            },
        })
    }
}

/// `currentContext` of a client configuration file; none when the file does not exist.
fn current_context(config: &Path) -> Result<Option<String>> {
    let text = match crate::input::read_file(config)? {
        Some(bytes) => crate::rootfs::text_from_bytes(config, bytes)?,
        None => return Ok(None),
    };
    Ok(parse_json(config, &text)?
        .get("currentContext")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_string))
}

fn parse_json(path: &Path, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::InvalidJson {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// docker stores a context's metadata under the SHA-256 of its name, in hex.
fn context_dir(name: &str) -> String {
    Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_context(dir: &Path, name: &str, host: &str) {
        let meta = dir.join("contexts/meta").join(context_dir(name));
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            format!(
                r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
            ),
        )
        .unwrap();
    }

    fn choice(dir: &Path) -> Choice {
        Choice {
            config_dir: Some(dir.to_path_buf()),
            ..Choice::default()
        }
    }

    #[test]
    fn context_directory_is_the_sha256_of_the_name() {
        // As `docker context create plain` lays it out.
        assert_eq!(
            context_dir("plain"),
            "a116c9ed46d6207734a43317d30fd88f52ac8634c37d904bbf4e41d865f90475"
        );
    }

    #[test]
    fn nothing_chosen_is_this_hosts_daemon() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(choice(dir.path()).resolve().unwrap(), Endpoint::local());
    }

    #[test]
    fn precedence_follows_the_docker_cli() {
        let dir = tempfile::tempdir().unwrap();
        write_context(dir.path(), "flag", "tcp://127.0.0.1:1");
        write_context(dir.path(), "env", "ssh://127.0.0.1");
        write_context(dir.path(), "current", "unix:///run/current.sock");
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{},"currentContext":"current"}"#,
        )
        .unwrap();
        let mut c = choice(dir.path());
        let current = c.resolve().unwrap();
        assert_eq!(current.host.as_deref(), Some("unix:///run/current.sock"));
        assert_eq!(current.origin.key(), "current-context");
        assert!(!current.is_remote());

        c.env.docker_context = Some("env".into());
        assert_eq!(
            c.resolve().unwrap().host.as_deref(),
            Some("ssh://127.0.0.1")
        );

        c.env.docker_host = Some("unix:///run/env.sock".into());
        let env = c.resolve().unwrap();
        assert_eq!(
            (env.host.as_deref(), env.origin),
            (Some("unix:///run/env.sock"), Origin::HostEnv)
        );

        c.host = Some("tcp://127.0.0.1:2".into());
        assert_eq!(c.resolve().unwrap().origin, Origin::HostFlag);

        c.context = Some("flag".into());
        let flag = c.resolve().unwrap();
        assert_eq!(flag.host.as_deref(), Some("tcp://127.0.0.1:1"));
        assert!(flag.is_remote());
        assert_eq!(flag.origin.to_string(), "context \"flag\", from --context");
    }

    #[test]
    fn the_default_context_means_the_host_options_or_the_local_daemon() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = choice(dir.path());
        c.context = Some("default".into());
        assert_eq!(c.resolve().unwrap(), Endpoint::local());
        c.env.docker_host = Some("tcp://127.0.0.1:1".into());
        assert_eq!(c.resolve().unwrap().origin, Origin::HostEnv);
    }

    #[test]
    fn a_missing_context_is_an_error_naming_what_chose_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"currentContext":"gone"}"#,
        )
        .unwrap();
        let err = choice(dir.path()).resolve().unwrap_err().to_string();
        assert!(err.contains("\"gone\""), "{err}");
        assert!(err.contains("current context in"), "{err}");
        assert!(err.contains("config.json"), "{err}");
    }

    #[test]
    fn a_broken_client_configuration_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), "{").unwrap();
        assert!(matches!(
            choice(dir.path()).resolve(),
            Err(Error::InvalidJson { .. })
        ));
    }

    #[test]
    fn config_dir_from_option_then_env_then_home() {
        let mut c = Choice {
            env: ClientEnv {
                home: Some("/home/u".into()),
                ..ClientEnv::default()
            },
            ..Choice::default()
        };
        assert_eq!(c.config_dir(), Some(PathBuf::from("/home/u/.docker")));
        c.env.docker_config = Some("/etc/dc".into());
        assert_eq!(c.config_dir(), Some(PathBuf::from("/etc/dc")));
        c.config_dir = Some("/opt/dc".into());
        assert_eq!(c.config_dir(), Some(PathBuf::from("/opt/dc")));
    }

    #[test]
    fn only_unix_sockets_are_local() {
        let at = |h: &str| Endpoint {
            host: Some(h.into()),
            origin: Origin::HostFlag,
        };
        assert!(!at("unix:///var/run/docker.sock").is_remote());
        assert!(!at("/var/run/docker.sock").is_remote());
        assert!(at("tcp://127.0.0.1:2375").is_remote());
        assert!(at("ssh://user@127.0.0.1").is_remote());
        assert!(at("127.0.0.1:2375").is_remote());
        assert!(!Endpoint::local().is_remote());
        let err = at("tcp://127.0.0.1:1").refuse_remote("fix").unwrap_err();
        assert!(err.to_string().contains("tcp://127.0.0.1:1"));
        assert!(err.to_string().contains("from -H/--docker-host"));
    }
}
