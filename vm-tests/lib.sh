# shellcheck shell=bash
# Helpers shared by vm-tests/run and the scenarios: starting, snapshotting and resuming the
# qemu guest, talking to it over ssh on 127.0.0.1 only, and assertions.
#
# A VM is described by environment variables (exported, so scenario scripts inherit them):
#   VM_DIR   its working directory (overlay, console.log, mon.sock, qemu.pid, port)
#   VM_PORT  the host port on 127.0.0.1 forwarded to the guest's ssh
#   VM_KEY   root's private ssh key for the guest
#   VM_IMAGE the image directory (vmlinuz, initrd.img)

VM_TESTS=${VM_TESTS:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The scenarios name items by their v1.6.0 IDs (v1.8.0, the default, renumbers section 2).
GUEST_ENV="PATH=$GUEST_PATH DOCKER_HARDEN_BENCHMARK=1.6.0"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { log "ERROR: $*" >&2; exit 2; }

# ---------------------------------------------------------------- qemu

free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    die "no free port on 127.0.0.1"
}

# The qemu line (from /work/shared/vm/README.md). Everything that shapes the machine is here:
# a state saved by one line can only be resumed by the same line. ONLY 127.0.0.1 is forwarded.
qemu_args() {
    local disk=$1 format=$2
    printf '%s\n' \
        -accel tcg,thread=multi -cpu max -smp 2 -m 2048 -display none \
        -serial "file:$VM_DIR/console.log" -no-reboot \
        -monitor "unix:$VM_DIR/mon.sock,server,nowait" \
        -kernel "$VM_IMAGE/vmlinuz" -initrd "$VM_IMAGE/initrd.img" \
        -append "root=/dev/vda rw console=ttyS0 audit=1 panic=-1" \
        -drive "file=$disk,if=virtio,format=$format,cache=unsafe" \
        -nic "user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$VM_PORT-:22" \
        -daemonize -pidfile "$VM_DIR/qemu.pid"
}

# vm_start DISK FORMAT [extra qemu args]: start qemu in the background on a new port.
vm_start() {
    local disk=$1 format=$2
    shift 2
    local args attempt
    for attempt in 1 2 3; do
        VM_PORT=$(free_port)
        export VM_PORT
        echo "$VM_PORT" >"$VM_DIR/port"
        rm -f "$VM_DIR/mon.sock" "$VM_DIR/qemu.pid"
        mapfile -t args < <(qemu_args "$disk" "$format")
        # A port taken between free_port and qemu's bind makes qemu fail: try another one.
        timeout 60 qemu-system-x86_64 "${args[@]}" "$@" >"$VM_DIR/qemu.log" 2>&1 && break
        ((attempt < 3)) || { cat "$VM_DIR/qemu.log" >&2; die "qemu did not start"; }
        log "qemu did not start (attempt $attempt): $(tail -n 1 "$VM_DIR/qemu.log")"
    done
    local i
    for i in $(seq 1 50); do
        [[ -S $VM_DIR/mon.sock ]] && return 0
        sleep 0.2
    done
    die "qemu's monitor socket did not appear"
}

vm_pid() { cat "$VM_DIR/qemu.pid" 2>/dev/null || true; }

vm_alive() {
    local pid
    pid=$(vm_pid)
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

# mon CMD: one command on qemu's human monitor; prints its answer.
mon() {
    printf '%s\n' "$1" | timeout 20 socat -t 2 - "UNIX-CONNECT:$VM_DIR/mon.sock" 2>/dev/null |
        tr -d '\r' | grep -v '^(qemu)\|^QEMU .* monitor' || true
}

# Stop the VM now (the overlay is thrown away, so no clean shutdown is needed), then make sure
# the process is gone.
vm_kill() {
    [[ -n ${VM_DIR:-} && -d ${VM_DIR:-} ]] || return 0
    local pid
    pid=$(vm_pid)
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        [[ -S $VM_DIR/mon.sock ]] && mon quit >/dev/null
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    fi
    rm -f "$VM_DIR/qemu.pid"
}

# A clean poweroff (filesystems unmounted), falling back to vm_kill.
vm_poweroff() {
    local pid
    pid=$(vm_pid)
    [[ -n $pid ]] || return 0
    T=20 vm_ssh 'systemctl poweroff --no-block' >/dev/null 2>&1 || true
    for _ in $(seq 1 600); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$VM_DIR/qemu.pid"; return 0; }
        sleep 0.2
    done
    log "the guest did not power off within 120 s; killing qemu"
    vm_kill
}

# ---------------------------------------------------------------- ssh

SSH_OPTS=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
    -o LogLevel=ERROR -o ConnectTimeout=10 -o ServerAliveInterval=10 -o ServerAliveCountMax=6)

