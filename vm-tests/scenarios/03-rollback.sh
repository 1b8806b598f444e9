#!/usr/bin/env bash
# Scenario 3: fix --yes then rollback restores every file (content, mode, owner) and the services.
set -euo pipefail
source "$VM_TESTS/lib.sh"

say "  3. rollback: fix --yes, rollback, byte-identical files"
SUM_PATHS='/etc/docker /etc/audit /etc/rsyslog.conf /etc/rsyslog.d'
# Every file counts, audit.rules and audit.rules.prev included: fix and rollback load and unload
# watches one by one with auditctl, so nothing rewrites audit.rules behind their back.
sums() {
    must "$TREE_SUM $SUM_PATHS"
}
sums
before=$OUT

guest 'docker-harden fix --yes'
expect_rc "0 1" "fix --yes"
sums
[[ $OUT != "$before" ]] || fail "fix --yes changed nothing under $SUM_PATHS"
ok "fix changed files under $SUM_PATHS"

guest 'docker-harden rollback'
expect_rc 0 "rollback"
expect_out 'rolled back run' "rollback says what it restored"

sums
[[ $OUT == "$before" ]] || fail "after rollback the files differ from before fix:$(diff <(echo "$before") <(echo "$OUT") | sed 's/^/      | /')"
ok "every file under $SUM_PATHS identical to before (content, mode, owner)"

must 'systemctl is-active docker'
ok "docker is active"
must "docker info --format 'Logging Driver: {{.LoggingDriver}}'"
expect_out 'Logging Driver: json-file' "docker info: Logging Driver: json-file again"
