//! Bad luck while writing: every write-path system call of a `fix` fails in turn (strace's
//! fault injection), a SIGKILL lands on every call that changes the disk, a file is read-only
//! mid-run. After each, every file the fix touches is at its before or its after state, a run
//! that failed undid itself, a killed run is completed by a plain `rollback`, and a later
//! `fix` works. Also: damaged records, and what `rollback --force` keeps.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use common::{Entry, Host, Run, changed, tree};

/// The system calls through which docker-harden changes the disk (and opens what it writes).
const WRITE_PATH: &[&str] = &[
    "openat", "write", "fsync", "renameat", "linkat", "unlinkat", "fchown", "fchownat", "fchmod",
    "fchmodat", "mkdirat",
];

fn strace() -> PathBuf {
    common::dockerd::find_in_path("strace").unwrap_or_else(|| {
        panic!("strace is not installed: tests/suite/faults.rs injects faults with it; `apt-get install -y strace`")
    })
}

/// `fix --yes` on `host` under strace, with `inject` (`SYSCALL:error=E:when=N` or
/// `SYSCALL:signal=KILL:when=N`) if given; returns the run and strace's trace of the
/// write-path calls.
fn traced_fix(host: &Host, inject: Option<&str>) -> (Run, String) {
    let trace = tempfile::NamedTempFile::new().unwrap();
    let strace = strace();
    let mut program = vec![
        strace.to_str().unwrap().to_string(),
        "-f".into(),
        "-qq".into(),
        "-o".into(),
        trace.path().display().to_string(),
        "-e".into(),
        format!("trace={}", WRITE_PATH.join(",")),
    ];
    if let Some(inject) = inject {
        program.push("-e".into());
        program.push(format!("inject={inject}"));
    }
    let program: Vec<&str> = program.iter().map(String::as_str).collect();
    let out = host
        .command_under(&program, &["fix", "--yes"])
        .output()
        .expect("run strace");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (run, fs::read_to_string(trace.path()).unwrap())
}

/// For each write-path call, the numbers (1-based, as strace's `when=` counts them) of its
/// calls from the moment the run takes its lock: the calls before only read.
fn calls_from_lock(trace: &str) -> BTreeMap<&'static str, (usize, usize)> {
    let mut ranges = BTreeMap::new();
    for (call, n, _) in numbered_from_lock(trace) {
        ranges.entry(call).or_insert((n, n)).1 = n;
    }
    ranges
}

/// Each write-path call from the lock on: its name, its number among calls of that name, and
/// strace's line.
fn numbered_from_lock(trace: &str) -> Vec<(&'static str, usize, &str)> {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut locked = false;
    let mut out = Vec::new();
    for line in trace.lines() {
        let call = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.split('(').next())
            .unwrap_or("");
        let Some(call) = WRITE_PATH.iter().find(|c| **c == call) else {
            continue;
        };
        let n = counts.entry(call).or_default();
        *n += 1;
        if !locked && *call == "openat" && line.contains("lock\"") {
            locked = true;
        }
        if locked {
            out.push((*call, *n, line));
        }
    }
    out
}

/// The calls to fail: every write-path call from the lock on, but an `openat` that only
/// opens a file for reading (judging the host again after the run is not a write).
fn calls_to_fail(trace: &str) -> Vec<(&'static str, usize)> {
    numbered_from_lock(trace)
        .into_iter()
        .filter(|(call, _, line)| {
            *call != "openat"
                || ["O_CREAT", "O_WRONLY", "O_RDWR", "O_PATH", "O_DIRECTORY"]
                    .iter()
                    .any(|flag| line.contains(flag))
        })
        .map(|(call, n, _)| (call, n))
        .collect()
}

/// Whether every path in `paths` is as in `want`.
fn all_as(now: &BTreeMap<String, Entry>, want: &BTreeMap<String, Entry>, paths: &[String]) -> bool {
    paths.iter().all(|p| now.get(p) == want.get(p))
}

