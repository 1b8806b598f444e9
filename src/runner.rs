//! The one seam for external commands (systemctl, auditctl, augenrules). Production code runs
//! them; tests substitute a recorder with scripted answers, so no test touches the real host.

use std::process::Command;
use std::sync::Mutex;

use crate::error::CommandError;

/// What a command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl CommandOutput {
    pub fn ok(stdout: &str) -> CommandOutput {
        CommandOutput {
            success: true,
            stdout: stdout.to_string(),
            stderr: String::new(),
        }
    }

    pub fn failed(stderr: &str) -> CommandOutput {
        CommandOutput {
            success: false,
            stdout: String::new(),
            stderr: stderr.to_string(),
        }
    }
}

pub trait Runner: Send + Sync {
    /// Runs `program` with `args`. `Err` means it could not be started at all (not installed).
    fn run(&self, program: &str, args: &[&str]) -> Result<CommandOutput, CommandError>;

    /// Whether something accepts TCP connections at `host:port` (is rsyslog listening where
    /// Docker's syslog driver will connect?).
    fn tcp_accepts(&self, host: &str, port: u16) -> bool;

    /// Waits between health probes (tests answer at once).
    fn pause(&self, duration: std::time::Duration);
}

/// Runs real commands on the live host.
pub(crate) struct SystemRunner;

impl Runner for SystemRunner {
    fn tcp_accepts(&self, host: &str, port: u16) -> bool {
        use std::net::ToSocketAddrs;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let Ok(addrs) = (host, port).to_socket_addrs() else {
            return false;
        };
        addrs.into_iter().any(|addr| {
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2)).is_ok()
        })
    }

    fn pause(&self, duration: std::time::Duration) {
        std::thread::sleep(duration);
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<CommandOutput, CommandError> {
        let output = Command::new(program)
            .args(args)
            .env("LC_ALL", "C")
            .output()
            .map_err(|e| CommandError::NotStarted {
                program: program.into(),
                reason: e.to_string(),
            })?;
        Ok(CommandOutput {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// Records every call and answers from a script: the first rule whose prefix matches the
/// command line wins; unmatched commands succeed with no output.
#[derive(Default)]
pub struct RecordingRunner {
    calls: Mutex<Vec<String>>,
    answers: Vec<(String, Result<CommandOutput, CommandError>)>,
}

impl RecordingRunner {
    pub fn new() -> RecordingRunner {
        RecordingRunner::default()
    }

    /// Answer commands starting with `prefix` (e.g. "auditctl -l") with `answer`.
    pub fn answer(mut self, prefix: &str, answer: Result<CommandOutput, CommandError>) -> Self {
        self.answers.push((prefix.to_string(), answer));
        self
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Runner for RecordingRunner {
    /// Recorded as `tcp-connect HOST:PORT`; refused when a `tcp-connect` answer says failure.
    fn tcp_accepts(&self, host: &str, port: u16) -> bool {
        let answer = self.run("tcp-connect", &[&format!("{host}:{port}")]);
        matches!(answer, Ok(out) if out.success)
    }

    fn pause(&self, _duration: std::time::Duration) {}

    fn run(&self, program: &str, args: &[&str]) -> Result<CommandOutput, CommandError> {
        let line = std::iter::once(program)
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(line.clone());
        }
        for (prefix, answer) in &self.answers {
            if line.starts_with(prefix.as_str()) {
                return answer.clone();
            }
        }
        Ok(CommandOutput::ok(""))
    }
}
