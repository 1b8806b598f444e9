//! The one seam for the Docker Engine API. Production code asks dockerd through bollard; tests
//! hand in a fixed answer.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub(crate) use crate::containers::ContainerFacts;
use crate::containers::{MountFacts, PortFacts, ProcessFacts, UlimitFacts};
use crate::error::EngineError;
use crate::images::ImageFacts;
use crate::workloads::{ListedContainer, NetworkFacts, Workloads};

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
    pub swarm: SwarmFacts,
    /// Containers running now (a restart without live restore stops them).
    pub containers_running: u64,
}

/// This node's part in a swarm, from the `Swarm` section of `GET /info`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwarmFacts {
    /// "inactive", "pending", "active", "error" or "locked".
    pub(crate) state: String,
    /// This node is a manager (it can answer swarm-wide requests).
    pub(crate) manager: bool,
    pub(crate) managers: u64,
    pub(crate) nodes: u64,
    /// The address other nodes reach this one at.
    pub(crate) node_addr: String,
    /// This manager's swarm address ("127.0.0.1:2377"), from the list of managers.
    pub(crate) manager_addr: Option<String>,
    /// Managers lock their keys at restart (managers only: the cluster spec).
    pub(crate) autolock: Option<bool>,
    /// How long node certificates live, in seconds (managers only).
    pub(crate) node_cert_expiry_secs: Option<u64>,
}

impl SwarmFacts {
    /// Part of a swarm, or joining one, in any state but "inactive".
    pub(crate) fn enabled(&self) -> bool {
        !matches!(self.state.as_str(), "" | "inactive")
    }
}

impl EngineInfo {
    pub(crate) fn userns_enabled(&self) -> bool {
        self.security_options
            .iter()
            .any(|o| o.split(',').any(|part| part == "name=userns"))
    }
}

/// A container's run state, as a dockerd restart can change it: whether it runs, its main
/// process, and where it sends its logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerState {
    pub id: String,
    /// Without the API's leading '/'.
    pub name: String,
    pub running: bool,
    /// The main process's PID on the host (0 when not running).
    pub pid: u32,
    /// "running", "exited (255)", "created"...
    pub status: String,
    pub restart_policy: String,
    pub log_driver: String,
    /// `syslog-address` of the syslog log driver, when it is set.
    pub syslog_address: Option<String>,
}

pub trait Engine: Send + Sync {
    /// The daemon's view of itself, asked at `socket` (the daemon's configured Unix socket);
    /// `Err` carries why it could not be asked.
    fn info(&self, socket: &str) -> Result<EngineInfo, EngineError>;

    /// The host's containers, images, networks and (on a swarm manager) secrets; running
    /// containers are inspected (every container when `request.all_containers`). `Err` carries
    /// why they could not be listed.
    fn workloads(
        &self,
        _socket: &str,
        _request: &WorkloadRequest,
    ) -> Result<Workloads, EngineError> {
        Ok(Workloads::default())
    }

    /// A running container's processes as dockerd lists them (`/top`), for a container whose
    /// processes the host's /proc does not show; `None` when it is no longer running.
    fn processes(
        &self,
        _socket: &str,
        _id: &str,
    ) -> Result<Option<Vec<ProcessFacts>>, EngineError> {
        Ok(Some(Vec::new()))
    }

    /// The Unix socket on this host that the requests for the daemon at `socket` go to (the
    /// facts judge the dockerd serving it); `None` when they go elsewhere (TCP, ssh).
    fn local_socket(&self, socket: &str) -> Option<PathBuf> {
        unix_path(socket).map(PathBuf::from)
    }

    /// Every container (all states) with its run state: one list and one inspect each.
    fn container_states(&self, _socket: &str) -> Result<Vec<ContainerState>, EngineError> {
        Ok(Vec::new())
    }

    /// Starts a container again (one a restart stopped).
    fn start_container(&self, _socket: &str, id: &str) -> Result<(), EngineError> {
        Err(EngineError::CannotStart { id: id.into() })
    }
}