/// Entries docker-harden's temporary files left anywhere in the root but its state.
fn temp_entries(host: &Host) -> Vec<String> {
    tree(host.root())
        .into_keys()
        .filter(|p| {
            p.rsplit('/')
                .next()
                .is_some_and(|n| n.starts_with(".docker-harden-"))
        })
        .filter(|p| !p.starts_with("/var/lib/docker-harden"))
        .collect()
}

/// The state of the run records: (run ID, status) of each, from `rollback --list`.
fn runs(host: &Host) -> Vec<(String, String)> {
    host.run(&["rollback", "--list"])
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?.to_string(), f.nth(1)?.to_string()))
        })
        .collect()
}

/// A clean traced `fix --yes` of the Debian 12 fixture: the root before and after, the paths
/// it changed, and strace's trace.
struct Reference {
    before: BTreeMap<String, Entry>,
    after: BTreeMap<String, Entry>,
    touched: Vec<String>,
    trace: String,
}

fn reference() -> Reference {
    let host = Host::debian12();
    let before = host.snapshot();
    let (run, trace) = traced_fix(&host, None);
    run.code(1);
    let after = host.snapshot();
    let touched = changed(&before, &after);
    assert!(touched.len() >= 3, "{touched:?}");
    Reference {
        before,
        after,
        touched,
        trace,
    }
}

