#!/usr/bin/env bash
# Scenario 8: a host with running workloads. Five containers (privileged; a published port with
# on-failure:10; the host's namespaces with --restart always; fully hardened; --restart no), all
# with a PID 1 that ignores SIGTERM, as a stop without live restore would find them. fix --yes
# keeps every one running with the same PID, opens nothing wider than loopback, judges 5.26
# container by container; rollback brings docker info back, names a container created in
# between that logs to the receiver it removes, and (live restore going back off, which stops
# containers at dockerd's start) needs leave, then starts every container again.
set -euo pipefail
source "$VM_TESTS/lib.sh"

say "  8. workloads: containers keep running through fix and rollback"
run_c() {
    must "docker run -d --name $1 ${*:2} dh-busybox /bin/busybox sleep 100000"
}
run_c privileged --privileged
must "docker run -d --name web -p 127.0.0.1:8080:8080 --restart on-failure:10 dh-busybox /bin/busybox httpd -f -p 8080"
run_c hostns --net host --pid host --ipc host --uts host --restart always
run_c hardened --read-only --cap-drop ALL --security-opt no-new-privileges --memory 64m \
    --pids-limit 50 --user 1000:1000 --restart on-failure:5
run_c oneshot --restart no
NAMES='privileged web hostns hardened oneshot'
pids() {
    must "for c in $NAMES; do docker inspect -f '{{.Name}} {{.State.Running}} {{.State.Pid}}' \$c; done"
}
pids
before=$OUT
grep -q ' true [1-9]' <<<"$before" || fail "the containers did not start: $before"
ok "5 containers running: $(tr '\n' ' ' <<<"$before")"
must "docker info --format 'LR={{.LiveRestoreEnabled}} LD={{.LoggingDriver}}'"
info_before=$OUT
expect_out 'LR=false LD=json-file' "docker info before: live restore off, json-file"

guest 'docker-harden fix --yes'
expect_rc "0 1" "fix --yes"
expect_out 'dockerd reloaded: live restore is on, so the restart keeps the running containers' \
    "live restore came on by a reload before the restart"
expect_no_out 'did not keep running|would stop' "no container was stopped"
for c in $NAMES; do
    expect_out "container $c \([0-9a-f]+\) kept running" "fix says $c kept running"
done
pids
[[ $OUT == "$before" ]] || fail "container PIDs changed across the fix:$(diff <(echo "$before") <(echo "$OUT") | sed 's/^/      | /')"
ok "every container runs with the same PID after the fix"

must "docker info --format 'LR={{.LiveRestoreEnabled}} LD={{.LoggingDriver}}'"
expect_out 'LR=true LD=syslog' "docker info after fix: live restore on, syslog"

# Nothing listens on 514 but loopback.
must "ss -Hltn 'sport = :514'"
listeners=$OUT
[[ -n $listeners ]] || fail "nothing listens on :514 after the fix"
if grep -Ev '127\.0\.0\.1:514' <<<"$listeners" | grep -q .; then
    fail "something listens on :514 beyond 127.0.0.1: $listeners"
fi
ok "tcp :514 is bound on 127.0.0.1 only"

# 5.26 judges each container: the ones created before no-new-privileges became the default
# still can gain privileges, and the report says to re-create them.
guest 'docker-harden check --only 5.26 --format json'
expect_rc "0 1" "check 5.26"
# The guest has no python: the report is read here.
ALL=$(python3 -c 'import json, sys
i = json.load(sys.stdin)["items"][0]
print(i["status"])
print("\n".join(i["evidence"]))' <<<"$OUT")
printf '%s\n' "$ALL"
expect_out '^WARN$' "5.26 still WARN for containers created before the default"
for c in privileged web hostns oneshot; do
    expect_out "$c" "5.26 names $c"
done
expect_out 're-creat' "5.26 says the containers must be re-created"
expect_no_out '(^|[^a-z])hardened \(' "5.26 does not name the hardened container"

# A container created between fix and rollback logs to syslog at 127.0.0.1:514.
run_c newcomer
must "docker inspect -f '{{.HostConfig.LogConfig.Type}}' newcomer"
expect_out '^syslog$' "the newcomer took the syslog default"

# Back to live restore off: the dockerd that starts shuts down what it finds running, so the
# rollback needs leave to restart, and starts the containers again.
guest 'docker-harden rollback --yes'
expect_rc 2 "rollback --yes without leave"
expect_out 'restarting docker would stop [0-9]+ running container\(s\).*live restore off; nothing was written' \
    "rollback refuses to stop the containers unasked"
guest 'docker-harden rollback --yes --allow-container-restart'
expect_rc 0 "rollback --yes --allow-container-restart"
expect_out 'newcomer' "rollback names the newcomer"
expect_out 'stops rsyslog receiving at tcp://127\.0\.0\.1:514' "rollback says which receiver goes"
for c in $NAMES; do
    expect_out "container $c \([0-9a-f]+\) runs again" "rollback says $c runs again"
done
must "docker info --format 'LR={{.LiveRestoreEnabled}} LD={{.LoggingDriver}}'"
[[ $OUT == "$info_before" ]] || fail "docker info after rollback: $OUT (before: $info_before)"
ok "docker info after rollback is as before: $OUT"
must "for c in $NAMES; do docker inspect -f '{{.Name}} {{.State.Running}}' \$c; done"
if grep -q ' false' <<<"$OUT"; then
    fail "a container does not run after the rollback: $OUT"
fi
ok "every container runs after the rollback"
must "ss -Hltn 'sport = :514'"
[[ -z $OUT ]] || fail "something still listens on :514 after the rollback: $OUT"
ok "nothing listens on :514 after the rollback"
