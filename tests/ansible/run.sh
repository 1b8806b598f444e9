#!/usr/bin/env bash
# The fleet test: playbooks/fleet run by a real ansible-core over real ssh against three hosts
# on this machine. Each host is a minimal Debian 12 in its own mount, UTS and PID namespaces
# with its own root filesystem (an overlay on one debootstrapped tree) and its own sshd on a
# loopback address (127.0.0.2-4). The module works on a Docker-host tree at /srv/dockerhost
# inside each host (`root:`), shaped like tests/fixtures, so no dockerd, systemd or audit
# daemon is needed; the third host's daemon.json is broken.
#
# Asserts: --check writes nothing and --diff prints the diffs; the first run changes the good
# hosts and installs the .deb; the second changes nothing; the broken host fails with the
# daemon.json message, untouched, while the others succeed; rollback.yml restores every file.
#
# Run as root. Caches under $DOCKER_HARDEN_CACHE (default /var/cache/docker-harden): the
# ansible-core venv and the debootstrapped tree as a tarball. DOCKER_HARDEN_BIN=PATH tests a
# given binary instead of building target/release/docker-harden; FLEET_LOGS=DIR keeps the
# ansible-playbook outputs there.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

cache=${DOCKER_HARDEN_CACHE:-/var/cache/docker-harden}
venv=$cache/ansible-venv
rootfs_tar=$cache/bookworm-minbase-sshd.tar.zst
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ansible_core=2.19.14
port=2222
addrs=(127.0.0.2 127.0.0.3 127.0.0.4)
# What each host's /srv/dockerhost looks like.
shapes=(debian12 rhel9 broken)

