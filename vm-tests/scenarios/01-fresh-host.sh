#!/usr/bin/env bash
# Scenario 1: a fresh Debian 12 host with docker.io. check warns, fix --yes fixes everything
# but the disruptive 2.9, and the settings are in effect: dockerd, auditd, rsyslog, a container's
# log line arriving in syslog.
set -euo pipefail
source "$VM_TESTS/lib.sh"

say "  1. fresh host: check, fix --yes, check, settings in effect"
guest 'docker-harden check'
expect_rc 1 "check on a fresh host exits 1 (findings)"
for id in 1.1.3 1.1.5 1.1.6 1.1.7 2.2 2.9 2.13 2.14 2.15 2.16; do
    expect_out "^\[WARN\] $id " "check warns about $id"
done

guest 'docker-harden fix --yes'
expect_rc "0 1" "fix --yes"
expect_out 'run [^ ]+: changed [0-9]+ file' "fix --yes wrote files and saved the originals"

guest 'docker-harden check'
expect_rc 1 "check after fix exits 1 (2.9 stays WARN)"
expect_out '^\[WARN\] 2\.9 ' "2.9 (disruptive, not applied by --yes) still warns"
guest 'docker-harden check --format json'
left=$(fixable_warns 2.9)
[[ -z $left ]] || fail "fixable items still WARN after fix: $left"
ok "every fixable item passes after fix except the disruptive 2.9"

must 'systemctl is-active docker'
ok "docker is active"
must "docker info --format 'Live Restore Enabled: {{.LiveRestoreEnabled}}; Logging Driver: {{.LoggingDriver}}'"
expect_out 'Live Restore Enabled: true' "docker info: Live Restore Enabled: true"
expect_out 'Logging Driver: syslog' "docker info: Logging Driver: syslog"

must 'auditctl -l'
expect_out '^-w /usr/sbin/dockerd -p wa -k docker$' "auditctl -l has the dockerd watch"

must 'ss -ltn'
expect_out ':514 ' "something listens on tcp :514"
must 'ss -ltnp "sport = :514"'
expect_out 'rsyslogd' "rsyslogd listens on :514"

marker="dh-marker-$RANDOM$RANDOM"
must "docker run --rm dh-busybox /bin/busybox echo $marker"
expect_out "^$marker\$" "the container ran (its output: $marker)"
if poll 30 "grep -qs -- '$marker' /var/log/syslog /var/log/messages /var/log/user.log"; then
    ok "the container's log line reached rsyslog"
else
    guest 'tail -n 20 /var/log/syslog'
    fail "the marker $marker is not in /var/log/syslog after 30 s"
fi