/// The socket path of a `unix://` address or a bare absolute path; `None` for anything else,
/// which docker reads as TCP (`host:port`), as `Endpoint::is_remote` does.
pub(crate) fn unix_path(address: &str) -> Option<&str> {
    address
        .strip_prefix("unix://")
        .or(address.starts_with('/').then_some(address))
        .filter(|p| !p.is_empty())
}

/// What to ask beyond the one container list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkloadRequest {
    /// Inspect stopped and created containers too.
    pub(crate) all_containers: bool,
    /// This node is a swarm manager, so secrets can be listed.
    pub(crate) swarm_manager: bool,
}

/// Requests made to the Engine API, by what they ask about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// The container list, one inspect per container, and a process list for each running
    /// container whose processes the host's /proc does not show.
    pub containers: usize,
    /// The image list, one inspect and one history per image.
    pub images: usize,
    /// The network list and the secret list.
    pub other: usize,
}

/// Talks to dockerd over its Unix socket.
pub struct BollardEngine {
    /// The engine the user chose (`endpoint::Endpoint::host`), which wins over the daemon's
    /// configured socket.
    host_override: Option<String>,
    /// Requests made so far: containers, images, other.
    requests: [AtomicUsize; 3],
}

/// Inspections (of containers or images) in flight at once.
const CONCURRENCY: usize = 16;

const CONTAINERS: usize = 0;
const IMAGES: usize = 1;
const OTHER: usize = 2;

/// The oldest API the tool needs (dockerd 20.10): the client connects at it, negotiates down
/// for an older engine and moves up to a newer engine's own version (see `connect`).
const PINNED_API: bollard::ClientVersion = bollard::ClientVersion {
    major_version: 1,
    minor_version: 41,
};
const API_TIMEOUT_SECS: u64 = 10;

/// "1.45" as the engine states its API version.
fn parse_api_version(text: &str) -> Option<bollard::ClientVersion> {
    let (major, minor) = text.trim().split_once('.')?;
    Some(bollard::ClientVersion {
        major_version: major.parse().ok()?,
        minor_version: minor.parse().ok()?,
    })
}

impl BollardEngine {
    /// `host_override` is a `unix://` address or a socket path.
    pub fn new(host_override: Option<String>) -> BollardEngine {
        BollardEngine {
            host_override,
            requests: Default::default(),
        }
    }

    /// Container requests (list, inspect, top) made so far.
    pub fn container_requests(&self) -> usize {
        self.requests().containers
    }

    pub fn requests(&self) -> RequestCounts {
        let count = |i: usize| self.requests[i].load(Ordering::SeqCst);
        RequestCounts {
            containers: count(CONTAINERS),
            images: count(IMAGES),
            other: count(OTHER),
        }
    }

    fn count(&self, kind: usize) {
        self.requests[kind].fetch_add(1, Ordering::SeqCst);
    }

    async fn connect(socket: &str) -> Result<bollard::Docker, EngineError> {
        let open = |version: &bollard::ClientVersion| {
            bollard::Docker::connect_with_unix(socket, API_TIMEOUT_SECS, version).map_err(|e| {
                EngineError::Connect {
                    socket: socket.into(),
                    reason: e.to_string(),
                }
            })
        };
        let no_answer = |e: bollard::errors::Error| EngineError::NoAnswer {
            socket: socket.into(),
            reason: e.to_string(),
        };
        let docker = open(&PINNED_API)?
            .negotiate_version()
            .await
            .map_err(no_answer)?;
        // Negotiation only ever lowers the version: a newer engine (Docker 26 speaks 1.45) is
        // then asked at its own version, up to the newest bollard knows, so its answers carry
        // what that API reports rather than what 1.41 did.
        let as_pair = |v: &bollard::ClientVersion| (v.major_version, v.minor_version);
        if as_pair(&docker.client_version()) < as_pair(&PINNED_API) {
            return Ok(docker);
        }
        let server = docker.version().await.map_err(no_answer)?;
        let Some(server) = server.api_version.as_deref().and_then(parse_api_version) else {
            return Ok(docker);
        };
        let speak = std::cmp::min(as_pair(&server), as_pair(bollard::API_DEFAULT_VERSION));
        if speak <= as_pair(&PINNED_API) {
            return Ok(docker);
        }
        open(&bollard::ClientVersion {
            major_version: speak.0,
            minor_version: speak.1,
        })
    }

