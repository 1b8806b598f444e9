#!/usr/bin/env bash
# Scenario 7: a rootless daemon beside the system one. A user with a lingering systemd manager
# runs Debian's dockerd-rootless.sh from a user unit; docker-harden finds both daemons, fixes
# the user's daemon.json as the user, restarts the user's unit (not the system's docker), is
# idempotent, and rolls back byte for byte.
set -euo pipefail
source "$VM_TESTS/lib.sh"

say "  7. rootless: a user's daemon beside the system's, fixed through the user's manager"
U=rl
must "id $U >/dev/null 2>&1 || useradd --create-home --shell /bin/bash $U; id -u $U"
UID_=$(tail -n 1 <<<"$OUT")
RUN=/run/user/$UID_
SOCK=$RUN/docker.sock
CONF=/home/$U/.config
grep -q "^$U:" <<<"$(vm_ssh 'cat /etc/subuid')" || fail "useradd gave $U no /etc/subuid range"
ok "user $U (uid $UID_) with subordinate IDs"

# What dockerd-rootless-setuptool.sh installs, written by hand (the tool wants a login session).
must "install -d -o $U -g $U $CONF $CONF/systemd $CONF/systemd/user
cat > $CONF/systemd/user/docker.service <<'EOF'
[Unit]
Description=Docker Application Container Engine (Rootless)

[Service]
Environment=PATH=/usr/share/docker.io/contrib:/usr/sbin:/usr/bin:/sbin:/bin
ExecStart=/usr/share/docker.io/contrib/dockerd-rootless.sh
ExecReload=/bin/kill -s HUP \$MAINPID
TimeoutSec=0
RestartSec=2
Restart=always
StartLimitBurst=3
StartLimitInterval=60s
LimitNOFILE=infinity
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
Delegate=yes
Type=simple
KillMode=mixed

[Install]
WantedBy=default.target
EOF
chown $U:$U $CONF/systemd/user/docker.service
loginctl enable-linger $U"
poll 60 "test -S $RUN/systemd/private" || fail "$U's systemd manager did not start"
ok "$U's manager runs (linger)"
USERCTL="runuser -u $U -- env XDG_RUNTIME_DIR=$RUN systemctl --user"
must "$USERCTL daemon-reload && $USERCTL enable --now docker.service"
poll 180 "docker -H unix://$SOCK info --format '{{.SecurityOptions}}' | grep -q rootless" ||
    fail "the rootless dockerd did not answer: $(vm_ssh "$USERCTL status docker --no-pager; journalctl _UID=$UID_ -n 30 --no-pager" 2>&1 | tail -n 30)"
ok "the rootless dockerd answers at $SOCK"

cat >"$VM_DIR/check.py" <<'EOF'
import json, sys
user, sock = sys.argv[1], sys.argv[2]
r = json.loads(sys.stdin.read())
keys = [d["key"] for d in r["daemons"]]
assert keys == ["system", "rootless:" + user], keys
d = r["daemons"][1]
assert d["running"] and d["socket"] == sock, d
items = {(i["daemon"], i["id"]): i for i in r["items"]}
k = "rootless:" + user
assert items[(k, "2.1")]["status"] == "PASS", items[(k, "2.1")]
assert items[(k, "3.3")]["status"] == "N/A", items[(k, "3.3")]
assert items[(k, "1.2.2")]["evidence"][0].startswith("the running engine is Docker"), items[(k, "1.2.2")]
assert items[(k, "2.14")]["status"] == "WARN", items[(k, "2.14")]
assert items[("system", "2.1")]["status"] == "NOTE", items[("system", "2.1")]
EOF
guest 'docker-harden check --format json'
expect_rc "0 1" "check"
python3 "$VM_DIR/check.py" "$U" "$SOCK" <<<"$OUT" >"$VM_DIR/check.txt" 2>&1 ||
    fail "check report: $(cat "$VM_DIR/check.txt")"
ok "check judges both daemons: the user's from its own socket and files"

must "systemctl show -p MainPID --value docker"
system_pid=$OUT
SUM="$TREE_SUM $CONF/docker /etc/docker /etc/audit/rules.d"
must "$SUM"
before=$OUT

ONLY=2.14,2.15,3.17,3.18
guest "docker-harden fix --yes --daemon rootless:$U --only $ONLY"
expect_rc "0 1" "fix --yes --daemon rootless:$U"
expect_out "ran \`runuser -u $U -- env XDG_RUNTIME_DIR=$RUN systemctl --user restart docker\`" "the user's unit was restarted through the user's manager"
expect_no_out '^ran `systemctl restart docker`' "the system's docker was not restarted"
expect_out 'is healthy: live restore on' "the rootless dockerd came back with live restore"
must "stat -c '%U:%G %a' $CONF/docker/daemon.json"
expect_out "^$U:$U 6[04][04]$" "daemon.json is $U's"
must "docker -H unix://$SOCK info --format '{{.LiveRestoreEnabled}}'"
expect_out '^true$' "the rootless dockerd runs with live restore"
must "systemctl show -p MainPID --value docker"
[[ $OUT == "$system_pid" ]] || fail "the system's dockerd was restarted: $system_pid -> $OUT"
ok "the system's dockerd kept its PID ($system_pid)"
must "$SUM"
after=$OUT

guest "docker-harden fix --yes --daemon rootless:$U --only $ONLY"
expect_rc "0 1" "second fix"
expect_out '^nothing to change$' "the second fix changes nothing"
must "$SUM"
[[ $OUT == "$after" ]] || fail "the second fix changed files"
ok "no file changed the second time"

guest 'docker-harden rollback'
expect_rc 0 "rollback"
expect_out "ran \`runuser -u $U -- env XDG_RUNTIME_DIR=$RUN systemctl --user restart docker\`" "rollback restarted the user's unit"
must "$SUM"
[[ $OUT == "$before" ]] || fail "after rollback the files differ:$(diff <(echo "$before") <(echo "$OUT") | sed 's/^/      | /')"
ok "every file identical to before the fix (content, mode, owner)"
poll 120 "docker -H unix://$SOCK info --format '{{.LiveRestoreEnabled}}' | grep -qx false" ||
    fail "the rootless dockerd is not back without live restore"
ok "the rootless dockerd runs again without live restore"
