//! The one seam for the Docker Engine API. Production code asks dockerd through bollard; tests
//! hand in a fixed answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub use crate::containers::ContainerFacts;
use crate::containers::{MountFacts, PortFacts, ProcessFacts, UlimitFacts};

/// The parts of `GET /info` the checks judge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineInfo {
    pub server_version: String,
    pub api_version: String,
    pub logging_driver: String,
    pub live_restore: bool,
    pub storage_driver: String,
    pub docker_root_dir: String,
    pub security_options: Vec<String>,
    pub swarm_active: bool,
    /// Containers running now (a restart without live restore stops them).
    pub containers_running: u64,
}

impl EngineInfo {
    pub fn userns_enabled(&self) -> bool {
        self.security_options
            .iter()
            .any(|o| o.split(',').any(|part| part == "name=userns"))
    }
}

pub trait Engine: Send + Sync {
    /// The daemon's view of itself, asked at `socket` (the daemon's configured Unix socket);
    /// `Err` carries why it could not be asked.
    fn info(&self, socket: &str) -> Result<EngineInfo, String>;

    /// Every running container (every container when `all`), inspected; `Err` carries why
    /// they could not be listed.
    fn containers(&self, _socket: &str, _all: bool) -> Result<Vec<ContainerFacts>, String> {
        Ok(Vec::new())
    }
}

/// Talks to dockerd over its Unix socket.
pub struct BollardEngine {
    /// `--docker-host`/DOCKER_HOST, which wins over the daemon's configured socket.
    host_override: Option<String>,
    /// Container requests made so far (list, inspect, top).
    container_requests: AtomicUsize,
}

/// Container inspections in flight at once.
const CONTAINER_CONCURRENCY: usize = 16;

/// The oldest API the tool needs (dockerd 20.10); the client negotiates upward from here.
const PINNED_API: bollard::ClientVersion = bollard::ClientVersion {
    major_version: 1,
    minor_version: 41,
};
const API_TIMEOUT_SECS: u64 = 10;

impl BollardEngine {
    /// `host_override` is a `unix://` address or a socket path.
    pub fn new(host_override: Option<String>) -> BollardEngine {
        BollardEngine {
            host_override,
            container_requests: AtomicUsize::new(0),
        }
    }

    /// Container requests (list, inspect, top) made so far: one list per run, one inspect per
    /// container and one process list per running container.
    pub fn container_requests(&self) -> usize {
        self.container_requests.load(Ordering::SeqCst)
    }

    async fn connect(socket: &str) -> Result<bollard::Docker, String> {
        bollard::Docker::connect_with_unix(socket, API_TIMEOUT_SECS, &PINNED_API)
            .map_err(|e| format!("cannot connect to {socket}: {e}"))?
            .negotiate_version()
            .await
            .map_err(|e| format!("Docker API at {socket} did not answer: {e}"))
    }

    async fn query(socket: &str) -> Result<EngineInfo, String> {
        let docker = Self::connect(socket).await?;
        let info = docker
            .info()
            .await
            .map_err(|e| format!("Docker API info failed: {e}"))?;
        let swarm_active = info
            .swarm
            .as_ref()
            .and_then(|s| s.local_node_state.as_ref())
            .map(|state| state.to_string() == "active")
            .unwrap_or(false);
        Ok(EngineInfo {
            server_version: info.server_version.unwrap_or_default(),
            api_version: format!(
                "{}.{}",
                docker.client_version().major_version,
                docker.client_version().minor_version
            ),
            logging_driver: info.logging_driver.unwrap_or_default(),
            live_restore: info.live_restore_enabled.unwrap_or(false),
            storage_driver: info.driver.unwrap_or_default(),
            docker_root_dir: info.docker_root_dir.unwrap_or_default(),
            security_options: info.security_options.unwrap_or_default(),
            swarm_active,
            containers_running: info
                .containers_running
                .map(|n| n.max(0) as u64)
                .unwrap_or(0),
        })
    }
}

