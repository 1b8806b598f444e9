//! What section 5 judges about each container, as the Docker API reports it (one list, one
//! inspect per container and, for running ones, one process list), and which containers a run
//! looks at (`--all-containers`, `--include`, `--exclude`). Names, labels and paths are data:
//! kept exactly as the API gives them; the reports escape them.

use std::collections::BTreeMap;

use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountFacts {
    pub source: String,
    pub destination: String,
    pub rw: bool,
    pub propagation: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortFacts {
    /// "80/tcp"
    pub container_port: String,
    /// Empty when bound to every address.
    pub host_ip: String,
    /// Empty when dockerd picks one.
    pub host_port: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UlimitFacts {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// A process in a running container, from the API's process list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessFacts {
    /// The executable's name as the kernel knows it (`comm`; a script's own name).
    pub name: String,
    /// The full command line.
    pub command: String,
    /// The kernel's no_new_privs flag of the process (`NoNewPrivs:` in /proc/PID/status): it
    /// is what decides whether the process can gain privileges, whatever the configuration
    /// says. `None` when it could not be read (a process list from dockerd, a kernel before
    /// 4.10).
    pub no_new_privs: Option<bool>,
}

/// One container, from `GET /containers/{id}/json` (and `/top` when running).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerFacts {
    pub id: String,
    /// Without the API's leading '/'.
    pub name: String,
    pub image: String,
    /// The image's ID ("sha256:…").
    pub image_id: String,
    pub user: String,
    pub running: bool,
    /// When dockerd created it (`Created`), nanoseconds since the epoch: a daemon default such
    /// as no-new-privileges is copied into a container when it is created, so this tells
    /// which daemon configuration it got.
    pub created_ns: Option<i128>,
    pub privileged: bool,
    pub network_mode: String,
    /// The networks the container is attached to, by name ("bridge" is the default bridge).
    pub networks: Vec<String>,
    pub pid_mode: String,
    pub ipc_mode: String,
    pub uts_mode: String,
    pub userns_mode: String,
    pub cgroup_parent: String,
    pub memory: i64,
    pub cpu_shares: i64,
    pub nano_cpus: i64,
    pub readonly_rootfs: bool,
    pub cap_add: Vec<String>,
    pub security_opt: Vec<String>,
    pub apparmor_profile: String,
    pub mounts: Vec<MountFacts>,
    /// Published ports as configured (HostConfig.PortBindings), so created containers count.
    pub ports: Vec<PortFacts>,
    /// Host device paths.
    pub devices: Vec<String>,
    pub ulimits: Vec<UlimitFacts>,
    /// None, 0 and -1 all mean unlimited.
    pub pids_limit: Option<i64>,
    pub restart_policy: String,
    pub restart_max_retries: i64,
    /// A healthcheck other than NONE is configured (image or run).
    pub healthcheck: bool,
    /// "healthy", "unhealthy", "starting" or "" when there is none.
    pub health_status: String,
    pub labels: BTreeMap<String, String>,
    /// The container's processes (running containers only).
    pub processes: Vec<ProcessFacts>,
}

impl ContainerFacts {
    /// "name (0123456789ab)"
    pub(crate) fn display(&self) -> String {
        let short: String = self.id.chars().take(12).collect();
        format!("{} ({short})", self.name)
    }
}

/// Which containers a run judges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerFilter {
    /// Stopped and created containers too.
    pub all: bool,
    pub include: Vec<Pattern>,
    pub exclude: Vec<Pattern>,
}

/// A glob on the container name (`web-*`, `?` and `*`) or `label:KEY=VALUE` (`label:KEY`
/// matches any value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    Name(String),
    Label { key: String, value: Option<String> },
}

impl std::str::FromStr for Pattern {
    type Err = Error;
    fn from_str(s: &str) -> Result<Pattern, Error> {
        if let Some(rest) = s.strip_prefix("label:") {
            let (key, value) = match rest.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (rest, None),
            };
            if key.is_empty() {
                return Err(Error::LabelWithoutKey { pattern: s.into() });
            }
            return Ok(Pattern::Label {
                key: key.to_string(),
                value,
            });
        }
        if s.is_empty() {
            return Err(Error::EmptyPattern);
        }
        Ok(Pattern::Name(s.to_string()))
    }
}

impl Pattern {
    pub(crate) fn matches(&self, c: &ContainerFacts) -> bool {
        match self {
            Pattern::Name(glob) => glob_match(glob, &c.name),
            Pattern::Label { key, value } => match (c.labels.get(key), value) {
                (Some(_), None) => true,
                (Some(have), Some(want)) => have == want,
                (None, _) => false,
            },
        }
    }
}

impl ContainerFilter {
    /// Included (any include pattern matches, or none is given) and not excluded.
    pub(crate) fn keeps(&self, c: &ContainerFacts) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| p.matches(c)))
            && !self.exclude.iter().any(|p| p.matches(c))
    }
}

/// `*` any run of characters, `?` one character; everything else literal.
pub(crate) fn glob_match(glob: &str, text: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if gi < g.len() && (g[gi] == '?' || (g[gi] != '*' && g[gi] == t[ti])) {
            gi += 1;
            ti += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some((gi, ti));
            gi += 1;
        } else if let Some((sg, st)) = star {
            gi = sg + 1;
            ti = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str, labels: &[(&str, &str)]) -> ContainerFacts {
        ContainerFacts {
            id: "0123456789abcdef".into(),
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..ContainerFacts::default()
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("web-*", "web-1"));
        assert!(glob_match("web-*", "web-"));
        assert!(!glob_match("web-*", "db-1"));
        assert!(glob_match("*a*b", "xxaxxb"));
        assert!(!glob_match("*a*b", "xxaxxbc"));
        assert!(glob_match("odd.name_?-x", "odd.name_1-x"));
        assert!(!glob_match("odd", "odd.name"));
    }

    #[test]
    fn filters_by_name_and_label() {
        let web = named("web-1", &[("tier", "front")]);
        let db = named("db", &[("tier", "back")]);
        let f = ContainerFilter {
            include: vec!["web-*".parse().unwrap()],
            ..ContainerFilter::default()
        };
        assert!(f.keeps(&web) && !f.keeps(&db));
        let f = ContainerFilter {
            exclude: vec!["label:tier=back".parse().unwrap()],
            ..ContainerFilter::default()
        };
        assert!(f.keeps(&web) && !f.keeps(&db));
        let f = ContainerFilter {
            include: vec!["label:tier".parse().unwrap()],
            exclude: vec!["web-?".parse().unwrap()],
            ..ContainerFilter::default()
        };
        assert!(!f.keeps(&web) && f.keeps(&db));
        assert!("label:=x".parse::<Pattern>().is_err());
        assert_eq!(web.display(), "web-1 (0123456789ab)");
    }
}
