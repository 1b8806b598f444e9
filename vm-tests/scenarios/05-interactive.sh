#!/usr/bin/env bash
# Scenario 5: the interactive prompt through a real pseudo-terminal (ssh -tt driven by expect on
# the host): no to 2.2, yes to 2.14 and 2.16.
set -euo pipefail
source "$VM_TESTS/lib.sh"

say "  5. interactive: fix --only 2.2,2.14,2.16 over ssh -tt; no to 2.2, yes to the rest"
# Run by interactive.exp if the session hangs: the program's threads and their wait channels.
DH_DIAG="timeout 30 ssh ${SSH_OPTS[*]} -i $VM_KEY -p $VM_PORT root@127.0.0.1 'for p in \$(pgrep -x docker-harden); do ps -o pid,etime,args -p \$p | tail -n 1; for t in /proc/\$p/task/*; do echo \"  thread \${t##*/}: \$(cat \$t/wchan)\"; done; done'"
export DH_DIAG
RC=0
OUT=$(TERM=xterm timeout 420 expect -f "$VM_TESTS/interactive.exp" 2.2 -- \
    ssh -tt "${SSH_OPTS[@]}" -i "$VM_KEY" -p "$VM_PORT" root@127.0.0.1 \
    "export $GUEST_ENV; docker-harden fix --only 2.2,2.14,2.16" 2>&1) || RC=$?
printf '%s\n(exit %s)\n' "$OUT" "$RC"
if ((RC == 124)); then
    answers=$(grep '^ANSWERED' <<<"$OUT" | cut -d' ' -f2- | paste -sd, - || true)
    diag=$(sed -n '/^DIAG /,$p' <<<"$OUT" | grep -v '^ANSWERED' | sed 's/^DIAG //' | tr -s ' ' | paste -sd';' - || true)
    fail "the interactive session timed out: no output for 240 s after the answers (${answers:-none}); in the guest then: ${diag:-nothing}"
fi
ALL=$OUT
expect_out '^ANSWERED 2\.2 no$' "answered no to 2.2"
expect_out '^ANSWERED 2\.14 yes$' "answered yes to 2.14"
expect_out '^ANSWERED 2\.16 yes$' "answered yes to 2.16"
expect_out '^EXIT [01]$' "fix exited 0 or 1"

must 'cat /etc/docker/daemon.json'
expect_no_out '"icc"' "daemon.json has no icc"
expect_out '"no-new-privileges": *true' "daemon.json has no-new-privileges: true"
expect_out '"userland-proxy": *false' "daemon.json has userland-proxy: false"
must 'systemctl is-active docker'
ok "docker is active"
