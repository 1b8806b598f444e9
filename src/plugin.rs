//! Running as a Docker CLI plugin, `docker harden ...`: the metadata docker asks every plugin
//! for, and docker's command line turned into docker-harden's.
//!
//! docker runs a plugin with its own command line unchanged: `docker -H X harden check` runs
//! `docker-harden -H X harden check`, with DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND set. docker
//! passes nothing else through the environment: its global options stay in argv, before the
//! plugin's name, and only what the user's shell already exported (DOCKER_HOST,
//! DOCKER_CONTEXT, DOCKER_CONFIG) is in the environment.

use std::ffi::{OsStr, OsString};

/// The argument docker runs every plugin with to describe it (`docker --help`, `docker info`).
pub(crate) const METADATA_ARG: &str = "docker-cli-plugin-metadata";
/// Set by docker when it runs a plugin.
pub(crate) const PLUGIN_ENV: &str = "DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND";
/// The command docker derives from the file name `docker-harden`.
pub(crate) const NAME: &str = "harden";
/// How usage lines name the tool when docker runs it.
pub(crate) const BIN_NAME: &str = "docker harden";

/// The metadata docker reads before it lists or runs the plugin.
pub(crate) fn metadata() -> String {
    serde_json::json!({
        "SchemaVersion": "0.1.0",
        "Vendor": "docker-harden",
        "Version": env!("CARGO_PKG_VERSION"),
        "ShortDescription": "Audit and fix this host against the CIS Docker Benchmark",
    })
    .to_string()
}

/// What one of docker's global options does here.
enum DockerOption {
    /// Chooses the engine: becomes this docker-harden option, with its value.
    Engine(&'static str),
    /// Takes a value docker-harden has no use for: the log level, TLS files for a remote
    /// engine, which is never asked.
    IgnoredValue,
    /// A switch docker-harden has no use for: debug, TLS.
    IgnoredSwitch,
}

fn long_option(name: &str) -> Option<DockerOption> {
    Some(match name {
        "config" => DockerOption::Engine("--docker-config"),
        "context" => DockerOption::Engine("--context"),
        "host" => DockerOption::Engine("--docker-host"),
        "log-level" | "tlscacert" | "tlscert" | "tlskey" => DockerOption::IgnoredValue,
        "debug" | "tls" | "tlsverify" => DockerOption::IgnoredSwitch,
        _ => return None,
    })
}

fn short_option(letter: char) -> Option<DockerOption> {
    long_option(match letter {
        'c' => "context",
        'H' => "host",
        'l' => "log-level",
        'D' => "debug",
        _ => return None,
    })
}

/// docker-harden's command line for a run by docker: docker's options that choose the engine
/// become docker-harden's (--docker-host, --context, --docker-config), the others are dropped,
/// and the plugin's name goes (`help harden ...`, docker's form of `docker help harden`,
/// becomes `help ...`). `None` when `args` is not docker's command line for this plugin.
pub(crate) fn translate(args: &[OsString]) -> Option<Vec<OsString>> {
    let mut out: Vec<OsString> = vec![args.first()?.clone()];
    let mut i = 1;
    // docker's global options, in pflag's syntax (`--host=X`, `--host X`, `-H X`, `-HX`,
    // `-H=X`, grouped switches `-D`), up to the first word.
    while let Some(arg) = args.get(i).map(|a| a.to_str()) {
        let arg = arg?;
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, value)) => (name, Some(OsString::from(value))),
                None => (long, None),
            };
            let option = long_option(name)?;
            i = take(args, i, inline, option, &mut out)?;
        } else if let Some(letters) = arg.strip_prefix('-').filter(|l| !l.is_empty()) {
            for (at, letter) in letters.char_indices() {
                let option = short_option(letter)?;
                if matches!(option, DockerOption::IgnoredSwitch) {
                    continue;
                }
                let rest = &letters[at + letter.len_utf8()..];
                let inline = (!rest.is_empty())
                    .then(|| OsString::from(rest.strip_prefix('=').unwrap_or(rest)));
                i = take(args, i, inline, option, &mut out)?;
                break;
            }
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    match rest {
        [name, tail @ ..] if name == NAME => out.extend(tail.iter().cloned()),
        [help, name, tail @ ..] if help == "help" && name == NAME => {
            out.push("help".into());
            out.extend(tail.iter().cloned());
        }
        _ => return None,
    }
    Some(out)
}

