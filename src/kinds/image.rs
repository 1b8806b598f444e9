//! Image items (CIS section 4): every top-level image on the host, as the Docker API inspects
//! it, judged by its configuration (HEALTHCHECK) and by the instructions in its history (ADD,
//! a package index refreshed in a layer of its own). Report only: an image changes when its
//! Dockerfile does and it is rebuilt.

use super::{ItemKind, LoadContext};
use crate::error::Result;
use serde::Deserialize;

use super::{Status, Verdict};
use crate::facts::Facts;
use crate::images::ImageFacts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// 4.6
    Healthcheck,
    /// 4.7
    UpdateAlone,
    /// 4.9
    AddInstruction,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSpec {
    pub rule: Rule,
}

struct Wording {
    pass: &'static str,
    fix: &'static str,
    status: Status,
}

fn wording(rule: Rule) -> Wording {
    match rule {
        Rule::Healthcheck => Wording {
            pass: "every one has a HEALTHCHECK",
            fix: "add a `HEALTHCHECK CMD ...` instruction to the image's Dockerfile and rebuild it (or give the container `--health-cmd`, compose: healthcheck)",
            status: Status::Warn,
        },
        Rule::UpdateAlone => Wording {
            pass: "none refreshes a package index in a layer of its own",
            fix: "refresh the index and install in one RUN (`RUN apt-get update && apt-get install -y PKG`) so a cached index layer is never reused with newer install lines",
            status: Status::Info,
        },
        Rule::AddInstruction => Wording {
            pass: "none was built with ADD",
            fix: "use COPY for local files; fetch remote files with a checked download in RUN (ADD of a URL is not verified, and ADD unpacks archives implicitly)",
            status: Status::Info,
        },
    }
}

