#!/usr/bin/env bash
# Scenario 10: section 5 against the engine's API (1.41 on Debian 12, 1.45 on Debian 13). One
# container per flaw (privileged; added capabilities; sensitive and Docker-socket mounts; a
# privileged port and one on every address; the host's namespaces; no limits; uncapped
# restarts; a host device; ulimits; shared propagation; seccomp and AppArmor off; a cgroup
# parent) and one hardened container that passes every item. Each item must name the
# containers with its flaw and never the hardened one; the whole verdict table is kept in
# the logs, and when the other image ran first in this run the two tables must be equal.
set -euo pipefail
source "$VM_TESTS/lib.sh"

say "  10. containers ($SUITE): every section 5 item against the engine's API"
B='dh-busybox /bin/busybox sleep 100000'
must "docker network create dh-net >/dev/null
mkdir -p /srv/dh-shared
docker run -d --name c-priv --privileged $B
docker run -d --name c-caps --cap-add NET_ADMIN --cap-add SYS_ADMIN $B
docker run -d --name c-mounts -v /etc:/host-etc -v /var/run/docker.sock:/var/run/docker.sock $B
docker run -d --name c-ports -p 127.0.0.1:80:8080 -p 8443:8443 $B
docker run -d --name c-hostns --net host --pid host --ipc host --uts host --userns host $B
docker run -d --name c-plain $B
docker run -d --name c-restart --restart on-failure:10 $B
docker run -d --name c-devices --device /dev/zero:/dev/dh-zero $B
docker run -d --name c-ulimit --ulimit nofile=1024:2048 $B
docker run -d --name c-shared --mount type=bind,src=/srv/dh-shared,dst=/shared,bind-propagation=rshared $B
docker run -d --name c-unconfined --security-opt seccomp=unconfined --security-opt apparmor=unconfined $B
docker run -d --name c-cgroup --cgroup-parent dh-custom.slice $B
docker run -d --name c-hardened --read-only --cap-drop ALL --security-opt no-new-privileges \
    --memory 64m --cpu-shares 512 --pids-limit 50 --user 1000:1000 --restart on-failure:3 \
    --network dh-net --health-cmd '/bin/busybox true' --health-interval 30s $B >/dev/null
docker ps --format '{{.Names}} {{.Status}}' | sort"
running=$(grep -c ' Up ' <<<"$OUT" || true)
((running == 13)) || fail "13 containers should run; docker ps: $OUT"
ok "13 containers running"
must "docker version --format '{{.Server.APIVersion}}'"
api=$OUT
guest 'docker-harden check --only 1.2.2'
expect_out "the running engine is Docker [^ ]+ \(API ${api//./\\.}\)" "docker-harden speaks the engine's own API, $api"

guest 'docker-harden check --format json'
expect_rc "0 1" "check"
# The guest has no python: the report is read here. One line per item: ID STATUS NAMES.
table=$(python3 -c 'import json, re, sys
names = ["c-priv", "c-caps", "c-mounts", "c-ports", "c-hostns", "c-plain", "c-restart",
         "c-devices", "c-ulimit", "c-shared", "c-unconfined", "c-cgroup", "c-hardened"]
report = json.loads(sys.stdin.read())
for item in report["items"]:
    if not item["id"].startswith("5."):
        continue
    text = "\n".join(item["evidence"])
    named = [n for n in names if re.search(r"(^|[^a-z0-9_-])" + re.escape(n) + r"([^a-z0-9_-]|$)", text)]
    print(item["id"], item["status"], ",".join(named) or "-")' <<<"$OUT" | sort -V)
printf '%s\n' "$table"
printf '%s\n' "$table" >"$VM_RESULTS/section5-$SUITE.txt"

expect_named() {
    local id=$1 status=$2 line
    shift 2
    # (a string match: awk would take 5.2 and 5.20 for the same number)
    line=$(grep -E "^${id//./\\.} " <<<"$table" || true)
    [[ -n $line ]] || fail "$id is not in the report"
    [[ $(awk '{print $2}' <<<"$line") == "$status" ]] || fail "$id: want $status, got: $line"
    local c
    for c in "$@"; do
        [[ ",$(awk '{print $3}' <<<"$line")," == *",$c,"* ]] || fail "$id does not name $c: $line"
    done
    ok "$id $status naming $*"
}
expect_named 5.2 WARN c-unconfined
expect_named 5.4 WARN c-caps
expect_named 5.5 WARN c-priv
expect_named 5.6 WARN c-mounts
expect_named 5.8 WARN c-ports
expect_named 5.10 WARN c-hostns
expect_named 5.11 WARN c-plain
expect_named 5.12 WARN c-plain
expect_named 5.13 WARN c-plain
expect_named 5.14 WARN c-ports
expect_named 5.15 WARN c-restart
expect_named 5.16 WARN c-hostns
expect_named 5.17 WARN c-hostns
expect_named 5.18 INFO c-devices
expect_named 5.20 WARN c-shared
expect_named 5.21 WARN c-hostns
expect_named 5.22 WARN c-unconfined
expect_named 5.25 WARN c-cgroup
expect_named 5.26 WARN c-plain
expect_named 5.27 WARN c-plain
expect_named 5.29 WARN c-plain
expect_named 5.30 INFO c-plain
expect_named 5.32 WARN c-mounts
if grep -E '^5\.[0-9]+ (WARN|NOTE) .*c-hardened' <<<"$table"; then
    fail "an item faults the hardened container"
fi
ok "no item faults the hardened container"

for other in "$VM_RESULTS"/section5-*.txt; do
    [[ $other == "$VM_RESULTS/section5-$SUITE.txt" ]] && continue
    if ! diff -u "$other" "$VM_RESULTS/section5-$SUITE.txt" >"$VM_DIR/section5.diff"; then
        fail "the verdicts differ from $(basename "$other" .txt):$(sed 's/^/      | /' "$VM_DIR/section5.diff")"
    fi
    ok "the verdicts equal those on $(basename "$other" .txt | sed 's/section5-//') (every section 5 item)"
done