# vm_ssh CMD...: run a command in the guest as root (T seconds at most, default 300).
vm_ssh() {
    timeout "${T:-300}" ssh "${SSH_OPTS[@]}" -i "$VM_KEY" -p "$VM_PORT" root@127.0.0.1 \
        "export $GUEST_ENV NO_COLOR=1; $*"
}

# vm_scp SRC DEST-IN-GUEST
vm_scp() {
    timeout "${T:-120}" scp -q "${SSH_OPTS[@]}" -i "$VM_KEY" -P "$VM_PORT" "$1" "root@127.0.0.1:$2"
}

vm_wait_ssh() {
    local limit=$1 start=$SECONDS
    while ((SECONDS - start < limit)); do
        vm_alive || die "qemu exited while waiting for ssh"
        T=15 vm_ssh true >/dev/null 2>&1 && return 0
        sleep 2
    done
    die "ssh did not answer within ${limit}s"
}

# Wait until systemd has finished booting (running or degraded), docker is active and the
# test image is there.
vm_wait_ready() {
    local limit=$1 start=$SECONDS state=
    while ((SECONDS - start < limit)); do
        vm_alive || die "qemu exited while waiting for the guest to boot"
        state=$(T=20 vm_ssh 'systemctl is-system-running' 2>/dev/null || true)
        case $state in
        running | degraded)
            if T=30 vm_ssh 'systemctl is-active --quiet docker && docker image inspect dh-busybox >/dev/null 2>&1'; then
                [[ $state == degraded ]] &&
                    log "guest is degraded: $(T=20 vm_ssh 'systemctl --failed --no-legend --plain' | tr '\n' ' ')"
                return 0
            fi
            ;;
        esac
        sleep 3
    done
    die "guest not ready within ${limit}s (system state: ${state:-no answer})"
}

# Print what helps to understand a failure: the console's tail and the journal's.
vm_diag() {
    [[ -n ${VM_DIR:-} ]] || return 0
    echo "---- guest console (last 40 lines of $VM_DIR/console.log)"
    tail -n 40 "$VM_DIR/console.log" 2>/dev/null | tr -d '\r' || true
    if vm_alive; then
        echo "---- journalctl -b (last 60 lines)"
        T=30 vm_ssh "journalctl -b --no-pager | grep -Ev ' (audit(\\[[0-9]+\\])?|sshd\\[[0-9]+\\]|systemd-logind\\[[0-9]+\\]): ' | tail -n 60" 2>&1 || true
    fi
    echo "----"
}

# ---------------------------------------------------------------- snapshot

# vm_save STATE: pause the guest and save its state to a file; qemu exits afterwards.
vm_save() {
    local state=$1 status start=$SECONDS
    mon stop >/dev/null
    mon "migrate \"exec:cat > $state\"" >/dev/null
    while ((SECONDS - start < 180)); do
        status=$(mon 'info migrate' | awk -F': *' '/^Migration status/ {print $2}')
        case $status in
        completed) break ;;
        failed | cancelled) die "saving the guest state failed: $status" ;;
        esac
        sleep 1
    done
    [[ $status == completed ]] || die "saving the guest state did not finish in 180 s"
    vm_kill
}