impl BollardEngine {
    /// The local socket path to ask: the override, else the daemon's.
    fn socket_path<'a>(&'a self, socket: &'a str) -> Result<&'a str, String> {
        let address = self.host_override.as_deref().unwrap_or(socket);
        let Some(socket) = address
            .strip_prefix("unix://")
            .or((!address.contains("://")).then_some(address))
        else {
            return Err(format!(
                "{address} is not a local Unix socket; docker-harden inspects the local daemon only"
            ));
        };
        if !std::path::Path::new(socket).exists() {
            return Err(format!("no Docker API socket at {socket}"));
        }
        Ok(socket)
    }

    fn block_on<T>(
        socket: &str,
        limit: Duration,
        work: impl std::future::Future<Output = Result<T, String>>,
    ) -> Result<T, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        runtime.block_on(async {
            tokio::time::timeout(limit, work)
                .await
                .unwrap_or_else(|_| Err(format!("Docker API at {socket} timed out")))
        })
    }

    async fn list_and_inspect(
        &self,
        socket: &str,
        all: bool,
    ) -> Result<Vec<ContainerFacts>, String> {
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        let docker = Self::connect(socket).await?;
        self.container_requests.fetch_add(1, Ordering::SeqCst);
        let listed = docker
            .list_containers(Some(bollard::query_parameters::ListContainersOptions {
                all,
                ..Default::default()
            }))
            .await
            .map_err(|e| format!("Docker API container list failed: {e}"))?;
        let ids: Vec<String> = listed.into_iter().filter_map(|c| c.id).collect();
        let docker = &docker;
        let mut found: Vec<ContainerFacts> = stream::iter(ids)
            .map(|id| async move { self.inspect_one(docker, &id).await })
            .buffer_unordered(CONTAINER_CONCURRENCY)
            .try_filter_map(|c| async move { Ok(c) })
            .try_collect()
            .await?;
        found.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(found)
    }

    /// `None` when the container went away between the list and the inspect.
    async fn inspect_one(
        &self,
        docker: &bollard::Docker,
        id: &str,
    ) -> Result<Option<ContainerFacts>, String> {
        self.container_requests.fetch_add(1, Ordering::SeqCst);
        let inspect = match docker.inspect_container(id, None).await {
            Ok(i) => i,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(None),
            Err(e) => return Err(format!("Docker API inspect of container {id} failed: {e}")),
        };
        let mut facts = container_facts(inspect);
        if facts.running {
            self.container_requests.fetch_add(1, Ordering::SeqCst);
            let options = bollard::query_parameters::TopOptions {
                ps_args: TOP_PS_ARGS.into(),
            };
            match docker.top_processes(id, Some(options)).await {
                Ok(top) => facts.processes = processes(top),
                // Stopped between inspect and top: no processes to judge.
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404 | 409,
                    ..
                }) => facts.running = false,
                Err(e) => {
                    return Err(format!(
                        "Docker API process list of container {id} failed: {e}"
                    ));
                }
            }
        }
        Ok(Some(facts))
    }
}

/// What dockerd passes to the host's ps for `/top`: the PID (dockerd needs it to pick the
/// container's processes), the kernel's name for the executable and the full command line
/// (last: dockerd joins the remaining words into the last column).
const TOP_PS_ARGS: &str = "-e -o pid -o comm=NAME -o args=COMMAND";

/// The NAME and COMMAND columns of `GET /containers/{id}/top`.
fn processes(top: bollard::models::ContainerTopResponse) -> Vec<ProcessFacts> {
    let titles = top.titles.unwrap_or_default();
    let column = |name: &str| titles.iter().position(|t| t == name);
    let (name, command) = (column("NAME"), column("COMMAND").or(column("CMD")));
    top.processes
        .unwrap_or_default()
        .into_iter()
        .map(|row| {
            let cell = |i: Option<usize>| i.and_then(|i| row.get(i).cloned()).unwrap_or_default();
            ProcessFacts {
                name: cell(name),
                command: cell(command),
            }
        })
        .collect()
}