    async fn query(socket: &str) -> Result<EngineInfo, EngineError> {
        let docker = Self::connect(socket).await?;
        let info = docker.info().await.map_err(|e| request_failed("info", e))?;
        let swarm = swarm_facts(info.swarm.clone().unwrap_or_default());
        let swarm_active = swarm.state == "active";
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
            swarm,
            containers_running: info
                .containers_running
                .map(|n| n.max(0) as u64)
                .unwrap_or(0),
        })
    }
}

impl BollardEngine {
    /// The address asked for the daemon at `socket`: the override, else the daemon's.
    fn address<'a>(&'a self, socket: &'a str) -> &'a str {
        // A `unix://` address names one daemon's own socket (a rootless daemon's), which no
        // override replaces; a bare path is the system daemon's and --docker-host wins.
        if socket.starts_with("unix://") {
            socket
        } else {
            self.host_override.as_deref().unwrap_or(socket)
        }
    }

    /// The local socket path to ask: the override, else the daemon's.
    fn socket_path<'a>(&'a self, socket: &'a str) -> Result<&'a str, EngineError> {
        let address = self.address(socket);
        let Some(socket) = unix_path(address) else {
            // The same rule as `Endpoint::is_remote`: docker reads `host:port` as TCP.
            return Err(EngineError::NotLocal {
                address: address.into(),
            });
        };
        if !std::path::Path::new(socket).exists() {
            return Err(EngineError::NoSocket {
                socket: socket.into(),
            });
        }
        Ok(socket)
    }

