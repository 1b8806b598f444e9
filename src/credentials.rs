//! Acting as a user. Whatever docker-harden writes for a rootless daemon (its daemon.json, its
//! unit drop-in, the owners and modes of its files) lives in a directory its user controls, so
//! it is written with that user's privileges, not root's: the kernel then refuses what the user
//! could not do themselves, such as writing /etc through a symlink they planted in their home,
//! or taking over a file that is not theirs with chown.
//!
//! The work runs on a thread of its own whose filesystem credentials are the user's (Linux
//! keeps credentials per thread: setfsuid, setfsgid and the raw setgroups and capset system
//! calls change the calling thread only). The thread ends with the work, so no other thread of
//! the process ever runs with them and root's credentials never need restoring.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The user a piece of work runs as.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

impl std::fmt::Display for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (uid {})", self.name, self.uid)
    }
}

/// Runs `work` as `who` (or as docker-harden itself when `None`) and returns its result.
pub(crate) fn run_as<T: Send>(
    who: Option<&Account>,
    work: impl FnOnce() -> Result<T> + Send,
) -> Result<T> {
    let Some(who) = who else {
        return work();
    };
    let euid = nix::unistd::geteuid().as_raw();
    if euid != 0 {
        // Not root (a test run as a user): there is nothing to drop, and no other user to be.
        if euid == who.uid {
            return work();
        }
        return Err(Error::Usage(format!(
            "docker-harden runs as uid {euid} and cannot act as {who}: run it as root"
        )));
    }
    std::thread::scope(|scope| {
        let handle = scope.spawn(|| {
            become_user(who)?;
            work()
        });
        match handle.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Gives the calling thread `who`'s filesystem identity and no capabilities.
fn become_user(who: &Account) -> Result<()> {
    let failed = |what: &str, e: std::io::Error| {
        Error::Usage(format!("cannot act as {who}: {what} failed: {e}"))
    };
    let gid: nix::libc::gid_t = who.gid;
    // The raw system call: glibc's setgroups() would change every thread of the process.
    // SAFETY: one gid_t, as the kernel expects.
    let rc = unsafe { nix::libc::syscall(nix::libc::SYS_setgroups, 1usize, &gid as *const _) };
    if rc != 0 {
        return Err(failed("setgroups", std::io::Error::last_os_error()));
    }
    nix::unistd::setfsgid(nix::unistd::Gid::from_raw(who.gid));
    nix::unistd::setfsuid(nix::unistd::Uid::from_raw(who.uid));
    // Both calls answer the previous value; asking with an invalid ID reads the current one.
    let now_gid = nix::unistd::setfsgid(nix::unistd::Gid::from_raw(u32::MAX)).as_raw();
    let now_uid = nix::unistd::setfsuid(nix::unistd::Uid::from_raw(u32::MAX)).as_raw();
    if (now_uid, now_gid) != (who.uid, who.gid) {
        return Err(failed(
            "setfsuid",
            std::io::Error::other(format!("the thread has fsuid {now_uid}, fsgid {now_gid}")),
        ));
    }
    // The fs capabilities went with fsuid 0; drop the rest too (CAP_SYS_RESOURCE would let the
    // user's files use the blocks reserved for root, for one).
    #[repr(C)]
    struct CapHeader {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct CapData {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: a version 3 header and its two data words, as capset(2) describes.
    let rc = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_capset,
            &header as *const CapHeader,
            data.as_ptr(),
        )
    };
    if rc != 0 {
        return Err(failed("capset", std::io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn nobody() -> Account {
        Account {
            name: "nobody".into(),
            uid: 65534,
            gid: 65534,
        }
    }

    #[test]
    fn the_kernel_refuses_what_the_user_cannot_do_and_allows_what_they_can() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let root_only = dir.path().join("root-only");
        std::fs::create_dir(&root_only).unwrap();
        let theirs = dir.path().join("theirs");
        std::fs::create_dir(&theirs).unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();

        let denied = run_as(Some(&nobody()), || {
            std::fs::write(root_only.join("f"), b"x").map_err(Error::Io)
        });
        assert!(
            matches!(&denied, Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::PermissionDenied),
            "{denied:?}"
        );
        run_as(Some(&nobody()), || {
            std::fs::write(theirs.join("f"), b"x").map_err(Error::Io)
        })
        .unwrap();
        assert_eq!(
            std::fs::metadata(theirs.join("f")).unwrap().uid(),
            65534,
            "made by the user"
        );
        // The calling thread kept root's privileges.
        std::fs::write(root_only.join("g"), b"y").unwrap();
        assert_eq!(std::fs::metadata(root_only.join("g")).unwrap().uid(), 0);
    }

    #[test]
    fn chown_to_another_user_is_refused() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        std::os::unix::fs::chown(&f, Some(65534), Some(65534)).unwrap();
        let result = run_as(Some(&nobody()), || {
            std::os::unix::fs::chown(&f, Some(0), Some(0)).map_err(Error::Io)
        });
        assert!(result.is_err());
        assert_eq!(std::fs::metadata(&f).unwrap().uid(), 65534);
    }
}
