//! The loader's unit tests: the default playbook, includes, variables, kinds and waivers.

use std::path::PathBuf;

use super::*;
use crate::kinds::Kind;
use crate::vocabulary::{SyslogAddress, SyslogEndpoint, SyslogTransport};
use serde_json::Value;

fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("playbook.yml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn default_playbook_is_valid() {
    let p = Playbook::default_playbook().unwrap();
    assert!(p.item("1.1.3").is_some());
    assert!(p.item("extra.audit").is_none(), "no extra paths by default");
    assert_eq!(p.variables.audit_key, "docker");
    match &p.item("2.9").unwrap().kind {
        Kind::DaemonSetting(d) => assert_eq!(d.want, Value::String("default".into())),
        other => panic!("{other:?}"),
    }
}

#[test]
fn default_playbook_checks_every_benchmark_item_in_order() {
    for version in Version::ALL {
        let p = Playbook::default_playbook()
            .and_then(|p| p.for_benchmark(version))
            .unwrap();
        let ids: Vec<String> = p.items.iter().map(|i| i.id.clone()).collect();
        assert_eq!(
            ids,
            catalogue::numbering(version).ids,
            "{version}: one item per ID, in order"
        );
        assert_eq!(p.benchmark, version);
    }
    let p = Playbook::default_playbook()
        .and_then(|p| p.for_benchmark(Version::V1_6_0))
        .unwrap();
    let ids: Vec<&str> = p.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        catalogue::numbering(Version::V1_6_0).ids,
        "one item per benchmark ID, in order"
    );
}

#[test]
fn operator_playbook_overrides_default() {
    let (_d, path) = write(
        "include: default\nvariables:\n  userns_remap: dockremap\n  extra_audit_paths: [/opt/bin/dctl]\nskip: [\"3\", \"1.5\"]\nenable: [\"2.9\"]\nwaivers:\n  - id: \"2.16\"\n    reason: needed by the legacy app\n    expires: 2099-01-31\n",
    );
    let p = Playbook::load(Some(&path)).unwrap();
    assert!(p.item("3.1").is_none());
    assert!(p.item("extra.audit").is_some());
    assert!(p.enabled.contains("2.9"));
    assert!(p.item("1.1.3").is_none(), "legacy 1.5 is 1.1.3");
    assert_eq!(p.waivers["2.16"].reason, "needed by the legacy app");
    match &p.item("2.9").unwrap().kind {
        Kind::DaemonSetting(d) => assert_eq!(d.want, Value::String("dockremap".into())),
        other => panic!("{other:?}"),
    }
}

#[test]
fn text_source_with_variable_overrides() {
    let text = "include: default\nvariables:\n  userns_remap: fromtext\n  audit_key: site\n";
    let overrides = RawVariables {
        userns_remap: Some("dockremap".into()),
        ..RawVariables::default()
    };
    let p = Playbook::load_source(&Source::Text(text.into()), overrides).unwrap();
    assert_eq!(p.source, "playbook_content");
    assert_eq!(
        p.variables.audit_key, "site",
        "the text's own variable stays"
    );
    match &p.item("2.9").unwrap().kind {
        Kind::DaemonSetting(d) => assert_eq!(d.want, Value::String("dockremap".into())),
        other => panic!("{other:?}"),
    }
    let overrides = RawVariables {
        audit_key: Some("two words".into()),
        ..RawVariables::default()
    };
    let err = Playbook::load_source(&Source::Default, overrides)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("audit_key: `two words` must be one word"),
        "{err}"
    );
}

#[test]
fn text_source_errors_name_it_and_the_line() {
    let err = Playbook::load_source(
        &Source::Text("include: default\nskip: 2.2\n".into()),
        RawVariables::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("playbook_content:2:"), "{err}");
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let (_d, path) = write("include: default\nvariables:\n  syslog_adress: tcp://x:514\n");
    let err = Playbook::load(Some(&path)).unwrap_err().to_string();
    assert!(err.contains("playbook.yml:3:"), "{err}");
    assert!(err.contains("syslog_adress"), "{err}");
}