    fn block_on<T>(
        socket: &str,
        limit: Duration,
        work: impl std::future::Future<Output = Result<T, EngineError>>,
    ) -> Result<T, EngineError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| EngineError::Runtime {
                reason: e.to_string(),
            })?;
        runtime.block_on(async {
            tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
                Err(EngineError::TimedOut {
                    socket: socket.into(),
                })
            })
        })
    }

    async fn gather_workloads(
        &self,
        socket: &str,
        request: WorkloadRequest,
    ) -> Result<Workloads, EngineError> {
        let docker = Self::connect(socket).await?;
        let (containers, images, networks, secrets) = futures_util::future::try_join4(
            self.containers(&docker, request.all_containers),
            self.images(&docker),
            self.networks(&docker),
            self.secrets(&docker, request.swarm_manager),
        )
        .await?;
        let (listed, containers) = containers;
        Ok(Workloads {
            containers,
            listed,
            images,
            networks,
            secrets,
        })
    }

    /// Every container listed (all states: sprawl counts stopped ones), and the ones in scope
    /// inspected.
    async fn containers(
        &self,
        docker: &bollard::Docker,
        all: bool,
    ) -> Result<(Vec<ListedContainer>, Vec<ContainerFacts>), EngineError> {
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        self.count(CONTAINERS);
        let summaries = docker
            .list_containers(Some(bollard::query_parameters::ListContainersOptions {
                all: true,
                ..Default::default()
            }))
            .await
            .map_err(|e| request_failed("container list", e))?;
        let mut listed: Vec<ListedContainer> = summaries
            .into_iter()
            .filter_map(|c| {
                Some(ListedContainer {
                    id: c.id?,
                    name: c
                        .names
                        .unwrap_or_default()
                        .first()
                        .map(|n| n.strip_prefix('/').unwrap_or(n).to_string())
                        .unwrap_or_default(),
                    image_id: c.image_id.unwrap_or_default(),
                    running: c.state.is_some_and(|s| s.to_string() == "running"),
                })
            })
            .collect();
        listed.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        let ids: Vec<String> = listed
            .iter()
            .filter(|c| all || c.running)
            .map(|c| c.id.clone())
            .collect();
        let mut found: Vec<ContainerFacts> = stream::iter(ids)
            .map(|id| async move { self.inspect_container(docker, &id).await })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|c| async move { Ok(c) })
            .try_collect()
            .await?;
        if !all {
            // Stopped between the list and the inspect.
            found.retain(|c| c.running);
        }
        found.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok((listed, found))
    }

    /// The top-level images (not intermediate build layers), each inspected with its history.
    async fn images(&self, docker: &bollard::Docker) -> Result<Vec<ImageFacts>, EngineError> {
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        self.count(IMAGES);
        let summaries = docker
            .list_images(None::<bollard::query_parameters::ListImagesOptions>)
            .await
            .map_err(|e| request_failed("image list", e))?;
        let mut found: Vec<ImageFacts> = stream::iter(summaries)
            .map(|summary| async move { self.inspect_image(docker, summary).await })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|i| async move { Ok(i) })
            .try_collect()
            .await?;
        found.sort_by_key(ImageFacts::display);
        Ok(found)
    }

    /// `None` when the image was removed between the list and the inspect.
    async fn inspect_image(
        &self,
        docker: &bollard::Docker,
        summary: bollard::models::ImageSummary,
    ) -> Result<Option<ImageFacts>, EngineError> {
        let id = summary.id;
        self.count(IMAGES);
        let inspect = match docker.inspect_image(&id).await {
            Ok(i) => i,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(None),
            Err(e) => return Err(request_failed(&format!("inspect of image {id}"), e)),
        };
        self.count(IMAGES);
        let history = match docker.image_history(&id).await {
            Ok(h) => h,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(None),
            Err(e) => return Err(request_failed(&format!("history of image {id}"), e)),
        };
        let config = inspect.config.unwrap_or_default();
        let mut tags: Vec<String> = summary
            .repo_tags
            .into_iter()
            .filter(|t| t != "<none>:<none>")
            .collect();
        tags.sort();
        Ok(Some(ImageFacts {
            id,
            tags,
            healthcheck: configured_healthcheck(config.healthcheck.as_ref()),
            user: config.user.unwrap_or_default(),
            // The API gives the newest layer first.
            history: history.into_iter().rev().map(|h| h.created_by).collect(),
        }))
    }

    async fn networks(&self, docker: &bollard::Docker) -> Result<Vec<NetworkFacts>, EngineError> {
        self.count(OTHER);
        let networks = docker
            .list_networks(None)
            .await
            .map_err(|e| request_failed("network list", e))?;
        let mut found: Vec<NetworkFacts> = networks
            .into_iter()
            .map(|n| NetworkFacts {
                id: n.id.unwrap_or_default(),
                name: n.name.unwrap_or_default(),
                driver: n.driver.unwrap_or_default(),
                options: n.options.unwrap_or_default().into_iter().collect(),
            })
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(found)
    }

    /// Only a swarm manager can list secrets.
    async fn secrets(
        &self,
        docker: &bollard::Docker,
        manager: bool,
    ) -> Result<Option<usize>, EngineError> {
        if !manager {
            return Ok(None);
        }
        self.count(OTHER);
        docker
            .list_secrets(None)
            .await
            .map(|s| Some(s.len()))
            .map_err(|e| request_failed("secret list", e))
    }

    /// `None` when the container went away between the list and the inspect.
    async fn inspect_container(
        &self,
        docker: &bollard::Docker,
        id: &str,
    ) -> Result<Option<ContainerFacts>, EngineError> {
        self.count(CONTAINERS);
        let inspect = match docker.inspect_container(id, None).await {
            Ok(i) => i,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(None),
            Err(e) => return Err(request_failed(&format!("inspect of container {id}"), e)),
        };
        Ok(Some(container_facts(inspect)))
    }

    async fn states(&self, socket: &str) -> Result<Vec<ContainerState>, EngineError> {
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        let docker = Self::connect(socket).await?;
        self.count(CONTAINERS);
        let ids: Vec<String> = docker
            .list_containers(Some(bollard::query_parameters::ListContainersOptions {
                all: true,
                ..Default::default()
            }))
            .await
            .map_err(|e| request_failed("container list", e))?
            .into_iter()
            .filter_map(|c| c.id)
            .collect();
        let docker = &docker;
        let mut states: Vec<ContainerState> = stream::iter(ids)
            .map(|id| async move {
                self.count(CONTAINERS);
                match docker.inspect_container(&id, None).await {
                    Ok(i) => Ok(Some(container_state(i))),
                    // Removed between the list and the inspect.
                    Err(bollard::errors::Error::DockerResponseServerError {
                        status_code: 404,
                        ..
                    }) => Ok(None),
                    Err(e) => Err(request_failed(&format!("inspect of container {id}"), e)),
                }
            })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|c| async move { Ok(c) })
            .try_collect()
            .await?;
        states.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(states)
    }

    async fn start(&self, socket: &str, id: &str) -> Result<(), EngineError> {
        let docker = Self::connect(socket).await?;
        self.count(CONTAINERS);
        docker
            .start_container(id, None::<bollard::query_parameters::StartContainerOptions>)
            .await
            .map_err(|e| EngineError::Start {
                id: id.into(),
                reason: e.to_string(),
            })
    }

    /// `GET /containers/{id}/top`; `None` when the container stopped or went away meanwhile.
    async fn top(&self, socket: &str, id: &str) -> Result<Option<Vec<ProcessFacts>>, EngineError> {
        let docker = Self::connect(socket).await?;
        self.count(CONTAINERS);
        let options = bollard::query_parameters::TopOptions {
            ps_args: TOP_PS_ARGS.into(),
        };
        match docker.top_processes(id, Some(options)).await {
            Ok(top) => Ok(Some(processes(top))),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404 | 409,
                ..
            }) => Ok(None),
            Err(e) => Err(request_failed(
                &format!("process list of container {id}"),
                e,
            )),
        }
    }
}

