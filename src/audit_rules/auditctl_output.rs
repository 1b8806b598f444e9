//! What `auditctl -l` and `auditctl -s` print.

use super::rules::watches;
use super::watch::Watch;

/// Parses the output of `auditctl -l` into watches.
pub(crate) fn parse_auditctl_list(output: &str) -> Vec<Watch> {
    // "No rules" and any other prose is simply not a rule line.
    watches(output).into_iter().map(|(_, w)| w).collect()
}

/// The `enabled` value from `auditctl -s` output.
pub(crate) fn enabled_flag(status_output: &str) -> Option<u8> {
    for line in status_output.lines() {
        let mut tokens = line.split_whitespace();
        // Current auditctl prints "enabled 2"; old versions print one line
        // of "AUDIT_STATUS: enabled=2 flag=1 ...".
        if tokens.next() == Some("enabled") {
            if let Some(v) = tokens.next().and_then(|v| v.parse().ok()) {
                return Some(v);
            }
            continue;
        }
        if let Some(v) = line
            .split_whitespace()
            .find_map(|t| t.strip_prefix("enabled="))
            .and_then(|v| v.parse().ok())
        {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit_rules::fixtures::*;

    #[test]
    fn auditctl_list_sample() {
        let out = "-w /usr/bin/dockerd -p wa -k docker\n\
                   -w /etc/docker -p wa -k docker\n\
                   -a always,exit -S all -F path=/usr/bin/runc -F perm=wa -F key=docker\n\
                   -a always,exit -F arch=b64 -S adjtimex,settimeofday -F key=time-change\n";
        assert_eq!(
            parse_auditctl_list(out),
            vec![
                w("/usr/bin/dockerd", "wa", Some("docker")),
                w("/etc/docker", "wa", Some("docker")),
                w("/usr/bin/runc", "wa", Some("docker")),
            ]
        );
        assert!(parse_auditctl_list("No rules\n").is_empty());
        assert!(parse_auditctl_list("").is_empty());
    }

    #[test]
    fn enabled_flag_forms() {
        let status = "enabled 2\nfailure 1\npid 123\nrate_limit 0\nbacklog_limit 8192\n";
        assert_eq!(enabled_flag(status), Some(2));
        assert_eq!(enabled_flag("failure 1\nenabled 1\n"), Some(1));
        assert_eq!(enabled_flag("enabled 0"), Some(0));
        assert_eq!(
            enabled_flag("AUDIT_STATUS: enabled=1 flag=1 pid=42 rate_limit=0"),
            Some(1)
        );
        assert_eq!(enabled_flag("failure 1\npid 123\n"), None);
        assert_eq!(enabled_flag("enabled x\n"), None);
        assert_eq!(enabled_flag(""), None);
    }
}