/// The instruction behind one history entry, without the builder's decoration: the legacy
/// builder writes `/bin/sh -c #(nop)  USER 1000` for metadata and `/bin/sh -c CMD` for RUN;
/// BuildKit writes `USER 1000` and `RUN /bin/sh -c CMD # buildkit`.
fn instruction(created_by: &str) -> (Instruction, &str) {
    let text = created_by.trim();
    let text = text.strip_suffix("# buildkit").unwrap_or(text).trim_end();
    if let Some((_, rest)) = text.split_once("#(nop)") {
        let rest = rest.trim_start();
        let keyword = rest.split_whitespace().next().unwrap_or("");
        return (Instruction::from_keyword(keyword), rest);
    }
    let keyword = text.split_whitespace().next().unwrap_or("");
    let metadata = keyword.is_empty() || keyword.chars().all(|c| c.is_ascii_uppercase());
    match Instruction::from_keyword(keyword) {
        // The legacy builder records a RUN as the bare command line.
        Instruction::Other if !metadata => (Instruction::Run, text),
        found => (found, text),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Instruction {
    Run,
    Add,
    Other,
}

impl Instruction {
    fn from_keyword(keyword: &str) -> Instruction {
        match keyword {
            "RUN" => Instruction::Run,
            "ADD" => Instruction::Add,
            _ => Instruction::Other,
        }
    }
}

/// Package managers' index refreshes and the commands that install in the same breath.
const REFRESH: &[(&str, &[&str], &[&str])] = &[
    (
        "apt-get",
        &["update"],
        &["install", "upgrade", "dist-upgrade"],
    ),
    ("apt", &["update"], &["install", "upgrade", "full-upgrade"]),
    ("apk", &["update"], &["add", "upgrade"]),
    ("yum", &["makecache"], &["install", "update", "upgrade"]),
    ("dnf", &["makecache"], &["install", "update", "upgrade"]),
    (
        "zypper",
        &["refresh", "ref"],
        &["install", "in", "update", "up"],
    ),
];

/// The package manager whose index a RUN command refreshes without installing anything in the
/// same command line.
fn refresh_alone(command: &str) -> Option<&'static str> {
    let words: Vec<&str> = command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
        .filter(|w| !w.is_empty())
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .collect();
    // The subcommand is the first word after the program that is not an option.
    let subcommands = |program: &str| -> Vec<&str> {
        words
            .iter()
            .enumerate()
            .filter(|(_, w)| **w == program)
            .filter_map(|(i, _)| words[i + 1..].iter().find(|w| !w.starts_with('-')).copied())
            .collect()
    };
    REFRESH.iter().find_map(|(program, refresh, install)| {
        let subs = subcommands(program);
        let refreshes = subs.iter().any(|s| refresh.contains(s));
        let installs = subs.iter().any(|s| install.contains(s));
        (refreshes && !installs).then_some(*program)
    })
}

/// What breaks `rule` in `image`, as evidence; `None` when it complies.
fn offence(rule: Rule, image: &ImageFacts) -> Option<String> {
    match rule {
        Rule::Healthcheck => (!image.healthcheck).then(|| "no HEALTHCHECK".into()),
        Rule::UpdateAlone => {
            let found: Vec<String> = image
                .history
                .iter()
                .map(|h| instruction(h))
                .filter(|(kind, _)| *kind == Instruction::Run)
                .filter_map(|(_, text)| refresh_alone(text).map(|_| format!("`{text}`")))
                .collect();
            (!found.is_empty()).then(|| format!("index refreshed alone in {}", found.join(", ")))
        }
        Rule::AddInstruction => {
            let found: Vec<String> = image
                .history
                .iter()
                .enumerate()
                .map(|(i, h)| (i, instruction(h)))
                .filter(|(i, (kind, text))| {
                    // The oldest layer of most images is the base's root filesystem, which
                    // only ADD can unpack into an empty image.
                    *kind == Instruction::Add && !(*i == 0 && text.ends_with(" in /"))
                })
                .map(|(_, (_, text))| format!("`{text}`"))
                .collect();
            (!found.is_empty()).then(|| format!("built with {}", found.join(", ")))
        }
    }
}

pub(crate) fn check(spec: &ImageSpec, facts: &Facts) -> Verdict {
    let workloads = match super::workloads(facts, "images") {
        Ok(w) => w,
        Err(verdict) => return verdict,
    };
    let images = &workloads.images;
    if images.is_empty() {
        return Verdict::pass("no images on this host");
    }
    let words = wording(spec.rule);
    let evidence: Vec<String> = images
        .iter()
        .filter_map(|i| offence(spec.rule, i).map(|o| format!("{}: {o}", i.display())))
        .collect();
    if evidence.is_empty() {
        let n = images.len();
        return Verdict::pass(format!(
            "{n} image{} checked: {}",
            if n == 1 { "" } else { "s" },
            words.pass
        ));
    }
    Verdict::new(words.status, evidence).fix(words.fix)
}

impl ItemKind for ImageSpec {
    type Raw = ImageSpec;
    const REPORT_ONLY: Option<&'static str> =
        Some("report only: an image changes when its Dockerfile is changed and it is rebuilt");

    fn from_raw(raw: ImageSpec, _: &LoadContext<'_>) -> Result<ImageSpec> {
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

    fn image(history: &[&str]) -> ImageFacts {
        ImageFacts {
            id: "sha256:0123456789abcdef".into(),
            tags: vec!["app:1".into()],
            healthcheck: true,
            user: "app".into(),
            history: history.iter().map(|h| h.to_string()).collect(),
        }
    }

    #[test]
    fn reads_both_builders_history() {
        assert_eq!(
            instruction("/bin/sh -c #(nop)  USER 1000"),
            (Instruction::Other, "USER 1000")
        );
        assert_eq!(
            instruction("/bin/sh -c #(nop) ADD file:03b4 in /hello "),
            (Instruction::Add, "ADD file:03b4 in /hello")
        );
        assert_eq!(
            instruction("/bin/sh -c apt-get update || true"),
            (Instruction::Run, "/bin/sh -c apt-get update || true")
        );
        assert_eq!(
            instruction("|1 VERSION=2 /bin/sh -c apk update"),
            (Instruction::Run, "|1 VERSION=2 /bin/sh -c apk update")
        );
        assert_eq!(
            instruction("RUN /bin/sh -c apt-get update # buildkit"),
            (Instruction::Run, "RUN /bin/sh -c apt-get update")
        );
        assert_eq!(
            instruction("ADD https://example.test/x.tgz /opt/ # buildkit"),
            (Instruction::Add, "ADD https://example.test/x.tgz /opt/")
        );
        assert_eq!(
            instruction("COPY app /app # buildkit"),
            (Instruction::Other, "COPY app /app")
        );
        assert_eq!(instruction(""), (Instruction::Other, ""));
    }

    #[test]
    fn finds_index_refreshes_without_installs() {
        assert_eq!(refresh_alone("/bin/sh -c apt-get update"), Some("apt-get"));
        assert_eq!(
            refresh_alone("/bin/sh -c apt-get -q update || true"),
            Some("apt-get")
        );
        assert_eq!(refresh_alone("/bin/sh -c apk update"), Some("apk"));
        assert_eq!(refresh_alone("/bin/sh -c dnf -y makecache"), Some("dnf"));
        assert_eq!(
            refresh_alone("/bin/sh -c apt-get update && apt-get install -y curl"),
            None
        );
        assert_eq!(
            refresh_alone("/bin/sh -c apt-get update&&/usr/bin/apt-get -y upgrade"),
            None
        );
        assert_eq!(refresh_alone("/bin/sh -c apk update && apk add curl"), None);
        assert_eq!(refresh_alone("/bin/sh -c yum -y update"), None);
        assert_eq!(refresh_alone("/bin/sh -c echo apt update-notes"), None);
        assert_eq!(refresh_alone("/bin/sh -c make update"), None);
    }

    #[test]
    fn names_each_offence() {
        let mut plain = image(&[
            "/bin/sh -c #(nop) ADD file:abc in / ",
            "/bin/sh -c #(nop)  CMD [\"sh\"]",
        ]);
        assert_eq!(
            offence(Rule::AddInstruction, &plain),
            None,
            "the base layer's ADD"
        );
        assert_eq!(offence(Rule::UpdateAlone, &plain), None);
        assert_eq!(offence(Rule::Healthcheck, &plain), None);
        plain.healthcheck = false;
        assert_eq!(
            offence(Rule::Healthcheck, &plain).as_deref(),
            Some("no HEALTHCHECK")
        );
        let built = image(&[
            "/bin/sh -c #(nop) ADD file:abc in / ",
            "/bin/sh -c #(nop) ADD file:def in /app ",
            "/bin/sh -c apt-get update",
            "RUN /bin/sh -c apt-get update && apt-get install -y x # buildkit",
            "ADD https://example.test/a.tgz / # buildkit",
        ]);
        assert_eq!(
            offence(Rule::AddInstruction, &built).as_deref(),
            Some("built with `ADD file:def in /app`, `ADD https://example.test/a.tgz /`")
        );
        assert_eq!(
            offence(Rule::UpdateAlone, &built).as_deref(),
            Some("index refreshed alone in `/bin/sh -c apt-get update`")
        );
    }

    #[test]
    fn verdicts_list_offending_images_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let mut facts =
            Facts::names_only(&crate::rootfs::RootFs::new(dir.path()).unwrap()).unwrap();
        facts.live = true;
        let mut bare = image(&[]);
        bare.healthcheck = false;
        bare.tags.clear();
        facts.workloads = Some(Ok(crate::workloads::Workloads {
            images: vec![image(&[]), bare],
            ..Default::default()
        }));
        let v = check(
            &ImageSpec {
                rule: Rule::Healthcheck,
            },
            &facts,
        );
        assert_eq!(v.status, Status::Warn);
        assert_eq!(v.evidence[0], "<untagged> (0123456789ab): no HEALTHCHECK");
        assert!(v.remediation.unwrap().contains("HEALTHCHECK"));
        let v = check(
            &ImageSpec {
                rule: Rule::AddInstruction,
            },
            &facts,
        );
        assert_eq!(
            v,
            Verdict::pass("2 images checked: none was built with ADD")
        );
        facts.workloads = Some(Ok(Default::default()));
        let v = check(
            &ImageSpec {
                rule: Rule::UpdateAlone,
            },
            &facts,
        );
        assert_eq!(v, Verdict::pass("no images on this host"));
    }
}