#[test]
fn yaml_1_1_booleans_are_not_booleans() {
    let (_d, path) = write(
        "items:\n  - id: \"2.2\"\n    title: t\n    why: w\n    daemon_setting: { key: icc, want: no, default: true, apply: restart }\n",
    );
    // `no` stays the string "no", which is not what icc wants: load, then check the value.
    let p = Playbook::load(Some(&path)).unwrap();
    match &p.item("2.2").unwrap().kind {
        Kind::DaemonSetting(d) => assert_eq!(d.want, Value::String("no".into())),
        other => panic!("{other:?}"),
    }
    let (_d2, path2) =
        write("include: default\nwaivers:\n  - id: \"2.2\"\n    reason: x\n    expires: no\n");
    assert!(Playbook::load(Some(&path2)).is_err());
}

#[test]
fn wrong_type_is_an_error() {
    let (_d, path) = write("include: default\nskip: 2.2\n");
    let err = Playbook::load(Some(&path)).unwrap_err().to_string();
    assert!(err.contains("playbook.yml:2:"), "{err}");
    assert!(err.contains("skip"), "{err}");
}

#[test]
fn syslog_addresses_dockerd_refuses_are_refused() {
    // dockerd 20.10 refuses to start with each of these (measured), or could not connect.
    for bad in [
        "tcp//127.0.0.1:514",
        "TCP://127.0.0.1:514",
        " tcp://127.0.0.1:514",
        "127.0.0.1:514",
        "ftp://x:1",
        "tcp://host:abc",
        "tcp://",
        "tcp://:514",
        "tcp://127.0.0.1:0",
        "tcp://127.0.0.1:99999",
        "udp://::1:514",
        "udp://[::1",
        "tcp://127.0.0.1:514/path",
        "unix://dev/log",
        "",
    ] {
        let err = bad.parse::<SyslogAddress>().unwrap_err();
        assert!(
            err.contains("is not an address Docker's syslog"),
            "{bad}: {err}"
        );
    }
    for (good, transport, endpoint) in [
        (
            "tcp://127.0.0.1:514",
            SyslogTransport::Tcp,
            SyslogEndpoint::Net {
                host: "127.0.0.1".into(),
                port: 514,
            },
        ),
        (
            "tcp://localhost/",
            SyslogTransport::Tcp,
            SyslogEndpoint::Net {
                host: "localhost".into(),
                port: 514,
            },
        ),
        (
            "udp://[::1]:1514",
            SyslogTransport::Udp,
            SyslogEndpoint::Net {
                host: "::1".into(),
                port: 1514,
            },
        ),
        (
            "tcp+tls://logs.example.com:6514",
            SyslogTransport::TcpTls,
            SyslogEndpoint::Net {
                host: "logs.example.com".into(),
                port: 6514,
            },
        ),
        (
            "unix:///dev/log",
            SyslogTransport::Unix,
            SyslogEndpoint::Socket("/dev/log".into()),
        ),
    ] {
        let a: SyslogAddress = good.parse().unwrap();
        assert_eq!(
            (a.as_str(), a.transport, &a.endpoint),
            (good, transport, &endpoint)
        );
    }
}

#[test]
fn playbook_variables_are_typed_at_load() {
    let (_d, path) =
        write("include: default\nvariables:\n  syslog_address: \"tcp//127.0.0.1:514\"\n");
    let err = Playbook::load(Some(&path)).unwrap_err().to_string();
    assert!(err.contains("playbook.yml:3:"), "{err}");
    assert!(
        err.contains("syslog_address: `tcp//127.0.0.1:514` is not an address"),
        "{err}"
    );
    let (_d, path) = write("include: default\nvariables:\n  userns_remap: \"a b\"\n");
    let err = Playbook::load(Some(&path)).unwrap_err().to_string();
    assert!(err.contains("userns_remap: `a b` is not"), "{err}");
    let p = Playbook::default_playbook().unwrap();
    assert_eq!(p.variables.syslog_address.as_str(), "tcp://127.0.0.1:514");
    match &p.item("2.13").unwrap().kind {
        Kind::RemoteLogging(r) => assert!(r.address.is_local()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn selectors() {
    let p = Playbook::default_playbook().unwrap();
    let s = p.select(&["1.5".into(), "3".into()]).unwrap();
    assert!(s.contains("1.1.3"));
    assert!(s.contains("3.24"));
    assert!(!s.contains("2.2"));
    assert!(p.select(&["8.1".into()]).is_err());
    assert!(p.select(&["banana".into()]).is_err());
}
