#!/usr/bin/env bash
# Scenario 2: a second fix --yes changes nothing: no file, no restart. It goes on in scenario
# 1's guest, already fixed, when 1 ran just before it and passed; else it fixes first.
# vm: after 01
set -euo pipefail
source "$VM_TESTS/lib.sh"

say "  2. idempotence: fix --yes twice"
if [[ -n ${VM_CONTINUED:-} ]]; then
    ok "in scenario 1's guest, fixed by its fix --yes"
else
    guest 'docker-harden fix --yes'
    expect_rc "0 1" "first fix --yes"
fi

must 'systemctl show -p MainPID --value docker'
pid=$OUT
[[ $pid =~ ^[1-9][0-9]*$ ]] || fail "no dockerd PID after fix: '$pid'"
SUM_PATHS='/etc/docker /etc/audit/rules.d /etc/rsyslog.conf'
must "$TREE_SUM $SUM_PATHS"
before=$OUT

guest 'docker-harden fix --yes'
expect_rc "0 1" "second fix --yes"
expect_out '^nothing to change$' "second fix says 'nothing to change'"
expect_no_out '^run [^ ]+: changed' "second fix wrote no file"

must 'systemctl show -p MainPID --value docker'
[[ $OUT == "$pid" ]] || fail "dockerd was restarted: PID $pid -> $OUT"
ok "dockerd PID unchanged ($pid)"
must "$TREE_SUM $SUM_PATHS"
[[ $OUT == "$before" ]] || fail "files changed:$(diff <(echo "$before") <(echo "$OUT") | sed 's/^/      | /')"
ok "checksums, modes and owners of $SUM_PATHS unchanged"