/// A request the API refused or could not carry out.
fn request_failed(request: &str, e: bollard::errors::Error) -> EngineError {
    EngineError::Request {
        request: request.into(),
        reason: e.to_string(),
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
                // ps has no column for it: the process's flag is read from /proc only.
                no_new_privs: None,
            }
        })
        .collect()
}

/// A healthcheck test other than NONE (which turns off the image's).
fn configured_healthcheck(h: Option<&bollard::models::HealthConfig>) -> bool {
    h.and_then(|h| h.test.as_ref())
        .is_some_and(|t| !t.is_empty() && t[0] != "NONE")
}

fn swarm_facts(s: bollard::models::SwarmInfo) -> SwarmFacts {
    let spec = s.cluster.and_then(|c| c.spec);
    let count = |n: Option<i64>| n.map(|n| n.max(0) as u64).unwrap_or(0);
    let manager_addr = s.remote_managers.as_ref().and_then(|managers| {
        managers
            .iter()
            .find(|m| m.node_id.is_some() && m.node_id == s.node_id)
            .and_then(|m| m.addr.clone())
    });
    SwarmFacts {
        manager_addr,
        state: s
            .local_node_state
            .map(|state| state.to_string())
            .unwrap_or_default(),
        manager: s.control_available.unwrap_or(false),
        managers: count(s.managers),
        nodes: count(s.nodes),
        node_addr: s.node_addr.unwrap_or_default(),
        autolock: spec.as_ref().map(|spec| {
            spec.encryption_config
                .as_ref()
                .and_then(|e| e.auto_lock_managers)
                .unwrap_or(false)
        }),
        node_cert_expiry_secs: spec
            .as_ref()
            .and_then(|spec| spec.ca_config.as_ref())
            .and_then(|ca| ca.node_cert_expiry)
            .map(|ns| (ns.max(0) / 1_000_000_000) as u64),
    }
}

fn container_state(c: bollard::models::ContainerInspectResponse) -> ContainerState {
    let state = c.state.unwrap_or_default();
    let host = c.host_config.unwrap_or_default();
    let log = host.log_config.unwrap_or_default();
    let running = state.running.unwrap_or(false);
    let status = state.status.map(|s| s.to_string()).unwrap_or_default();
    ContainerState {
        id: c.id.unwrap_or_default(),
        name: c
            .name
            .map(|n| n.strip_prefix('/').unwrap_or(&n).to_string())
            .unwrap_or_default(),
        running,
        pid: state.pid.filter(|p| *p > 0).map(|p| p as u32).unwrap_or(0),
        status: match (running, state.exit_code) {
            (false, Some(code)) if status == "exited" => format!("exited ({code})"),
            _ => status,
        },
        restart_policy: host
            .restart_policy
            .and_then(|r| r.name)
            .map(|n| n.to_string())
            .unwrap_or_default(),
        log_driver: log.typ.unwrap_or_default(),
        syslog_address: log.config.and_then(|mut c| c.remove("syslog-address")),
    }
}

