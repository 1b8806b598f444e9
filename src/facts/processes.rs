//! The processes of running containers, read in one pass over the live host's /proc: a process
//! belongs to the container whose 64-hex-digit ID names its cgroup (`/docker/ID` with the
//! cgroupfs driver, `docker-ID.scope` with systemd's, under any cgroup parent, v1 or v2). This
//! is the list dockerd's `/top` gives, without a `ps` per container: dockerd runs one for every
//! request, which made a run over 300 containers take seconds. The same pass reads each
//! process's no_new_privs flag from its status file: the kernel's answer to 5.26, which the
//! container's configuration cannot always give (a daemon default reaches a container only
//! when it is created).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::containers::ProcessFacts;
use crate::rootfs::RootFs;

const ID_LEN: usize = 64;

/// The container ID a /proc/PID/cgroup file names, if it is one of `ids`.
fn container_of<'a>(cgroup: &str, ids: &'a BTreeSet<String>) -> Option<&'a String> {
    cgroup
        .lines()
        .filter_map(|line| line.splitn(3, ':').nth(2))
        .flat_map(|path| path.split(['/', '-', '.']))
        .filter(|token| token.len() == ID_LEN && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .find_map(|token| ids.get(token))
}

/// NUL-separated arguments as one command line, like ps prints it.
fn command_line(raw: &[u8]) -> String {
    raw.split(|b| *b == 0)
        .filter(|arg| !arg.is_empty())
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `NoNewPrivs:` line of /proc/PID/status; `None` when the kernel has none (before 4.10).
fn no_new_privs(status: &str) -> Option<bool> {
    let value = status
        .lines()
        .find_map(|line| line.strip_prefix("NoNewPrivs:"))?;
    match value.trim() {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

/// The processes of each container in `ids` (full IDs) under the root's /proc, by ID. A
/// container none of whose processes was found is absent: its processes are not visible here
/// (another PID namespace), and the caller asks dockerd instead.
pub(crate) fn by_container(
    rootfs: &RootFs,
    ids: &BTreeSet<String>,
) -> BTreeMap<String, Vec<ProcessFacts>> {
    let mut found: BTreeMap<String, Vec<ProcessFacts>> = BTreeMap::new();
    if ids.is_empty() {
        return found;
    }
    let proc_dir = Path::new("/proc");
    let Ok(entries) = rootfs.list_dir(proc_dir) else {
        return found;
    };
    let mut pids: Vec<u32> = entries.iter().filter_map(|n| n.parse().ok()).collect();
    pids.sort_unstable();
    for pid in pids {
        let base = rootfs.real(&proc_dir.join(pid.to_string()));
        // Processes exit while we look: a vanished entry is skipped.
        let Ok(cgroup) = std::fs::read_to_string(base.join("cgroup")) else {
            continue;
        };
        let Some(id) = container_of(&cgroup, ids) else {
            continue;
        };
        let (Ok(comm), Ok(cmdline), Ok(status)) = (
            std::fs::read_to_string(base.join("comm")),
            std::fs::read(base.join("cmdline")),
            std::fs::read_to_string(base.join("status")),
        ) else {
            continue;
        };
        found.entry(id.clone()).or_default().push(ProcessFacts {
            name: comm.trim_end_matches('\n').to_string(),
            command: command_line(&cmdline),
            no_new_privs: no_new_privs(&status),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "e665b41050612a1d96ef22f418ebf40b2ef71d3b8463bc4b364fa3657f8fafd6";

    #[test]
    fn finds_the_container_in_every_cgroup_layout() {
        let ids = BTreeSet::from([ID.to_string()]);
        for cgroup in [
            format!("4:memory:/docker/{ID}\n0::/docker/{ID}\n"),
            format!("0::/system.slice/docker-{ID}.scope\n"),
            format!("0::/custom-parent/docker-{ID}.scope/init\n"),
            format!("0::/user.slice/user-1000.slice/user@1000.service/docker.service/{ID}\n"),
        ] {
            assert_eq!(
                container_of(&cgroup, &ids),
                Some(&ids.first().unwrap().clone()),
                "{cgroup}"
            );
        }
        let other = ID.replace('e', "f");
        assert_eq!(container_of(&format!("0::/docker/{other}\n"), &ids), None);
        assert_eq!(container_of("0::/\n", &ids), None);
    }

    #[test]
    fn reads_processes_from_a_proc_tree() {
        let dir = tempfile::tempdir().unwrap();
        let write = |pid: u32, cgroup: &str, comm: &str, cmdline: &[u8], status: &str| {
            let p = dir.path().join(format!("proc/{pid}"));
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("cgroup"), cgroup).unwrap();
            std::fs::write(p.join("comm"), format!("{comm}\n")).unwrap();
            std::fs::write(p.join("cmdline"), cmdline).unwrap();
            std::fs::write(p.join("status"), status).unwrap();
        };
        write(
            10,
            &format!("0::/docker/{ID}\n"),
            "sshd",
            b"/usr/sbin/sshd\0-D\0",
            "Name:\tsshd\nSeccomp:\t2\nNoNewPrivs:\t0\nSpeculation_Store_Bypass:\tthread vulnerable\n",
        );
        write(
            11,
            "0::/init.scope\n",
            "systemd",
            b"/sbin/init\0",
            "NoNewPrivs:\t0\n",
        );
        write(
            12,
            &format!("0::/docker/{ID}\n"),
            "sh",
            b"sh\0",
            "Name:\tsh\nNoNewPrivs:\t1\n",
        );
        // A kernel before 4.10 has no NoNewPrivs line.
        write(
            13,
            &format!("0::/docker/{ID}\n"),
            "sleep",
            b"sleep\x00300\0",
            "Name:\tsleep\nSeccomp:\t2\n",
        );
        // Exited between the cgroup and the status read: skipped, like a vanished entry.
        write(14, &format!("0::/docker/{ID}\n"), "gone", b"gone\0", "");
        std::fs::remove_file(dir.path().join("proc/14/status")).unwrap();
        std::fs::create_dir_all(dir.path().join("proc/self")).unwrap();
        let rootfs = RootFs::new(dir.path()).unwrap();
        let ids = BTreeSet::from([ID.to_string(), "a".repeat(64)]);
        let found = by_container(&rootfs, &ids);
        assert_eq!(found.len(), 1, "the other container has no visible process");
        assert_eq!(
            found[ID],
            vec![
                ProcessFacts {
                    name: "sshd".into(),
                    command: "/usr/sbin/sshd -D".into(),
                    no_new_privs: Some(false),
                },
                ProcessFacts {
                    name: "sh".into(),
                    command: "sh".into(),
                    no_new_privs: Some(true),
                },
                ProcessFacts {
                    name: "sleep".into(),
                    command: "sleep 300".into(),
                    no_new_privs: None,
                },
            ]
        );
    }

    /// The flag as the running kernel writes it: a child that set no_new_privs before exec,
    /// and one that did not.
    #[test]
    fn reads_the_flag_of_real_processes() {
        use std::os::unix::process::CommandExt;
        let spawn = |restricted: bool| {
            let mut cmd = std::process::Command::new("sleep");
            cmd.arg("30");
            if restricted {
                // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
                unsafe {
                    cmd.pre_exec(|| {
                        nix::sys::prctl::set_no_new_privs().map_err(std::io::Error::from)
                    });
                }
            }
            cmd.spawn().unwrap()
        };
        for restricted in [false, true] {
            let mut child = spawn(restricted);
            let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
            let _ = child.kill();
            let _ = child.wait();
            // This test process may itself run with no_new_privs (then every child has it).
            let inherited = no_new_privs(&std::fs::read_to_string("/proc/self/status").unwrap());
            let want = restricted || inherited == Some(true);
            assert_eq!(no_new_privs(&status), Some(want), "{status}");
        }
    }
}
