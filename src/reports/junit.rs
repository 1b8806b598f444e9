//! JUnit XML: one test case per item, named by its printed ID, its code and its title
//! (`2.2 icc-off: ...`); WARN is a failure, WAIVED is skipped, INFO and NOTE pass with their
//! evidence as output.

use std::io::Write;

use crate::assess::Finding;
use crate::kinds::Status;
use crate::playbook::Playbook;

/// Text as XML 1.0 character data: entities escaped, and characters XML cannot carry at all
/// (most C0 controls) replaced, so any byte sequence in a container name still parses.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A parser turns a raw CR (or CR LF) into LF; a reference survives.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// For attribute values, where a parser turns raw tabs and newlines into spaces.
pub(crate) fn xml_escape_attr(text: &str) -> String {
    xml_escape(text)
        .replace('\t', "&#9;")
        .replace('\n', "&#10;")
}

fn section(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

pub(crate) fn write(
    out: &mut dyn Write,
    findings: &[Finding],
    playbook: &Playbook,
) -> std::io::Result<()> {
    let failures = findings.iter().filter(|f| f.status == Status::Warn).count();
    let skipped = findings
        .iter()
        .filter(|f| matches!(f.status, Status::Waived | Status::NotApplicable))
        .count();
    let name = xml_escape(&format!(
        "CIS Docker Benchmark v{} ({})",
        playbook.benchmark, playbook.name
    ));
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="docker-harden" tests="{}" failures="{failures}" errors="0" skipped="{skipped}">"#,
        findings.len()
    )?;
    writeln!(
        out,
        r#"  <testsuite name="{name}" tests="{}" failures="{failures}" errors="0" skipped="{skipped}">"#,
        findings.len()
    )?;
    for f in findings {
        let mut lines = f.evidence.clone();
        if let Some(fix) = &f.remediation {
            lines.push(format!("fix: {fix}"));
        }
        let evidence = xml_escape(&lines.join("\n"));
        // The system daemon's cases keep their plain class; a rootless daemon's say whose.
        let daemon = if f.daemon == "system" {
            String::new()
        } else {
            format!(" ({})", f.daemon)
        };
        writeln!(
            out,
            r#"    <testcase classname="section {}{}" name="{} {}: {}">"#,
            xml_escape(section(&f.id)),
            xml_escape(&daemon),
            xml_escape(&f.id),
            xml_escape(&f.code),
            xml_escape(&f.title)
        )?;
        match f.status {
            Status::Warn => writeln!(
                out,
                r#"      <failure message="{}" type="WARN">{evidence}</failure>"#,
                xml_escape_attr(f.evidence.first().map(String::as_str).unwrap_or("WARN"))
            )?,
            Status::Waived | Status::NotApplicable => writeln!(
                out,
                r#"      <skipped message="{}"/>"#,
                xml_escape_attr(f.evidence.first().map(String::as_str).unwrap_or("waived"))
            )?,
            _ => {}
        }
        writeln!(
            out,
            "      <system-out>[{}] {evidence}</system-out>",
            f.status.label()
        )?;
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            xml_escape("a<b>&\"c'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{fffd}\n"
        );
        assert_eq!(xml_escape("a\r\nb"), "a&#13;\nb");
        assert_eq!(xml_escape_attr("a\"\n\tb"), "a&quot;&#10;&#9;b");
    }
}