now() { echo "${EPOCHREALTIME//[!0-9]/}"; }
# elapsed SINCE: seconds since a `now`, to a tenth.
elapsed() {
  local us=$(($(now) - $1))
  printf '%d.%d' $((us / 1000000)) $((us / 100000 % 10))
}
start=$(now)
say() { echo "fleet [$(elapsed "$start") s] $*"; }
fail() {
  echo "fleet: FAIL: $*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || fail "run as root (namespaces, chroot, debootstrap)"
for tool in debootstrap unshare flock ssh ssh-keygen zstd dpkg-deb strip /usr/bin/python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing (see .ci/run for the packages)"
done
mkdir -p "$cache"
# One fleet at a time on this machine: the addresses and the port are fixed.
exec 9>"$cache/fleet-test.lock"
flock -w 900 9 || fail "another fleet test holds $cache/fleet-test.lock"

work=$(mktemp -d /tmp/docker-harden-fleet.XXXXXX)
pids=()
cleanup() {
  local pid
  if [ -n "${FLEET_LOGS:-}" ]; then
    mkdir -p "$FLEET_LOGS"
    cp "$work"/*.log "$FLEET_LOGS"/ 2>/dev/null || true
  fi
  # A host's unshare ignores SIGTERM while it waits for its child; SIGKILL ends it, and
  # --kill-child then kills the namespace's init, with it sshd and every mount private to the
  # namespace.
  for pid in "${pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  # Should a mount have leaked to this namespace anyway, never delete through it.
  if grep -q " $work/" /proc/self/mountinfo; then
    grep " $work/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l || true
  fi
  if grep -q " $work/" /proc/self/mountinfo; then
    echo "fleet: mounts under $work remain; not deleting it" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- ansible-core, in a venv kept in the cache --------------------------------------------------
t=$(now)
# A venv cannot be moved into place (its scripts name their interpreter by path): a stamp
# written last says it is complete.
stamp=$venv/.complete-ansible-core-$ansible_core
if [ ! -e "$stamp" ]; then
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "ansible-core==$ansible_core"
  touch "$stamp"
  say "ansible-core $ansible_core installed in $(elapsed "$t") s"
fi
# Read the whole answer first: `grep -q` stops reading at its match, and ansible-playbook fails
# on the broken pipe (pipefail then fails the check).
version=$("$venv/bin/ansible-playbook" --version) || fail "the venv in $venv is broken"
grep -q "core $ansible_core\]" <<<"$version" || fail "the venv in $venv is broken: $version"

# --- the hosts' root filesystem, debootstrapped once -------------------------------------------
t=$(now)
if [ ! -s "$rootfs_tar" ]; then
  debootstrap --variant=minbase --include=openssh-server bookworm "$work/bootstrap" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log"
    fail "debootstrap failed"
  }
  # Each host gets its own keys.
  rm -f "$work"/bootstrap/etc/ssh/ssh_host_*
  tar -C "$work/bootstrap" --zstd -cf "$rootfs_tar.new" .
  mv "$rootfs_tar.new" "$rootfs_tar"
  rm -rf "$work/bootstrap"
  say "debootstrapped bookworm into $rootfs_tar in $(elapsed "$t") s"
fi
base=$work/base
mkdir "$base"
tar -C "$base" --zstd -xf "$rootfs_tar"

# --- the binary, and a .deb of it ----------------------------------------------------------------
t=$(now)
bin=${DOCKER_HARDEN_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --locked -q
  bin=$repo/target/release/docker-harden
fi
# Ansible copies a binary module to the host for every task: send it without symbols.
strip -o "$work/docker-harden" "$bin"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
mkdir -p "$work/pkg/DEBIAN" "$work/pkg/usr/bin"
install -m 0755 "$work/docker-harden" "$work/pkg/usr/bin/docker-harden"
cat >"$work/pkg/DEBIAN/control" <<EOF
Package: docker-harden
Version: $version
Architecture: $arch
Maintainer: docker-harden fleet test <root@localhost>
Description: docker-harden, packaged by tests/ansible/run.sh for the fleet test
EOF
deb=$work/docker-harden_${version}_$arch.deb
dpkg-deb --root-owner-group -Zgzip -b "$work/pkg" "$deb" >/dev/null
say "binary $(stat -c %s "$work/docker-harden") bytes stripped, .deb built, in $(elapsed "$t") s"

# --- the hosts -----------------------------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C fleet-test -f "$work/id_ed25519"

# A Docker host's files like tests/common's Host::debian12(), rhel9() and ubuntu2204().
fixture() {
  local shape=$1 dest=$2 from
  case $shape in
  broken) from=ubuntu2204 ;;
  *) from=$shape ;;
  esac
  mkdir -p "$dest"
  cp -r "$repo/tests/fixtures/$from/." "$dest/"
  find "$dest" -type d -exec chmod 0755 {} +
  find "$dest" -type f -exec chmod 0644 {} +
  mkdir -p "$dest/var/lib/docker"
  chmod 0710 "$dest/var/lib/docker"
  chmod 0755 "$dest"/usr/bin/* "$dest"/usr/sbin/* 2>/dev/null || true
  case $shape in
  debian12)
    ln -s usr/bin "$dest/bin"
    ln -s usr/sbin "$dest/sbin"
    ln -s usr/lib "$dest/lib"
    mkdir -p "$dest/etc/docker" "$dest/run"
    ln -s /run "$dest/var/run"
    chmod 0640 "$dest/etc/audit/rules.d/audit.rules" "$dest/etc/audit/audit.rules"
    ;;
  rhel9)
    chmod 0600 "$dest/etc/audit/audit.rules"
    ;;
  broken)
    ln -s /run "$dest/var/run"
    mkdir -p "$dest/run/containerd"
    chmod 0711 "$dest/run/containerd"
    chmod 0640 "$dest/etc/audit/rules.d/audit.rules"
    # A trailing comma: dockerd would refuse it, and so must docker-harden.
    printf '{\n  "icc": false,\n}\n' >"$dest/etc/docker/daemon.json"
    chmod 0666 "$dest/etc/docker/daemon.json"
    chown 1000:1000 "$dest/etc/docker/daemon.json"
    ;;
  esac
}

t=$(now)
for i in 0 1 2; do
  host=$work/host$((i + 1))
  upper=$host/upper
  mkdir -p "$upper" "$host/overlay-work" "$host/root"
  mkdir -p "$upper/etc/ssh" "$upper/root/.ssh" "$upper/run/sshd"
  chmod 0700 "$upper/root" "$upper/root/.ssh"
  ssh-keygen -q -t ed25519 -N '' -C "host$((i + 1))" -f "$upper/etc/ssh/ssh_host_ed25519_key"
  install -m 0600 "$work/id_ed25519.pub" "$upper/root/.ssh/authorized_keys"
  echo "host$((i + 1))" >"$upper/etc/hostname"
  cat >"$upper/etc/ssh/fleet_sshd_config" <<EOF
ListenAddress ${addrs[$i]}
Port $port
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile /run/sshd.pid
Subsystem sftp internal-sftp
EOF
  fixture "${shapes[$i]}" "$upper/srv/dockerhost"
  # The namespace's first process stays as its init (it reaps); its mounts die with it. The
  # script is single-quoted: it gets its paths as arguments.
  # shellcheck disable=SC2016
  unshare --mount --uts --pid --fork --kill-child -- bash -c '
    set -e
    host=$1
    mount -t overlay overlay -o "lowerdir=$2,upperdir=$host/upper,workdir=$host/overlay-work" "$host/root"
    mount --rbind /dev "$host/root/dev"
    mount -t proc proc "$host/root/proc"
    hostname "$(cat "$host/upper/etc/hostname")"
    chroot "$host/root" /usr/sbin/sshd -D -e -f /etc/ssh/fleet_sshd_config &
    wait
  ' fleet-host "$host" "$base" >"$host/sshd.log" 2>&1 &
  pids+=($!)
done

ssh_opts=(-i "$work/id_ed25519" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no
  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5)
# shellcheck disable=SC2029 # the command is meant to be expanded here and run there
on() { ssh "${ssh_opts[@]}" "root@${addrs[$1]}" "${@:2}"; }
for i in 0 1 2; do
  for _ in $(seq 100); do
    on "$i" true 2>/dev/null && break
    sleep 0.1
  done
  [ "$(on "$i" hostname)" = "host$((i + 1))" ] || {
    cat "$work/host$((i + 1))/sshd.log"
    fail "host$((i + 1)) on ${addrs[$i]}:$port does not answer"
  }
done
say "3 hosts up (sshd on ${addrs[*]}:$port) in $(elapsed "$t") s"

# --- the playbooks --------------------------------------------------------------------------------
# A copy, so the staged module lands in the copy's library/, not in the checkout.
cp -r "$repo/playbooks/fleet" "$work/fleet"
rm -f "$work/fleet/library/docker_harden"
cat >"$work/inventory.ini" <<EOF
[dockerhosts]
host1 ansible_host=${addrs[0]}
host2 ansible_host=${addrs[1]}
host3 ansible_host=${addrs[2]}

[dockerhosts:vars]
ansible_port=$port
ansible_user=root
ansible_ssh_private_key_file=$work/id_ed25519
ansible_ssh_common_args='-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR'
docker_harden_root=/srv/dockerhost
docker_harden_benchmark=1.6.0
EOF
: >"$work/ansible.cfg"
export ANSIBLE_CONFIG=$work/ansible.cfg ANSIBLE_HOME=$work/ansible-home \
  ANSIBLE_LOCAL_TEMP=$work/ansible-tmp ANSIBLE_SSH_CONTROL_PATH_DIR=$work/cp \
  ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_RETRY_FILES_ENABLED=False ANSIBLE_NOCOLOR=1 \
  ANSIBLE_DEPRECATION_WARNINGS=False

runs=0
# play NAME PLAYBOOK ARGS...: runs it, keeps the output in $work/NAME.log; sets $rc.
play() {
  local name=$1 playbook=$2 t
  shift 2
  t=$(now)
  rc=0
  "$venv/bin/ansible-playbook" -i "$work/inventory.ini" "$work/fleet/$playbook" "$@" \
    >"$work/$name.log" 2>&1 || rc=$?
  runs=$((runs + 1))
  say "$name: ansible-playbook $playbook $* -> rc $rc in $(elapsed "$t") s"
}
# recap NAME HOST FIELD: a number from the play recap.
recap() {
  sed -n "s/^$2 *:.* $3=\([0-9]*\).*/\1/p" "$work/$1.log"
}
show() {
  echo "----- $work/$1.log" >&2
  cat "$work/$1.log" >&2
}
expect() { # expect NAME HOST changed=N|changed>0 failed=N
  local name=$1 host=$2 want
  shift 2
  for want in "$@"; do
    local field=${want%%[=>]*} value
    value=$(recap "$name" "$host" "$field")
    [ -n "$value" ] || {
      show "$name"
      fail "$name: no recap for $host"
    }
    case $want in
    *'>0') [ "$value" -gt 0 ] || {
      show "$name"
      fail "$name: $host $field=$value, want > 0"
    } ;;
    *) [ "$value" = "${want#*=}" ] || {
      show "$name"
      fail "$name: $host $field=$value, want ${want#*=}"
    } ;;
    esac
  done
}
has() {
  grep -qF -- "$2" "$work/$1.log" || {
    show "$1"
    fail "$1: output lacks: $2"
  }
}
# Every entry of a host's Docker tree: path, type, mode, owner, and the content's checksum.
# docker-harden's own state directory is left out where `all` is not asked for.
sums() {
  local tree=$work/host$1/upper/srv/dockerhost
  (cd "$tree" && find . ${2:+-path ./var/lib/docker-harden -prune -o} -printf '%p %y %m %U:%G\n' |
    sort | while read -r path type rest; do
    if [ "$type" = f ]; then
      echo "$path $type $rest $(sha256sum <"$path" | cut -c1-64)"
    else
      echo "$path $type $rest"
    fi
  done)
}
snapshot() { for h in 1 2 3; do sums "$h" "${1:-}" >"$work/sums-$2-host$h"; done; }
same() { # same A B HOSTS...: the trees of HOSTS are the same in snapshots A and B
  local a=$1 b=$2 h
  shift 2
  for h in "$@"; do
    diff -u "$work/sums-$a-host$h" "$work/sums-$b-host$h" >&2 || fail "host$h: the Docker tree changed between $a and $b"
  done
}

