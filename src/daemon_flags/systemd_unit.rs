//! The dockerd command a systemd unit and its drop-ins start: `[Service]` assignments,
//! `ExecStart=`, `Environment=` and `EnvironmentFile=`.

use std::collections::HashMap;

use super::command_line::{expand_word, systemd_words, unescape_specifiers};
use super::env_file::{is_env_name, parse_env_file};

/// One unit file (main unit or drop-in) as read by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnitFile {
    pub(crate) path: String,
    pub(crate) text: String,
}

/// The command systemd would run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExecStart {
    /// `argv[0]` is the executable path (even with the `@` prefix, whose
    /// replacement `argv[0]` is dropped, because the auditor cares about the
    /// binary); the rest are the arguments after variable expansion.
    pub(crate) argv: Vec<String>,
    /// File that set it.
    pub(crate) path: String,
}

impl ExecStart {
    /// Arguments without the executable, ready for [`parse_dockerd_args`].
    pub(crate) fn args(&self) -> &[String] {
        self.argv.get(1..).unwrap_or_default()
    }
}

/// A `Key=value` assignment in a `[Service]` section.
pub(super) struct Assignment<'a> {
    pub(super) key: String,
    pub(super) value: String,
    pub(super) path: &'a str,
}

/// The `[Service]` assignments of the unit followed by its drop-ins, with
/// systemd's line syntax: `#`/`;` comment lines (also inside a continuation),
/// trailing backslash continuation (the backslash becomes a space), section
/// headers, and keys and values trimmed.
pub(super) fn service_assignments<'a>(
    main: &'a UnitFile,
    dropins: &'a [UnitFile],
) -> Vec<Assignment<'a>> {
    let mut out = Vec::new();
    for unit in std::iter::once(main).chain(dropins) {
        let mut in_service = false;
        let mut continued: Option<String> = None;
        for line in unit.text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let logical = match continued.take() {
                Some(mut prefix) => {
                    prefix.push_str(trimmed);
                    prefix
                }
                None => {
                    if trimmed.starts_with('[') {
                        in_service = trimmed == "[Service]";
                        continue;
                    }
                    trimmed.to_string()
                }
            };
            if let Some(stripped) = logical.strip_suffix('\\') {
                let mut s = stripped.to_string();
                s.push(' ');
                continued = Some(s);
                continue;
            }
            if !in_service {
                continue;
            }
            if let Some((k, val)) = logical.split_once('=') {
                out.push(Assignment {
                    key: k.trim().to_string(),
                    value: val.trim().to_string(),
                    path: &unit.path,
                });
            }
        }
        // A continuation running into the end of the file still counts.
        if let (true, Some(logical)) = (in_service, continued)
            && let Some((k, val)) = logical.split_once('=')
        {
            out.push(Assignment {
                key: k.trim().to_string(),
                value: val.trim().to_string(),
                path: &unit.path,
            });
        }
    }
    out
}

/// EnvironmentFile= entries of the unit and drop-ins, in order: (path,
/// optional) where optional is the `-` prefix. An empty `EnvironmentFile=`
/// clears the list, as systemd does.
pub(crate) fn environment_files(main: &UnitFile, dropins: &[UnitFile]) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for a in service_assignments(main, dropins) {
        if a.key != "EnvironmentFile" {
            continue;
        }
        if a.value.is_empty() {
            out.clear();
            continue;
        }
        match a.value.strip_prefix('-') {
            Some(p) => out.push((p.trim().to_string(), true)),
            None => out.push((a.value.clone(), false)),
        }
    }
    out
}

/// The effective `ExecStart=` value as written (prefixes and `$VAR`s kept), with the file
/// that sets it: what a drop-in replacing it must start from.
pub(crate) fn raw_exec_start(main: &UnitFile, dropins: &[UnitFile]) -> Option<(String, String)> {
    let mut exec = None;
    for a in service_assignments(main, dropins) {
        match a.key.as_str() {
            "ExecStart" if a.value.is_empty() => exec = None,
            "ExecStart" if systemd_words(&a.value).is_none() => {}
            "ExecStart" => exec = Some((a.value.clone(), a.path.to_string())),
            _ => {}
        }
    }
    exec
}

/// Splits a unit's command line into words the way systemd does (quotes, escapes); `None` for
/// an unterminated quote.
pub(crate) fn unit_words(value: &str) -> Option<Vec<String>> {
    systemd_words(value)
}

