#!/usr/bin/env bash
# bench/containers.sh: how long `docker-harden check` takes, and how much memory it needs, with
# N running containers, beside the floor for inspecting every container on the same daemon.
#
#   bench/containers.sh [--counts "0 100 300"] [--runs 7] [--binary PATH]
#
# Starts a private dockerd in /tmp/dhb-XXXXXX (its own data root, exec root and socket; no
# bridge, no iptables), imports a FROM-scratch image holding only a static busybox, and for each
# N (ascending) brings the number of running containers up to N, then times, one warm-up run
# and RUNS measured runs each, the median wall time of
#   check:  docker-harden --docker-host unix://D/sock --color never check
#   floor:  docker inspect $(docker ps -q)   (for N=0, `docker ps -q` alone)
# and check's peak RSS, the largest of 3 more runs under /usr/bin/time -f %M.
# Targets, judged at the largest N: check under 1000 ms, at most 2x the floor, peak RSS under
# 50 MiB.  Exit 0: targets met; 1: not met; 2: error (including: another dockerd is running,
# because docker-harden reads the first dockerd process it finds in /proc).
#
# Everything it starts is removed on exit: the containers, dockerd (by its pid file), what
# dockerd left mounted under D, and D itself. Needs root, dockerd, docker, python3, tar,
# /usr/bin/time and a static /bin/busybox (Debian: docker.io, busybox-static, time).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
COUNTS="0 100 300"
RUNS=7
RSS_RUNS=3           # more runs, under /usr/bin/time, for the peak RSS (the largest counts)
BINARY=
IMAGE=dhb-busybox
PARALLEL=4           # concurrent `docker run`s while starting containers
READY_TIMEOUT=60     # seconds for dockerd to answer
STOP_TIMEOUT=60      # seconds for dockerd to exit after SIGTERM, before SIGKILL
LOCK_TIMEOUT=1800    # seconds to wait for the cargo dockerd tests' lock
# Targets at the largest N
MAX_CHECK_MS=1000
MAX_RATIO=2.0
MAX_RSS_MIB=50

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 2
}
usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

while (($#)); do
    case $1 in
    --counts) COUNTS=${2:?--counts needs a value}; shift 2 ;;
    --counts=*) COUNTS=${1#*=}; shift ;;
    --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
    --runs=*) RUNS=${1#*=}; shift ;;
    --binary) BINARY=${2:?--binary needs a value}; shift 2 ;;
    --binary=*) BINARY=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
    esac