/// Consumes one option's value (inline, else the next argument) and returns the index of the
/// last argument used.
fn take(
    args: &[OsString],
    mut i: usize,
    inline: Option<OsString>,
    option: DockerOption,
    out: &mut Vec<OsString>,
) -> Option<usize> {
    let value = match (&option, inline) {
        (DockerOption::IgnoredSwitch, _) => return Some(i),
        (_, Some(value)) => value,
        (_, None) => {
            i += 1;
            args.get(i)?.clone()
        }
    };
    if let DockerOption::Engine(flag) = option {
        out.push(flag.into());
        out.push(value);
    }
    Some(i)
}

/// True when docker ran this process as its plugin.
pub(crate) fn run_by_docker() -> bool {
    std::env::var_os(PLUGIN_ENV).is_some()
}

/// The metadata request, whatever else is on the command line.
pub(crate) fn is_metadata_request(args: &[OsString]) -> bool {
    args.get(1).map(OsString::as_os_str) == Some(OsStr::new(METADATA_ARG))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<OsString> {
        line.split_whitespace().map(OsString::from).collect()
    }

    fn translated(line: &str) -> Option<String> {
        translate(&args(line)).map(|a| {
            a.iter()
                .map(|s| s.to_str().unwrap())
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    #[test]
    fn metadata_is_what_docker_expects() {
        let v: serde_json::Value = serde_json::from_str(&metadata()).unwrap();
        assert_eq!(v["SchemaVersion"], "0.1.0");
        assert_eq!(v["Vendor"], "docker-harden");
        assert_eq!(v["Version"], env!("CARGO_PKG_VERSION"));
        assert!(!v["ShortDescription"].as_str().unwrap().is_empty());
    }

    #[test]
    fn the_plugin_name_goes() {
        assert_eq!(
            translated("docker-harden harden check --format json").as_deref(),
            Some("docker-harden check --format json")
        );
        assert_eq!(
            translated("docker-harden harden").as_deref(),
            Some("docker-harden")
        );
    }

    #[test]
    fn engine_options_become_docker_hardens() {
        assert_eq!(
            translated("d --config /c -H tcp://127.0.0.1:1 harden fix --yes").as_deref(),
            Some("d --docker-config /c --docker-host tcp://127.0.0.1:1 fix --yes")
        );
        assert_eq!(
            translated("d --config=/c --context=remote harden check").as_deref(),
            Some("d --docker-config /c --context remote check")
        );
        assert_eq!(
            translated("d -cremote -Hunix:///s harden check").as_deref(),
            Some("d --context remote --docker-host unix:///s check")
        );
        assert_eq!(
            translated("d -c=remote harden check").as_deref(),
            Some("d --context remote check")
        );
    }

    #[test]
    fn other_docker_options_are_dropped() {
        assert_eq!(
            translated("d -D -l debug --tls --tlsverify=true --tlscacert /ca harden check")
                .as_deref(),
            Some("d check")
        );
        // Switches grouped with an option that takes a value.
        assert_eq!(
            translated("d -DH unix:///s harden check").as_deref(),
            Some("d --docker-host unix:///s check")
        );
        assert_eq!(
            translated("d --log-level=warn harden list").as_deref(),
            Some("d list")
        );
    }

    #[test]
    fn dockers_help_form() {
        assert_eq!(
            translated("d --config /c help harden check").as_deref(),
            Some("d --docker-config /c help check")
        );
    }

    #[test]
    fn not_a_plugin_command_line() {
        assert_eq!(translated("docker-harden check"), None);
        assert_eq!(translated("docker-harden --root /r check"), None);
        assert_eq!(translated("d -H"), None);
        assert_eq!(translated("d --unknown harden check"), None);
    }

    #[test]
    fn recognises_the_metadata_request() {
        assert!(is_metadata_request(&args(
            "docker-harden docker-cli-plugin-metadata"
        )));
        assert!(!is_metadata_request(&args("docker-harden check")));
        assert!(!is_metadata_request(&args("docker-harden")));
    }
}