/// An RFC 3339 time from the API ("2024-05-01T10:00:00.123456789Z") in nanoseconds since the
/// epoch; `None` when it is not one.
fn timestamp_ns(text: &str) -> Option<i128> {
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_nanosecond())
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
    let healthcheck = configured_healthcheck(config.healthcheck.as_ref());
    let mut networks: Vec<String> = c
        .network_settings
        .and_then(|n| n.networks)
        .map(|n| n.into_keys().collect())
        .unwrap_or_default();
    networks.sort();
    ContainerFacts {
        id: text(c.id),
        name: text(c.name)
            .strip_prefix('/')
            .map(str::to_string)
            .unwrap_or_default(),
        image: config.image.unwrap_or_default(),
        image_id: c.image.unwrap_or_default(),
        user: text(config.user),
        running: state.running.unwrap_or(false),
        created_ns: c.created.as_deref().and_then(timestamp_ns),
        privileged: host.privileged.unwrap_or(false),
        network_mode: text(host.network_mode),
        networks,
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
    fn info(&self, socket: &str) -> Result<EngineInfo, EngineError> {
        let socket = self.socket_path(socket)?;
        Self::block_on(
            socket,
            Duration::from_secs(API_TIMEOUT_SECS + 2),
            Self::query(socket),
        )
    }

    fn workloads(&self, socket: &str, request: &WorkloadRequest) -> Result<Workloads, EngineError> {
        let socket = self.socket_path(socket)?;
        Self::block_on(
            socket,
            Duration::from_secs(4 * API_TIMEOUT_SECS),
            self.gather_workloads(socket, *request),
        )
    }

    fn processes(&self, socket: &str, id: &str) -> Result<Option<Vec<ProcessFacts>>, EngineError> {
        let socket = self.socket_path(socket)?;
        Self::block_on(
            socket,
            Duration::from_secs(API_TIMEOUT_SECS + 2),
            self.top(socket, id),
        )
    }

    fn local_socket(&self, socket: &str) -> Option<PathBuf> {
        unix_path(self.address(socket)).map(PathBuf::from)
    }

    fn container_states(&self, socket: &str) -> Result<Vec<ContainerState>, EngineError> {
        let socket = self.socket_path(socket)?;
        Self::block_on(
            socket,
            Duration::from_secs(4 * API_TIMEOUT_SECS),
            self.states(socket),
        )
    }

    fn start_container(&self, socket: &str, id: &str) -> Result<(), EngineError> {
        let socket = self.socket_path(socket)?;
        Self::block_on(
            socket,
            Duration::from_secs(4 * API_TIMEOUT_SECS),
            self.start(socket, id),
        )
    }
}

/// A fixed answer, for tests and for hosts without Docker.
pub struct FixedEngine(pub Result<EngineInfo, EngineError>);

impl Engine for FixedEngine {
    fn info(&self, _socket: &str) -> Result<EngineInfo, EngineError> {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_as_engines_state_them() {
        let v = |s| parse_api_version(s).map(|v| (v.major_version, v.minor_version));
        assert_eq!(v("1.45"), Some((1, 45)));
        assert_eq!(v("1.41\n"), Some((1, 41)));
        assert_eq!(v("1"), None);
        assert_eq!(v("x.y"), None);
    }

    #[test]
    fn creation_times_are_read_to_the_nanosecond() {
        assert_eq!(
            timestamp_ns("2024-05-01T10:00:00.123456789Z"),
            Some(1_714_557_600_123_456_789)
        );
        // Any offset is read as the instant it names.
        assert_eq!(
            timestamp_ns("2024-05-01T12:00:00.5+02:00"),
            Some(1_714_557_600_500_000_000)
        );
        assert_eq!(timestamp_ns(""), None);
        assert_eq!(timestamp_ns("yesterday"), None);
    }
}