done

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, not '$RUNS'"
read -r -a counts <<<"$COUNTS"
((${#counts[@]})) || die "--counts is empty"
for n in "${counts[@]}"; do
    [[ $n =~ ^(0|[1-9][0-9]*)$ ]] || die "--counts: '$n' is not a non-negative integer"
done
mapfile -t counts < <(printf '%s\n' "${counts[@]}" | sort -n -u)

[[ $(id -u) == 0 ]] || die "run as root (dockerd)"
for cmd in dockerd docker python3 tar /usr/bin/time; do
    command -v "$cmd" >/dev/null || die "$cmd not found (Debian: apt install docker.io busybox-static python3 time)"
done
[[ -x /bin/busybox ]] || die "/bin/busybox not found (Debian: apt install busybox-static)"
if ldd /bin/busybox >/dev/null 2>&1; then
    die "/bin/busybox is dynamically linked and cannot run in a FROM-scratch image (apt install busybox-static)"
fi

if [[ -z $BINARY ]]; then
    BINARY=$REPO/target/release/docker-harden
    if [[ ! -x $BINARY ]]; then
        log "building $BINARY"
        (cd "$REPO" && cargo build --release --locked) || die "cargo build --release failed"
    fi
fi
[[ -x $BINARY ]] || die "$BINARY is not an executable"
BINARY=$(realpath "$BINARY")

# The cargo tests that start private dockerds (tests/suite/common/dockerd.rs) serialise on this lock:
# take it too, so neither side finds the other's dockerd and refuses.
if [[ -d $REPO/target/tmp ]]; then
    exec 9>>"$REPO/target/tmp/dockerd-tests.lock"
    if ! flock -n 9; then
        log "waiting for the dockerd tests' lock (target/tmp/dockerd-tests.lock)"
        flock -w "$LOCK_TIMEOUT" 9 || die "timed out waiting for target/tmp/dockerd-tests.lock"
    fi
fi

if others=$(pgrep -x dockerd); then
    die "another dockerd is running (pid $(echo "$others" | paste -sd ' ')): docker-harden judges the first dockerd it finds, so stop it first"
fi

D=
DOCKERD_PID=
DONE=0

docker_() { docker -H "unix://$D/sock" "$@"; }

# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
    local rc=$? pid point i
    set +e
    trap - EXIT
    trap '' INT TERM # finish cleaning up: a second Ctrl-C would leave dockerd behind
    if [[ -n $DOCKERD_PID ]] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
        if [[ -S $D/sock ]]; then
            log "removing the containers"
            # Bounded: dockerd 20.10 has been seen to hang on a mass `rm -f`; stopping dockerd
            # below stops whatever is left.
            docker_ ps -aq | timeout 120 xargs -r -n 50 -P "$PARALLEL" docker -H "unix://$D/sock" rm -f >/dev/null
        fi
        pid=$(cat "$D/pid" 2>/dev/null)
        [[ $pid =~ ^[0-9]+$ ]] || pid=$DOCKERD_PID
        log "stopping dockerd (pid $pid)"
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "dockerd (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s: killing it"
            kill -KILL "$pid" 2>/dev/null
            rc=2
        fi
        wait "$DOCKERD_PID" 2>/dev/null
    fi
    if [[ -n $D && -d $D ]]; then
        # Deepest first: dockerd bind-mounts its data root onto itself, and the overlays live below.
        while read -r point; do
            umount -l "$point" || rc=2
        done < <(awk -v d="$D" '$2 == d || index($2, d "/") == 1 { print length($2), $2 }' /proc/mounts |
            sort -rn | cut -d' ' -f2-)
        if ((rc == 2 || DONE == 0)) && [[ -s $D/dockerd.log ]]; then
            log "last lines of dockerd's log:"
            tail -n 20 "$D/dockerd.log" >&2
        fi
        rm -rf --one-file-system "$D" || rc=2
    fi
    if ((DONE == 0 && rc != 0)); then rc=2; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

D=$(mktemp -d /tmp/dhb-XXXXXX) # short: a unix socket path must fit in ~107 bytes
export DOCKER_CONFIG=$D/cli     # the CLI's config and contexts, not ~/.docker
unset DOCKER_HOST DOCKER_CONTEXT
mkdir -p "$D/cli"
# deprecated-key-path: dockerd 20.10 otherwise creates /etc/docker/key.json on the real host.
printf '{\n  "deprecated-key-path": "%s/key.json"\n}\n' "$D" >"$D/daemon.json"

log "starting dockerd in $D"
dockerd --data-root "$D/data" --exec-root "$D/exec" -H "unix://$D/sock" --pidfile "$D/pid" \
    --iptables=false --bridge=none --config-file "$D/daemon.json" >"$D/dockerd.log" 2>&1 </dev/null &
DOCKERD_PID=$!
for ((i = 0; ; i++)); do
    docker_ version >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || die "dockerd exited at start"
    ((i < READY_TIMEOUT * 10)) || die "dockerd did not answer within ${READY_TIMEOUT}s"
    sleep 0.1
done
others=$(pgrep -x dockerd | grep -vx "$DOCKERD_PID" || true)
[[ -z $others ]] || die "another dockerd started meanwhile (pid $others)"

mkdir -p "$D/tree/bin"
cp /bin/busybox "$D/tree/bin/busybox"
ln -s busybox "$D/tree/bin/sh"
tar -C "$D/tree" -c . | docker_ import - "$IMAGE" >/dev/null
rm -rf "$D/tree"

# measure.py check|rss|floor RUNS ARGS...
#   check: one warm-up, then RUNS timed runs of ARGS; prints "MEDIAN_MS MIN_MS MAX_MS".
#   rss:   RUNS runs of ARGS under /usr/bin/time -f %M; prints the largest peak RSS in KiB. Not
#          wait4's rusage from python: a child's ru_maxrss includes the RSS of the (v)forking
#          python before the exec (~14 MiB), which would hide the tool's own.
#   floor: as check, for `docker -H HOST inspect $(docker -H HOST ps -q)`; ARGS: DOCKER HOST.
cat >"$D/measure.py" <<'EOF'
import os, statistics, subprocess, sys, time

mode, runs, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
here = os.path.dirname(os.path.abspath(__file__))
errfile, rssfile = os.path.join(here, "measure.err"), os.path.join(here, "measure.rss")

def run_tool(argv):
    with open(errfile, "wb") as err:
        t0 = time.perf_counter()
        code = subprocess.call(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        t1 = time.perf_counter()
    if code not in (0, 1):  # 1: findings, as expected
        sys.stderr.write(open(errfile, errors="replace").read())
        sys.exit(f"{args[0]} exited {code}")
    return t1 - t0

def floor():
    docker, host = args
    t0 = time.perf_counter()
    ids = subprocess.run([docker, "-H", host, "ps", "-q"], stdin=subprocess.DEVNULL,
                         capture_output=True, check=True, text=True).stdout.split()
    if ids:
        subprocess.run([docker, "-H", host, "inspect", *ids], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0

def rss():
    run_tool(["/usr/bin/time", "-f", "%M", "-o", rssfile, *args])
    return int(open(rssfile).read().split()[-1])

if mode == "rss":
    print(max(rss() for _ in range(runs)))
else:
    run = floor if mode == "floor" else lambda: run_tool(args)
    run()  # warm-up
    ms = [run() * 1000 for _ in range(runs)]
    print(f"{statistics.median(ms):.1f} {min(ms):.1f} {max(ms):.1f}")
EOF

declare -A check_ms check_range floor_ms floor_range rss_kib
current=0
for n in "${counts[@]}"; do
    if ((n > current)); then
        log "starting containers $((current + 1))..$n"
        seq "$((current + 1))" "$n" |
            xargs -P "$PARALLEL" -I{} docker -H "unix://$D/sock" run -d --network none \
                --name bench-{} "$IMAGE" /bin/busybox sleep 100000 >/dev/null
        current=$n
    fi
    running=$(docker_ ps -q | wc -l)
    ((running == n)) || die "$running containers running, want $n"

    log "N=$n: timing check ($RUNS runs after a warm-up)"
    check=("$BINARY" --docker-host "unix://$D/sock" --color never check)
    read -r med lo hi < <(python3 "$D/measure.py" check "$RUNS" "${check[@]}") ||
        die "check failed at N=$n"
    check_ms[$n]=$med check_range[$n]="$lo-$hi"
    log "N=$n: peak RSS of check ($RSS_RUNS runs under /usr/bin/time)"
    read -r rss < <(python3 "$D/measure.py" rss "$RSS_RUNS" "${check[@]}") ||
        die "check failed at N=$n"
    rss_kib[$n]=$rss
    log "N=$n: timing the floor"
    read -r med lo hi < <(python3 "$D/measure.py" floor "$RUNS" "$(command -v docker)" \
        "unix://$D/sock") || die "the floor failed at N=$n"
    floor_ms[$n]=$med floor_range[$n]="$lo-$hi"
done

# The table
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
echo
echo "docker-harden check, $RUNS runs after a warm-up; $(nproc) cores; $(dockerd --version)"
echo "binary: $BINARY"
printf '%6s  %14s  %16s  %14s  %16s  %7s  %9s\n' \
    N "check med ms" "(min-max)" "floor med ms" "(min-max)" ratio "RSS MiB"
for n in "${counts[@]}"; do
    floor=${floor_ms[$n]}
    ((n == 0)) && floor="${floor}*"
    printf '%6s  %14s  %16s  %14s  %16s  %7s  %9s\n' "$n" "${check_ms[$n]}" "(${check_range[$n]})" \
        "$floor" "(${floor_range[$n]})" "$(ratio "${check_ms[$n]}" "${floor_ms[$n]}")" \
        "$(mib "${rss_kib[$n]}")"
done
((counts[0] == 0)) && echo "* N=0: the floor is \`docker ps -q\` alone (inspect needs an argument)"

n=${counts[-1]}
verdict=0
judge() { # judge NAME OK DETAIL
    if (($2)); then echo "PASS  $1  ($3)"; else echo "FAIL  $1  ($3)"; verdict=1; fi
}
echo
echo "targets at N=$n:"
judge "check under ${MAX_CHECK_MS} ms" \
    "$(awk -v a="${check_ms[$n]}" -v m="$MAX_CHECK_MS" 'BEGIN { print (a < m) }')" "${check_ms[$n]} ms"
judge "within ${MAX_RATIO}x the floor" \
    "$(awk -v a="${check_ms[$n]}" -v b="${floor_ms[$n]}" -v m="$MAX_RATIO" 'BEGIN { print (b > 0 && a <= m * b) }')" \
    "$(ratio "${check_ms[$n]}" "${floor_ms[$n]}")x"
judge "peak RSS under ${MAX_RSS_MIB} MiB" \
    "$(awk -v k="${rss_kib[$n]}" -v m="$MAX_RSS_MIB" 'BEGIN { print (k < m * 1024) }')" "$(mib "${rss_kib[$n]}") MiB"

DONE=1
exit "$verdict"
