//! Everything the Docker API reports about the host's workloads, asked once per run: the
//! containers (inspected), every container's summary (for sprawl), the images, the networks
//! and, on a swarm manager, the number of secrets.

use crate::containers::ContainerFacts;
use crate::images::ImageFacts;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workloads {
    /// The containers section 5 judges: running ones (every one with --all-containers), after
    /// --include/--exclude, inspected.
    pub containers: Vec<ContainerFacts>,
    /// Every container on the host, running or not, from the one list request.
    pub listed: Vec<ListedContainer>,
    pub images: Vec<ImageFacts>,
    pub networks: Vec<NetworkFacts>,
    /// Secrets in the swarm; `None` when this node is not a swarm manager.
    pub secrets: Option<usize>,
}

/// A container as the list request gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedContainer {
    pub id: String,
    /// Without the API's leading '/'.
    pub name: String,
    pub image_id: String,
    pub running: bool,
}

impl ListedContainer {
    pub(crate) fn display(&self) -> String {
        let short: String = self.id.chars().take(12).collect();
        format!("{} ({short})", self.name)
    }
}

/// A network, from `GET /networks`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkFacts {
    pub id: String,
    pub name: String,
    pub driver: String,
    pub options: std::collections::BTreeMap<String, String>,
}

/// The option dockerd sets on its default bridge network.
const DEFAULT_BRIDGE_OPTION: &str = "com.docker.network.bridge.default_bridge";

impl NetworkFacts {
    pub(crate) fn is_default_bridge(&self) -> bool {
        self.options
            .get(DEFAULT_BRIDGE_OPTION)
            .is_some_and(|v| v == "true")
    }

    /// Overlay traffic between nodes is encrypted (created with `--opt encrypted`).
    pub(crate) fn encrypted(&self) -> bool {
        self.options.contains_key("encrypted")
    }
}

impl Workloads {
    /// The default bridge network, when dockerd has one (not with `--bridge=none`).
    pub(crate) fn default_bridge(&self) -> Option<&NetworkFacts> {
        self.networks.iter().find(|n| n.is_default_bridge())
    }
}
