#!/usr/bin/env bash
# Scenario 9: the engine's release decides. The known-keys table docker-harden holds for the
# guest's dockerd is what that dockerd accepts; a daemon.json the engine would refuse is refused
# before anything is written, in dockerd's own words where it can validate (26.1: `dockerd
# --validate`), by the table where it cannot (20.10); the run record says which validation ran.
set -euo pipefail
source "$VM_TESTS/lib.sh"

say "  9. engine ($SUITE): known keys held against the real dockerd, pre-flight by the engine"
must 'dockerd --version'
version=$(sed -n 's/^Docker version \([0-9]*\.[0-9]*\).*/\1/p' <<<"$OUT")
table=$VM_TESTS/../src/engine_release/daemon-json-keys-$version.txt
[[ -f $table ]] || fail "docker-harden holds no key table for dockerd $version ($OUT)"
ok "dockerd $version; table $(basename "$table")"

# 1. Every key of the table passes this dockerd's unknown-directive check: with `--debug` given
# both as a flag and in the file, dockerd stops right after the check, so nothing starts.
python3 -c 'import json, sys
keys = [l.strip() for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
json.dump({k: None for k in keys}, open(sys.argv[2], "w"))' "$table" "$VM_DIR/keys.json"
T=60 vm_scp "$VM_DIR/keys.json" /tmp/keys.json
LOAD='d=$(mktemp -d); timeout 60 dockerd --debug --config-file /tmp/keys.json --data-root $d/data --exec-root $d/exec --pidfile $d/pid -H unix://$d/sock --iptables=false --bridge=none; echo "exit $?"; rm -rf $d'
guest "$LOAD"
expect_no_out "don't match any configuration option" "dockerd $version accepts every key of its table ($(grep -vc '^#' "$table") keys)"
expect_out 'specified both as a flag and in the configuration file' "dockerd stopped at its configuration"
# ... and refuses a key the table does not hold.
case $version in
20.10) absent=default-network-opts ;;
*) absent=graph ;;
esac
grep -qx "$absent" "$table" && fail "the $version table holds $absent"
echo "{\"debug\": null, \"$absent\": null}" >"$VM_DIR/absent.json"
T=60 vm_scp "$VM_DIR/absent.json" /tmp/keys.json
guest "$LOAD"
expect_out "don't match any configuration option: $absent" "dockerd $version refuses $absent, which its table does not hold"

# 2. A daemon.json this engine refuses, edited in but not yet in effect: fix refuses to write.
must 'systemctl show -p MainPID --value docker'
pid=$OUT
case $version in
20.10)
    bad='{"default-network-opts": {"bridge": {"com.docker.network.driver.mtu": "1400"}}}'
    why="refused by pre-flight: daemon.json would hold key\(s\) dockerd 20\.10\.[^ ]+ does not know and refuses to start with: default-network-opts \(by the daemon.json keys Docker 20\.10 accepts\)"
    ;;
*)
    bad='{"log-level": "verbose"}'
    why="refused by pre-flight: dockerd 26\.1\.[^ ]+ refuses the planned /etc/docker/daemon\.json: unable to configure the Docker daemon with file /etc/docker/daemon\.json: merged configuration validation from file and command line flags failed: invalid logging level: verbose"
    ;;
esac
must "printf '%s\n' '$bad' > /etc/docker/daemon.json && sha256sum /etc/docker/daemon.json"
sum=$OUT
guest 'docker-harden fix --yes --only 2.14,2.15'
expect_out "$why" "fix refuses in the engine's words: $(grep -Eo 'refused by pre-flight: .{0,90}' <<<"$ALL" | head -n 1)"
expect_out '^nothing to change$' "nothing is written"
must 'sha256sum /etc/docker/daemon.json'
[[ $OUT == "$sum" ]] || fail "daemon.json changed"
ok "daemon.json unchanged"
must 'systemctl show -p MainPID --value docker'
[[ $OUT == "$pid" ]] || fail "dockerd was restarted: $pid -> $OUT"
ok "dockerd kept its PID ($pid)"
guest 'ls /var/lib/docker-harden/backups 2>/dev/null | wc -l'
[[ $OUT == 0 ]] || fail "a run was recorded: $OUT"
ok "no run recorded"

# 3. The same items on a good file: written, and the run record says which validation ran.
must 'echo "{}" > /etc/docker/daemon.json'
guest 'docker-harden fix --yes --only 2.14,2.15'
expect_rc "0 1" "fix --yes --only 2.14,2.15"
case $version in
20.10) judged="the daemon.json keys Docker 20\.10 accepts \(the engine is 20\.10\.[^ ]+, from \`/usr/sbin/dockerd --version\`\)" ;;
*) judged="\`/usr/sbin/dockerd --validate\` \(Docker 26\.1\.[^ ]+\) accepted the planned daemon.json" ;;
esac
expect_out "pre-flight: $judged" "fix says how daemon.json was validated"
must 'cat /var/lib/docker-harden/backups/*/manifest.json'
expect_out "\"validation\": \"$judged\"" "the run record says so too"
must "docker info --format 'LR={{.LiveRestoreEnabled}}'"
expect_out 'LR=true' "the change is in effect"
