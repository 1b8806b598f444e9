#!/usr/bin/env bash
# Scenario 4: dockerd runs with --iptables=false (a drop-in). icc=false would stop dockerd from
# starting, so fix must refuse 2.2 and say why; forced past the preflight (a hidden test-only
# flag), the failed restart must be rolled back and dockerd must run again.
set -euo pipefail
source "$VM_TESTS/lib.sh"

say "  4. sabotage: dockerd --iptables=false, then fix --only 2.2"
must "mkdir -p /etc/systemd/system/docker.service.d && printf '[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd -H fd:// --iptables=false\n' > /etc/systemd/system/docker.service.d/sabotage.conf && systemctl daemon-reload && systemctl restart docker && systemctl is-active docker"
ok "dockerd restarted with --iptables=false"
must 'ps -o args= -C dockerd'
expect_out '--iptables=false' "dockerd runs with --iptables=false"
must 'cat /etc/docker/daemon.json 2>/dev/null || true'
before_json=$OUT

guest 'docker-harden fix --yes --only 2.2'
fix_rc=$RC
fix_out=$OUT
expect_out 'iptables' "fix --only 2.2 explains the refusal with iptables"
must 'cat /etc/docker/daemon.json 2>/dev/null || true'
expect_no_out '"icc"' "daemon.json has no icc"
[[ $OUT == "$before_json" ]] || fail "daemon.json changed"
ok "daemon.json unchanged"
if ((fix_rc != 0)) || grep -Eiq 'not fixed|blocked|refus|cannot|would not start|still WARN: .*2\.2' <<<"$fix_out"; then
    ok "2.2 reported as not fixed (exit $fix_rc)"
else
    fail "fix --only 2.2 exited 0 without reporting 2.2 as not fixed"
fi
must 'systemctl is-active docker'
ok "docker still active"

guest 'docker-harden fix --yes --only 2.2 --skip-preflight'
if grep -Eq "unexpected argument|unrecognized|unknown (flag|option|argument)|Found argument" <<<"$OUT"; then
    skip "--skip-preflight is not accepted by this build yet (the forced-failure half is not run)"
fi
skip_rc=$RC
skip_all=$ALL
if poll 90 'systemctl is-active docker'; then
    ok "dockerd runs again after the failed restart"
else
    guest 'systemctl status docker --no-pager -l | tail -n 20'
    fail "docker is not active after the failed restart (90 s); fix said:$(grep -i 'restor\|rolled\|did not\|failed' <<<"$skip_all" | head -n 8 | sed 's/^/      | /')"
fi
must 'cat /etc/docker/daemon.json 2>/dev/null || true'
expect_no_out '"icc"' "daemon.json has no icc after the failed restart"
RC=$skip_rc ALL=$skip_all
expect_rc 2 "fix --skip-preflight exits 2 when dockerd does not come back"
expect_out 'rolled back' "the output says the change was rolled back"
