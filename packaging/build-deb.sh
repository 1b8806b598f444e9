#!/usr/bin/env bash
# Packages a built docker-harden binary as a Debian package, with dpkg-deb alone:
#
#   packaging/build-deb.sh [BINARY]      (default: target/release/docker-harden)
#
# writes target/debian/docker-harden_<version>_<arch>.deb holding the binary (stripped, as
# Debian ships binaries), the Docker CLI plugin link, the man page, the bash/zsh/fish
# completions and the copyright file. The version, man page and completions come from the
# binary itself, so the package always describes the binary it holds. Depends is computed from
# the libraries and symbol versions the binary links against.
#
# Environment: DEB_ARCH (default: dpkg --print-architecture), DEB_MAINTAINER (default: the
# author of the checkout's last commit).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "build-deb: $*" >&2; exit 2; }

binary=${1:-target/release/docker-harden}
[ -f "$binary" ] && [ -x "$binary" ] || die "no executable at $binary (run cargo build --release first)"
for tool in dpkg-deb dpkg objdump strip gzip md5sum; do
  command -v "$tool" >/dev/null || die "$tool is required (apt-get install dpkg binutils gzip coreutils)"
done

version=$("$binary" --version | awk '$1 == "docker-harden" { print $2 }')
[ -n "$version" ] || die "$binary --version did not name docker-harden's version"
arch=${DEB_ARCH:-$(dpkg --print-architecture)}
maintainer=${DEB_MAINTAINER:-$(git log -1 --format='%an <%ae>' 2>/dev/null || true)}
[ -n "$maintainer" ] || die "set DEB_MAINTAINER (\"Name <email>\"): there is no git history to take it from"

# Depends, from what the dynamic linker will need: each library's package, and for glibc and
# libgcc the newest symbol version used (what dpkg-shlibdeps would compute from symbols files).
newest_version() { objdump -T "$binary" | grep -o "$1[0-9.]*" | sed "s/^$1//" | sort -uV | tail -n 1; }
depends=()
while read -r lib; do
  case "$lib" in
    libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | librt.so.1 | ld-linux*.so.*)
      dep="libc6 (>= $(newest_version GLIBC_))" ;;
    libgcc_s.so.1)
      gcc=$(newest_version GCC_)
      dep="libgcc-s1${gcc:+ (>= $gcc)}" ;;
    *)
      # Anything else belongs to whichever package this machine has it from.
      owner=$(dpkg -S "*/$lib" 2>/dev/null | head -n 1 | cut -d: -f1) ||:
      [ -n "$owner" ] || die "$binary needs $lib, which no installed package provides"
      dep=$owner ;;
  esac
  case " ${depends[*]-} " in *" $dep,"* | *" $dep ") ;; *) depends+=("$dep") ;; esac
done < <(objdump -p "$binary" | awk '$1 == "NEEDED" { print $2 }')
depends_line=$(printf '%s\n' "${depends[@]}" | sort | paste -sd, - | sed 's/,/, /g')

out=target/debian
deb=$out/docker-harden_${version}_${arch}.deb
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
umask 022
pkg=$stage/pkg
install -d -m 0755 "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/libexec/docker/cli-plugins" \
  "$pkg/usr/share/man/man1" "$pkg/usr/share/bash-completion/completions" \
  "$pkg/usr/share/zsh/vendor-completions" "$pkg/usr/share/fish/vendor_completions.d" \
  "$pkg/usr/share/doc/docker-harden"

strip --strip-unneeded -o "$pkg/usr/bin/docker-harden" "$binary"
chmod 0755 "$pkg/usr/bin/docker-harden"
# Where the docker CLI looks for system-wide plugins; relative, as policy wants for links
# within /usr.
ln -s ../../../bin/docker-harden "$pkg/usr/libexec/docker/cli-plugins/docker-harden"
"$binary" man | gzip -9n > "$pkg/usr/share/man/man1/docker-harden.1.gz"
# A page per command, docker-harden-COMMAND(1), for each the main page refers to (clap's help
# has none).
for cmd in $("$binary" man | sed -n 's/^docker\\-harden\\-\([a-z]*\)(1)$/\1/p'); do
  [ "$cmd" = help ] && continue
  "$binary" man "$cmd" | gzip -9n > "$pkg/usr/share/man/man1/docker-harden-$cmd.1.gz"
done
[ -e "$pkg/usr/share/man/man1/docker-harden-check.1.gz" ] || die "no page for docker-harden check"
"$binary" completions bash > "$pkg/usr/share/bash-completion/completions/docker-harden"
"$binary" completions zsh > "$pkg/usr/share/zsh/vendor-completions/_docker-harden"
"$binary" completions fish > "$pkg/usr/share/fish/vendor_completions.d/docker-harden.fish"
cat > "$pkg/usr/share/doc/docker-harden/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: docker-harden
Upstream-Contact: $maintainer

Files: *
Copyright: 2026 The docker-harden authors
License: Apache-2.0

License: Apache-2.0
 Licensed under the Apache License, Version 2.0 (the "License"); you may not
 use this file except in compliance with the License. You may obtain a copy of
 the License at http://www.apache.org/licenses/LICENSE-2.0
 .
 Unless required by applicable law or agreed to in writing, software
 distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
 WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
 License for the specific language governing permissions and limitations under
 the License.
 .
 On Debian systems, the complete text of the Apache License, Version 2.0 can be
 found in /usr/share/common-licenses/Apache-2.0.
COPYRIGHT
# Policy wants a changelog in every binary package (changelog.gz: the version has no Debian
# revision, a native package); dated by the commit (or SOURCE_DATE_EPOCH), so the same tree
# builds the same package.
built=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
printf '%s\n' \
  "docker-harden ($version) unstable; urgency=medium" \
  "" \
  "  * Built from the docker-harden source tree." \
  "" \
  " -- $maintainer  $(LC_ALL=C date -u -R -d "@$built")" |
  gzip -9n > "$pkg/usr/share/doc/docker-harden/changelog.gz"
# What lintian reports that is so by design, with the reason.
install -d -m 0755 "$pkg/usr/share/lintian/overrides"
cat > "$pkg/usr/share/lintian/overrides/docker-harden" <<'OVERRIDES'
# The YAML parser of the playbooks is unsafe-libyaml, a Rust translation compiled in (Rust
# links statically); there is no system libyaml to link instead.
docker-harden: embedded-library libyaml [usr/bin/docker-harden]
# CIS 1.2.2 reads the installed Docker package's version from /var/lib/dpkg/status, read-only,
# under --root too (an image has no dpkg to ask).
docker-harden: uses-dpkg-database-directly [usr/bin/docker-harden]
OVERRIDES
chmod -R u=rwX,go=rX "$pkg/usr"

installed_size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: docker-harden
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends_line
Enhances: docker.io, docker-ce-cli
Section: admin
Priority: optional
Description: audit and fix a Docker host against the CIS Docker Benchmark
 docker-harden audits a Linux Docker host against the CIS Docker Benchmark
 (v1.6.0 to v1.8.0) and fixes what can be fixed on the host: audit watches,
 daemon.json settings, rsyslog reception for the syslog log driver, and the
 owners and modes of Docker's files. Every change is shown as a unified diff
 before it is applied, and every run can be rolled back.
 .
 It is also a Docker CLI plugin: docker harden check.
CONTROL
# dpkg --verify compares installed files against these.
(cd "$pkg" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/md5sums"

mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb.tmp" >/dev/null
mv "$deb.tmp" "$deb"
echo "$deb"