snapshot "" original
snapshot exclude-state original-files

# 1. --check --diff on fresh hosts: reports what it would change, shows it, writes nothing.
play check-fresh site.yml --check --diff -e "docker_harden_binary=$work/docker-harden"
[ "$rc" = 2 ] || {
  show check-fresh
  fail "check-fresh: rc $rc, want 2 (host3 fails)"
}
expect check-fresh host1 'changed>0' failed=0
expect check-fresh host2 'changed>0' failed=0
expect check-fresh host3 failed=1
has check-fresh '--- before: /etc/docker/daemon.json (absent)'
has check-fresh '+++ after: /etc/docker/daemon.json (mode 0644, owner root:root)'
has check-fresh '+  "icc": false,'
has check-fresh '+-w /usr/sbin/dockerd -p wa -k docker'
has check-fresh 'check mode: nothing written'
has check-fresh '/etc/docker/daemon.json:3:1: not valid JSON'
snapshot "" after-check
same original after-check 1 2 3

# 2. The first run, installing the package: the good hosts change; host3 fails and is untouched.
play first site.yml -e "docker_harden_deb=$deb"
[ "$rc" = 2 ] || {
  show first
  fail "first: rc $rc, want 2"
}
expect first host1 'changed>0' failed=0
expect first host2 'changed>0' failed=0
expect first host3 failed=1
has first '/etc/docker/daemon.json:3:1: not valid JSON'
has first 'fix: fixed '
for i in 0 1 2; do
  # shellcheck disable=SC2016 # ${Version} is dpkg-query's, expanded on the host by dpkg-query
  [ "$(on "$i" dpkg-query -W -f='\${Version}' docker-harden)" = "$version" ] ||
    fail "host$((i + 1)): the package is not installed"
