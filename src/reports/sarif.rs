//! SARIF 2.1.0: one rule per item (its title and why it matters), one result per item with the
//! evidence; WARN is a failing result (level warning), others pass or are informational.
//!
//! A rule's ID is the item's code, which no `--benchmark` changes: a code-scanning dashboard
//! keeps tracking the same alerts when the printed numbering changes. The printed ID is in the
//! rule's and the result's properties (`benchmarkId`).

use std::io::Write;

use serde_json::{Value, json};

use crate::assess::Finding;
use crate::kinds::Status;
use crate::playbook::Playbook;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub(crate) fn report(findings: &[Finding], playbook: &Playbook) -> Value {
    // One rule per item, however many daemons were judged: a result names its rule by index.
    let mut rule_ids: Vec<&str> = Vec::new();
    for f in findings {
        if !rule_ids.contains(&f.code.as_str()) {
            rule_ids.push(&f.code);
        }
    }
    let rules: Vec<Value> = rule_ids
        .iter()
        .filter_map(|code| findings.iter().find(|f| f.code == *code))
        .map(|f| {
            let why = playbook
                .item(&f.id)
                .map(|i| i.why.clone())
                .unwrap_or_default();
            json!({
                "id": f.code,
                "name": f.title,
                "shortDescription": { "text": f.title },
                "fullDescription": { "text": if why.is_empty() { f.title.clone() } else { why } },
                "properties": { "benchmarkId": f.id, "legacyId": f.legacy_id, "fixable": f.fixable },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let index = rule_ids.iter().position(|code| *code == f.code).unwrap_or(0);
            let (kind, level) = match f.status {
                Status::Warn => ("fail", "warning"),
                Status::Pass => ("pass", "none"),
                Status::Waived => ("review", "none"),
                Status::NotApplicable => ("notApplicable", "none"),
                Status::Info | Status::Note => ("informational", "note"),
            };
            let mut text = if f.evidence.is_empty() {
                format!("[{}] {}", f.status.label(), f.title)
            } else {
                format!("[{}] {}", f.status.label(), f.evidence.join("; "))
            };
            if let Some(fix) = &f.remediation {
                text.push_str(&format!(". Fix: {fix}"));
            }
            json!({
                "ruleId": f.code,
                "ruleIndex": index,
                "kind": kind,
                "level": level,
                "message": { "text": text },
                "properties": { "status": f.status.label(), "daemon": f.daemon, "benchmarkId": f.id },
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "docker-harden",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/docker-harden/docker-harden",
                "rules": rules,
            }},
            "properties": { "benchmark": format!("CIS Docker Benchmark v{}", playbook.benchmark), "playbook": playbook.name },
            "results": results,
        }],
    })
}

pub(crate) fn write(
    out: &mut dyn Write,
    findings: &[Finding],
    playbook: &Playbook,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &report(findings, playbook))?;
    writeln!(out)
}
