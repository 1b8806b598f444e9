//! A file watch, whichever syntax it was written in, and what it covers.

/// A file watch, whichever syntax it was written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub path: String,
    /// Letters from "rwxa" as written; empty means no `-p` was given, which
    /// the kernel treats as all of rwxa.
    pub perms: String,
    pub key: Option<String>,
}

impl Watch {
    pub(crate) fn new(path: &str, perms: &str, key: Option<&str>) -> Watch {
        Watch {
            path: path.to_string(),
            perms: perms.to_string(),
            key: key.map(str::to_string),
        }
    }

    /// One rule line: "-w /usr/sbin/dockerd -p wa -k docker".
    pub(crate) fn render(&self) -> String {
        let mut line = format!("-w {}", self.path);
        // An empty perms string must stay "no -p" so that parsing the
        // rendered line gives back the same Watch.
        if !self.perms.is_empty() {
            line.push_str(" -p ");
            line.push_str(&self.perms);
        }
        if let Some(key) = &self.key {
            line.push_str(" -k ");
            line.push_str(key);
        }
        line
    }

    /// True when this watch is on exactly `path` and records both writes
    /// and attribute changes, which is what the benchmark asks of a watch.
    pub(crate) fn covers(&self, path: &str) -> bool {
        normalize_path(&self.path) == normalize_path(path)
            && has_perm(&self.perms, 'w')
            && has_perm(&self.perms, 'a')
    }

    /// True when this watch makes `wanted` redundant. Besides `covers`,
    /// this accepts a superset of the wanted perms so that a wanted watch
    /// without w or a (which `covers` never accepts) is still found after it
    /// was added once; otherwise the planners would append it forever.
    pub(super) fn satisfies(&self, wanted: &Watch) -> bool {
        if self.covers(&wanted.path) {
            return true;
        }
        normalize_path(&self.path) == normalize_path(&wanted.path)
            && "rwxa"
                .chars()
                .all(|p| !has_perm(&wanted.perms, p) || has_perm(&self.perms, p))
    }

    /// A watch that cannot be written as a single whitespace-separated rule
    /// line would produce a file auditctl rejects (or a different rule).
    pub(super) fn is_renderable(&self) -> bool {
        let clean = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
        clean(&self.path)
            && !self.perms.contains(char::is_whitespace)
            && self.key.as_deref().is_none_or(clean)
    }
}

pub(super) fn has_perm(perms: &str, p: char) -> bool {
    perms.is_empty() || perms.contains(p)
}

/// Trailing slashes do not change what the kernel watches, but "/" itself
/// must not collapse to an empty string.
pub(super) fn normalize_path(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() && path.starts_with('/') {
        "/"
    } else {
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use crate::audit_rules::fixtures::*;

    #[test]
    fn render_with_and_without_key() {
        assert_eq!(
            w("/usr/sbin/dockerd", "wa", Some("docker")).render(),
            "-w /usr/sbin/dockerd -p wa -k docker"
        );
        assert_eq!(
            w("/etc/docker", "wa", None).render(),
            "-w /etc/docker -p wa"
        );
        assert_eq!(w("/etc/docker", "", None).render(), "-w /etc/docker");
    }

    #[test]
    fn covers_rules() {
        assert!(w("/etc/docker/", "wa", None).covers("/etc/docker"));
        assert!(w("/etc/docker", "rwxa", None).covers("/etc/docker/"));
        assert!(w("/etc/docker", "", None).covers("/etc/docker"));
        assert!(w("/", "wa", None).covers("/"));
        assert!(!w("/", "wa", None).covers(""));
        assert!(!w("/etc/docker", "w", None).covers("/etc/docker"));
        assert!(!w("/etc/docker", "ra", None).covers("/etc/docker"));
        assert!(!w("/etc/docker", "wa", None).covers("/etc/docker/daemon.json"));
        assert!(!w("/etc", "wa", None).covers("/etc/docker"));
    }
}