/// The command systemd would start for this service, with the semantics of
/// the `[Service]` section of the main unit followed by the drop-ins (in the
/// order given, which must be systemd's order):
///
/// * an empty `ExecStart=` resets the list and the last non-empty one wins.
///   systemd itself refuses a non-oneshot unit left with two ExecStart=
///   lines; we still report the last so the auditor sees what was meant;
/// * prefixes `-`, `@`, `:`, `+`, `!`, `!!` are removed; `:` also turns off
///   variable expansion, and `@` drops the `argv[0]` override word;
/// * only the first command of a `;`-separated list is used, because dockerd
///   is not a oneshot service;
/// * the environment is `Environment=` (empty resets) overridden by the
///   EnvironmentFile= contents the caller put in `env_files`, keyed by path
///   without the `-` prefix; a file missing from the map contributes nothing
///   (systemd would fail to start if it was not optional, which is beyond a
///   flag reader);
/// * `$VAR` alone is split into zero or more words, `${VAR}` gives exactly
///   one (an unset one gives an empty argument), `$$` is `$`, and `$VAR`
///   inside a longer word stays literal, as in systemd.service(5).
pub(crate) fn effective_exec_start(
    main: &UnitFile,
    dropins: &[UnitFile],
    env_files: &HashMap<String, String>,
) -> Option<ExecStart> {
    let assignments = service_assignments(main, dropins);
    let mut exec: Option<(String, &str)> = None;
    let mut env: HashMap<String, String> = HashMap::new();
    for a in &assignments {
        match a.key.as_str() {
            "ExecStart" if a.value.is_empty() => exec = None,
            // systemd ignores a line it cannot split and keeps the earlier one.
            "ExecStart" if systemd_words(&a.value).is_none() => {}
            "ExecStart" => exec = Some((a.value.clone(), a.path)),
            "Environment" if a.value.is_empty() => env.clear(),
            "Environment" => {
                for word in systemd_words(&unescape_specifiers(&a.value)).unwrap_or_default() {
                    if let Some((k, val)) = word.split_once('=').filter(|(k, _)| is_env_name(k)) {
                        env.insert(k.to_string(), val.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    for (path, _) in environment_files(main, dropins) {
        if let Some(text) = env_files.get(&path) {
            env.extend(parse_env_file(text));
        }
    }

    let (value, path) = exec?;
    let mut body = value.as_str();
    let mut no_expand = false;
    let mut argv0_override = false;
    while let Some(c) = body.chars().next().filter(|c| "-@:+!".contains(*c)) {
        no_expand |= c == ':';
        argv0_override |= c == '@';
        body = &body[1..];
    }
    let words = systemd_words(&unescape_specifiers(body))?;
    let mut words = words.split(|w| w == ";").next().unwrap_or_default().iter();
    let program = words.next()?.clone();
    if argv0_override {
        words.next();
    }
    let mut argv = vec![program];
    for w in words {
        if no_expand {
            argv.push(w.clone());
        } else {
            expand_word(w, &env, &mut argv);
        }
    }
    Some(ExecStart {
        argv,
        path: path.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon_flags::args::parse_dockerd_args;
    use crate::daemon_flags::fixtures::*;

    const DEBIAN_UNIT: &str = "\
[Unit]
Description=Docker Application Container Engine
Documentation=https://docs.docker.com
After=network-online.target docker.socket firewalld.service containerd.service
Wants=network-online.target containerd.service
Requires=docker.socket

[Service]
Type=notify
# the default is not to use systemd for cgroups because the delegate issues still
# exists and systemd currently does not support the cgroup feature set required
# for containers run by docker
EnvironmentFile=-/etc/default/docker
ExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS
ExecReload=/bin/kill -s HUP $MAINPID
TimeoutStartSec=0
RestartSec=2
Restart=always

[Install]
WantedBy=multi-user.target
";

    #[test]
    fn debian_unit_with_env_file() {
        let main = unit("/lib/systemd/system/docker.service", DEBIAN_UNIT);
        assert_eq!(
            environment_files(&main, &[]),
            vec![("/etc/default/docker".to_string(), true)]
        );
        let mut files = HashMap::new();
        files.insert(
            "/etc/default/docker".to_string(),
            "# comment\nDOCKER_OPTS=\"--dns 8.8.8.8 --icc=false\"\n".to_string(),
        );
        let e = effective_exec_start(&main, &[], &files).unwrap();
        assert_eq!(e.path, "/lib/systemd/system/docker.service");
        assert_eq!(
            e.argv,
            s(&[
                "/usr/sbin/dockerd",
                "-H",
                "fd://",
                "--dns",
                "8.8.8.8",
                "--icc=false"
            ])
        );
        let p = parse_dockerd_args(e.args());
        assert_eq!(
            pairs(&p),
            vec![("host", "fd://"), ("dns", "8.8.8.8"), ("icc", "false")]
        );

        // A missing optional file leaves $DOCKER_OPTS as zero words.
        let e = effective_exec_start(&main, &[], &HashMap::new()).unwrap();
        assert_eq!(e.argv, s(&["/usr/sbin/dockerd", "-H", "fd://"]));
    }

    #[test]
    fn docker_ce_unit() {
        let text = "\
[Service]
Type=notify
ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock
ExecReload=/bin/kill -s HUP $MAINPID
";
        let main = unit("/lib/systemd/system/docker.service", text);
        let e = effective_exec_start(&main, &[], &HashMap::new()).unwrap();
        let p = parse_dockerd_args(e.args());
        assert_eq!(
            pairs(&p),
            vec![
                ("host", "fd://"),
                ("containerd", "/run/containerd/containerd.sock")
            ]
        );
        assert!(p.unparsed.is_empty());
    }

    #[test]
    fn rhel_unit() {
        let text = "\
[Service]
Type=notify
NotifyAccess=main
EnvironmentFile=-/run/containers/registries.conf
EnvironmentFile=-/etc/sysconfig/docker
EnvironmentFile=-/etc/sysconfig/docker-storage
EnvironmentFile=-/etc/sysconfig/docker-network
Environment=GOTRACEBACK=crash
Environment=DOCKER_HTTP_HOST_COMPAT=1
Environment=PATH=/usr/libexec/docker:/usr/bin:/usr/sbin
ExecStart=/usr/bin/dockerd-current \\
          --add-runtime docker-runc=/usr/libexec/docker/docker-runc-current \\
          --default-runtime=docker-runc \\
          --exec-opt native.cgroupdriver=systemd \\
          --userland-proxy-path=/usr/libexec/docker/docker-proxy-current \\
          --init-path=/usr/libexec/docker/docker-init-current \\
          --seccomp-profile=/etc/docker/seccomp.json \\
          $OPTIONS \\
          $DOCKER_STORAGE_OPTIONS \\
          $DOCKER_NETWORK_OPTIONS \\
          $ADD_REGISTRY \\
          $BLOCK_REGISTRY \\
          $INSECURE_REGISTRY \\
          $REGISTRIES
ExecReload=/bin/kill -s HUP $MAINPID
";
        let main = unit("/usr/lib/systemd/system/docker.service", text);
        assert_eq!(environment_files(&main, &[]).len(), 4);
        let mut files = HashMap::new();
        files.insert(
            "/etc/sysconfig/docker".to_string(),
            "# /etc/sysconfig/docker\n\n# Modify these options if you want to change the way the docker daemon runs\nOPTIONS='--selinux-enabled --log-driver=journald --signature-verification=false'\nif [ -z \"${DOCKER_CERT_PATH}\" ]; then\n    DOCKER_CERT_PATH=/etc/docker\nfi\n".to_string(),
        );
        files.insert(
            "/etc/sysconfig/docker-storage".to_string(),
            "DOCKER_STORAGE_OPTIONS=\"--storage-driver overlay2 \"\n".to_string(),
        );
        let e = effective_exec_start(&main, &[], &files).unwrap();
        assert_eq!(e.argv[0], "/usr/bin/dockerd-current");
        let p = parse_dockerd_args(e.args());
        assert_eq!(
            pairs(&p),
            vec![
                (
                    "add-runtime",
                    "docker-runc=/usr/libexec/docker/docker-runc-current"
                ),
                ("default-runtime", "docker-runc"),
                ("exec-opt", "native.cgroupdriver=systemd"),
                (
                    "userland-proxy-path",
                    "/usr/libexec/docker/docker-proxy-current"
                ),
                ("init-path", "/usr/libexec/docker/docker-init-current"),
                ("seccomp-profile", "/etc/docker/seccomp.json"),
                ("selinux-enabled", "true"),
                ("log-driver", "journald"),
                ("signature-verification", "false"),
                ("storage-driver", "overlay2"),
            ]
        );
        assert!(p.unparsed.is_empty());
    }

    #[test]
    fn dropin_reset() {
        let main = unit("/lib/systemd/system/docker.service", DEBIAN_UNIT);
        let dropin = unit(
            "/etc/systemd/system/docker.service.d/override.conf",
            "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --iptables=false -H fd://\n",
        );
        let e = effective_exec_start(&main, &[dropin], &HashMap::new()).unwrap();
        assert_eq!(e.path, "/etc/systemd/system/docker.service.d/override.conf");
        assert_eq!(
            e.argv,
            s(&["/usr/bin/dockerd", "--iptables=false", "-H", "fd://"])
        );
    }

    #[test]
    fn dropin_reset_only_means_none() {
        let main = unit("/lib/systemd/system/docker.service", DEBIAN_UNIT);
        let dropin = unit("/x.conf", "[Service]\nExecStart=\n");
        assert_eq!(
            effective_exec_start(&main, &[dropin], &HashMap::new()),
            None
        );
    }

    #[test]
    fn keys_outside_service_ignored() {
        let main = unit(
            "/u",
            "[Unit]\nExecStart=/bin/wrong\n[Service]\nExecStart=/bin/right\n[Install]\nExecStart=/bin/wrong2\n",
        );
        let e = effective_exec_start(&main, &[], &HashMap::new()).unwrap();
        assert_eq!(e.argv, s(&["/bin/right"]));
        // A drop-in with no section header is outside [Service].
        let d = unit("/d.conf", "ExecStart=\nExecStart=/bin/nope\n");
        let e = effective_exec_start(&main, &[d], &HashMap::new()).unwrap();
        assert_eq!(e.argv, s(&["/bin/right"]));
    }

    #[test]
    fn continuation_and_comments() {
        let text = "[Service]\n\
ExecStart=/usr/bin/dockerd \\\n\
  -H fd:// \\\n\
# a comment inside the continuation\n\
  --log-level=warn \\\n\
; another\n\
  --live-restore\n\
ExecReload=/bin/true \\";
        let main = unit("/u", text);
        let e = effective_exec_start(&main, &[], &HashMap::new()).unwrap();
        assert_eq!(
            e.argv,
            s(&[
                "/usr/bin/dockerd",
                "-H",
                "fd://",
                "--log-level=warn",
                "--live-restore"
            ])
        );
    }

    #[test]
    fn prefixes() {
        for (line, want) in [
            ("-/usr/bin/dockerd -D", s(&["/usr/bin/dockerd", "-D"])),
            ("+/usr/bin/dockerd -D", s(&["/usr/bin/dockerd", "-D"])),
            ("!!/usr/bin/dockerd -D", s(&["/usr/bin/dockerd", "-D"])),
            ("-!/usr/bin/dockerd -D", s(&["/usr/bin/dockerd", "-D"])),
            (
                "@/usr/bin/dockerd dockerd -D",
                s(&["/usr/bin/dockerd", "-D"]),
            ),
            (":/usr/bin/dockerd $X", s(&["/usr/bin/dockerd", "$X"])),
        ] {
            let main = unit(
                "/u",
                &format!("[Service]\nEnvironment=X=1\nExecStart={line}\n"),
            );
            let e = effective_exec_start(&main, &[], &HashMap::new()).unwrap();
            assert_eq!(e.argv, want, "{line}");
        }
    }

    #[test]
    fn expansion_rules() {
        let text = r#"[Service]
Environment="A=--dns 1.1.1.1" B=two\ words
Environment=C=x EMPTY=
ExecStart=/d $A ${A} ${UNSET} $UNSET pre${C}post $$C --v=$C "quoted arg" 100%% $EMPTY ${EMPTY} ; /second cmd
"#;
        let main = unit("/u", text);
        let e = effective_exec_start(&main, &[], &HashMap::new()).unwrap();
        assert_eq!(
            e.argv,
            s(&[
                "/d",
                "--dns",
                "1.1.1.1",
                "--dns 1.1.1.1",
                "",
                "prexpost",
                "$C",
                "--v=$C",
                "quoted arg",
                "100%",
                "",
            ])
        );
    }

    #[test]
    fn environment_reset_and_file_precedence() {
        let main = unit(
            "/u",
            "[Service]\nEnvironment=OPTS=--a\nEnvironment=\nEnvironment=X=--x\nEnvironmentFile=/f\nExecStart=/d $OPTS $X\n",
        );
        let mut files = HashMap::new();
        files.insert("/f".to_string(), "X=--from-file\n".to_string());
        let e = effective_exec_start(&main, &[], &files).unwrap();
        assert_eq!(e.argv, s(&["/d", "--from-file"]));
        assert_eq!(
            environment_files(&main, &[]),
            vec![("/f".to_string(), false)]
        );
        let d = unit(
            "/d.conf",
            "[Service]\nEnvironmentFile=\nEnvironmentFile=-/g\n",
        );
        assert_eq!(
            environment_files(&main, &[d]),
            vec![("/g".to_string(), true)]
        );
    }

    #[test]
    fn unterminated_quote_ignores_directive() {
        let main = unit("/u", "[Service]\nExecStart=/d -D\n");
        let d = unit("/d.conf", "[Service]\nExecStart=/e \"open\n");
        let e = effective_exec_start(&main, &[d], &HashMap::new()).unwrap();
        assert_eq!(e.argv, s(&["/d", "-D"]));
    }

    #[test]
    fn no_exec_start() {
        let main = unit("/u", "[Service]\nType=notify\n");
        assert_eq!(effective_exec_start(&main, &[], &HashMap::new()), None);
    }
}