#[test]
fn a_failing_write_path_call_leaves_every_file_before_or_after_and_the_next_fix_works() {
    let Reference {
        before,
        after,
        touched,
        trace,
    } = reference();
    let calls = calls_to_fail(&trace);
    assert!(calls.iter().any(|(c, _)| *c == "renameat"), "{trace}");
    let tried = calls.len();
    // Each injection is its own root and process: three at a time keep two cores busy.
    let undone = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for share in calls.chunks(calls.len().div_ceil(3)) {
            let (before, after, touched, undone) = (&before, &after, &touched, &undone);
            scope.spawn(move || {
                for (call, n) in share {
                    if fail_once(call, *n, before, after, touched) {
                        undone.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let undone = undone.into_inner();
    eprintln!("faults: {tried} write-path calls failed in turn; {undone} runs undid themselves");
    assert!(tried > 100, "only {tried} calls tried");
    assert!(undone > 10, "only {undone} runs undid themselves");
}

/// One `fix` whose `n`th `call` fails with ENOSPC, judged; true when it undid itself.
fn fail_once(
    call: &str,
    n: usize,
    before: &BTreeMap<String, Entry>,
    after: &BTreeMap<String, Entry>,
    touched: &[String],
) -> bool {
    let host = Host::debian12();
    let (run, _) = traced_fix(&host, Some(&format!("{call}:error=ENOSPC:when={n}")));
    let now = host.snapshot();
    let here = format!(
        "{call} #{n}: exit {}\n{}\n{}",
        run.code, run.stdout, run.stderr
    );
    // A temporary link the run could not remove is litter it must name.
    let announced = |p: &String| {
        p.rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with(".docker-harden-") && run.stderr.contains(n))
    };
    let stray: Vec<String> = changed(before, &now)
        .into_iter()
        .filter(|p| !touched.contains(p) && !announced(p))
        .collect();
    assert!(
        stray.is_empty(),
        "{here}\nchanged beyond the plan: {stray:?}"
    );
    let at_before = all_as(&now, before, touched);
    let at_after = all_as(&now, after, touched);
    let undone = match run.code {
        0 | 1 => {
            assert!(at_after, "{here}\nsucceeded without every file written");
            false
        }
        2 if at_before => {
            // Failed before writing, or undid itself: either way no part-written run is left
            // (a record still `applying` with every file as before is closed by the next fix).
            true
        }
        2 => {
            assert!(
                at_after,
                "{here}\nleft part written: {:?}",
                touched
                    .iter()
                    .filter(|p| now.get(*p) != before.get(*p))
                    .collect::<Vec<_>>()
            );
            false
        }
        _ => panic!("{here}"),
    };
    // The next fix works and finishes what the plan wants.
    let next = host.run(&["fix", "--yes"]);
    assert!(
        next.code == 0 || next.code == 1,
        "{here}\nnext fix:\n{}\n{}",
        next.stdout,
        next.stderr
    );
    assert!(all_as(&host.snapshot(), after, touched), "{here}");
    let left: Vec<String> = temp_entries(&host)
        .into_iter()
        .filter(|p| !announced(p))
        .collect();
    assert_eq!(left, Vec::<String>::new(), "{here}");
    undone && run.stderr.contains("undid run")
}

#[test]
fn a_run_killed_at_any_write_is_completed_by_a_plain_rollback() {
    let Reference {
        before,
        after,
        touched,
        trace,
    } = reference();
    let calls = calls_from_lock(&trace);
    let mut interrupted = 0;
    let mut killed = 0;
    for call in [
        "renameat", "linkat", "unlinkat", "fsync", "mkdirat", "fchmod",
    ] {
        let Some((from, to)) = calls.get(call) else {
            continue;
        };
        for n in *from..=*to {
            killed += 1;
            let host = Host::debian12();
            let (run, _) = traced_fix(&host, Some(&format!("{call}:signal=KILL:when={n}")));
            let here = format!("kill at {call} #{n}: exit {}\n{}", run.code, run.stderr);
            let now = host.snapshot();
            assert!(
                touched
                    .iter()
                    .all(|p| now.get(p) == before.get(p) || now.get(p) == after.get(p)),
                "{here}: a file is neither before nor after"
            );
            let pending = runs(&host)
                .into_iter()
                .find(|(_, status)| status == "applying");
            let Some((run_id, _)) = pending else {
                // Killed before the run was recorded, or after it was complete.
                assert!(
                    all_as(&now, &before, &touched) || all_as(&now, &after, &touched),
                    "{here}"
                );
                continue;
            };
            if !all_as(&now, &before, &touched) {
                interrupted += 1;
                // Nothing is stacked on a part-written run: fix and diff say what recovers.
                for args in [&["fix", "--yes"][..], &["diff"]] {
                    host.run(args)
                        .code(2)
                        .stderr_has(&format!("rollback {run_id}` puts every file back"));
                }
                // A plain rollback completes it: a file at its before or after state is not
                // drift, and the temporary entries go too.
                host.run(&["rollback"])
                    .code(0)
                    .stdout_has(&format!("run {run_id} was interrupted while applying"));
                assert_eq!(
                    changed(&before, &host.snapshot()),
                    Vec::<String>::new(),
                    "{here}"
                );
                assert_eq!(temp_entries(&host), Vec::<String>::new(), "{here}");
            }
            host.run(&["fix", "--yes"]).code(1);
            assert!(all_as(&host.snapshot(), &after, &touched), "{here}");
        }
    }
    eprintln!(
        "faults: {killed} kills; {interrupted} left a run part written, completed by rollback"
    );
    assert!(
        interrupted >= 3,
        "only {interrupted} kills left a run part written"
    );
}

#[test]
fn a_read_only_file_mid_run_undoes_the_files_written_before_it() {
    // An immutable file cannot be replaced even by root: the run writes the audit rules
    // first (plan order), then fails on daemon.json, and must undo the rules.
    let host = Host::debian12().file("/etc/docker/daemon.json", "{}\n");
    let before = host.snapshot();
    let daemon_json = host.path("/etc/docker/daemon.json");
    let chattr = |flag: &str| {
        let out = std::process::Command::new("chattr")
            .arg(flag)
            .arg(&daemon_json)
            .output()
            .expect("chattr (e2fsprogs)");
        assert!(
            out.status.success(),
            "chattr {flag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    chattr("+i");
    let run = host.run(&["fix", "--yes", "--only", "1.1.3,2.2"]);
    chattr("-i");
    run.code(2)
        .stderr_has("cannot write /etc/docker/daemon.json")
        .stderr_has("docker-harden undid run");
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
    assert_eq!(temp_entries(&host), Vec::<String>::new());
    let listed = runs(&host);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].1, "rolled-back");
    // Mended, the same fix goes through.
    host.run(&["fix", "--yes", "--only", "1.1.3,2.2"]).code(0);
}

#[test]
fn a_damaged_record_is_listed_and_does_not_block_the_other_runs() {
    let host = Host::debian12();
    let before = host.snapshot();
    host.run(&["fix", "--yes", "--only", "2.2"]).code(0);
    let first = runs(&host)[0].0.clone();
    host.run(&["fix", "--yes", "--only", "1.1.3"]).code(0);
    let second = runs(&host)[1].0.clone();
    assert_ne!(first, second);
    let after_second = host.snapshot();
    // The newer run's record is damaged; an older run's directory lost its manifest.
    fs::write(
        host.path(&format!(
            "/var/lib/docker-harden/backups/{second}/manifest.json"
        )),
        "{ truncated",
    )
    .unwrap();
    fs::create_dir(host.path("/var/lib/docker-harden/backups/20200101T000000Z")).unwrap();
    let list = host.run(&["rollback", "--list"]);
    list.code(0);
    let line = |id: &str| {
        list.stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} not listed:\n{}", list.stdout))
            .to_string()
    };
    assert!(line(&second).contains("damaged"), "{}", list.stdout);
    assert!(
        line(&second).contains("manifest.json is damaged"),
        "{}",
        list.stdout
    );
    assert!(
        line("20200101T000000Z").contains("no manifest.json"),
        "{}",
        list.stdout
    );
    assert!(line(&first).contains("applied"), "{}", list.stdout);
    // The latest readable run rolls back; the damaged one is named, not silently passed over.
    host.run(&["rollback"])
        .code(0)
        .stdout_has(&format!("rolled back run {first}"))
        .stderr_has(&format!(
            "skipped run {second}, whose record cannot be read"
        ));
    assert!(!host.exists("/etc/docker/daemon.json"));
    // The damaged run itself cannot be rolled back, and says why.
    host.run(&["rollback", &second])
        .code(2)
        .stderr_has("manifest.json is damaged");
    let _ = (before, after_second);
}

#[test]
fn rollback_force_keeps_a_copy_of_every_file_it_overwrites() {
    let host = Host::debian12();
    let before = host.snapshot();
    host.run(&["fix", "--yes", "--only", "2.2,2.14"]).code(0);
    let edited = "{\n  \"icc\": false,\n  \"live-restore\": true,\n  \"debug\": true\n}\n";
    fs::write(host.path("/etc/docker/daemon.json"), edited).unwrap();
    host.run(&["rollback"])
        .code(2)
        .stderr_has("use --force to restore them anyway");
    let run = host.run(&["rollback", "--force"]);
    run.code(0);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("kept a copy of /etc/docker/daemon.json"))
        .unwrap_or_else(|| panic!("no copy named:\n{}", run.stdout));
    let copy = line.rsplit(": ").next().unwrap();
    assert!(
        copy.starts_with("/var/lib/docker-harden/backups/"),
        "{line}"
    );
    assert_eq!(host.read(copy), edited);
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
}

#[test]
fn a_run_interrupted_before_it_changed_anything_does_not_block_the_next() {
    // Killed after its record was saved and before its first file: every file is still as it
    // was, so the next fix closes the record and goes ahead.
    let Reference {
        before,
        after,
        touched,
        trace,
    } = reference();
    let (from, to) = calls_from_lock(&trace)["renameat"];
    let mut closed = false;
    for n in from..=to {
        let host = Host::debian12();
        traced_fix(&host, Some(&format!("renameat:signal=KILL:when={n}")));
        let pending = runs(&host).into_iter().any(|(_, s)| s == "applying");
        if pending && all_as(&host.snapshot(), &before, &touched) {
            host.run(&["diff"]).code(1);
            host.run(&["fix", "--yes"])
                .code(1)
                .stderr_has("was interrupted before it changed any file; recorded as rolled back");
            assert!(all_as(&host.snapshot(), &after, &touched));
            assert_eq!(temp_entries(&host), Vec::<String>::new());
            closed = true;
            break;
        }
    }
    assert!(closed, "no kill left a run that had changed nothing");
}