# vm_resume READY_QCOW2 STATE: a fresh overlay on READY_QCOW2 in VM_DIR, resumed from STATE;
# the guest clock is set from the host.
vm_resume() {
    local ready=$1 state=$2 start=$SECONDS status
    qemu-img create -q -f qcow2 -F qcow2 -b "$ready" "$VM_DIR/overlay.qcow2"
    vm_start "$VM_DIR/overlay.qcow2" qcow2 -incoming "exec:cat $state"
    while ((SECONDS - start < 120)); do
        status=$(mon 'info status')
        [[ -n $status && $status != *inmigrate* ]] && break
        vm_alive || die "qemu exited while loading the state: $(cat "$VM_DIR/qemu.log")"
        sleep 0.5
    done
    [[ $status == *paused* || $status == *running* ]] || die "resume: unexpected status '$status'"
    mon cont >/dev/null
    vm_wait_ssh 90
    T=30 vm_ssh "date -s @$(date +%s) >/dev/null"
}

# ---------------------------------------------------------------- scenario helpers
# Scenario output goes to stdout (the scenario's log); verdicts also go to fd 3 (the terminal).

say() { printf '%s\n' "$*"; printf '%s\n' "$*" >&3; }
ok() { say "    ok: $*"; }
fail() {
    say "    FAIL: $*"
    exit 1
}
skip() {
    say "    SKIPPED: $*"
    exit 77
}

# guest CMD: run CMD in the guest: its stdout in OUT, its stderr in ERR, both in ALL, its exit
# code in RC.
guest() {
    printf '\n$ %s\n' "$*"
    local errf
    errf=$(mktemp)
    RC=0
    OUT=$(vm_ssh "$*" 2>"$errf") || RC=$?
    ERR=$(cat "$errf")
    rm -f "$errf"
    ALL=$OUT${ERR:+$'\n'$ERR}
    printf '%s\n' "$OUT"
    [[ -z $ERR ]] || printf '%s\n' "$ERR" | sed 's/^/stderr: /'
    printf '(exit %s)\n' "$RC"
    ((RC != 124)) || fail "timed out: $*"
}

# must CMD: like guest, and the command must succeed.
must() {
    guest "$@"
    ((RC == 0)) || fail "'$*' exited $RC: $(tail -n 5 <<<"$ALL")"
}

# IDs of the fixable items that are WARN in the JSON report in $OUT, except the ones named.
fixable_warns() {
    python3 -c 'import json, sys
report = json.loads(sys.stdin.read())
skip = set(sys.argv[1:])
print(" ".join(i["id"] for i in report["items"] if i["status"] == "WARN" and i["fixable"] and i["id"] not in skip))' "$@" <<<"$OUT"
}

# The last command's output (stdout and stderr) matches / does not match an extended regex.
expect_out() {
    grep -Eq -- "$1" <<<"$ALL" || fail "${2:-output has /$1/}; output was:$(printf '\n%s' "$ALL" | tail -n 15 | sed 's/^/      | /')"
    ok "${2:-output has /$1/}"
}
expect_no_out() {
    local hit
    if hit=$(grep -E -- "$1" <<<"$ALL"); then
        fail "${2:-output has no /$1/}; found:$(printf '\n%s' "$hit" | head -n 15 | sed 's/^/      | /')"
    fi
    ok "${2:-output has no /$1/}"
}
expect_rc() {
    local want=$1
    shift
    [[ " $want " == *" $RC "* ]] || fail "${*:-exit code} is $RC, want $want"
    ok "${*:-exit code} is $RC"
}

# poll SECONDS CMD: repeat a guest command until it succeeds.
poll() {
    local limit=$1 start=$SECONDS
    shift
    while ((SECONDS - start < limit)); do
        guest "$@"
        ((RC == 0)) && return 0
        sleep 2
    done
    return 1
}

# A checksum line per file (content, mode, owner) under the given guest paths.
TREE_SUM='f() { for p in "$@"; do [ -e "$p" ] || { echo "absent $p"; continue; }; find "$p" -xdev \( -type f -o -type l -o -type d \) -print0 | sort -z | while IFS= read -r -d "" x; do if [ -f "$x" ] && [ ! -L "$x" ]; then s=$(sha256sum < "$x" | cut -c1-64); elif [ -L "$x" ]; then s="link:$(readlink "$x")"; else s=dir; fi; echo "$(stat -c "%a %U:%G" "$x") $s $x"; done; done; }; f'
