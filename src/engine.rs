//! The one seam for the Docker Engine API. Production code asks dockerd through bollard; tests
//! hand in a fixed answer.

use std::time::Duration;

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
}

/// Talks to dockerd over its Unix socket.
pub struct BollardEngine {
    /// `--docker-host`/DOCKER_HOST, which wins over the daemon's configured socket.
    host_override: Option<String>,
}

/// The oldest API the tool needs (dockerd 20.10); the client negotiates upward from here.
const PINNED_API: bollard::ClientVersion = bollard::ClientVersion {
    major_version: 1,
    minor_version: 41,
};
const API_TIMEOUT_SECS: u64 = 10;

impl BollardEngine {
    /// `host_override` is a `unix://` address or a socket path.
    pub fn new(host_override: Option<String>) -> BollardEngine {
        BollardEngine { host_override }
    }

    async fn query(socket: &str) -> Result<EngineInfo, String> {
        let docker = bollard::Docker::connect_with_unix(socket, API_TIMEOUT_SECS, &PINNED_API)
            .map_err(|e| format!("cannot connect to {socket}: {e}"))?
            .negotiate_version()
            .await
            .map_err(|e| format!("Docker API at {socket} did not answer: {e}"))?;
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

impl Engine for BollardEngine {
    fn info(&self, socket: &str) -> Result<EngineInfo, String> {
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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        runtime.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(API_TIMEOUT_SECS + 2),
                Self::query(socket),
            )
            .await
            .unwrap_or_else(|_| Err(format!("Docker API at {socket} timed out")))
        })
    }
}

/// A fixed answer, for tests and for hosts without Docker.
pub struct FixedEngine(pub Result<EngineInfo, String>);

impl Engine for FixedEngine {
    fn info(&self, _socket: &str) -> Result<EngineInfo, String> {
        self.0.clone()
    }
}
