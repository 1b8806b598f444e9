#!/usr/bin/env bash
# Installs the .deb in a fresh Debian 12 root and checks what it installed, then removes it:
#
#   packaging/test-deb.sh [DEB]      (default: the newest target/debian/docker-harden_*.deb)
#
# The root is a debootstrap minbase (plus man-db, to read the man page as a user would) from
# this machine's Debian mirror, cached as a tarball under /var/cache/docker-harden/deb-test so
# later runs only unpack it. Each run unpacks a fresh copy, so nothing of a run survives it.
# Needs root (debootstrap, chroot). Nothing is mounted in the chroot: dpkg, man and
# docker-harden --root do not need /proc there.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "test-deb: $*" >&2; exit 1; }
step() { echo "test-deb: $*"; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap and chroot)"
deb=${1:-$(ls -t target/debian/docker-harden_*.deb 2>/dev/null | head -n 1)}
[ -f "$deb" ] || die "no .deb (run packaging/build-deb.sh first)"
command -v debootstrap >/dev/null || die "debootstrap is required (apt-get install debootstrap)"

start=$(date +%s.%N)
cache=${DEB_TEST_CACHE:-/var/cache/docker-harden/deb-test}
suite=bookworm
include=man-db
tarball=$cache/$suite-minbase-$include.tar.gz

# The mirror this machine installs Debian 12 from: a one-line `deb URL bookworm ...` entry, or a
# deb822 stanza whose Suites include bookworm.
mirror=${DEBIAN_MIRROR:-$(
  {
    grep -hsE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
      sed -E 's/\[[^]]*\]//' | awk -v s="$suite" '$3 == s { print $2 }'
    awk -v s="$suite" 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; hit = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split($i, w, /[[:space:]]+/); uri = w[2] }
          if ($i ~ /^Suites:/) { n = split($i, w, /[[:space:]]+/); for (j = 2; j <= n; j++) if (w[j] == s) hit = 1 }
        }
        if (hit && uri != "") print uri }' /etc/apt/sources.list.d/*.sources 2>/dev/null
  } | head -n 1
)}
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d /tmp/docker-harden-deb-test.XXXXXX)
root=$work/root
# Whatever happens, nothing stays mounted (debootstrap mounts /proc and /sys in its target,
# and leaves them on failure) and the unpacked root goes.
cleanup() {
  local m
  for m in $(awk -v w="$work" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$m" || true
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9 # one builder of the cached root at a time
if [ -f "$tarball" ]; then
  temperature=warm
else
  temperature=cold
  step "building a Debian 12 minbase root from $mirror (cached in $tarball)"
  build=$work/build
  debootstrap --variant=minbase --include="$include" "$suite" "$build" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  chroot "$build" apt-get clean
  rm -rf "$build"/var/lib/apt/lists/* "$build"/var/cache/apt/*.bin
  tar -C "$build" --numeric-owner -czf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf --one-file-system "$build"
fi
exec 9>&-

mkdir "$root"
tar -C "$root" --numeric-owner -xzf "$tarball"
version=$(dpkg-deb -f "$deb" Version)
cp "$deb" "$root/tmp/docker-harden.deb"

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
expect() { # expect DESCRIPTION COMMAND...: the command succeeds
  local what=$1; shift
  "$@" || die "$what"
}

# Debian's own package checker: no error and no warning (the package's overrides say why the
# two findings that are so by design are).
command -v lintian >/dev/null || die "lintian is required (apt-get install lintian)"
step "lintian $(basename "$deb")"
lintian --fail-on error,warning --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1 ||
  { grep -v 'root privileges' "$work/lintian.log" >&2; die "lintian found errors or warnings"; }
step "dpkg -i $(basename "$deb") (version $version)"
in_root dpkg -i /tmp/docker-harden.deb >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; die "dpkg -i failed"; }

files=(
  /usr/bin/docker-harden
  /usr/libexec/docker/cli-plugins/docker-harden
  /usr/share/man/man1/docker-harden.1.gz
  /usr/share/man/man1/docker-harden-check.1.gz
  /usr/share/man/man1/docker-harden-fix.1.gz
  /usr/share/bash-completion/completions/docker-harden
  /usr/share/zsh/vendor-completions/_docker-harden
  /usr/share/fish/vendor_completions.d/docker-harden.fish
  /usr/share/doc/docker-harden/copyright
  /usr/share/doc/docker-harden/changelog.gz
)
for f in "${files[@]}"; do
  [ -e "$root$f" ] || die "$f is not installed"
done
[ "$(in_root readlink -f /usr/libexec/docker/cli-plugins/docker-harden)" = /usr/bin/docker-harden ] ||
  die "the plugin link does not lead to /usr/bin/docker-harden"
expect "dpkg --verify found changed files" in_root dpkg --verify docker-harden

step "running the installed binary"
[ "$(in_root docker-harden --version)" = "docker-harden $version" ] || die "docker-harden --version"
meta=$(in_root /usr/libexec/docker/cli-plugins/docker-harden docker-cli-plugin-metadata)
case $meta in
  *'"SchemaVersion":"0.1.0"'*"\"Version\":\"$version\""*) ;;
  *) die "plugin metadata: $meta" ;;
esac
# The fresh root itself is an offline root to audit: no Docker in it, so findings (exit 1).
code=0
in_root docker-harden check --root / --format json >"$work/check.json" 2>"$work/check.err" || code=$?
[ "$code" = 0 ] || [ "$code" = 1 ] || { cat "$work/check.err" >&2; die "check --root / exited $code"; }
grep -q '"live": false' "$work/check.json" || die "check --root / did not print its JSON report"
help=$(in_root docker-harden check --help) || die "check --help"
grep -q -- '--format' <<<"$help" || die "check --help does not mention --format"
man_text=$(in_root env MANPAGER=cat MANWIDTH=100 man docker-harden 2>&1) || die "man docker-harden: $man_text"
# man justifies lines with extra spaces.
case $(tr -s ' ' <<<"$man_text") in *"docker-harden - Audit a Docker host"*) ;; *) die "man docker-harden: $man_text" ;; esac
# A command's own page, found by man as git's are: `man docker-harden-fix`.
man_text=$(in_root env MANPAGER=cat MANWIDTH=100 man docker-harden-fix 2>&1) || die "man docker-harden-fix: $man_text"
case $man_text in *--health-timeout*) ;; *) die "man docker-harden-fix lacks fix's options: $man_text" ;; esac
in_root bash -c 'source /usr/share/bash-completion/completions/docker-harden && complete -p docker-harden' >/dev/null ||
  die "the bash completion does not register"

step "dpkg -r docker-harden"
mapfile -t owned < <(in_root dpkg-query -L docker-harden)
in_root dpkg -r docker-harden >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; die "dpkg -r failed"; }
status=$(in_root dpkg-query -W -f='${db:Status-Status}' docker-harden 2>/dev/null || true)
[ "$status" = not-installed ] || [ -z "$status" ] || die "after dpkg -r the package is $status"
for f in "${owned[@]}"; do
  # Directories shared with other packages (/usr/share/man) stay; the package's own go.
  if [ -e "$root$f" ] || [ -L "$root$f" ]; then
    [ -d "$root$f" ] && [ -n "$(ls -A "$root$f")" ] || die "$f is left after dpkg -r"
  fi
done

end=$(date +%s.%N)
step "ok: installed, ran and removed cleanly ($temperature: $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s)"
