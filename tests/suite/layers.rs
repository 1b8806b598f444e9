//! The modules form layers, bottom to top, and a module uses only its own layer and those below
//! (docs/ARCHITECTURE.md draws them). This test reads every `crate::` path in `src/`, outside
//! comments and `#[cfg(test)]` modules, and fails on one that reaches up, or on a module no
//! layer declares, so the picture stays true as the code grows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bottom first. A new top-level module must be placed here.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "base: the root prefix, confined file access, input reading, commands, run records",
        &[
            "error",
            "rootfs",
            "confined",
            "input",
            "safe_write",
            "credentials",
            "runner",
            "records",
        ],
    ),
    (
        "vocabulary: well-known paths, targets, variables, daemons, accounts, file formats, what Docker lists",
        &[
            "vocabulary",
            "accounts",
            "daemons",
            "benchmark",
            "audit_rules",
            "daemon_flags",
            "daemon_json",
            "engine_release",
            "rsyslog",
            "containers",
            "images",
            "workloads",
        ],
    ),
    ("engine: the Docker API seam", &["engine", "endpoint"]),
    ("facts: one snapshot of the host per run", &["facts"]),
    (
        "plan: the workspace fixers write planned changes to",
        &["plan"],
    ),
    ("kinds: every item kind's spec, check and fix", &["kinds"]),
    ("playbook: the loader", &["playbook"]),
    ("assess: findings and pre-flight", &["assess", "preflight"]),
    (
        "apply: transaction, services, health check, container survival",
        &["transaction", "services", "health", "survival"],
    ),
    ("run: the one plan-and-apply layer", &["run"]),
    (
        "output: rendering, reports, settings",
        &["render", "reports", "settings"],
    ),
    (
        "commands: the CLI's commands, prompts and the Ansible module",
        &["commands", "interactive", "ansible", "plugin", "shell"],
    ),
    ("cli: flags and dispatch", &["cli"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

fn layer_name(index: usize) -> &'static str {
    LAYERS[index].0.split(':').next().unwrap_or_default()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`facts/daemon.rs` -> `facts`); `None` for the
/// crate roots.
fn owner(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The code of a file without comments and without its `#[cfg(test)]` items (unit tests may
/// reach for whatever builds their fixture).
fn production_code(text: &str) -> String {
    let mut out = String::new();
    let mut skipping_test_item = false;
    let mut depth = 0i32;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if !skipping_test_item && trimmed.starts_with("#[cfg(test)]") {
            skipping_test_item = true;
            depth = 0;
            continue;
        }
        let code = trimmed.split("//").next().unwrap_or_default();
        if skipping_test_item {
            depth += code.matches('{').count() as i32 - code.matches('}').count() as i32;
            // The item ends with its closing brace, or with `;` for a one-line item.
            if depth <= 0 && (code.contains('}') || code.trim_end().ends_with(';')) {
                skipping_test_item = false;
            }
            continue;
        }
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Every module named by a `crate::` path (`use crate::{a, b::c}` included).
fn used_modules(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        // `$crate::` inside a macro is the same crate; `docker_harden_crate::` is not ours.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(group);
            for part in split_top_level(&group[..end]) {
                found.push(first_segment(part.trim()));
            }
        } else {
            found.push(first_segment(rest));
        }
    }
    found.retain(|m| !m.is_empty() && m != "self");
    found
}

fn matching_brace(text: &str) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn first_segment(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    let mut edges: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = owner(&src, file) else {
            continue;
        };
        let shown = file.strip_prefix(&src).unwrap().display().to_string();
        let Some(own) = layer_of(&module) else {
            problems.push(format!(
                "src/{shown}: module `{module}` is in no layer: add it to LAYERS here and to docs/ARCHITECTURE.md"
            ));
            continue;
        };
        let code = production_code(&std::fs::read_to_string(file).unwrap());
        for used in used_modules(&code) {
            if used == module {
                continue;
            }
            match layer_of(&used) {
                None => problems.push(format!(
                    "src/{shown}: uses `crate::{used}`, which is in no layer"
                )),
                Some(theirs) if theirs > own => edges
                    .entry((module.clone(), used.clone()))
                    .or_default()
                    .push(format!(
                        "src/{shown} ({} layer) uses crate::{used} ({} layer)",
                        layer_name(own),
                        layer_name(theirs)
                    )),
                Some(_) => {}
            }
        }
    }
    for uses in edges.into_values() {
        problems.push(uses[0].clone());
    }
    assert!(
        problems.is_empty(),
        "imports that go up the declared layers:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_reader_sees_through_groups_comments_and_test_modules() {
    let code = production_code(
        "use crate::{error::Result, facts::{Facts, FileState}};\n\
         // use crate::cli;\n\
         fn f() { crate::plan::Workspace::new(); $crate::kinds::X; }\n\
         #[cfg(test)]\n\
         mod tests {\n    use crate::commands;\n    fn g() { if x { } }\n}\n\
         #[cfg(test)]\n\
         use crate::ansible;\n\
         fn h() { crate::render::x(); }\n",
    );
    assert_eq!(
        used_modules(&code),
        ["error", "facts", "plan", "kinds", "render"]
    );
}
