#!/usr/bin/env bash
# Scenario 6: a golden image. With no VM running, fix --yes --root on the filesystem of a fresh
# overlay of the never-booted base image (converted to raw and loop-mounted: there is no nbd or
# guestmount here), then a COLD boot of that disk: the settings are in effect from the start.
# vm: none
set -euo pipefail
source "$VM_TESTS/lib.sh"

say "  6. golden image: fix --yes --root on the disk, then a cold boot"
MNT=$VM_DIR/mnt
mkdir -p "$MNT"
umount_golden() { mountpoint -q "$MNT" && umount "$MNT" || true; }
trap 'umount_golden; vm_kill' EXIT

qemu-img create -q -f qcow2 -F qcow2 -b "$IMAGE_DIR/base.qcow2" "$VM_DIR/overlay.qcow2"
timeout 300 qemu-img convert -O raw "$VM_DIR/overlay.qcow2" "$VM_DIR/golden.raw"
rm -f "$VM_DIR/overlay.qcow2"
timeout 60 mount -o loop "$VM_DIR/golden.raw" "$MNT" || fail "cannot loop-mount the golden image"
ok "golden image mounted at $MNT"

# The guest judges with v1.6.0 IDs (GUEST_ENV): fix the image with the same numbering, whose
# 1.1.9 watches the docker.socket unit (v1.8.0, the default, watches the API socket instead).
printf '\n$ docker-harden fix --yes --root %s\n' "$MNT"
RC=0
OUT=$(NO_COLOR=1 DOCKER_HARDEN_BENCHMARK=1.6.0 timeout 120 "$DH_BIN" fix --yes --root "$MNT" 2>&1) || RC=$?
ALL=$OUT
printf '%s\n(exit %s)\n' "$OUT" "$RC"
expect_rc "0 1" "fix --yes --root"
expect_out 'changed [0-9]+ file' "fix --root wrote files"
[[ -f $MNT/etc/docker/daemon.json ]] || fail "no daemon.json in the image"
ok "daemon.json written in the image: $(tr -d ' \n' <"$MNT/etc/docker/daemon.json")"
grep -rqs -- '-w /usr/sbin/dockerd' "$MNT/etc/audit/rules.d/" || fail "no dockerd watch in the image's rules.d"
ok "audit rule for dockerd in the image's rules.d"
timeout 60 umount "$MNT"
ok "unmounted"

log "cold boot of the golden image"
t=$SECONDS
vm_start "$VM_DIR/golden.raw" raw
vm_wait_ssh 420
vm_wait_ready 420
ok "cold boot ready in $((SECONDS - t)) s"

must "docker info --format 'Live Restore Enabled: {{.LiveRestoreEnabled}}; Logging Driver: {{.LoggingDriver}}'"
expect_out 'Live Restore Enabled: true' "docker info: Live Restore Enabled: true"
expect_out 'Logging Driver: syslog' "docker info: Logging Driver: syslog"
must 'auditctl -l'
expect_out '^-w /usr/sbin/dockerd -p wa -k docker$' "auditctl -l has the dockerd watch (loaded at boot)"
must 'ss -ltnp "sport = :514"'
expect_out 'rsyslogd' "rsyslogd listens on :514"
T=120 vm_scp "$DH_BIN" /usr/local/sbin/docker-harden || fail "cannot copy the binary in"
guest 'docker-harden check --format json'
left=$(fixable_warns 2.9)
[[ -z $left ]] || fail "after the cold boot, fixable items still WARN: $left"
ok "check on the booted golden image: every fixable item passes except the disruptive 2.9"
