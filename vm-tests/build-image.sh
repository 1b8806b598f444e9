#!/usr/bin/env bash
# Builds a Debian test host image: `build-image.sh SUITE OUT_DIR`, SUITE being bookworm (Debian 12,
# docker.io 20.10) or trixie (Debian 13, docker.io 26.1). Into OUT_DIR:
#   base.qcow2  the root filesystem (ext4, no partition table), never booted
#   vmlinuz, initrd.img  the guest kernel and a small initramfs (booted with -kernel/-initrd)
#   id_ed25519, id_ed25519.pub  root's ssh key pair for the guest
# Everything in this file is part of the image recipe: vm-tests/run caches the image under a
# hash of this file, so any change here rebuilds the image.
set -euo pipefail

SUITE=${1:?usage: build-image.sh bookworm|trixie OUT_DIR}
OUT_DIR=${2:?usage: build-image.sh bookworm|trixie OUT_DIR}
PACKAGES=(
    linux-image-amd64 initramfs-tools systemd-sysv udev dbus openssh-server openssh-sftp-server
    docker.io auditd rsyslog apparmor busybox-static iproute2 procps ca-certificates
    rootlesskit uidmap slirp4netns libpam-systemd
)
case $SUITE in
bookworm) ;;
# Debian 13 split the client out of docker.io (only recommended, and debootstrap installs no
# recommends), and carries Compose v2 as the `docker compose` plugin.
trixie) PACKAGES+=(docker-cli docker-compose) ;;
*) echo "build-image.sh: unknown suite '$SUITE' (bookworm or trixie)" >&2; exit 2 ;;
esac

mirror() {
    # The first Debian mirror of the host's deb822 sources (deb.debian.org on these machines).
    local f=/etc/apt/sources.list.d/debian.sources uri
    if [[ -r $f ]]; then
        uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' "$f")
        [[ -n $uri ]] && { echo "$uri"; return; }
    fi
    echo http://deb.debian.org/debian
}

mkdir -p "$OUT_DIR"
ROOTFS="$OUT_DIR/rootfs"
MOUNTED=()
cleanup() {
    local m
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
        m=${MOUNTED[$i]}
        umount -l "$m" 2>/dev/null || true
    done
}
trap cleanup EXIT

echo "== debootstrap $SUITE from $(mirror) (about 5 minutes)"
rm -rf "$ROOTFS"
include=$(IFS=,; echo "${PACKAGES[*]}")
if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$ROOTFS" "$(mirror)" \
    >"$OUT_DIR/debootstrap.log" 2>&1; then
    tail -n 40 "$OUT_DIR/debootstrap.log"
    [[ -f $ROOTFS/debootstrap/debootstrap.log ]] && tail -n 40 "$ROOTFS/debootstrap/debootstrap.log"
    echo "debootstrap failed" >&2
    exit 1
fi

echo "== configure the guest"
echo dh-test >"$ROOTFS/etc/hostname"
cat >"$ROOTFS/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	dh-test
::1		localhost ip6-localhost ip6-loopback
EOF
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$ROOTFS/etc/fstab"

# root's ssh key (key only: no password is set)
rm -f "$OUT_DIR/id_ed25519" "$OUT_DIR/id_ed25519.pub"
ssh-keygen -q -t ed25519 -N '' -C dh-vm-tests -f "$OUT_DIR/id_ed25519"
install -d -m 0700 "$ROOTFS/root/.ssh"
install -m 0600 "$OUT_DIR/id_ed25519.pub" "$ROOTFS/root/.ssh/authorized_keys"
cat >"$ROOTFS/etc/ssh/sshd_config.d/dh-vm-tests.conf" <<'EOF'
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
EOF

# DHCP on every ethernet interface with systemd-networkd (qemu's user network answers at once)
cat >"$ROOTFS/etc/systemd/network/80-dhcp.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
wants="$ROOTFS/etc/systemd/system/multi-user.target.wants"
mkdir -p "$wants" "$ROOTFS/etc/systemd/system/sockets.target.wants" \
    "$ROOTFS/etc/systemd/system/network-online.target.wants"
ln -sf /usr/lib/systemd/system/systemd-networkd.service "$wants/systemd-networkd.service"
ln -sf /usr/lib/systemd/system/systemd-networkd.socket \
    "$ROOTFS/etc/systemd/system/sockets.target.wants/systemd-networkd.socket"
ln -sf /usr/lib/systemd/system/systemd-networkd-wait-online.service \
    "$ROOTFS/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service"
# Wait for any one interface, and not long.
mkdir -p "$ROOTFS/etc/systemd/system/systemd-networkd-wait-online.service.d"
cat >"$ROOTFS/etc/systemd/system/systemd-networkd-wait-online.service.d/any.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=/usr/lib/systemd/systemd-networkd-wait-online --any --timeout=30
EOF

# Nothing periodic in the background while tests run.
for t in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer \
    logrotate.timer dpkg-db-backup.timer; do
    ln -sf /dev/null "$ROOTFS/etc/systemd/system/$t"
done

# The test image for containers: a FROM-scratch image holding busybox-static, imported by a
# oneshot unit at first boot (dockerd does not run in the chroot).
cat >"$ROOTFS/usr/local/sbin/dh-import-busybox" <<'EOF'
#!/bin/sh
set -eu
docker image inspect dh-busybox >/dev/null 2>&1 && exit 0
tree=$(mktemp -d)
mkdir -p "$tree/bin" "$tree/tmp"
cp /bin/busybox "$tree/bin/busybox"
ln -s busybox "$tree/bin/sh"
tar -C "$tree" -c . | docker import -c 'CMD ["/bin/sh"]' - dh-busybox
rm -rf "$tree"
EOF
chmod 0755 "$ROOTFS/usr/local/sbin/dh-import-busybox"
cat >"$ROOTFS/etc/systemd/system/dh-import-busybox.service" <<'EOF'
[Unit]
Description=Import the dh-busybox test image (vm-tests)
Wants=docker.service
After=docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/dh-import-busybox

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/dh-import-busybox.service "$wants/dh-import-busybox.service"

# A small initramfs: only what finds an ext4 root on virtio (boots twice as fast).
sed -i 's/^MODULES=.*/MODULES=list/' "$ROOTFS/etc/initramfs-tools/initramfs.conf"
printf '%s\n' virtio_pci virtio_blk ext4 >>"$ROOTFS/etc/initramfs-tools/modules"
for fs in proc sys dev; do
    mount --bind "/$fs" "$ROOTFS/$fs"
    MOUNTED+=("$ROOTFS/$fs")
done
chroot "$ROOTFS" update-initramfs -u -k all >"$OUT_DIR/initramfs.log" 2>&1 ||
    { tail -n 20 "$OUT_DIR/initramfs.log"; exit 1; }
cleanup
MOUNTED=()

chroot "$ROOTFS" apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin

echo "== kernel, initramfs, filesystem"
kernel=$(ls "$ROOTFS"/boot/vmlinuz-* | sort -V | tail -n 1)
cp "$kernel" "$OUT_DIR/vmlinuz"
cp "$ROOTFS/boot/initrd.img-${kernel##*/vmlinuz-}" "$OUT_DIR/initrd.img"
rm -f "$OUT_DIR/raw.img"
mkfs.ext4 -q -F -L dh-root -d "$ROOTFS" "$OUT_DIR/raw.img" 4G
qemu-img convert -O qcow2 "$OUT_DIR/raw.img" "$OUT_DIR/base.qcow2"
rm -f "$OUT_DIR/raw.img"
rm -rf "$ROOTFS"
ls -la "$OUT_DIR"