fn container_facts(c: bollard::models::ContainerInspectResponse) -> ContainerFacts {
    let host = c.host_config.unwrap_or_default();
    let config = c.config.unwrap_or_default();
    let state = c.state.unwrap_or_default();
    let text = |v: Option<String>| v.unwrap_or_default();
    let mut ports: Vec<PortFacts> = host
        .port_bindings
        .unwrap_or_default()
        .into_iter()
        .flat_map(|(container_port, bindings)| {
            bindings
                .unwrap_or_default()
                .into_iter()
                .map(move |b| PortFacts {
                    container_port: container_port.clone(),
                    host_ip: b.host_ip.unwrap_or_default(),
                    host_port: b.host_port.unwrap_or_default(),
                })
        })
        .collect();
    ports.sort_by(|a, b| {
        (&a.container_port, &a.host_ip, &a.host_port).cmp(&(
            &b.container_port,
            &b.host_ip,
            &b.host_port,
        ))
    });
    let restart = host.restart_policy.unwrap_or_default();
    let healthcheck = config.healthcheck.as_ref().is_some_and(|h| {
        h.test
            .as_ref()
            .is_some_and(|t| !t.is_empty() && t[0] != "NONE")
    });
    ContainerFacts {
        id: text(c.id),
        name: text(c.name)
            .strip_prefix('/')
            .map(str::to_string)
            .unwrap_or_default(),
        image: config.image.or(c.image).unwrap_or_default(),
        user: text(config.user),
        running: state.running.unwrap_or(false),
        privileged: host.privileged.unwrap_or(false),
        network_mode: text(host.network_mode),
        pid_mode: text(host.pid_mode),
        ipc_mode: text(host.ipc_mode),
        uts_mode: text(host.uts_mode),
        userns_mode: text(host.userns_mode),
        cgroup_parent: text(host.cgroup_parent),
        memory: host.memory.unwrap_or(0),
        cpu_shares: host.cpu_shares.unwrap_or(0),
        nano_cpus: host.nano_cpus.unwrap_or(0),
        readonly_rootfs: host.readonly_rootfs.unwrap_or(false),
        cap_add: host.cap_add.unwrap_or_default(),
        security_opt: host.security_opt.unwrap_or_default(),
        apparmor_profile: text(c.app_armor_profile),
        mounts: c
            .mounts
            .unwrap_or_default()
            .into_iter()
            .map(|m| MountFacts {
                source: m.source.unwrap_or_default(),
                destination: m.destination.unwrap_or_default(),
                rw: m.rw.unwrap_or(false),
                propagation: m.propagation.unwrap_or_default(),
            })
            .collect(),
        ports,
        devices: host
            .devices
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.path_on_host.unwrap_or_default())
            .collect(),
        ulimits: host
            .ulimits
            .unwrap_or_default()
            .into_iter()
            .map(|u| UlimitFacts {
                name: u.name.unwrap_or_default(),
                soft: u.soft.unwrap_or(0),
                hard: u.hard.unwrap_or(0),
            })
            .collect(),
        pids_limit: host.pids_limit,
        restart_policy: restart.name.map(|n| n.to_string()).unwrap_or_default(),
        restart_max_retries: restart.maximum_retry_count.unwrap_or(0),
        healthcheck,
        health_status: state
            .health
            .and_then(|h| h.status)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        labels: config.labels.unwrap_or_default().into_iter().collect(),
        processes: Vec::new(),
    }
}

impl Engine for BollardEngine {
    fn info(&self, socket: &str) -> Result<EngineInfo, String> {
        let socket = self.socket_path(socket)?;
        Self::block_on(
            socket,
            Duration::from_secs(API_TIMEOUT_SECS + 2),
            Self::query(socket),
        )
    }

    fn containers(&self, socket: &str, all: bool) -> Result<Vec<ContainerFacts>, String> {
        let socket = self.socket_path(socket)?;
        Self::block_on(
            socket,
            Duration::from_secs(4 * API_TIMEOUT_SECS),
            self.list_and_inspect(socket, all),
        )
    }
}

/// A fixed answer, for tests and for hosts without Docker.
pub struct FixedEngine(pub Result<EngineInfo, String>);

impl Engine for FixedEngine {
    fn info(&self, _socket: &str) -> Result<EngineInfo, String> {
        self.0.clone()
    }
}
