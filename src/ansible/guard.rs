//! Nothing but the result reaches Ansible. Over ssh the module's stderr is merged into its
//! stdout, and anything besides the JSON breaks or clutters the task: so the real stdout is set
//! aside for the result, both standard streams point at /dev/null while the module works (a
//! spinner, a panic message, a child's output all go there), and a panic becomes a failed
//! result.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::panic::{self, UnwindSafe};

use super::result::ModuleResult;

/// The process's stdout, kept for the result while fds 1 and 2 point at /dev/null.
pub(crate) struct ResultChannel {
    out: File,
}

impl ResultChannel {
    /// Sets stdout aside and silences both standard streams. `None` when that cannot be done
    /// (no /dev/null): the caller then writes the result to stdout as it is.
    pub(crate) fn open() -> Option<ResultChannel> {
        let _ = std::io::stdout().flush();
        let saved = nix::unistd::dup(std::io::stdout()).ok()?;
        let null = OpenOptions::new().write(true).open("/dev/null").ok()?;
        nix::unistd::dup2_stdout(&null).ok()?;
        nix::unistd::dup2_stderr(&null).ok()?;
        Some(ResultChannel {
            out: File::from(saved),
        })
    }

    pub(crate) fn send(mut self, json: &str) -> std::io::Result<()> {
        writeln!(self.out, "{json}")?;
        self.out.flush()
    }
}

thread_local! {
    /// The message and place of a panic on this thread, as the hook saw it.
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `work`; a panic in it becomes a failed result naming where it happened.
pub(crate) fn catch_panic(work: impl FnOnce() -> ModuleResult + UnwindSafe) -> ModuleResult {
    let previous = panic::take_hook();
    // The default hook would print to stderr; keep the message for the result instead.
    panic::set_hook(Box::new(|info| {
        PANIC.with(|p| *p.borrow_mut() = Some(info.to_string()));
    }));
    let outcome = panic::catch_unwind(work);
    panic::set_hook(previous);
    outcome.unwrap_or_else(|payload| {
        let message = PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| {
            payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into())
        });
        ModuleResult::failure(format!("docker-harden failed unexpectedly: {message}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_a_failed_result_with_its_message_and_place() {
        let result = catch_panic(|| panic!("the disk is made of cheese"));
        assert!(result.failed);
        assert!(!result.changed);
        assert!(
            result.msg.contains("the disk is made of cheese"),
            "{}",
            result.msg
        );
        assert!(result.msg.contains("guard.rs"), "{}", result.msg);
    }

    #[test]
    fn a_result_passes_through() {
        let result = catch_panic(|| ModuleResult {
            changed: true,
            msg: "fine".into(),
            ..ModuleResult::default()
        });
        assert!(result.changed && !result.failed);
        assert_eq!(result.msg, "fine");
    }
}