done
# The installed CLI reads what the module wrote.
on 0 docker-harden check --root /srv/dockerhost --benchmark 1.6.0 --only 1.1.3,2.2 >"$work/cli.log" 2>&1 ||
  { cat "$work/cli.log"; fail "host1: docker-harden check after the fix"; }
grep -q '^\[PASS\] 2.2' "$work/cli.log" || { cat "$work/cli.log"; fail "host1: 2.2 not fixed"; }
snapshot "" after-first
same original after-first 3
if diff -q "$work/sums-original-host1" "$work/sums-after-first-host1" >/dev/null; then
  fail "host1: the first run changed nothing"
fi

# 3. The second run changes nothing (the package is installed in that version already).
play second site.yml -e "docker_harden_deb=$deb"
expect second host1 changed=0 failed=0
expect second host2 changed=0 failed=0
expect second host3 failed=1
has second 'fix: nothing to change'
snapshot "" after-second
same after-first after-second 1 2 3

# 4. A fixed host in --check mode: nothing to do.
play check-fixed site.yml --check --diff -e "docker_harden_binary=$work/docker-harden"
expect check-fixed host1 changed=0 failed=0
expect check-fixed host2 changed=0 failed=0

# 5. rollback.yml --check --diff: shows the way back, writes nothing.
play rollback-check rollback.yml --check --diff
[ "$rc" = 0 ] || {
  show rollback-check
  fail "rollback-check: rc $rc"
}
expect rollback-check host1 'changed>0' failed=0
expect rollback-check host2 'changed>0' failed=0
expect rollback-check host3 changed=0 failed=0
has rollback-check '+++ after: /etc/docker/daemon.json (absent)'
has rollback-check 'no saved run to roll back'
snapshot "" after-rollback-check
same after-second after-rollback-check 1 2 3

# 6. rollback.yml: every file as it was (docker-harden's backups stay); again: nothing to do.
play rollback rollback.yml
[ "$rc" = 0 ] || {
  show rollback
  fail "rollback: rc $rc"
}
expect rollback host1 'changed>0' failed=0
expect rollback host2 'changed>0' failed=0
expect rollback host3 changed=0 failed=0
has rollback 'rolled back run '
snapshot exclude-state after-rollback-files
same original-files after-rollback-files 1 2 3
play rollback-again rollback.yml
expect rollback-again host1 changed=0 failed=0
expect rollback-again host2 changed=0 failed=0
has rollback-again 'is already rolled back'

say "PASS: $runs playbook runs on 3 hosts"
