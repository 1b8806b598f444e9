//! Housekeeping items (CIS section 6): images no container uses and containers that are not
//! running, counted over the whole host (the --include/--exclude filters choose which
//! containers section 5 judges, not what the host holds). They report INFO, never WARN: only
//! the operator knows which of them are still wanted.

use super::{ItemKind, LoadContext};
use crate::error::Result;
use std::collections::BTreeSet;

use serde::Deserialize;

use super::Verdict;
use crate::facts::Facts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// 6.1
    Images,
    /// 6.2
    Containers,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SprawlSpec {
    pub rule: Rule,
}

/// Names listed in the evidence before "and N more".
const LISTED: usize = 10;

fn listing(names: Vec<String>) -> String {
    let more = names.len().saturating_sub(LISTED);
    let mut shown: Vec<String> = names.into_iter().take(LISTED).collect();
    if more > 0 {
        shown.push(format!("and {more} more"));
    }
    shown.join(", ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(crate) fn check(spec: &SprawlSpec, facts: &Facts) -> Verdict {
    let workloads = match super::workloads(facts, "images and containers") {
        Ok(w) => w,
        Err(verdict) => return verdict,
    };
    match spec.rule {
        Rule::Images => {
            let used: BTreeSet<&str> = workloads
                .listed
                .iter()
                .map(|c| c.image_id.as_str())
                .collect();
            let unused: Vec<String> = workloads
                .images
                .iter()
                .filter(|i| !used.contains(i.id.as_str()))
                .map(|i| i.display())
                .collect();
            let total = workloads.images.len();
            if unused.is_empty() {
                return Verdict::pass(if total == 0 {
                    "no images on this host".to_string()
                } else {
                    format!(
                        "{}, each used by a container",
                        plural(total, "image", "images")
                    )
                });
            }
            Verdict::info(format!(
                "{}, {} used by no container: {}",
                plural(total, "image", "images"),
                unused.len(),
                listing(unused)
            ))
            .fix("remove images nobody needs (`docker image rm IMAGE`, or `docker image prune -a` for every unused one)")
        }
        Rule::Containers => {
            let stopped: Vec<String> = workloads
                .listed
                .iter()
                .filter(|c| !c.running)
                .map(|c| c.display())
                .collect();
            let total = workloads.listed.len();
            if stopped.is_empty() {
                return Verdict::pass(if total == 0 {
                    "no containers on this host".to_string()
                } else {
                    format!("{}, all running", plural(total, "container", "containers"))
                });
            }
            Verdict::info(format!(
                "{}, {} not running: {}",
                plural(total, "container", "containers"),
                stopped.len(),
                listing(stopped)
            ))
            .fix("remove containers nobody will start again (`docker rm NAME`, or `docker container prune` for every stopped one)")
        }
    }
}

impl ItemKind for SprawlSpec {
    type Raw = SprawlSpec;
    const REPORT_ONLY: Option<&'static str> =
        Some("report only: only the operator knows which images and containers are still wanted");

    fn from_raw(raw: SprawlSpec, _: &LoadContext<'_>) -> Result<SprawlSpec> {
        Ok(raw)
    }
    fn check(&self, facts: &Facts) -> Verdict {
        check(self, facts)
    }
    fn needs_workloads(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::ImageFacts;
    use crate::workloads::{ListedContainer, Workloads};

    fn listed(name: &str, image: &str, running: bool) -> ListedContainer {
        ListedContainer {
            id: format!("{name:0<16}"),
            name: name.into(),
            image_id: image.into(),
            running,
        }
    }

    fn image(id: &str, tag: &str) -> ImageFacts {
        ImageFacts {
            id: id.into(),
            tags: vec![tag.into()],
            ..ImageFacts::default()
        }
    }

    fn verdict(rule: Rule, workloads: Workloads) -> Verdict {
        let dir = tempfile::tempdir().unwrap();
        let mut facts =
            Facts::names_only(&crate::rootfs::RootFs::new(dir.path()).unwrap()).unwrap();
        facts.live = true;
        facts.workloads = Some(Ok(workloads));
        check(&SprawlSpec { rule }, &facts)
    }

    #[test]
    fn counts_unused_images_and_stopped_containers() {
        let w = Workloads {
            listed: vec![
                listed("web", "sha256:aa", true),
                listed("old", "sha256:bb", false),
            ],
            images: vec![
                image("sha256:aa", "web:1"),
                image("sha256:bb", "web:0"),
                image("sha256:cc", "tool:1"),
            ],
            ..Workloads::default()
        };
        let v = verdict(Rule::Images, w.clone());
        assert_eq!(v.status, super::super::Status::Info);
        assert_eq!(
            v.evidence[0],
            "3 images, 1 used by no container: tool:1 (cc)"
        );
        let v = verdict(Rule::Containers, w);
        assert_eq!(
            v.evidence[0],
            "2 containers, 1 not running: old (old000000000)"
        );
        assert_eq!(
            verdict(Rule::Images, Workloads::default()),
            Verdict::pass("no images on this host")
        );
        let busy = Workloads {
            listed: vec![listed("web", "sha256:aa", true)],
            images: vec![image("sha256:aa", "web:1")],
            ..Workloads::default()
        };
        assert_eq!(
            verdict(Rule::Images, busy.clone()),
            Verdict::pass("1 image, each used by a container")
        );
        assert_eq!(
            verdict(Rule::Containers, busy),
            Verdict::pass("1 container, all running")
        );
    }

    #[test]
    fn long_lists_are_cut() {
        let names: Vec<String> = (0..13).map(|i| format!("c{i}")).collect();
        assert!(listing(names).ends_with("c9, and 3 more"));
    }
}
